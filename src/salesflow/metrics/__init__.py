"""Metrics: every formula with its definition, variants, intervals and undefined case.

Each function takes an iterable of deals (or plain numbers, for the formula
helpers) and returns a result that keeps its counts. An undefined value (a
zero denominator, no data) is ``None``, never 0.
"""

from __future__ import annotations

from ._common import Breakdown
from ._conversion import (
    Funnel,
    FunnelAccumulator,
    FunnelRow,
    WinRateAccumulator,
    funnel,
    stage_conversion,
    win_rate,
)
from ._intervals import clopper_pearson_interval, jeffreys_interval, wilson_interval
from ._rate import Rate
from ._survival import CumulativeIncidence, KaplanMeier, cumulative_incidence, kaplan_meier

__all__ = [
    "Breakdown",
    "CumulativeIncidence",
    "Funnel",
    "FunnelAccumulator",
    "FunnelRow",
    "KaplanMeier",
    "Rate",
    "WinRateAccumulator",
    "clopper_pearson_interval",
    "cumulative_incidence",
    "funnel",
    "jeffreys_interval",
    "kaplan_meier",
    "stage_conversion",
    "wilson_interval",
    "win_rate",
]
