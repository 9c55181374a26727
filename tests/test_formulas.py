"""Tests for the unit-economics and retention helpers in salesflow.metrics._formulas."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from salesflow import CurrencyMismatchError, Money
from salesflow.metrics._formulas import (
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
from tests.strategies import CURRENCIES


def usd(amount: int | str | Decimal) -> Money:
    return Money(amount, "USD")


amounts = st.decimals(min_value=0, max_value=10**9, places=2).map(usd)
positive_amounts = st.decimals(min_value="0.01", max_value=10**9, places=2).map(usd)
fractions = st.decimals(min_value=0, max_value=1, places=4)
counts = st.integers(min_value=0, max_value=10**6)

NOT_RATES = [1.5, -0.1, 80, float("nan"), float("inf"), Decimal("NaN"), Decimal("1.0001")]
NOT_RATE_TYPES = [True, "0.8", None, [0.8]]
NOT_COUNTS = [True, 1.0, "3", None]


class TestCac:
    def test_spend_per_new_customer(self) -> None:
        """CAC is spend divided by new customers."""
        assert cac(usd(30_000), 12) == usd(2500)

    def test_blended_and_paid_differ_by_what_is_passed(self) -> None:
        """Blended CAC (all spend, all customers) can look far cheaper than paid CAC."""
        blended = cac(usd(400), 100)
        paid = cac(usd(200), 10)
        assert (blended, paid) == (usd(4), usd(20))

    def test_keeps_the_exact_quotient(self) -> None:
        """The result is not rounded to cents: 100 / 3 keeps its decimals."""
        assert cac(usd(100), 3) == usd("33.33333333333333333333333333")

    def test_large_round_result_is_plain(self) -> None:
        """A round result is written plainly, not in exponent notation."""
        result = cac(Money("1.2E+4", "USD"), 1)
        assert result is not None
        assert str(result.amount) == "12000"

    def test_no_new_customers_is_undefined(self) -> None:
        """With no new customers CAC is None, neither 0 nor infinite."""
        assert cac(usd(5000), 0) is None

    def test_negative_spend_is_refused(self) -> None:
        """A negative spend raises ValueError naming the spend."""
        with pytest.raises(ValueError, match=r"spend must not be negative.*-1"):
            cac(usd(-1), 3)

    @pytest.mark.parametrize("count", [-1, -100])
    def test_negative_count_is_refused(self, count: int) -> None:
        """A negative customer count raises ValueError showing the value."""
        with pytest.raises(ValueError, match=rf"new_customers must be zero or more, got {count}"):
            cac(usd(100), count)

    @pytest.mark.parametrize("count", NOT_COUNTS)
    def test_count_must_be_an_int(self, count: object) -> None:
        """Floats, bools and strings are not customer counts."""
        with pytest.raises(TypeError, match="new_customers must be an int"):
            cac(usd(100), count)  # type: ignore[arg-type]

    @pytest.mark.parametrize("spend", [1000, Decimal(1000)])
    def test_plain_spend_gives_a_decimal(self, spend: int | Decimal) -> None:
        """An int or Decimal spend gives the cost per customer as a Decimal."""
        result = cac(spend, 4)
        assert isinstance(result, Decimal)
        assert result == Decimal(250)

    def test_float_spend_is_refused_with_the_reason(self) -> None:
        """A float spend is refused: it cannot hold cents exactly, and the message says what to pass."""
        with pytest.raises(
            TypeError,
            match=r"spend must be Money, an int or a Decimal, not the float 1000\.1: floats cannot "
            r"hold cents exactly; pass Decimal\('1000\.1'\) or an int\.",
        ):
            cac(1000.1, 3)  # type: ignore[call-overload]


class TestCacPayback:
    def test_months_of_gross_profit(self) -> None:
        """2,400 / (250 x 0.8) = 12 months."""
        assert cac_payback(usd(2400), usd(250), 0.8) == 12.0

    def test_accepts_decimal_margin(self) -> None:
        """A Decimal margin gives the same answer as the equal float."""
        assert cac_payback(usd(2400), usd(250), Decimal("0.8")) == 12.0

    def test_revenue_payback_is_shorter_by_the_margin(self) -> None:
        """Leaving the margin out (margin 1) shortens payback by the factor 1 / margin."""
        assert cac_payback(usd(2400), usd(250), 1) == pytest.approx(12.0 * 0.8)

    @pytest.mark.parametrize(("revenue", "margin"), [(usd(0), 0.8), (usd(250), 0), (usd(0), 0)])
    def test_zero_denominator_is_undefined(self, revenue: Money, margin: float) -> None:
        """When revenue x margin is zero the cost is never paid back: None."""
        assert cac_payback(usd(2400), revenue, margin) is None

    def test_zero_cac_pays_back_at_once(self) -> None:
        """A free customer pays back in 0 months (defined, unlike a 0 denominator)."""
        assert cac_payback(usd(0), usd(250), 0.8) == 0.0

    def test_currencies_must_match(self) -> None:
        """CAC in USD and revenue in EUR raise CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError) as info:
            cac_payback(usd(2400), Money(250, "EUR"), 0.8)
        assert info.value.currencies == ("USD", "EUR")

    @pytest.mark.parametrize("margin", NOT_RATES)
    def test_margin_outside_unit_interval(self, margin: object) -> None:
        """A margin outside [0, 1] (or NaN) raises ValueError naming gross_margin."""
        with pytest.raises(ValueError, match="gross_margin must be between 0 and 1"):
            cac_payback(usd(2400), usd(250), margin)  # type: ignore[arg-type]

    def test_percent_margin_gets_a_hint(self) -> None:
        """Passing 80 for 80 % suggests 0.8 in the message."""
        with pytest.raises(ValueError, match=r"got 80; pass 0\.8 for 80 %"):
            cac_payback(usd(2400), usd(250), 80)

    @pytest.mark.parametrize("margin", NOT_RATE_TYPES)
    def test_margin_must_be_a_number(self, margin: object) -> None:
        """Bools, strings and None are not margins."""
        with pytest.raises(TypeError, match="gross_margin must be a float or Decimal"):
            cac_payback(usd(2400), usd(250), margin)  # type: ignore[arg-type]

    def test_floats_as_money_are_refused(self) -> None:
        """A float revenue raises TypeError."""
        with pytest.raises(TypeError, match="monthly_revenue_per_customer must be Money"):
            cac_payback(usd(2400), 250.0, 0.8)  # type: ignore[arg-type]


