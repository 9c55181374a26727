"""The open pipeline: open and weighted value per stage (or per any group)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, cast

from .._money import Money
from ..metrics import Breakdown
from ..metrics._common import cut
from ..metrics._grouping import By
from ._style import (
    BLUE,
    INK,
    LABEL_SIZE,
    MUTED,
    ORANGE,
    SMALL,
    compact,
    latest,
    new_axes,
    plain,
    titled,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._deal import Deal

__all__ = ["pipeline_value"]


def pipeline_value(
    deals: Iterable[Deal],
    *,
    by: By = "stage",
    as_of: datetime | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw the open pipeline: open value and weighted value per stage, as bars.

    The open value is :func:`salesflow.metrics.pipeline_value` (the value
    of the deals open at the cut-off), the weighted one
    :func:`salesflow.metrics.weighted_pipeline` (value × the stage's
    probability; left out when a stage has no probability). Stages come in
    pipeline order, other groups largest first; each label gives the number
    of open deals.

    Args:
        deals: The deals, in one pipeline and one currency.
        by: ``"stage"`` (the default), or any ``by=`` of the metrics (``"owner"`` …).
        as_of: Cut-off; default the latest stage change in the data.
        ax: The ``Axes`` to draw on; default: a new figure.
        title: The title; default: "Open pipeline by <by>, as of <date>".

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed.
        CurrencyMismatchError: Values in several currencies.
    """
    from .. import metrics

    deals = list(deals)
    as_of = as_of or latest(deals)
    axes = new_axes(ax, "salesflow.plot.pipeline_value()")
    opened = cast("Breakdown[Money | None]", metrics.pipeline_value(deals, by=by, as_of=as_of))
    try:
        weighted: Breakdown[Money | None] | None = cast(
            "Breakdown[Money | None]", metrics.weighted_pipeline(deals, by=by, as_of=as_of)
        )
    except ValueError:
        weighted = None  # a stage without a probability: there is no weighted value
    counts: dict[Hashable, int] = {}
    for deal in deals:
        seen = cut(deal, as_of)
        if seen is not None and deal.pipeline.table.by_key[seen[0][-1]].is_open:
            key = seen[0][-1] if by == "stage" else None
            counts[key] = counts.get(key, 0) + 1

    def amount(m: Money | None) -> float:
        return 0.0 if m is None else float(m.amount)

    keys = [k for k in opened if k is not None or opened[k] is not None]
    pipeline = deals[0].pipeline if deals else None
    if by == "stage" and pipeline is not None:
        keys = [s.key for s in pipeline.open_stages if s.key in opened]
        names = [
            f"{s.name} ({counts.get(s.key, 0):,} open)"
            for s in pipeline.open_stages
            if s.key in opened
        ]
    else:
        keys.sort(key=lambda k: -amount(opened[k]))
        names = ["(none)" if k is None else str(k) for k in keys]
    currency = next((m.currency for m in opened.values() if m is not None), None)
    ys = list(range(len(keys)))
    height = 0.38 if weighted is not None else 0.62
    values = [amount(opened[k]) for k in keys]
    axes.barh(
        [y - (height / 2 if weighted is not None else 0) for y in ys],
        values,
        height=height,
        color=BLUE,
        label="open value",
    )
    top = max([*values, 1.0])
    for y, v in zip(ys, values, strict=True):
        offset = -height / 2 if weighted is not None else 0
        axes.text(
            v + 0.01 * top, y + offset, compact(v, currency), va="center", fontsize=SMALL, color=INK
        )
    if weighted is not None:
        w = [amount(weighted.get(k)) for k in keys]
        axes.barh(
            [y + height / 2 for y in ys],
            w,
            height=height,
            color=ORANGE,
            label="weighted by stage probability",
        )
        for y, v in zip(ys, w, strict=True):
            axes.text(
                v + 0.01 * top,
                y + height / 2,
                compact(v, currency),
                va="center",
                fontsize=SMALL,
                color=INK,
            )
    if not any(values):
        axes.text(
            0.5,
            0.5,
            "no open deal has a value",
            ha="center",
            va="center",
            transform=axes.transAxes,
            color=MUTED,
        )
    axes.set_yticks(ys, names, fontsize=LABEL_SIZE - 1)
    axes.set_ylim(len(keys) - 0.5, -0.7)
    axes.set_xlim(0, top * 1.2)
    from matplotlib.ticker import FuncFormatter

    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
    axes.set_xlabel(
        f"value{'' if currency is None else ' (' + currency + ')'}", fontsize=LABEL_SIZE, color=INK
    )
    plain(axes, grid="x")
    axes.tick_params(axis="y", length=0)
    if keys:
        axes.legend(loc="lower right", fontsize=SMALL, frameon=False)
    label = by if isinstance(by, str) else "group"
    titled(axes, f"Open pipeline by {label}", as_of, title)
    return axes
