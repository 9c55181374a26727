"""Metrics: every formula with its definition, variants, intervals and undefined case.

Each function takes an iterable of deals (or plain numbers, for the formula
helpers) and returns a result that keeps its counts. An undefined value (a
zero denominator, no data) is ``None``, never 0.
"""

from __future__ import annotations

from ._attribution import Attribution, AttributionModel, attribution, attribution_shares
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
from ._formulas import (
    cac,
    cac_payback,
    churn_rate,
    gross_revenue_retention,
    lead_velocity_rate,
    ltv,
    ltv_to_cac,
    net_revenue_retention,
    retention_rate,
)
from ._intervals import clopper_pearson_interval, jeffreys_interval, wilson_interval
from ._rate import Rate
from ._survival import CumulativeIncidence, KaplanMeier, cumulative_incidence, kaplan_meier

__all__ = [
    "Attribution",
    "AttributionModel",
    "Breakdown",
    "CumulativeIncidence",
    "Funnel",
    "FunnelAccumulator",
    "FunnelRow",
    "KaplanMeier",
    "Rate",
    "WinRateAccumulator",
    "attribution",
    "attribution_shares",
    "cac",
    "cac_payback",
    "churn_rate",
    "clopper_pearson_interval",
    "cumulative_incidence",
    "funnel",
    "gross_revenue_retention",
    "jeffreys_interval",
    "kaplan_meier",
    "lead_velocity_rate",
    "ltv",
    "ltv_to_cac",
    "net_revenue_retention",
    "retention_rate",
    "stage_conversion",
    "wilson_interval",
    "win_rate",
]
