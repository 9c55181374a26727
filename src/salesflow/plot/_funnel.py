"""The funnel chart: one horizontal bar per step, its count, value and conversion."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, cast

from ..metrics import Funnel, Rate, Report
from ._style import (
    BLUE,
    GREEN,
    INK,
    LABEL_SIZE,
    MUTED,
    SKY,
    SMALL,
    VERMILLION,
    compact,
    latest,
    new_axes,
    pct,
    plain,
    thousands,
    titled,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._deal import Deal

__all__ = ["funnel"]


def _values(deals: list[Deal], result: Funnel) -> list[tuple[Decimal, int, str]] | None:
    """Per step: the value of the deals that reached it or a later step, how many had one."""
    rank = result.pipeline.table.rank
    currencies = {d.value.currency for d in deals if d.value is not None}
    if len(currencies) != 1:
        return None  # no value, or several currencies that cannot be added
    (currency,) = currencies
    furthest: list[tuple[int, Decimal | None]] = []
    for deal in deals:
        ranks = [r for r in (rank[k] for k in deal.stage_keys) if r is not None]
        if ranks:
            furthest.append((max(ranks), None if deal.value is None else deal.value.amount))
    out = []
    for row in result.rows:
        step = rank[row.stage.key]
        assert step is not None  # funnel steps are open or won stages, which have a rank
        amounts = [a for r, a in furthest if r >= step and a is not None]
        out.append((sum(amounts, Decimal(0)), len(amounts), currency))
    return out


def funnel(
    data: Funnel | Report | Iterable[Deal],
    *,
    ax: Axes | None = None,
    mode: Literal["reached", "direct"] | None = None,
    split: bool = False,
    as_of: datetime | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a funnel: one horizontal bar per step, first step on top.

    A bar's length is the number of deals that reached the step or a later
    open or won one (the numerator of the cumulative conversion), so the
    bars never grow downwards. Each bar is labelled with that count, its
    share of all deals and, when deals are given and carry values, the value
    of those deals. Between two bars, the arrow gives the conversion the bars
    show: deals that reached the next step / deals that reached this one,
    with its Wilson interval. Where deals are first recorded at a later step
    (snapshot exports record no earlier stage), the step conversion of
    :func:`salesflow.metrics.funnel` cannot be known, and a note says so
    rather than showing 0 %.

    Args:
        data: A :class:`~salesflow.metrics.Funnel`, a
            :class:`~salesflow.Report` (its funnel), or deals, whose funnel
            is computed (and whose values label the bars).
        ax: The ``Axes`` to draw on; default: a new slide-sized figure.
        mode: For deals, the funnel's mode (``"reached"``, the default, or
            ``"direct"``); for a funnel, ``None`` or its own mode.
        split: Split each open step's bar into deals that went on, deals
            still open in it, and deals lost from it.
        as_of: The cut-off to name in the title; default: the report's, or
            the deals' latest stage change.
        title: The title; default: "Pipeline funnel, as of <date>".

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed (an ``ImportError``).
        ValueError: *mode* differs from the given funnel's mode.
    """
    from .. import metrics

    deals: list[Deal] | None = None
    if isinstance(data, Report):
        as_of = as_of or data.as_of
        data = data.funnel
    if isinstance(data, Funnel):
        if mode is not None and mode != data.mode:
            msg = f"mode={mode!r} differs from the funnel's mode {data.mode!r}; compute the funnel with mode={mode!r}."
            raise ValueError(msg)
        result = data
    else:
        deals = list(data)
        result = cast("Funnel", metrics.funnel(deals, mode=mode or "reached"))
        as_of = as_of or latest(deals)
    axes = new_axes(ax, "salesflow.plot.funnel()")
    rows = result.rows
    reached = [int(r.cumulative.numerator) for r in rows]
    top = max([*reached, 1])
    positions = list(range(len(rows)))
    if split:
        gone_on = [
            n if r.stage.is_won else max(0, n - r.lost - r.still_open)
            for n, r in zip(reached, rows, strict=True)
        ]
        still = [0 if r.stage.is_won else r.still_open for r in rows]
        lost = [0 if r.stage.is_won else r.lost for r in rows]
        colours = [GREEN if r.stage.is_won else BLUE for r in rows]
        axes.barh(positions, gone_on, height=0.62, color=colours, label="went on")
        axes.barh(positions, still, left=gone_on, height=0.62, color=SKY, label="still open here")
        axes.barh(
            positions,
            lost,
            left=[a + b for a, b in zip(gone_on, still, strict=True)],
            height=0.62,
            color=VERMILLION,
            label="lost here",
        )
        axes.legend(loc="lower right", fontsize=SMALL, frameon=False)
    else:
        axes.barh(
            positions,
            reached,
            height=0.62,
            color=[GREEN if r.stage.is_won else BLUE for r in rows],
        )
    values = _values(deals, result) if deals is not None else None
    _label_bars(axes, result, reached, values)
    unknown = []
    for y in range(len(rows) - 1):
        row = rows[y]
        if row.stage.is_won:
            continue
        bars = Rate.of(reached[y + 1], reached[y]) if reached[y] else None
        if bars is None or bars.value is None:
            text = "↓ none reached this step"
        else:
            low, high = bars.interval or (bars.value, bars.value)
            text = f"↓ {pct(bars.value)} went on  ({pct(low)}–{pct(high)})"
        axes.annotate(
            text,
            (0.0, y + 0.5),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=SMALL,
            color=MUTED,
            annotation_clip=False,
        )
        if row.entered < reached[y]:
            unknown.append((row.stage.name, reached[y] - row.entered, reached[y]))
    axes.set_yticks(positions, [r.stage.name for r in rows], fontsize=LABEL_SIZE)
    axes.set_ylim(len(rows) - 0.5, -0.7)  # first step on top
    axes.set_xlim(0, top * 1.45)
    axes.set_xlabel("deals that reached the step or a later one", fontsize=LABEL_SIZE, color=INK)
    plain(axes)
    thousands(axes.xaxis)
    axes.tick_params(axis="y", length=0)
    what = "Pipeline funnel" if result.mode == "reached" else "Pipeline funnel (direct steps)"
    titled(axes, what, as_of, title)
    _note_unknown(axes, unknown)
    return axes


