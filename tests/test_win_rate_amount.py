"""The amount-based win rate's percentile-bootstrap interval."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow import metrics as m
from tests.strategies import SMALL, T0

closed = st.lists(st.tuples(st.booleans(), st.integers(1, 10**6)), max_size=30)


def make(outcomes: list[tuple[bool, int]], currency: str = "USD") -> list[sf.Deal]:
    """One closed deal per (won, amount)."""
    deals = []
    for i, (won, amount) in enumerate(outcomes):
        deal = SMALL.open_deal(f"d{i}", at=T0, value=sf.Money(amount, currency))
        deals.append(deal.win(at=T0) if won else deal.lose(at=T0))
    return deals


class TestAmountInterval:
    def test_only_won_deals_give_a_point_interval(self) -> None:
        """Every resample of won deals has ratio 1."""
        rate = m.win_rate(make([(True, 100), (True, 250)]), basis="amount")
        assert rate.interval == (1.0, 1.0)
        assert rate.method == "percentile-bootstrap"

    def test_only_lost_deals_give_zero(self) -> None:
        assert m.win_rate(make([(False, 100), (False, 5)]), basis="amount").interval == (0.0, 0.0)

    def test_no_closed_deal_has_no_interval(self) -> None:
        rate = m.win_rate([], basis="amount")
        assert rate.value is None
        assert rate.interval is None
        assert rate.method is None

    def test_interval_none_turns_it_off(self) -> None:
        rate = m.win_rate(make([(True, 100), (False, 50)]), basis="amount", interval=None)
        assert rate.interval is None
        assert rate.method is None

    def test_count_basis_is_still_wilson(self) -> None:
        rate = m.win_rate(make([(True, 100), (False, 50)]))
        assert rate.method == "wilson"

    def test_reproducible_and_independent_of_order(self) -> None:
        outcomes = [(i % 3 == 0, 1000 + 37 * i) for i in range(40)]
        first = m.win_rate(make(outcomes), basis="amount")
        shuffled = outcomes[:]
        random.Random(5).shuffle(shuffled)
        assert m.win_rate(make(shuffled), basis="amount") == first
        assert m.win_rate(make(outcomes), basis="amount") == first

    def test_interval_is_at_the_requested_level(self) -> None:
        deals = make([(i % 2 == 0, 100 + i * i) for i in range(30)])
        wide = m.win_rate(deals, basis="amount", confidence=0.99).interval
        narrow = m.win_rate(deals, basis="amount", confidence=0.8).interval
        assert wide is not None
        assert narrow is not None
        assert wide[0] <= narrow[0] < narrow[1] <= wide[1]

    def test_matches_scipy_percentile_bootstrap(self) -> None:
        """An independent bootstrap (scipy, other RNG) lands within Monte Carlo error."""
        stats = pytest.importorskip("scipy.stats", reason="scipy is not installed")
        np = pytest.importorskip("numpy", reason="numpy is not installed")
        rng = random.Random(11)
        outcomes = [(rng.random() < 0.4, round(rng.lognormvariate(9, 1))) for _ in range(150)]
        rate = m.win_rate(make(outcomes), basis="amount")
        won = np.array([amount if is_won else 0 for is_won, amount in outcomes], dtype=float)
        value = np.array([amount for _, amount in outcomes], dtype=float)
        oracle = stats.bootstrap(
            (won, value),
            lambda w, v, axis: w.sum(axis=axis) / v.sum(axis=axis),
            paired=True,
            vectorized=True,
            method="percentile",
            n_resamples=20_000,
            random_state=1,
        ).confidence_interval
        assert rate.interval is not None
        # The interval is about 0.25 wide; the 2.5 % quantile of 1,000
        # resamples has a Monte Carlo error near 0.005.
        assert rate.interval == pytest.approx((oracle.low, oracle.high), abs=0.02)
        assert rate.interval[0] < rate.value < rate.interval[1]  # type: ignore[operator]

    @given(closed, st.lists(st.booleans(), max_size=30))
    def test_merge_equals_union(self, outcomes: list[tuple[bool, int]], side: list[bool]) -> None:
        """Any split of the deals, merged either way, gives the rate and interval of all."""
        deals = make(outcomes)
        parts = [m.WinRateAccumulator("amount"), m.WinRateAccumulator("amount")]
        whole = m.WinRateAccumulator("amount")
        for i, deal in enumerate(deals):
            parts[side[i] if i < len(side) else 0].add(deal)
            whole.add(deal)
        expected = whole.result()
        assert parts[0].merge(parts[1]).result() == expected == parts[1].merge(parts[0]).result()
        assert expected.numerator == sum(a for won, a in outcomes if won) + Decimal(0)

    def test_count_basis_keeps_no_pairs(self) -> None:
        acc = m.WinRateAccumulator()
        for deal in make([(True, 100), (False, 50)]):
            acc.add(deal)
        assert acc.pairs == []

    def test_pooled_amount_rates_drop_the_interval(self) -> None:
        """Adding two rates cannot redo a bootstrap (it needs the deals), so there is none."""
        a = m.win_rate(make([(True, 100), (False, 50)]), basis="amount")
        b = m.win_rate(make([(True, 30), (False, 20)]), basis="amount")
        pooled = a + b
        assert (pooled.numerator, pooled.denominator) == (Decimal(130), Decimal(200))
        assert pooled.interval is None
        assert pooled.method is None
        assert (m.win_rate(make([(True, 1)])) + m.win_rate(make([(False, 1)]))).method == "wilson"
