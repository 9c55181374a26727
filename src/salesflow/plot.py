"""Charts of a funnel, time in stage and the sales cycle, drawn with matplotlib.

Needs the ``plot`` extra (``pip install 'salesflow[plot]'``); matplotlib is
imported inside each function.

Every function draws on the ``Axes`` passed as ``ax=``, or, without one, on
a new figure from ``matplotlib.pyplot.subplots()`` (so that a notebook shows
it), and returns the ``Axes``. Nothing is shown (no ``plt.show()``) and no
global setting (backend, rcParams, style) is changed, so the functions are
safe on a headless server: save with ``ax.figure.savefig("funnel.png")``.

Examples:
    >>> import matplotlib.pyplot as plt
    >>> from salesflow import plot
    >>> from salesflow.datasets import synthetic
    >>> deals = synthetic(300, seed=1)
    >>> ax = plot.funnel(deals)
    >>> len(ax.patches)  # one bar per funnel step
    8
    >>> plt.close(ax.figure)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from ._optional import require
from ._pipeline import Pipeline
from ._stage import Stage
from ._time import DAY, micros
from .metrics import DurationSummary, Funnel, Report

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._deal import Deal
    from .metrics import Backtest, Forecast

__all__ = ["backtest", "cycle", "forecast", "funnel", "time_in_stage"]

_DAY_US = micros(DAY)


def _pyplot(feature: str) -> Any:
    require("matplotlib", "salesflow[plot]", feature)
    return require("matplotlib.pyplot", "salesflow[plot]", feature)


def _axes(ax: Axes | None, feature: str, size: tuple[float, float]) -> Axes:
    plt = _pyplot(feature)
    if ax is not None:
        return ax
    _, axes = plt.subplots(figsize=size, layout="constrained")
    new: Axes = axes
    return new


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def funnel(
    data: Funnel | Report | Iterable[Deal],
    *,
    ax: Axes | None = None,
    mode: Literal["reached", "direct"] | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a funnel: one centred horizontal bar per step, widest at the top.

    A bar's width is the number of deals that reached the step or a later
    open or won one (the numerator of the cumulative conversion), so the bars
    never widen downwards. Each bar is labelled with that count and its
    cumulative conversion (share of all deals in the funnel); between two
    bars, an arrow gives the step conversion of the upper step (deals that
    advanced from it / deals that entered it). Won steps are drawn in a
    second colour. See :func:`salesflow.metrics.funnel` for the definitions.

    Args:
        data: A :class:`~salesflow.metrics.Funnel`, a :class:`~salesflow.Report`
            (its funnel), or deals, whose funnel is computed.
        ax: The ``Axes`` to draw on; default: a new figure.
        mode: For deals, the funnel's mode (``"reached"``, the default, or
            ``"direct"``); for a funnel, ``None`` or its own mode.
        title: The title; default: the pipeline's name and the deal count.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed (an ``ImportError``).
        ValueError: *mode* differs from the given funnel's mode.
    """
    from . import metrics

    if isinstance(data, Report):
        data = data.funnel
    if isinstance(data, Funnel):
        if mode is not None and mode != data.mode:
            msg = f"mode={mode!r} differs from the funnel's mode {data.mode!r}; compute the funnel with mode={mode!r}."
            raise ValueError(msg)
        result = data
    else:
        result = cast("Funnel", metrics.funnel(data, mode=mode or "reached"))
    rows = result.rows
    axes = _axes(ax, "salesflow.plot.funnel()", (8.0, 1.2 + 0.55 * len(rows)))
    widths = [int(r.cumulative.numerator) for r in rows]
    top = max([*widths, 1])
    positions = list(range(len(rows)))
    colors = ["C2" if r.stage.is_won else "C0" for r in rows]
    axes.barh(
        positions,
        widths,
        left=[(top - w) / 2 for w in widths],
        height=0.72,
        color=colors,
    )
    for y, (row, width) in enumerate(zip(rows, widths, strict=True)):
        label = f"{width:,}  ·  {_pct(row.cumulative.value)} of all"
        inside = width >= 0.45 * top
        axes.text(
            top / 2 if inside else (top + width) / 2 + 0.015 * top,
            y,
            label,
            ha="center" if inside else "left",
            va="center",
            color="white" if inside else "0.15",
            fontsize=9,
        )
        if row.conversion is not None and y + 1 < len(rows):
            axes.annotate(
                "↓ n/a (none entered)"
                if row.conversion.value is None
                else f"↓ {_pct(row.conversion.value)} advanced",
                (top * 1.01, y + 0.5),
                ha="left",
                va="center",
                fontsize=8,
                color="0.35",
                annotation_clip=False,
            )
    axes.set_yticks(positions, [r.stage.name for r in rows])
    axes.set_ylim(len(rows) - 0.5, -0.5)  # first step on top
    axes.set_xlim(0, top * 1.24)
    axes.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="y", length=0)
    axes.set_title(
        title
        if title is not None
        else f"{result.pipeline.name}: {result.total:,} deals (funnel, {result.mode})"
    )
    axes.set_xlabel("bar: deals that reached the step or a later one  ·  ↓ step conversion")
    return axes


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


