"""Rates compared: a breakdown as dots and whiskers, a metric over time."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, cast

from .._time import DAY
from ..metrics import Breakdown, DurationSummary, Rate
from ..metrics._grouping import group
from ._style import (
    BLUE,
    GREY,
    INK,
    LABEL_SIZE,
    MUTED,
    SMALL,
    VERMILLION,
    compact,
    latest,
    new_axes,
    pct,
    plain,
    pyplot,
    thousands,
    titled,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._deal import Deal

__all__ = ["breakdown", "trend"]

Every = Literal["month", "quarter", "year"]
TrendMetric = Literal["created", "won", "win_rate", "value_won", "median_cycle"]


def _label(key: Hashable) -> str:
    if key is None:
        return "(none)"
    if isinstance(key, tuple):
        return " · ".join("(none)" if k is None else str(k) for k in key)
    return str(key)


def breakdown(
    result: Breakdown[Rate],
    *,
    ax: Axes | None = None,
    sort: Literal["value", "n", "key"] = "value",
    k: int | None = None,
    as_of: datetime | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a rate breakdown as dots and whiskers: one row per group, sorted.

    Each dot is a group's rate (win rate by owner, conversion by source …)
    and its whisker the rate's confidence interval (Wilson, 95 % by default),
    so groups whose whiskers overlap are not clearly different. The dashed
    line is the overall rate: all groups' counts pooled. The right margin
    gives each rate and its counts.

    Args:
        result: A breakdown of rates, e.g. ``metrics.win_rate(deals, by="owner")``.
        ax: The ``Axes`` to draw on; default: a new figure, taller with more groups.
        sort: ``"value"`` (highest rate on top, the default), ``"n"`` (most
            deals on top) or ``"key"``.
        k: Draw only the first *k* groups in that order.
        as_of: The cut-off to name in the title.
        title: The title; default: the metric and the grouping.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed.
        TypeError: The breakdown's results are not rates.
    """
    if not isinstance(result, Breakdown) or not all(isinstance(v, Rate) for v in result.values()):
        msg = (
            "breakdown() draws a Breakdown of rates (e.g. metrics.win_rate(deals, by='owner')), "
            f"got {type(result).__name__}."
        )
        raise TypeError(msg)
    shown = result.sort(sort) if k is None else result.head(k, sort=sort)
    items = list(shown.items())
    height = max(3.2, 0.32 * len(items) + 1.6)
    axes = new_axes(ax, "salesflow.plot.breakdown()", (10.0, height))
    rates = [r for _, r in items]
    every = list((result.complete if result.complete is not None else result).values())
    overall = sum(every[1:], every[0]) if every else None
    for y, rate in enumerate(rates):
        if rate.value is None:
            continue
        if rate.interval is not None:
            low, high = rate.interval
            axes.plot([low, high], [y, y], color=BLUE, linewidth=2.2, solid_capstyle="round")
        axes.plot([rate.value], [y], "o", color=BLUE, markersize=7)
        axes.annotate(
            f"{pct(rate.value, 1)}  ({rate.numerator:,}/{rate.denominator:,})",
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            fontsize=SMALL,
            color=INK,
            annotation_clip=False,
        )
    if overall is not None and overall.value is not None:
        axes.axvline(
            overall.value,
            color=VERMILLION,
            linestyle="--",
            linewidth=1.5,
            label=f"overall {pct(overall.value, 1)} ({overall.numerator:,}/{overall.denominator:,})",
        )
        axes.legend(loc="lower right", fontsize=SMALL, frameon=False)
    axes.set_yticks(range(len(items)), [_label(key) for key, _ in items], fontsize=LABEL_SIZE - 1)
    axes.set_ylim(len(items) - 0.5, -0.7)
    from matplotlib.ticker import PercentFormatter

    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    method = next((r.method for r in rates if r.method is not None), None)
    level = next((r.confidence for r in rates if r.method is not None), 0.95)
    whiskers = "" if method is None else f"; lines: {level:.0%} {method.capitalize()} intervals"
    axes.set_xlabel(f"{result.metric}{whiskers}", fontsize=LABEL_SIZE, color=INK)
    plain(axes, grid="x")
    axes.tick_params(axis="y", length=0)
    what = f"{result.metric.capitalize()} by {result.by}"
    if k is not None and k < len(result):
        what += f" (first {k} of {len(result)} by {sort})"
    titled(axes, what, as_of, title)
    return axes


