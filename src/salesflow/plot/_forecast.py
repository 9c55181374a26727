"""Forecast charts: the simulated revenue of a period, and a backtest as a fan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._style import BLUE, ORANGE, VERMILLION, new_axes, plain, titled

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..metrics import Backtest, Forecast

__all__ = ["backtest", "forecast"]


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
    axes = new_axes(ax, "salesflow.plot.forecast()")
    bars = result.histogram(bins)
    interval = result.interval(level)
    currency = result.currency or ""
    if bars and interval is not None:
        lows = [float(b.low.amount) for b in bars]
        widths = [float(b.high.amount - b.low.amount) or 1.0 for b in bars]
        axes.bar(
            lows, [b.count for b in bars], width=widths, align="edge", color=BLUE, edgecolor="white"
        )
        axes.axvspan(
            float(interval[0].amount),
            float(interval[1].amount),
            color=ORANGE,
            alpha=0.2,
            label=f"{level:.0%} interval {interval[0]} .. {interval[1]}",
        )
        for value, style, label in ((result.median, "--", "median"), (result.mean, ":", "mean")):
            if value is not None:
                axes.axvline(
                    float(value.amount), color=VERMILLION, linestyle=style, label=f"{label} {value}"
                )
        axes.legend(fontsize=8)
    else:
        axes.text(
            0.5, 0.5, "nothing to draw: no valued open deal", ha="center", transform=axes.transAxes
        )
    period = f"{result.start.date()} to {result.end.date()}"
    plain(axes, grid="y")
    titled(axes, f"Revenue won {period} ({result.n:,} simulations)", None, title)
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
    axes = new_axes(ax, "salesflow.plot.backtest()")
    rows = result.rows
    for i, row in enumerate(rows):
        for level in sorted(levels, reverse=True):
            interval = row.forecast.interval(level)
            if interval is not None:
                low, high = float(interval[0].amount), float(interval[1].amount)
                axes.bar(i, high - low, bottom=low, width=0.6, color=BLUE, alpha=0.25)
        mean = row.forecast.mean
        if mean is not None:
            axes.hlines(float(mean.amount), i - 0.3, i + 0.3, color=BLUE)
    actual = [(i, float(r.actual.amount)) for i, r in enumerate(rows) if r.actual is not None]
    if actual:
        axes.plot(
            [x for x, _ in actual], [y for _, y in actual], "o", color=VERMILLION, label="actual"
        )
        axes.legend(fontsize=8)
    axes.set_xticks(range(len(rows)), [f"{r.cutoff:%Y-%m-%d}" for r in rows], rotation=45)
    cover = ", ".join(f"{level:.0%}: {result.coverage(level).format(0)}" for level in levels)
    plain(axes, grid="y")
    titled(axes, f"Backtest ({result.method}), coverage {cover}", None, title)
    currency = next((r.forecast.currency for r in rows if r.forecast.currency), None)
    axes.set_ylabel(f"revenue ({currency})" if currency else "revenue")
    return axes