def time_in_stage(
    data: Mapping[str, DurationSummary] | Report | Iterable[Deal],
    *,
    ax: Axes | None = None,
    stages: Sequence[str | Stage] | None = None,
    title: str | None = None,
) -> Axes:
    """Draw Kaplan-Meier curves of time in stage: one step line per stage.

    Each curve gives, for *t* days, the estimated share of spells in the
    stage that lasted longer than *t*; spells still open at the cut-off count
    for as long as they were observed (censored), so open deals do not
    shorten the curve. The legend gives each stage's spell count and median.

    Args:
        data: The ``{stage: DurationSummary}`` of
            ``metrics.time_in_stage(deals, method="km")``, a
            :class:`~salesflow.Report` (its time in stage), or deals.
        ax: The ``Axes`` to draw on; default: a new figure.
        stages: The stages to draw (keys, or names when the pipeline is
            known), in this order; default: every stage with a spell.
            Stages without a spell are left out.
        title: The title.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed.
        ValueError: A summary is not a Kaplan-Meier one, or a stage has no curve.
    """
    from . import metrics

    pipeline: Pipeline | None = None
    if isinstance(data, Report):
        summaries: Mapping[str, DurationSummary] = data.time_in_stage
        pipeline = data.pipeline
    elif isinstance(data, Mapping):
        summaries = data
    else:
        deals = list(data)
        summaries = cast("dict[str, DurationSummary]", metrics.time_in_stage(deals, method="km"))
        pipeline = deals[0].pipeline if deals else None
    for key, summary in summaries.items():
        if not isinstance(summary, DurationSummary) or summary.method != "km":
            msg = f"time_in_stage() draws Kaplan-Meier curves; the summary of {key!r} is not one (use metrics.time_in_stage(deals, method='km'))."
            raise ValueError(msg)
    keys = _resolve(summaries, pipeline, stages)
    axes = _axes(ax, "salesflow.plot.time_in_stage()", (8.0, 4.8))
    for key in keys:
        summary = summaries[key]
        curve = summary.km
        if curve is None or not summary.n:
            continue
        name = pipeline.stage(key).name if pipeline is not None else key
        median = summary.median
        middle = "n/a" if median is None else f"{median / DAY:.1f} d"
        x = [0.0, *(t / _DAY_US for t in curve.times)]
        y = [1.0, *curve.survival_values]
        axes.step(x, y, where="post", label=f"{name} (n={summary.n:,}, median {middle})")
    axes.set_xlim(left=0)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("days in stage")
    axes.set_ylabel("share of spells still in the stage")
    axes.set_title(title if title is not None else "Time in stage (Kaplan-Meier)")
    axes.grid(alpha=0.3)
    if keys:
        axes.legend(fontsize=8)
    return axes


