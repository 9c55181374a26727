"""The movement waterfall: what changed in the open pipeline between two dates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._style import BLUE, GREEN, GREY, VERMILLION, new_axes, plain, thousands, titled

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["waterfall"]


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
    from ..metrics import Waterfall

    if not isinstance(result, Waterfall):
        msg = f"plot.waterfall() draws the result of metrics.pipeline_changes(), got {type(result).__name__}."
        raise TypeError(msg)
    if amount and result.currency is None:
        msg = "This waterfall has no amounts (no deal has a value); draw it with amount=False."
        raise ValueError(msg)
    axes = new_axes(ax, "plot.waterfall()")

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
            bottom, height, colour = 0.0, value, BLUE
        elif name in ups:
            bottom, height, colour = level, value, GREEN
            level += value
        else:
            level -= value
            bottom, height, colour = level, value, VERMILLION
        labels.append(name.replace("_", " "))
        bottoms.append(bottom)
        heights.append(height)
        colours.append(colour)
        hatches.append("")
    labels.append("open at end")
    bottoms.append(0.0)
    heights.append(size("open_at_end"))
    colours.append(BLUE)
    hatches.append("")
    for name in beside:
        labels.append(name.replace("_", " "))
        bottoms.append(0.0)
        heights.append(size(name))
        colours.append(GREY)
        hatches.append("//")
    positions = list(range(len(labels)))
    bars = axes.bar(positions, heights, bottom=bottoms, color=colours)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    axes.set_xticks(positions, labels, rotation=30, ha="right")
    unit = result.currency if amount else "deals"
    axes.set_ylabel(unit or "")
    if not amount:
        thousands(axes.yaxis)
    plain(axes, grid="y")
    window = f"{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}"
    titled(axes, f"Pipeline changes, {window}", None, title)
    return axes