class TestLtv:
    def test_margin_over_churn(self) -> None:
        """100 x 0.8 / 0.04 = 2,000 (a 25-month lifetime)."""
        assert ltv(usd(100), 0.8, 0.04) == usd(2000)

    def test_rates_are_converted_exactly(self) -> None:
        """0.1 becomes Decimal('0.1'), not the float's binary approximation."""
        result = ltv(usd(100), 0.1, 1)
        assert result is not None
        assert result.amount == Decimal("10")

    def test_round_result_is_plain(self) -> None:
        """80 / 0.04 is written 2000, not 2E+3."""
        result = ltv(usd(100), 0.8, 0.04)
        assert result is not None
        assert str(result.amount) == "2000"

    def test_zero_churn_is_undefined(self) -> None:
        """With no churn the lifetime is infinite: None."""
        assert ltv(usd(100), 0.8, 0) is None

    def test_zero_margin_is_worth_nothing(self) -> None:
        """A zero margin gives a defined LTV of zero."""
        assert ltv(usd(100), 0, 0.05) == usd(0)

    @pytest.mark.parametrize("churn", NOT_RATES)
    def test_churn_outside_unit_interval(self, churn: object) -> None:
        """A churn outside [0, 1] raises ValueError naming monthly_churn."""
        with pytest.raises(ValueError, match="monthly_churn must be between 0 and 1"):
            ltv(usd(100), 0.8, churn)  # type: ignore[arg-type]

    def test_negative_revenue_is_refused(self) -> None:
        """Negative revenue raises ValueError."""
        with pytest.raises(ValueError, match="monthly_revenue_per_customer must not be negative"):
            ltv(usd(-100), 0.8, 0.05)

    @given(
        revenue=amounts,
        margin=fractions,
        low=st.decimals(min_value="0.0001", max_value=1, places=4),
        high=st.decimals(min_value="0.0001", max_value=1, places=4),
    )
    def test_monotone_in_churn(
        self, revenue: Money, margin: Decimal, low: Decimal, high: Decimal
    ) -> None:
        """More churn never raises the lifetime value."""
        assume(low <= high)
        at_low, at_high = ltv(revenue, margin, low), ltv(revenue, margin, high)
        assert at_low is not None
        assert at_high is not None
        assert at_low >= at_high