def cycle(
    data: DurationSummary | Report | Iterable[Deal],
    *,
    ax: Axes | None = None,
    bins: int | Sequence[float] = 30,
    title: str | None = None,
) -> Axes:
    """Draw the distribution of sales-cycle lengths: a histogram in days.

    The bars count the spells that ended (for deals: the won deals' days from
    creation to the win, :func:`salesflow.metrics.sales_cycle`'s default);
    dashed and dotted lines mark the summary's median and mean. Spells still
    open are not in the bars; the title says how many there are.

    Args:
        data: A :class:`~salesflow.metrics.DurationSummary` (a ``"current"``
            one draws the ages of the open spells), a
            :class:`~salesflow.Report` (its sales cycle), or deals.
        ax: The ``Axes`` to draw on; default: a new figure.
        bins: Number of bins, or their edges in days.
        title: The title.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    from . import metrics

    _pyplot("salesflow.plot.cycle()")
    from matplotlib.ticker import MaxNLocator

    if isinstance(data, Report):
        summary = data.sales_cycle
    elif isinstance(data, DurationSummary):
        summary = data
    else:
        summary = cast("DurationSummary", metrics.sales_cycle(data))
    axes = _axes(ax, "salesflow.plot.cycle()", (8.0, 4.5))
    counts = summary.open if summary.method == "current" else summary.ended
    lengths = sorted(counts)
    if lengths:
        axes.hist(
            [t / _DAY_US for t in lengths],
            bins=bins,
            weights=[counts[t] for t in lengths],
            color="C0",
            edgecolor="white",
        )
        for value, style, label in (
            (summary.median, "--", "median"),
            (summary.mean, ":", "mean"),
        ):
            if value is not None:
                length = value / DAY
                axes.axvline(length, color="C3", linestyle=style, label=f"{label} {length:.1f} d")
        axes.legend(fontsize=8)
    else:
        axes.text(
            0.5, 0.5, "nothing to draw: no spell ended", ha="center", transform=axes.transAxes
        )
    still = (
        ""
        if summary.method == "current" or not summary.censored
        else f", {summary.censored:,} open not shown"
    )
    shown = sum(counts.values())
    axes.set_title(
        title if title is not None else f"Sales cycle ({shown:,} deals{still}, {summary.method})"
    )
    axes.set_xlabel("days")
    axes.set_ylabel("deals")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return axes


def forecast(
    result: Forecast,
    *,
    ax: Axes | None = None,
    level: float = 0.8,
    bins: int = 30,
    title: str | None = None,
) -> Axes:
    """Draw a forecast's simulated revenue: a histogram, its median and an interval.

    The bars count simulations per revenue bin
    (:meth:`~salesflow.metrics.Forecast.histogram`); the shaded band is the
    equal-tailed interval at *level*, the dashed line the median and the
    dotted line the mean.

    Args:
        result: A :class:`~salesflow.metrics.Forecast`.
        ax: The Axes to draw on (default: a new figure).
        level: The interval to shade.
        bins: Number of histogram bins.
        title: The title (default: the period and the interval).

    Returns:
        The matplotlib ``Axes``.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    axes = _axes(ax, "salesflow.plot.forecast()", (8.0, 4.5))
    bars = result.histogram(bins)
    interval = result.interval(level)
    currency = result.currency or ""
    if bars and interval is not None:
        lows = [float(b.low.amount) for b in bars]
        widths = [float(b.high.amount - b.low.amount) or 1.0 for b in bars]
        axes.bar(
            lows, [b.count for b in bars], width=widths, align="edge", color="C0", edgecolor="white"
        )
        axes.axvspan(
            float(interval[0].amount),
            float(interval[1].amount),
            color="C1",
            alpha=0.2,
            label=f"{level:.0%} interval {interval[0]} .. {interval[1]}",
        )
        for value, style, label in ((result.median, "--", "median"), (result.mean, ":", "mean")):
            if value is not None:
                axes.axvline(
                    float(value.amount), color="C3", linestyle=style, label=f"{label} {value}"
                )
        axes.legend(fontsize=8)
    else:
        axes.text(
            0.5, 0.5, "nothing to draw: no valued open deal", ha="center", transform=axes.transAxes
        )
    period = f"{result.start.date()} to {result.end.date()}"
    axes.set_title(
        title if title is not None else f"Revenue won {period} ({result.n:,} simulations)"
    )
    axes.set_xlabel(f"revenue ({currency})" if currency else "revenue")
    axes.set_ylabel("simulations")
    return axes


def backtest(
    result: Backtest,
    *,
    ax: Axes | None = None,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    title: str | None = None,
) -> Axes:
    """Draw a backtest as a fan: each cut-off's forecast intervals, and what was won.

    One vertical band per interval level at each cut-off (widest lightest),
    the forecast mean as a short line, and the actual as a dot: a dot outside
    the bands is a miss. The title gives the coverage at each level.

    Args:
        result: A :class:`~salesflow.metrics.Backtest`.
        ax: The Axes to draw on (default: a new figure).
        levels: The interval levels to draw.
        title: The title (default: the coverage at each level).

    Returns:
        The matplotlib ``Axes``.

    Raises:
        MissingDependencyError: matplotlib is not installed.
    """
    axes = _axes(ax, "salesflow.plot.backtest()", (9.0, 4.5))
    rows = result.rows
    for i, row in enumerate(rows):
        for level in sorted(levels, reverse=True):
            interval = row.forecast.interval(level)
            if interval is not None:
                low, high = float(interval[0].amount), float(interval[1].amount)
                axes.bar(i, high - low, bottom=low, width=0.6, color="C0", alpha=0.25)
        mean = row.forecast.mean
        if mean is not None:
            axes.hlines(float(mean.amount), i - 0.3, i + 0.3, color="C0")
    actual = [(i, float(r.actual.amount)) for i, r in enumerate(rows) if r.actual is not None]
    if actual:
        axes.plot([x for x, _ in actual], [y for _, y in actual], "o", color="C3", label="actual")
        axes.legend(fontsize=8)
    axes.set_xticks(range(len(rows)), [f"{r.cutoff:%Y-%m-%d}" for r in rows], rotation=45)
    cover = ", ".join(f"{level:.0%}: {result.coverage(level).format(0)}" for level in levels)
    axes.set_title(title if title is not None else f"Backtest ({result.method}), coverage {cover}")
    currency = next((r.forecast.currency for r in rows if r.forecast.currency), None)
    axes.set_ylabel(f"revenue ({currency})" if currency else "revenue")
    return axes


