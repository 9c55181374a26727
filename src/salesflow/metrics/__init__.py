"""Metrics: every formula with its definition, variants, intervals and undefined case.

Each function takes an iterable of deals (or plain numbers, for the formula
helpers) and returns a result that keeps its counts. An undefined value (a
zero denominator, no data) is ``None``, never 0.
"""

from __future__ import annotations

from ._attribution import Attribution, AttributionModel, attribution, attribution_shares
from ._backtest import Backtest, BacktestRow, Calibration, CalibrationRow, backtest, calibration
from ._bootstrap import bootstrap_ratio
from ._cohorts import CohortTable, Created, cohort_conversion, pipeline_created
from ._common import Breakdown
from ._compare import Comparison, compare, logrank
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
from ._groups import GroupComparison, compare_groups
from ._incidence import CumulativeIncidence, cumulative_incidence
from ._intervals import clopper_pearson_interval, jeffreys_interval, wilson_interval
from ._leads import lead_conversion
from ._loss import loss_reasons
from ._markov import (
    AbsorbingChain,
    absorbing_chain,
    expected_time_to_close,
    transition_counts,
    win_probability,
)
from ._markov_ci import StageEstimate, expected_time_to_close_interval, win_probability_interval
from ._movement import Bucket, Waterfall, WaterfallAccumulator, pipeline_changes
from ._rate import Rate
from ._report import Report, report
from ._retention import churn, retention
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
from ._slippage import DealSlippage, Slippage, StaleDeal, StaleDeals, slippage, stale_deals
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
from ._value_ci import average_deal_size_interval
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
    "Bucket",
    "Calibration",
    "CalibrationRow",
    "CohortTable",
    "Comparison",
    "CountSummary",
    "Created",
    "CumulativeIncidence",
    "DealSlippage",
    "DurationSummary",
    "Forecast",
    "ForecastMethod",
    "Funnel",
    "FunnelAccumulator",
    "FunnelRow",
    "GroupComparison",
    "HistogramBin",
    "KaplanMeier",
    "Rate",
    "Report",
    "Rollup",
    "RollupRow",
    "SalesCycleAccumulator",
    "Slippage",
    "StageEstimate",
    "StaleDeal",
    "StaleDeals",
    "TimeInStageAccumulator",
    "UnknownDealError",
    "ValueAccumulator",
    "Velocity",
    "VelocityAccumulator",
    "Waterfall",
    "WaterfallAccumulator",
    "WinRateAccumulator",
    "absorbing_chain",
    "attainment",
    "attribution",
    "attribution_shares",
    "average_deal_size",
    "average_deal_size_interval",
    "backtest",
    "bootstrap_ratio",
    "cac",
    "cac_payback",
    "calibration",
    "category_of",
    "churn",
    "churn_rate",
    "clopper_pearson_interval",
    "cohort_conversion",
    "compare",
    "compare_groups",
    "cumulative_incidence",
    "expected_time_to_close",
    "expected_time_to_close_interval",
    "forecast",
    "forecast_rollup",
    "funnel",
    "gross_revenue_retention",
    "jeffreys_interval",
    "kaplan_meier",
    "lead_conversion",
    "lead_velocity_rate",
    "logrank",
    "loss_reasons",
    "ltv",
    "ltv_to_cac",
    "net_revenue_retention",
    "pipeline_changes",
    "pipeline_coverage",
    "pipeline_created",
    "pipeline_value",
    "report",
    "retention",
    "retention_rate",
    "sales_cycle",
    "sales_velocity",
    "slippage",
    "stage_conversion",
    "stale_deals",
    "time_in_stage",
    "touchpoints_per_conversion",
    "transition_counts",
    "weighted_pipeline",
    "wilson_interval",
    "win_probability",
    "win_probability_interval",
    "win_rate",
]