# ------------------------------------------------------------------ trend


def _periods(keys: Iterable[Hashable], every: Every) -> list[Hashable]:
    """Every period from the first to the last of *keys*, none skipped."""
    present = [k for k in keys if k is not None]
    if not present:
        return []
    if every == "year":
        years = [int(cast("int", k)) for k in present]
        return list(range(min(years), max(years) + 1))
    per_year = 12 if every == "month" else 4

    def index(key: Hashable) -> int:
        text = str(key)
        year, part = text.split("-") if every == "month" else text.split("Q")
        return int(year) * per_year + int(part) - 1

    def name(i: int) -> str:
        year, part = divmod(i, per_year)
        return f"{year:04d}-{part + 1:02d}" if every == "month" else f"{year:04d}Q{part + 1}"

    first, last = min(map(index, present)), max(map(index, present))
    return [name(i) for i in range(first, last + 1)]


_TREND_WHAT = {
    "created": "Deals created",
    "won": "Deals won",
    "win_rate": "Win rate of the deals closed",
    "value_won": "Value won",
    "median_cycle": "Median sales cycle of the deals won",
}


def _trend_values(
    deals: list[Deal], metric: TrendMetric, every: Every, as_of: datetime | None
) -> tuple[dict[Hashable, float | None], dict[Hashable, tuple[float, float]], str]:
    """Per period: the metric's value, its interval where it has one, and the unit."""
    from .. import metrics

    closed = f"closed_{every}"
    values: dict[Hashable, float | None] = {}
    band: dict[Hashable, tuple[float, float]] = {}
    unit = "deals"
    if metric == "created":
        groups = group(deals, f"created_{every}", as_of).groups
        values = {k: float(len(v)) for k, v in groups.items() if k is not None}
    elif metric in ("won", "win_rate"):
        rates = metrics.win_rate(deals, by=closed, as_of=as_of)
        for key, rate in rates.items():
            if key is None:
                continue
            values[key] = float(rate.numerator) if metric == "won" else rate.value
            if metric == "win_rate" and rate.interval is not None:
                band[key] = rate.interval
        unit = "deals" if metric == "won" else "win rate"
    elif metric == "value_won":
        currencies = {d.value.currency for d in deals if d.is_won and d.value is not None}
        if len(currencies) > 1:
            msg = f"value_won adds won deals' values, which are in {len(currencies)} currencies ({', '.join(sorted(currencies))}); draw one currency at a time."
            raise ValueError(msg)
        groups = group(deals, closed, as_of).groups
        for key, members in groups.items():
            if key is None:
                continue
            won = [d.value.amount for d in members if d.is_won and d.value is not None]
            values[key] = float(sum(won, Decimal(0)))
        unit = next(iter(currencies), "value")
    else:
        cycles = cast(
            "Breakdown[DurationSummary]", metrics.sales_cycle(deals, by=closed, as_of=as_of)
        )
        for key, summary in cycles.items():
            if key is None:
                continue
            median = summary.median
            values[key] = None if median is None else median / DAY
        unit = "days"
    return values, band, unit


