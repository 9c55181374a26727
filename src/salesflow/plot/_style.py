"""The one look of every chart: palette, sizes, titles, number formats.

Nothing here changes matplotlib's global state (backend, rcParams, style):
colours and sizes are passed to each artist, so the functions stay safe on a
server and in a user's own figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, cast

from .._optional import require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .._deal import Deal

# Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008).
BLUE = "#0072B2"
SKY = "#56B4E9"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
GREY = "#999999"
INK = "#222222"
MUTED = "#666666"
#: Line colours in order, for several series on one chart.
CYCLE = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, "#000000", GREY)

#: A 16:9 figure that reads on a slide.
SLIDE = (10.0, 5.625)
TITLE_SIZE = 14
LABEL_SIZE = 11
SMALL = 9.5


def pyplot(feature: str) -> Any:
    """matplotlib.pyplot, or the error naming the ``plot`` extra."""
    require("matplotlib", "salesflow[plot]", feature)
    return require("matplotlib.pyplot", "salesflow[plot]", feature)


def new_axes(ax: Axes | None, feature: str, size: tuple[float, float] = SLIDE) -> Axes:
    """*ax*, or the Axes of a new pyplot figure of *size* (so that a notebook shows it)."""
    plt = pyplot(feature)
    if ax is not None:
        return ax
    _, axes = plt.subplots(figsize=size, layout="constrained")
    new: Axes = axes
    return new


def plain(ax: Axes, *, grid: str | None = "x") -> None:
    """Quiet frame: no top or right spine, a light grid along the value axis."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GREY)
    ax.tick_params(colors=INK, labelsize=LABEL_SIZE - 1)
    if grid is not None:
        ax.grid(axis=cast("Literal['both', 'x', 'y']", grid), color="#dddddd", linewidth=0.8)
        ax.set_axisbelow(True)


def thousands(axis: Any) -> None:
    """Tick labels of counts with thousands separators (``8,000``)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def titled(ax: Axes, what: str, as_of: datetime | None, title: str | None) -> None:
    """Title the chart with what it shows and as of when (or the caller's own *title*)."""
    if title is None:
        # A chart names the day; the exact cut-off is in the result's table.
        title = what if as_of is None else f"{what}, as of {as_of.date().isoformat()}"
    ax.set_title(title, loc="left", fontsize=TITLE_SIZE, color=INK, fontweight="bold")


def latest(deals: Iterable[Deal]) -> datetime | None:
    """The latest stage change of *deals*: the metrics' default cut-off."""
    return max((d.stage_times[-1] for d in deals), default=None)


def compact(amount: Decimal | float, currency: str | None = None) -> str:
    """``1,234`` / ``12.3k`` / ``4.56M`` and the currency, for a label."""
    x = float(amount)
    size = abs(x)
    if size >= 1e9:
        text = f"{x / 1e9:.3g}B"
    elif size >= 1e6:
        text = f"{x / 1e6:.3g}M"
    elif size >= 1e4:
        text = f"{x / 1e3:.3g}k"
    else:
        text = f"{x:,.0f}"
    return text if currency is None else f"{text} {currency}"


def pct(x: float | None, digits: int = 0) -> str:
    """A share as a percentage; ``n/a`` when undefined."""
    return "n/a" if x is None else f"{x:.{digits}%}"
