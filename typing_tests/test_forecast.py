"""Type checks of the forecast contract (issue 15): checked by mypy, never run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import assert_type

import salesflow as sf
from salesflow import metrics as m

at = datetime(2026, 1, 1, tzinfo=UTC)
deal = sf.Pipeline.linear("S", ["Lead"]).open_deal("D", at=at, value=sf.Money(1, "USD"))

f = m.forecast([deal], at, at + timedelta(days=30), as_of=at, method="markov", n=10, seed=0)
assert_type(f, m.Forecast)
assert_type(f.mean, sf.Money | None)
assert_type(f.percentile(0.9), sf.Money | None)
assert_type(f.interval(level=0.8), tuple[sf.Money, sf.Money] | None)
assert_type(f.p_close("D"), float)
assert_type(f.expected_count, float)
assert_type(m.backtest([deal], [at], horizon=timedelta(days=30)), m.Backtest)
assert_type(m.calibration([deal], as_of=at), m.Calibration)
assert_type(m.forecast_rollup([deal], at, at + timedelta(days=1), by="owner"), m.Rollup)
quotas = {"ann": sf.Money(10, "USD")}
assert_type(m.attainment([deal], quotas, at, at + timedelta(days=1), by="owner"), m.Attainment)
m.forecast([deal], at, at, method="guess")  # type: ignore[arg-type]