class TestLtvToCac:
    def test_ratio(self) -> None:
        """7,500 / 2,500 = 3."""
        assert ltv_to_cac(Money(7500, "EUR"), Money(2500, "EUR")) == 3.0

    def test_zero_cac_is_undefined(self) -> None:
        """A free customer makes the ratio undefined: None."""
        assert ltv_to_cac(usd(7500), usd(0)) is None

    def test_currencies_must_match(self) -> None:
        """LTV in EUR and CAC in USD raise CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError):
            ltv_to_cac(Money(7500, "EUR"), usd(2500))

    def test_float_is_refused(self) -> None:
        """A float LTV raises TypeError."""
        with pytest.raises(TypeError, match="ltv must be Money"):
            ltv_to_cac(7500.0, usd(2500))  # type: ignore[arg-type]


class TestRetentionRate:
    def test_reference_formula(self) -> None:
        """(E - N) / S: (210 - 30) / 200 = 0.9."""
        assert retention_rate(200, 210, 30) == 0.9

    def test_no_starting_customers_is_undefined(self) -> None:
        """With S = 0 the rate is None, not 0."""
        assert retention_rate(0, 5, 5) is None

    def test_more_new_than_at_end_is_refused(self) -> None:
        """E < N cannot happen; it raises ValueError."""
        with pytest.raises(
            ValueError, match=r"customers_at_end \(5\) is smaller than new_customers \(8\)"
        ):
            retention_rate(10, 5, 8)

    def test_more_kept_than_started_is_refused(self) -> None:
        """E - N > S means reactivations were not counted as new: ValueError."""
        with pytest.raises(ValueError, match="count reactivated customers in new_customers"):
            retention_rate(10, 15, 2)

    @pytest.mark.parametrize(("s", "e", "n"), [(-1, 0, 0), (10, -1, 0), (10, 5, -1)])
    def test_negative_counts_are_refused(self, s: int, e: int, n: int) -> None:
        """Any negative count raises ValueError."""
        with pytest.raises(ValueError, match="must be zero or more"):
            retention_rate(s, e, n)

    @pytest.mark.parametrize("count", NOT_COUNTS)
    def test_counts_must_be_ints(self, count: object) -> None:
        """Non-int counts raise TypeError."""
        with pytest.raises(TypeError, match="customers_at_start must be an int"):
            retention_rate(count, 1, 0)  # type: ignore[arg-type]

    @given(start=counts, data=st.data())
    def test_within_unit_interval_for_valid_cohorts(self, start: int, data: st.DataObject) -> None:
        """For any consistent S, E, N the retention rate lies in [0, 1]."""
        kept = data.draw(st.integers(min_value=0, max_value=start))
        new = data.draw(counts)
        rate = retention_rate(start, kept + new, new)
        if start == 0:
            assert rate is None
        else:
            assert rate is not None
            assert 0.0 <= rate <= 1.0

    @given(start=st.integers(min_value=1, max_value=10**6), data=st.data())
    def test_cohort_form_complements_churn(self, start: int, data: st.DataObject) -> None:
        """With E = S - lost and N = 0, retention + churn = 1."""
        lost = data.draw(st.integers(min_value=0, max_value=start))
        retained = retention_rate(start, start - lost, 0)
        churned = churn_rate(start, lost)
        assert retained is not None
        assert churned is not None
        assert retained + churned == pytest.approx(1.0, abs=1e-12)


class TestChurnRate:
    def test_lost_over_start(self) -> None:
        """10 lost of 200 is 5 %."""
        assert churn_rate(200, 10) == 0.05

    def test_no_starting_customers_is_undefined(self) -> None:
        """With S = 0 churn is None, not 0."""
        assert churn_rate(0, 0) is None

    def test_more_lost_than_started_is_refused(self) -> None:
        """Losing more customers than there were raises ValueError."""
        with pytest.raises(
            ValueError, match=r"customers_lost \(11\) is more than customers_at_start \(10\)"
        ):
            churn_rate(10, 11)

    def test_negative_lost_is_refused(self) -> None:
        """A negative loss raises ValueError naming customers_lost."""
        with pytest.raises(ValueError, match="customers_lost must be zero or more, got -1"):
            churn_rate(10, -1)

    @given(start=counts, data=st.data())
    def test_within_unit_interval(self, start: int, data: st.DataObject) -> None:
        """Churn of a valid cohort lies in [0, 1] (or is None for an empty one)."""
        lost = data.draw(st.integers(min_value=0, max_value=start))
        rate = churn_rate(start, lost)
        assert rate is None if start == 0 else rate is not None and 0.0 <= rate <= 1.0


class TestNetRevenueRetention:
    def test_expansion_outweighs_losses(self) -> None:
        """(100k + 20k - 5k - 5k) / 100k = 1.1."""
        assert net_revenue_retention(usd(100_000), usd(20_000), usd(5_000), usd(5_000)) == 1.1

    def test_zero_start_is_undefined(self) -> None:
        """With no starting revenue NRR is None."""
        assert net_revenue_retention(usd(0), usd(10), usd(0), usd(0)) is None

    def test_currencies_must_match(self) -> None:
        """An expansion in EUR against a USD start raises CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError, match="expansion is in EUR"):
            net_revenue_retention(usd(100), Money(10, "EUR"), usd(0), usd(0))

    def test_negative_amount_is_refused(self) -> None:
        """Contraction is given as a positive amount; a negative one raises ValueError."""
        with pytest.raises(ValueError, match="contraction must not be negative"):
            net_revenue_retention(usd(100), usd(0), usd(-5), usd(0))

    def test_losing_more_than_the_start_is_refused(self) -> None:
        """Contraction + churn above the start raises ValueError."""
        with pytest.raises(ValueError, match="contraction \\+ churned"):
            net_revenue_retention(usd(100), usd(50), usd(60), usd(50))

    def test_float_is_refused(self) -> None:
        """A float start raises TypeError."""
        with pytest.raises(TypeError, match="start must be Money"):
            net_revenue_retention(100.0, usd(0), usd(0), usd(0))  # type: ignore[arg-type]

    @given(start=positive_amounts, expansion=amounts, data=st.data())
    def test_grr_never_exceeds_nrr(
        self, start: Money, expansion: Money, data: st.DataObject
    ) -> None:
        """GRR <= NRR and GRR <= 1 for any valid revenue movements."""
        lost = data.draw(st.decimals(min_value=0, max_value=start.amount, places=2))
        contraction = Money(lost / 2, "USD")
        churned = Money(lost - lost / 2, "USD")
        nrr = net_revenue_retention(start, expansion, contraction, churned)
        grr = gross_revenue_retention(start, contraction, churned)
        assert nrr is not None
        assert grr is not None
        assert 0.0 <= grr <= 1.0
        assert grr <= nrr


