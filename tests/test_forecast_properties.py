"""Invariants of the forecast on random histories (Hypothesis)."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

import salesflow as sf
from salesflow import metrics as m

from .strategies import SMALL, T0, sample_deals

HAS_NUMPY = importlib.util.find_spec("numpy") is not None


def _valued(deals: list[sf.Deal], cents: list[int]) -> list[sf.Deal]:
    return [
        d.replace(value=sf.Money(Decimal(cents[i % len(cents)]).scaleb(-2), "USD"))
        for i, d in enumerate(deals)
    ]


@settings(max_examples=15, deadline=None)
@given(
    sample_deals(max_size=12),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=5),
    st.integers(0, 40),
    st.integers(1, 30),
)
def test_forecast_invariants(deals: list[sf.Deal], cents: list[int], cut: int, days: int) -> None:
    """p_close in [0, 1], percentiles ordered, counts bounded, order of deals irrelevant to p."""
    deals = _valued(deals, cents)
    as_of = T0 + timedelta(days=cut)
    end = as_of + timedelta(days=days)
    engine = "numpy" if HAS_NUMPY else "python"
    f = m.forecast(deals, as_of, end, as_of=as_of, n=30, pipeline=SMALL, engine=engine)
    assert all(0.0 <= p <= 1.0 for p in f.chances.values())
    assert f.expected_count <= f.open_deals + 1e-9
    assert all(0 <= c <= f.open_deals for c in f.counts)
    if f.currency is not None:
        qs = [f.percentile(q / 10) for q in range(11)]
        assert qs == sorted(qs)  # type: ignore[type-var]
        total = sum(
            (d.value.amount for d in deals if d.as_of(as_of) and d.as_of(as_of).is_open), start=0
        )  # type: ignore[union-attr]
        assert f.revenue[-1] <= total * 10**f.places
    backwards = m.forecast(
        deals[::-1], as_of, end, as_of=as_of, n=30, pipeline=SMALL, engine=engine
    )
    assert backwards.chances == f.chances
    if HAS_NUMPY:
        slow = m.forecast(deals, as_of, end, as_of=as_of, n=30, pipeline=SMALL, engine="python")
        assert slow == f
