"""Metrics: every formula with its definition, variants, intervals and undefined case.

Each function takes an iterable of deals (or plain numbers, for the formula
helpers) and returns a result that keeps its counts. An undefined value (a
zero denominator, no data) is ``None``, never 0.
"""

from __future__ import annotations

from ._attribution import Attribution, AttributionModel, attribution, attribution_shares
from ._backtest import Backtest, BacktestRow, Calibration, CalibrationRow, backtest, calibration
from ._common import Breakdown
from ._conversion import WinRateAccumulator, stage_conversion, win_rate
from ._forecast import Forecast, ForecastMethod, HistogramBin, UnknownDealError, forecast
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
from ._funnel import Funnel, FunnelAccumulator, FunnelRow, funnel
from ._incidence import CumulativeIncidence, cumulative_incidence
from ._intervals import clopper_pearson_interval, jeffreys_interval, wilson_interval
from ._leads import lead_conversion
from ._markov import (
    AbsorbingChain,
    absorbing_chain,
    expected_time_to_close,
    transition_counts,
    win_probability,
)
from ._rate import Rate
from ._report import Report, report
from ._rollup import (
    CATEGORIES,
    Attainment,
    AttainmentRow,
    Rollup,
    RollupRow,
    attainment,
    category_of,
    forecast_rollup,
)
from ._summary import CountSummary, DurationSummary
from ._survival import KaplanMeier, kaplan_meier
from ._timing import SalesCycleAccumulator, TimeInStageAccumulator, sales_cycle, time_in_stage
from ._touch import touchpoints_per_conversion
from ._value import (
    ValueAccumulator,
    average_deal_size,
    pipeline_coverage,
    pipeline_value,
    weighted_pipeline,
)
from ._velocity import Velocity, VelocityAccumulator, sales_velocity

__all__ = [
    "CATEGORIES",
    "AbsorbingChain",
    "Attainment",
    "AttainmentRow",
    "Attribution",
    "AttributionModel",
    "Backtest",
    "BacktestRow",
    "Breakdown",
    "Calibration",
    "CalibrationRow",
    "CountSummary",
    "CumulativeIncidence",
    "DurationSummary",
    "Forecast",
    "ForecastMethod",
    "Funnel",
    "FunnelAccumulator",
    "FunnelRow",
    "HistogramBin",
    "KaplanMeier",
    "Rate",
    "Report",
    "Rollup",
    "RollupRow",
    "SalesCycleAccumulator",
    "TimeInStageAccumulator",
    "UnknownDealError",
    "ValueAccumulator",
    "Velocity",
    "VelocityAccumulator",
    "WinRateAccumulator",
    "absorbing_chain",
    "attainment",
    "attribution",
    "attribution_shares",
    "average_deal_size",
    "backtest",
    "cac",
    "cac_payback",
    "calibration",
    "category_of",
    "churn_rate",
    "clopper_pearson_interval",
    "cumulative_incidence",
    "expected_time_to_close",
    "forecast",
    "forecast_rollup",
    "funnel",
    "gross_revenue_retention",
    "jeffreys_interval",
    "kaplan_meier",
    "lead_conversion",
    "lead_velocity_rate",
    "ltv",
    "ltv_to_cac",
    "net_revenue_retention",
    "pipeline_coverage",
    "pipeline_value",
    "report",
    "retention_rate",
    "sales_cycle",
    "sales_velocity",
    "stage_conversion",
    "time_in_stage",
    "touchpoints_per_conversion",
    "transition_counts",
    "weighted_pipeline",
    "wilson_interval",
    "win_probability",
    "win_rate",
]
