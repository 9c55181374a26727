"""Charts a sales manager would present, drawn with matplotlib.

Needs the ``plot`` extra (``pip install 'salesflow[plot]'``); matplotlib is
imported inside each function.

Every function draws on the ``Axes`` passed as ``ax=``, or, without one, on
a new slide-sized figure from ``matplotlib.pyplot.subplots()`` (so that a
notebook shows it), and returns the ``Axes``. Nothing is shown (no
``plt.show()``) and no global setting (backend, rcParams, style) is changed,
so the functions are safe on a headless server: save with
``ax.figure.savefig("funnel.png")``. Every chart uses one colour-blind-safe
palette (Okabe and Ito's) and is titled with what it shows and as of when.

Examples:
    >>> import matplotlib.pyplot as plt
    >>> from salesflow import plot
    >>> from salesflow.datasets import synthetic
    >>> deals = synthetic(300, seed=1)
    >>> ax = plot.funnel(deals)
    >>> len(ax.patches)  # one bar per funnel step
    8
    >>> ax.get_title(loc="left")
    'Pipeline funnel, as of 2025-12-31'
    >>> plt.close(ax.figure)
"""

from __future__ import annotations

from ._durations import cycle, time_in_stage
from ._forecast import backtest, forecast
from ._funnel import funnel
from ._movement import waterfall
from ._rates import breakdown, trend
from ._value import pipeline_value

__all__ = [
    "backtest",
    "breakdown",
    "cycle",
    "forecast",
    "funnel",
    "pipeline_value",
    "time_in_stage",
    "trend",
    "waterfall",
]