def _draw_trend(
    axes: Axes,
    metric: TrendMetric,
    periods: list[Hashable],
    values: dict[Hashable, float | None],
    band: dict[Hashable, tuple[float, float]],
) -> None:
    """Bars for counts and value (an empty period is 0), a line for rates and medians (a gap)."""
    xs = list(range(len(periods)))
    ys = [
        values.get(p, 0.0 if metric in ("created", "won", "value_won") else None) for p in periods
    ]
    if metric in ("created", "won", "value_won"):
        axes.bar(xs, [y or 0.0 for y in ys], color=BLUE, width=0.7)
        thousands(axes.yaxis)
        if metric == "value_won":
            from matplotlib.ticker import FuncFormatter

            axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
    else:
        points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if band:
            lows = [band[p][0] if p in band else float("nan") for p in periods]
            highs = [band[p][1] if p in band else float("nan") for p in periods]
            axes.fill_between(
                xs, lows, highs, color=BLUE, alpha=0.18, linewidth=0, label="95% interval"
            )
        axes.plot(
            [x for x, _ in points],
            [y for _, y in points],
            "-o",
            color=BLUE,
            linewidth=2,
            markersize=5,
            label=_TREND_WHAT[metric].lower(),
        )
        if metric == "win_rate":
            from matplotlib.ticker import PercentFormatter

            axes.yaxis.set_major_formatter(PercentFormatter(1.0))
            axes.set_ylim(0, 1)
            axes.legend(fontsize=SMALL, frameon=False)


def trend(
    deals: Iterable[Deal],
    metric: TrendMetric = "win_rate",
    *,
    every: Every = "month",
    as_of: datetime | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a metric per period: deals created or won, win rate, value won, median cycle.

    Deals are placed in the period (UTC) they were created (``"created"``)
    or closed (the others), with the built-in ``by=`` fields
    ``created_<every>`` and ``closed_<every>``; every period between the
    first and the last is drawn, so an empty month shows as zero (counts,
    value) or a gap (rates, medians: undefined, not 0). The win rate carries
    its Wilson interval as a band.

    Args:
        deals: The deals, in one currency for ``"value_won"``.
        metric: ``"created"``, ``"won"``, ``"win_rate"`` (the default),
            ``"value_won"`` or ``"median_cycle"`` (days from creation to win).
        every: ``"month"``, ``"quarter"`` or ``"year"``.
        as_of: Cut-off; default the latest stage change in the data.
        ax: The ``Axes`` to draw on; default: a new figure.
        title: The title; default: the metric, the period and the cut-off.

    Returns:
        The ``Axes`` drawn on.

    Raises:
        MissingDependencyError: matplotlib is not installed.
        ValueError: An unknown *metric* or *every*, or won deals in several
            currencies for ``"value_won"``.
    """
    if metric not in _TREND_WHAT:
        msg = f"metric must be one of {', '.join(map(repr, _TREND_WHAT))}, got {metric!r}."
        raise ValueError(msg)
    if every not in ("month", "quarter", "year"):
        msg = f"every must be 'month', 'quarter' or 'year', got {every!r}."
        raise ValueError(msg)
    deals = list(deals)
    pyplot("salesflow.plot.trend()")
    as_of = as_of or latest(deals)
    axes = new_axes(ax, "salesflow.plot.trend()")
    values, band, unit = _trend_values(deals, metric, every, as_of)
    periods = _periods(values, every)
    xs = list(range(len(periods)))
    _draw_trend(axes, metric, periods, values, band)
    step = max(1, len(periods) // 12)
    axes.set_xticks(xs[::step], [str(p) for p in periods[::step]], fontsize=LABEL_SIZE - 1)
    if not periods:
        axes.text(
            0.5,
            0.5,
            "nothing to draw: no deal in any period",
            ha="center",
            transform=axes.transAxes,
            color=MUTED,
        )
    axes.set_ylabel(unit, fontsize=LABEL_SIZE, color=INK)
    axes.set_xlabel(
        f"{every} {'created' if metric == 'created' else 'closed'} (UTC)",
        fontsize=LABEL_SIZE,
        color=INK,
    )
    plain(axes, grid="y")
    axes.spines["bottom"].set_color(GREY)
    titled(axes, f"{_TREND_WHAT[metric]} per {every}", as_of, title)
    return axes