def _note_unknown(axes: Axes, unknown: list[tuple[str, int, int]]) -> None:
    """Say under the chart which steps' own conversion cannot be known, and why."""
    if not unknown:
        return
    notes = "; ".join(
        f"{later:,} of the {total:,} that reached {name} or later were never recorded in it"
        for name, later, total in unknown
    )
    axes.text(
        0.0,
        -0.16,
        f"Bars and arrows count deals that reached a step or a later one. {notes}, so its "
        "own step conversion is unknown (a snapshot export records no earlier stages).",
        transform=axes.transAxes,
        fontsize=SMALL,
        color=MUTED,
        va="top",
        wrap=True,
    )


def _label_bars(
    axes: Axes,
    result: Funnel,
    reached: list[int],
    values: list[tuple[Decimal, int, str]] | None,
) -> None:
    """Label each bar with its deals, their share of all and, when known, their value."""
    top = max([*reached, 1])
    rows = result.rows
    for y, (row, n) in enumerate(zip(rows, reached, strict=True)):
        label = f"{n:,} deal{'' if n == 1 else 's'} · {pct(row.cumulative.value)}"
        if values is not None:
            amount, valued, currency = values[y]
            label += f" · {compact(amount, currency)}"
            if valued < n:
                label += f" ({valued:,} valued)"
        axes.text(
            n + 0.01 * top,
            y,
            label,
            va="center",
            ha="left",
            fontsize=LABEL_SIZE,
            color=INK,
        )
