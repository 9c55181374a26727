"""The report with salesflow: ``salesflow.report`` and reading every number of it.

Summaries such as the Kaplan-Meier median are computed when read, so the
timed call reads them all; what a user of the report would see is what is
timed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from report_common import (
    FUNNEL_KEYS,
    OPEN_KEYS,
    Duration,
    FunnelCounts,
    ReportNumbers,
    cents,
)

import salesflow as sf
from salesflow.metrics import DurationSummary

_US = timedelta(microseconds=1)


def _us(value: timedelta | None) -> float | None:
    return None if value is None else value / _US


def _duration(summary: DurationSummary) -> Duration:
    return Duration(summary.n, summary.censored, _us(summary.median), _us(summary.mean))


def _amount(money: sf.Money | None) -> Decimal:
    return Decimal(0) if money is None else cents(money.amount)


def numbers(deals: Sequence[sf.Deal]) -> ReportNumbers:
    """``salesflow.report(deals)``, every number read out."""
    return read(sf.report(deals))


def read(rep: sf.Report) -> ReportNumbers:
    """Every number of *rep* read out (summaries are computed when read)."""
    funnel = {}
    for row in rep.funnel:
        interval = None if row.conversion is None else row.conversion.interval
        funnel[row.stage.key] = FunnelCounts(
            row.entered,
            row.advanced,
            row.lost,
            row.still_open,
            int(row.cumulative.numerator),
            interval,
        )
    assert tuple(funnel) == FUNNEL_KEYS
    rate = rep.win_rate
    won = int(rate.numerator)
    velocity = rep.velocity.value
    return ReportNumbers(
        deals=rep.deals,
        funnel=funnel,
        time_in_stage={key: _duration(rep.time_in_stage[key]) for key in OPEN_KEYS},
        won=won,
        lost=int(rate.denominator) - won,
        win_interval=rate.interval,
        opportunities=rep.velocity.opportunities,
        average_won=None if rep.average_deal_size is None else cents(rep.average_deal_size.amount),
        pipeline_value=_amount(rep.pipeline_value),
        weighted_pipeline=_amount(rep.weighted_pipeline),
        cycle=_duration(rep.sales_cycle),
        velocity=None if velocity is None else float(velocity.amount),
    )
