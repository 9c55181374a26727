"""Static checks of the tables, frames and charts a notebook shows: type-checked, never run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias, assert_type

import salesflow as sf
from salesflow import plot
from salesflow.metrics import Breakdown, Rate

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

Frame: TypeAlias = "pd.DataFrame"
Chart: TypeAlias = "Axes"

pipeline = sf.templates.b2b()
deal = pipeline.open_deal("D-1", at=datetime(2026, 1, 1, tzinfo=UTC))
rates = sf.metrics.win_rate([deal], by="owner")
report = sf.report([deal])

assert_type(rates.head(3), Breakdown[Rate])
assert_type(rates.top(3), Breakdown[Rate])
assert_type(rates.sort("value"), Breakdown[Rate])
assert_type(report.warnings, tuple[str, ...])
assert_type(report.to_frame(wide=True, exact=True), Frame)
assert_type(rates.to_frame(exact=True), Frame)
assert_type(plot.funnel(report, split=True), Chart)
assert_type(plot.breakdown(rates, k=5), Chart)
assert_type(plot.trend([deal], "value_won", every="quarter"), Chart)
assert_type(plot.pipeline_value([deal]), Chart)
assert_type(plot.time_in_stage(report), Chart)
assert_type(plot.cycle(report), Chart)