class TestGrossRevenueRetention:
    def test_losses_only(self) -> None:
        """(100k - 5k - 5k) / 100k = 0.9."""
        assert gross_revenue_retention(usd(100_000), usd(5_000), usd(5_000)) == 0.9

    def test_zero_start_is_undefined(self) -> None:
        """With no starting revenue GRR is None."""
        assert gross_revenue_retention(usd(0), usd(0), usd(0)) is None

    def test_everything_lost_is_zero(self) -> None:
        """Losing all starting revenue gives a defined 0."""
        assert gross_revenue_retention(usd(100), usd(40), usd(60)) == 0.0

    def test_currencies_must_match(self) -> None:
        """Churn in GBP against a USD start raises CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError):
            gross_revenue_retention(usd(100), usd(0), Money(5, "GBP"))


class TestPlainAmounts:
    def test_the_notebook_call_works(self) -> None:
        """net_revenue_retention(1000, 150, 50, 100) is (1000 + 150 - 50 - 100) / 1000 = 1.0."""
        assert net_revenue_retention(1000, 150, 50, 100) == 1.0
        assert gross_revenue_retention(1000, 50, 100) == 0.85

    def test_ints_and_decimals_mix(self) -> None:
        """Plain ints and Decimals are one kind: they may be mixed in a call."""
        assert ltv_to_cac(Decimal("7500.00"), 2500) == 3.0
        assert cac_payback(Decimal(2400), 250, Decimal("0.8")) == 12.0

    def test_plain_ltv_is_a_decimal(self) -> None:
        """ltv of a plain revenue is a plain Decimal, written without an exponent."""
        result = ltv(100, 0.8, 0.04)
        assert isinstance(result, Decimal)
        assert str(result) == "2000"

    def test_money_and_plain_numbers_do_not_mix(self) -> None:
        """Money beside a plain number is refused: the number's currency (or unit) is unknown."""
        with pytest.raises(
            TypeError,
            match=r"start is Money but expansion is a plain number \(150\); pass every amount "
            r"as Money of one currency, or every amount as an int or Decimal\.",
        ):
            net_revenue_retention(usd(1000), 150, usd(50), usd(100))  # type: ignore[arg-type]

    def test_mixing_is_refused_in_either_order(self) -> None:
        """A plain number first and Money after is refused too, naming both."""
        with pytest.raises(TypeError, match="cac is Money but ltv is a plain number"):
            ltv_to_cac(7500, usd(2500))

    @pytest.mark.parametrize("amount", [True, False])
    def test_bool_is_refused(self, amount: bool) -> None:
        """True dollars is a bug, not an amount."""
        with pytest.raises(
            TypeError, match=rf"start must be Money, an int or a Decimal, got the bool {amount}\."
        ):
            gross_revenue_retention(amount, 0, 0)

    @pytest.mark.parametrize("amount", ["1000", None, [1000]])
    def test_other_types_are_refused(self, amount: object) -> None:
        """Strings, None and lists are not amounts; the message shows what to pass."""
        with pytest.raises(
            TypeError,
            match=r"start must be Money, an int or a Decimal, got .*Money\('1200', 'USD'\)",
        ):
            net_revenue_retention(amount, 0, 0, 0)  # type: ignore[arg-type]

    @pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
    def test_non_finite_decimal_is_refused(self, amount: Decimal) -> None:
        """A NaN or infinite Decimal is not an amount: ValueError naming the argument."""
        with pytest.raises(
            ValueError, match="monthly_revenue_per_customer must be a finite amount"
        ):
            ltv(amount, 0.8, 0.05)

    def test_negative_plain_amount_is_refused(self) -> None:
        """A negative plain amount is refused as a negative Money is."""
        with pytest.raises(ValueError, match=r"churned must not be negative, got -5"):
            net_revenue_retention(100, 0, 0, -5)

    def test_plain_losses_above_the_start_are_refused(self) -> None:
        """Contraction + churn above a plain start names the two plain amounts."""
        with pytest.raises(
            ValueError,
            match=r"contraction \+ churned \(110\) is more than the starting revenue \(100\)",
        ):
            gross_revenue_retention(100, 60, 50)

    @given(
        currency=st.sampled_from(CURRENCIES),
        start=st.decimals(min_value="0.01", max_value=10**9, places=2),
        expansion=st.decimals(min_value=0, max_value=10**9, places=2),
        lost=st.decimals(min_value=0, max_value=1, places=4),
        split=st.decimals(min_value=0, max_value=1, places=2),
        spend=st.decimals(min_value=0, max_value=10**9, places=2),
        customers=counts,
        margin=fractions,
        churn=fractions,
    )
    def test_plain_decimals_and_money_give_the_same_numbers(
        self,
        currency: str,
        start: Decimal,
        expansion: Decimal,
        lost: Decimal,
        split: Decimal,
        spend: Decimal,
        customers: int,
        margin: Decimal,
        churn: Decimal,
    ) -> None:
        """Every helper gives the same number for plain Decimals as for Money of one currency."""

        def money(amount: Decimal) -> Money:
            return Money(amount, currency)

        contraction = start * lost * split
        churned = start * lost - contraction
        plain_cac, money_cac = cac(spend, customers), cac(money(spend), customers)
        assert (plain_cac, money_cac) == (None, None) or (
            money_cac is not None and money_cac == money(plain_cac or Decimal(0))
        )
        plain_ltv, money_ltv = ltv(start, margin, churn), ltv(money(start), margin, churn)
        assert (plain_ltv, money_ltv) == (None, None) or (
            money_ltv is not None and money_ltv == money(plain_ltv or Decimal(0))
        )
        assert cac_payback(spend, start, margin) == cac_payback(money(spend), money(start), margin)
        assert ltv_to_cac(start, spend) == ltv_to_cac(money(start), money(spend))
        assert net_revenue_retention(start, expansion, contraction, churned) == (
            net_revenue_retention(
                money(start), money(expansion), money(contraction), money(churned)
            )
        )
        assert gross_revenue_retention(start, contraction, churned) == (
            gross_revenue_retention(money(start), money(contraction), money(churned))
        )

    def test_currencies_still_must_match(self) -> None:
        """Money in two currencies is refused with CurrencyMismatchError, as before."""
        with pytest.raises(CurrencyMismatchError, match="churned is in EUR"):
            net_revenue_retention(usd(100), usd(0), usd(0), Money(5, "EUR"))


class TestLeadVelocityRate:
    @pytest.mark.parametrize(
        ("this", "last", "expected"), [(125, 100, 0.25), (50, 100, -0.5), (0, 4, -1.0)]
    )
    def test_growth_over_last_period(self, this: int, last: int, expected: float) -> None:
        """(this - last) / last, negative when leads fall."""
        assert lead_velocity_rate(this, last) == expected

    def test_no_leads_last_period_is_undefined(self) -> None:
        """Growth from zero is None."""
        assert lead_velocity_rate(7, 0) is None

    def test_negative_count_is_refused(self) -> None:
        """A negative lead count raises ValueError."""
        with pytest.raises(ValueError, match="qualified_last_period must be zero or more"):
            lead_velocity_rate(3, -2)

    def test_bool_is_refused(self) -> None:
        """True leads is a bug: TypeError."""
        with pytest.raises(TypeError, match="qualified_this_period must be an int"):
            lead_velocity_rate(True, 3)
