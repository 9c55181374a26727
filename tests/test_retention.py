"""Tests for retention() and churn(): cohort rates with counts and a Wilson interval."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesflow.metrics import Rate, churn, churn_rate, retention, retention_rate

proportion = pytest.importorskip(
    "statsmodels.stats.proportion", reason="statsmodels is not installed"
)

cohorts = st.integers(min_value=1, max_value=10_000).flatmap(
    lambda s: st.tuples(st.just(s), st.integers(min_value=0, max_value=s))
)


class TestRetention:
    def test_value_and_counts_by_hand(self) -> None:
        rate = retention(200, 180)
        assert isinstance(rate, Rate)
        assert (rate.numerator, rate.denominator, rate.value) == (180, 200, 0.9)
        assert rate.method == "wilson"

    @given(cohorts)
    def test_wilson_interval_matches_statsmodels(self, cohort: tuple[int, int]) -> None:
        start, kept = cohort
        low, high = proportion.proportion_confint(kept, start, alpha=0.05, method="wilson")
        assert retention(start, kept).interval == pytest.approx((low, high), abs=1e-9)

    def test_jeffreys_and_level_are_passed_on(self) -> None:
        rate = retention(40, 30, interval="jeffreys", confidence=0.9)
        low, high = proportion.proportion_confint(30, 40, alpha=0.1, method="jeffreys")
        assert rate.method == "jeffreys"
        assert rate.interval == pytest.approx((low, high), abs=1e-9)
        assert retention(40, 30, interval=None).interval is None

    def test_agrees_with_the_float_function_in_cohort_form(self) -> None:
        assert retention(230, 207).value == retention_rate(230, 207, 0)

    def test_no_customers_is_undefined(self) -> None:
        assert retention(0, 0).value is None

    def test_more_retained_than_at_start_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"retained \(11\).*customers_at_start \(10\)"):
            retention(10, 11)

    @pytest.mark.parametrize("bad", [True, 1.0, "3", None])
    def test_counts_must_be_ints(self, bad: object) -> None:
        with pytest.raises(TypeError, match="retained"):
            retention(10, bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="customers_at_start"):
            retention(bad, 1)  # type: ignore[arg-type]

    def test_negative_counts_are_refused(self) -> None:
        with pytest.raises(ValueError, match="customers_at_start"):
            retention(-1, 0)


class TestChurn:
    def test_value_and_interval_by_hand(self) -> None:
        # Wilson, z = 1.959964, z² = 3.841459: centre (20 + z²/2) / (200 + z²)
        # = 21.92073 / 203.84146 = 0.107538; half-width
        # z / (200 + z²) * sqrt(20 * 180 / 200 + z²/4) = 0.0096151 * 4.354350 = 0.041868.
        rate = churn(200, 20)
        assert rate.value == 0.1
        assert rate.interval == pytest.approx((0.065670, 0.149406), abs=2e-6)

    def test_agrees_with_the_float_function(self) -> None:
        assert churn(200, 10).value == churn_rate(200, 10)

    @given(cohorts)
    def test_churn_and_retention_are_complements(self, cohort: tuple[int, int]) -> None:
        start, lost = cohort
        gone, kept = churn(start, lost), retention(start, start - lost)
        assert gone.value is not None
        assert kept.value is not None
        assert gone.value + kept.value == pytest.approx(1)
        assert gone.interval is not None
        assert kept.interval is not None
        # The Wilson interval is symmetric under swapping successes and failures.
        assert gone.interval[0] == pytest.approx(1 - kept.interval[1], abs=1e-12)
        assert gone.interval[1] == pytest.approx(1 - kept.interval[0], abs=1e-12)

    def test_more_lost_than_at_start_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"lost \(3\)"):
            churn(2, 3)

    def test_no_customers_is_undefined(self) -> None:
        assert churn(0, 0).value is None