# ------------------------------------------------------------ waterfall (issue 14)
# Self-contained, at the end of the module: charts above may be restyled without touching it.

__all__ += ["waterfall"]


def waterfall(
    result: Any, *, ax: Axes | None = None, amount: bool = True, title: str | None = None
) -> Axes:
    """Draw a :func:`~salesflow.metrics.pipeline_changes` waterfall as floating bars.

    The first bar is the pipeline open at the start; each movement then
    floats up (created, reopened, value up) or down (won, lost, value down)
    from where the one before ended, and the last bar is the pipeline open
    at the end, which is where the floating bars arrive (the waterfall
    identity). Advanced, regressed, pulled in and pushed out do not change
    the open pipeline and are drawn beside it as hatched bars from zero (so
    are value up and down in a chart of counts).

    Args:
        result: A :class:`~salesflow.metrics.Waterfall`.
        ax: The axes to draw on; default a new figure.
        amount: Draw amounts (the default) or counts. Amounts need a
            waterfall whose deals have values.
        title: The title; default the window.

    Returns:
        The ``Axes``.

    Raises:
        TypeError: *result* is not a waterfall.
        ValueError: ``amount=True`` and no deal has a value.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import matplotlib.pyplot as plt
        >>> from salesflow import metrics as m, plot
        >>> from salesflow.datasets import synthetic
        >>> deals = synthetic(300, seed=1, movement=True)
        >>> at = lambda d: datetime(2025, 6, d, tzinfo=timezone.utc)
        >>> ax = plot.waterfall(m.pipeline_changes(deals, at(1), at(30)))
        >>> len(ax.patches)  # one bar per bucket
        12
        >>> plt.close(ax.figure)
    """
    from .metrics import Waterfall

    if not isinstance(result, Waterfall):
        msg = f"plot.waterfall() draws the result of metrics.pipeline_changes(), got {type(result).__name__}."
        raise TypeError(msg)
    if amount and result.currency is None:
        msg = "This waterfall has no amounts (no deal has a value); draw it with amount=False."
        raise ValueError(msg)
    axes = _axes(ax, "plot.waterfall()", (9.0, 4.5))

    def size(name: str) -> float:
        bucket = result[name]
        if not amount:
            return float(bucket.count)
        return float(bucket.amount.amount) if bucket.amount is not None else 0.0

    ups = {"created", "reopened", "value_up"}
    order = ["open_at_start", "created", "reopened", "value_up", "won", "lost", "value_down"]
    beside = ["advanced", "regressed", "pulled_in", "pushed_out"]
    if not amount:  # a value change moves no deal in or out: beside, in a count chart
        order = [n for n in order if not n.startswith("value_")]
        beside = ["value_up", "value_down", *beside]
    labels, bottoms, heights, colours, hatches = [], [], [], [], []
    level = size("open_at_start")
    for name in order:
        value = size(name)
        if name == "open_at_start":
            bottom, height, colour = 0.0, value, "#4c72b0"
        elif name in ups:
            bottom, height, colour = level, value, "#55a868"
            level += value
        else:
            level -= value
            bottom, height, colour = level, value, "#c44e52"
        labels.append(name.replace("_", " "))
        bottoms.append(bottom)
        heights.append(height)
        colours.append(colour)
        hatches.append("")
    labels.append("open at end")
    bottoms.append(0.0)
    heights.append(size("open_at_end"))
    colours.append("#4c72b0")
    hatches.append("")
    for name in beside:
        labels.append(name.replace("_", " "))
        bottoms.append(0.0)
        heights.append(size(name))
        colours.append("#bbbbbb")
        hatches.append("//")
    positions = list(range(len(labels)))
    bars = axes.bar(positions, heights, bottom=bottoms, color=colours)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    axes.set_xticks(positions, labels, rotation=30, ha="right")
    unit = result.currency if amount else "deals"
    axes.set_ylabel(unit or "")
    window = f"{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}"
    axes.set_title(title if title is not None else f"Pipeline changes, {window}")
    return axes
