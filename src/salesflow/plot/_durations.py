"""Charts of durations: Kaplan-Meier time in stage and the sales-cycle histogram."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from .._pipeline import Pipeline
from .._stage import Stage
from .._time import DAY, micros
from ..metrics import DurationSummary, Report
from ._style import (
    BLUE,
    CYCLE,
    INK,
    LABEL_SIZE,
    MUTED,
    SMALL,
    VERMILLION,
    latest,
    new_axes,
    plain,
    pyplot,
    thousands,
    titled,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._deal import Deal
    from ..metrics import KaplanMeier

__all__ = ["cycle", "time_in_stage"]

_DAY_US = micros(DAY)


def _resolve(
    summaries: Mapping[str, DurationSummary],
    pipeline: Pipeline | None,
    stages: Sequence[str | Stage] | None,
) -> list[str]:
    if stages is None:
        return [k for k, s in summaries.items() if s.n]
    keys = []
    for ref in stages:
        key = pipeline.stage(ref).key if pipeline is not None else ref
        if key not in summaries:
            known = ", ".join(map(repr, summaries))
            msg = f"No time-in-stage curve for stage {ref!r}; the curves are for {known}."
            raise ValueError(msg)
        keys.append(str(key))
    return keys


def _at_risk(curve: KaplanMeier[float], t_us: float) -> int:
    """Spells observed for at least *t_us* microseconds (the number at risk just before *t*)."""
    return sum(
        e + c
        for time, e, c in zip(curve.times, curve.event_counts, curve.censored_counts, strict=True)
        if time >= t_us
    )


def _band(curve: KaplanMeier[float]) -> tuple[list[float], list[float], list[float]] | None:
    """The pointwise confidence band, when the curve offers ``survival_interval(t)``."""
    interval = getattr(curve, "survival_interval", None)
    if interval is None:
        return None
    xs, lows, highs = [0.0], [1.0], [1.0]
    for t in curve.times:
        bounds = interval(t)
        if bounds is None:
            continue
        low, high = bounds
        xs.append(t / _DAY_US)
        lows.append(float(low))
        highs.append(float(high))
    return xs, lows, highs


def _risk_table(axes: Axes, rows: list[tuple[str, str, KaplanMeier[float]]]) -> None:
    """Numbers at risk under the x axis, one row per curve, at the major ticks."""
    left, right = axes.get_xlim()
    ticks = [t for t in axes.get_xticks() if left <= t <= right]
    # Offsets in points, below the tick labels and the axis label, so that the
    # rows keep their spacing whatever the figure's height.
    first = 48

    def put(x: float, coords: str, dy: float, text: str, **style: Any) -> None:
        axes.annotate(
            text,
            (x, 0.0),
            xycoords=(coords, "axes fraction"),
            xytext=(0, -dy),
            textcoords="offset points",
            va="top",
            fontsize=SMALL,
            annotation_clip=False,
            **style,
        )

    put(
        -0.02, "axes fraction", first, "number at risk", ha="right", color=MUTED, fontstyle="italic"
    )
    for i, (name, colour, curve) in enumerate(rows):
        dy = first + 16 * (i + 1)
        put(-0.06, "axes fraction", dy, name, ha="right", color=colour)
        for t in ticks:
            put(t, "data", dy, f"{_at_risk(curve, t * _DAY_US):,}", ha="center", color=INK)


def _note(axes: Axes, beyond: int, silent: list[str]) -> None:
    """Say what the curves leave out: spells open past the axis, stages with no curve."""
    notes = []
    if beyond:
        notes.append(
            f"{beyond:,} spell(s) still open after the last ended spell are beyond the axis"
        )
    if silent:
        notes.append("no curve: " + "; ".join(silent))
    if notes:
        axes.text(
            0.99,
            0.03,
            ".\n".join(notes) + ".",
            transform=axes.transAxes,
            ha="right",
            va="bottom",
            fontsize=SMALL,
            color=MUTED,
        )


def time_in_stage(
    data: Mapping[str, DurationSummary] | Report | Iterable[Deal],
    *,
    ax: Axes | None = None,
    stages: Sequence[str | Stage] | None = None,
    as_of: datetime | None = None,
    risk_table: bool = True,
    title: str | None = None,
) -> Axes:
    """Draw Kaplan-Meier curves of time in stage: one step line per stage.

    Each curve gives, for *t* days, the estimated share of spells in the
    stage that lasted longer than *t*; spells still open at the cut-off count
    for as long as they were observed (censored), so open deals do not
    shorten the curve. The legend gives each stage's spell count and median.
    When the curve offers ``survival_interval(t)``, its pointwise confidence
    band is shaded. The x axis stops at the last ended spell (beyond it a
    curve is flat and says nothing new; a note gives how many spells are
    still open there). Stages where no spell has ended yet have no curve to
    draw; a note names them. Under the axis, the number of spells at risk
    (still in the stage and observed) at each tick, as lifelines draws it.

    Args:
        data: The ``{stage: DurationSummary}`` of
            ``metrics.time_in_stage(deals, method="km")``, a
            :class:`~salesflow.Report` (its time in stage), or deals.
        ax: The ``Axes`` to draw on; default: a new figure.
        stages: The stages to draw (keys, or names when the pipeline is
            known), in this order; default: every stage with a spell.
        as_of: The cut-off to name in the title; default: the report's, or
            the deals' latest stage change.
        risk_table: Draw the numbers at risk under the axis.
        title: The title.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed.
        ValueError: A summary is not a Kaplan-Meier one, or a stage has no curve.
    """
    from .. import metrics

    pipeline: Pipeline | None = None
    if isinstance(data, Report):
        summaries: Mapping[str, DurationSummary] = data.time_in_stage
        pipeline = data.pipeline
        as_of = as_of or data.as_of
    elif isinstance(data, Mapping):
        summaries = data
    else:
        deals = list(data)
        summaries = cast("dict[str, DurationSummary]", metrics.time_in_stage(deals, method="km"))
        pipeline = deals[0].pipeline if deals else None
        as_of = as_of or latest(deals)
    for key, summary in summaries.items():
        if not isinstance(summary, DurationSummary) or summary.method != "km":
            msg = f"time_in_stage() draws Kaplan-Meier curves; the summary of {key!r} is not one (use metrics.time_in_stage(deals, method='km'))."
            raise ValueError(msg)
    keys = _resolve(summaries, pipeline, stages)
    # A taller figure leaves room for the numbers at risk, one row per curve.
    rows = len(keys) if risk_table else 0
    axes = new_axes(ax, "salesflow.plot.time_in_stage()", (10.0, 5.0 + 0.3 * rows))
    drawn: list[tuple[str, str, KaplanMeier[float]]] = []
    silent: list[str] = []
    last_event = 0.0
    beyond = 0
    for key in keys:
        summary = summaries[key]
        curve = summary.km
        name = pipeline.stage(key).name if pipeline is not None else key
        if curve is None or not summary.n:
            continue
        if not curve.events:
            # A curve with no ended spell is a flat line at 1: nothing to see, so say it.
            silent.append(f"{name} ({summary.censored:,} open, none ended yet)")
            continue
        colour = CYCLE[len(drawn) % len(CYCLE)]
        median = summary.median
        middle = "not reached" if median is None else f"{median / DAY:.1f} d"
        x = [0.0, *(t / _DAY_US for t in curve.times)]
        y = [1.0, *curve.survival_values]
        axes.step(
            x,
            y,
            where="post",
            color=colour,
            linewidth=2,
            label=f"{name} (n={summary.n:,}, median {middle})",
        )
        band = _band(curve)
        if band is not None:
            axes.fill_between(
                band[0], band[1], band[2], step="post", color=colour, alpha=0.18, linewidth=0
            )
        ends = [t for t, e in zip(curve.times, curve.event_counts, strict=True) if e]
        last_event = max(last_event, ends[-1] / _DAY_US)
        drawn.append((name, colour, curve))
    for _, _, curve in drawn:
        beyond += _at_risk(curve, last_event * _DAY_US + 1)
    axes.set_xlim(0, last_event * 1.04 if last_event else 1.0)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("days in stage", fontsize=LABEL_SIZE, color=INK)
    axes.set_ylabel("share of spells still in the stage", fontsize=LABEL_SIZE, color=INK)
    from matplotlib.ticker import PercentFormatter

    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    plain(axes, grid="both")
    titled(axes, "Time in stage (Kaplan-Meier)", as_of, title)
    _note(axes, beyond, silent)
    if drawn:
        axes.legend(fontsize=SMALL, frameon=False, loc="upper right")
        if risk_table:
            _risk_table(axes, drawn)
    return axes


def cycle(
    data: DurationSummary | Report | Iterable[Deal],
    *,
    ax: Axes | None = None,
    bins: int | Sequence[float] = 30,
    as_of: datetime | None = None,
    title: str | None = None,
) -> Axes:
    """Draw the distribution of sales-cycle lengths: a histogram in days.

    The bars count the completed cycles (for deals: the won deals' days from
    creation to the win, :func:`salesflow.metrics.sales_cycle`'s default);
    dashed and dotted lines mark the summary's median and mean. Deals still
    open are not in the bars; the legend says how many there are.

    Args:
        data: A :class:`~salesflow.metrics.DurationSummary` (a ``"current"``
            one draws the ages of the open spells), a
            :class:`~salesflow.Report` (its sales cycle), or deals.
        ax: The ``Axes`` to draw on; default: a new figure.
        bins: Number of bins, or their edges in days.
        as_of: The cut-off to name in the title; default: the report's, or
            the deals' latest stage change.
        title: The title.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    from .. import metrics

    pyplot("salesflow.plot.cycle()")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    won = not isinstance(data, DurationSummary)  # a report's and the deals' cycles are of won deals
    if isinstance(data, Report):
        summary = data.sales_cycle
        as_of = as_of or data.as_of
    elif isinstance(data, DurationSummary):
        summary = data
    else:
        deals = list(data)
        summary = cast("DurationSummary", metrics.sales_cycle(deals))
        as_of = as_of or latest(deals)
    axes = new_axes(ax, "salesflow.plot.cycle()")
    current = summary.method == "current"
    counts = summary.open if current else summary.ended
    lengths = sorted(counts)
    shown = sum(counts.values())
    handles: list[Any] = []
    if lengths:
        axes.hist(
            [t / _DAY_US for t in lengths],
            bins=bins,
            weights=[counts[t] for t in lengths],
            color=BLUE,
            edgecolor="white",
        )
        noun = "open deals by age" if current else "won deals" if won else "completed cycles"
        handles.append(Patch(color=BLUE, label=f"{noun}: {shown:,}"))
        for value, style, label in (
            (summary.median, "--", "median"),
            (summary.mean, ":", "mean"),
        ):
            if value is not None:
                length = value / DAY
                axes.axvline(length, color=VERMILLION, linestyle=style, linewidth=2)
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=VERMILLION,
                        linestyle=cast("Any", style),
                        linewidth=2,
                        label=f"{label} {length:.1f} d",
                    )
                )
        still = (
            None
            if current or not summary.censored
            else f"{summary.censored:,} deals still open are not in the bars"
        )
        axes.legend(
            handles=handles, fontsize=SMALL, frameon=False, title=still, title_fontsize=SMALL
        )
    else:
        axes.text(
            0.5, 0.5, "nothing to draw: no spell ended", ha="center", transform=axes.transAxes
        )
    if current:
        what = "Age of open deals"
    elif won:
        what = "Sales cycle of won deals: days from creation to win"
    else:
        what = "Sales cycle: days from creation to close"
    titled(axes, what, as_of, title)
    axes.set_xlabel("days", fontsize=LABEL_SIZE, color=INK)
    axes.set_ylabel("open deals" if current else "deals", fontsize=LABEL_SIZE, color=INK)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    thousands(axes.yaxis)
    plain(axes, grid="y")
    return axes
