"""Tests for salesflow.Money: exact amounts in one currency."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal

import pytest

import salesflow as sf
from salesflow import CurrencyMismatchError, Money


class TestConstruction:
    def test_int_amount_is_stored_as_decimal(self) -> None:
        """An int amount becomes an exact Decimal."""
        money = Money(1200, "USD")
        assert money.amount == Decimal(1200)
        assert type(money.amount) is Decimal

    def test_str_amount_is_exact(self) -> None:
        """A decimal string keeps every digit, with no binary rounding."""
        assert Money("0.10", "EUR").amount == Decimal("0.10")
        assert Money("1_000.25", "EUR").amount == Decimal("1000.25")

    def test_decimal_amount_is_kept(self) -> None:
        """A Decimal amount is stored as given."""
        assert Money(Decimal("19.99"), "GBP").amount == Decimal("19.99")

    def test_float_amount_is_refused(self) -> None:
        """A float amount raises TypeError that suggests str() or Decimal."""
        with pytest.raises(TypeError, match=r"float.*0\.1.*Decimal"):
            Money(0.1, "USD")  # type: ignore[arg-type]

    def test_bool_amount_is_refused(self) -> None:
        """True is not one dollar: a bool amount raises TypeError."""
        with pytest.raises(TypeError, match="bool"):
            Money(True, "USD")

    def test_other_types_are_refused(self) -> None:
        """An amount that is not Decimal, int or str raises TypeError."""
        with pytest.raises(TypeError, match="Decimal, int or str"):
            Money([1], "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("amount", ["NaN", "inf", "-Infinity", Decimal("NaN"), Decimal("-inf")])
    def test_non_finite_amounts_are_refused(self, amount: str | Decimal) -> None:
        """NaN and the infinities raise ValueError."""
        with pytest.raises(ValueError, match="finite"):
            Money(amount, "USD")

    def test_malformed_string_is_refused(self) -> None:
        """A string that is not a decimal number raises ValueError naming it."""
        with pytest.raises(ValueError, match="'12,50' is not a decimal number"):
            Money("12,50", "EUR")

    @pytest.mark.parametrize("currency", ["usd", "US", "USDT", "U5D", "", " USD"])
    def test_bad_currency_codes_are_refused(self, currency: str) -> None:
        """A currency that is not three upper-case letters raises ValueError."""
        with pytest.raises(ValueError, match="three-letter upper-case"):
            Money(1, currency)

    def test_non_string_currency_is_refused(self) -> None:
        """A currency that is not a string raises ValueError showing the value."""
        with pytest.raises(ValueError, match="840"):
            Money(1, 840)  # type: ignore[arg-type]

    def test_zero(self) -> None:
        """Money.zero gives a zero amount in the currency."""
        zero = Money.zero("JPY")
        assert zero.amount == 0
        assert zero.currency == "JPY"

    def test_is_frozen(self) -> None:
        """Money cannot be changed in place."""
        money = Money(1, "USD")
        with pytest.raises(AttributeError):
            money.amount = Decimal(2)  # type: ignore[misc]


class TestArithmetic:
    def test_addition_is_exact(self) -> None:
        """0.10 + 0.20 is exactly 0.30, unlike binary floats."""
        assert Money("0.10", "USD") + Money("0.20", "USD") == Money("0.30", "USD")

    def test_subtraction(self) -> None:
        """Subtracting gives the exact difference, negative if need be."""
        assert Money("5.00", "USD") - Money("7.25", "USD") == Money("-2.25", "USD")

    def test_negation_and_abs(self) -> None:
        """-money flips the sign; abs() drops it; +money is unchanged."""
        money = Money("12.5", "EUR")
        assert -money == Money("-12.5", "EUR")
        assert abs(-money) == money
        assert +money == money

    def test_multiplication_by_int(self) -> None:
        """Money times an int, on either side, scales the amount."""
        assert Money("19.99", "EUR") * 3 == Money("59.97", "EUR")
        assert 3 * Money("19.99", "EUR") == Money("59.97", "EUR")

    def test_multiplication_by_decimal(self) -> None:
        """Money times a Decimal rate is exact."""
        assert Money(200, "USD") * Decimal("0.15") == Money("30.00", "USD")

    def test_multiplication_by_float_is_refused(self) -> None:
        """A float factor raises TypeError pointing to Decimal(str(rate))."""
        with pytest.raises(TypeError, match=r"Decimal\(str\(rate\)\)"):
            Money(200, "USD") * 0.15  # type: ignore[operator]

    def test_multiplication_by_bool_is_refused(self) -> None:
        """A bool factor raises TypeError."""
        with pytest.raises(TypeError, match="int or a Decimal"):
            Money(200, "USD") * True

    def test_multiplication_by_money_is_refused(self) -> None:
        """Money times Money has no meaning and raises TypeError."""
        with pytest.raises(TypeError):
            Money(2, "USD") * Money(3, "USD")  # type: ignore[operator]

    def test_multiplication_by_nan_is_refused(self) -> None:
        """A NaN factor raises ValueError."""
        with pytest.raises(ValueError, match="scaled"):
            Money(2, "USD") * Decimal("NaN")

    def test_division(self) -> None:
        """Money divided by an int or Decimal divides the amount."""
        assert Money(10, "USD") / 4 == Money("2.5", "USD")
        assert Money(9, "USD") / Decimal("1.5") == Money(6, "USD")

    def test_division_by_zero(self) -> None:
        """Dividing by zero raises ZeroDivisionError."""
        with pytest.raises(ZeroDivisionError, match="by zero"):
            Money(10, "USD") / 0

    def test_division_by_float_is_refused(self) -> None:
        """A float divisor raises TypeError."""
        with pytest.raises(TypeError, match="int or a Decimal"):
            Money(10, "USD") / 2.0  # type: ignore[operator]

    def test_ratio(self) -> None:
        """ratio() divides two amounts of one currency into a Decimal."""
        assert Money(30, "USD").ratio(Money(120, "USD")) == Decimal("0.25")

    def test_ratio_by_zero_amount(self) -> None:
        """ratio() by a zero amount raises ZeroDivisionError."""
        with pytest.raises(ZeroDivisionError):
            Money(30, "USD").ratio(Money.zero("USD"))

    def test_quantize_rounds_half_even(self) -> None:
        """quantize() rounds half to even, to two places by default."""
        assert Money("2.345", "USD").quantize() == Money("2.34", "USD")
        assert Money("2.355", "USD").quantize() == Money("2.36", "USD")
        assert Money("2.5", "USD").quantize(0) == Money("2", "USD")

    def test_adding_a_number_is_refused(self) -> None:
        """Money + 5 raises TypeError: a bare number has no currency."""
        with pytest.raises(TypeError):
            Money(1, "USD") + 5  # type: ignore[operator]


class TestCurrencyMismatch:
    def test_addition_across_currencies(self) -> None:
        """Adding USD to EUR raises CurrencyMismatchError naming both."""
        with pytest.raises(
            CurrencyMismatchError, match=r"Cannot add (EUR and USD|USD and EUR)"
        ) as info:
            Money(1, "USD") + Money(1, "EUR")
        assert set(info.value.currencies) == {"USD", "EUR"}

    def test_subtraction_across_currencies(self) -> None:
        """Subtracting across currencies raises CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError):
            Money(1, "USD") - Money(1, "EUR")

    @pytest.mark.parametrize("compare", [operator.lt, operator.le, operator.gt, operator.ge])
    def test_ordering_across_currencies(self, compare: Callable[[Money, Money], bool]) -> None:
        """Ordering USD against EUR raises CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError, match="Cannot compare"):
            compare(Money(1, "USD"), Money(2, "EUR"))

    def test_mismatch_is_a_value_error(self) -> None:
        """CurrencyMismatchError is caught by except ValueError."""
        with pytest.raises(ValueError, match="convert the amounts"):
            Money(1, "USD") + Money(1, "EUR")

    def test_equality_across_currencies_is_false(self) -> None:
        """== between currencies is False rather than an error."""
        assert Money(1, "USD") != Money(1, "EUR")
        assert (Money(1, "USD") == Money(1, "EUR")) is False


class TestComparison:
    def test_ordering(self) -> None:
        """Amounts of one currency order by value."""
        small, big = Money("9.99", "USD"), Money(10, "USD")
        assert small < big
        assert small <= big
        assert big > small
        assert big >= small
        assert big >= Money("10.00", "USD")
        assert not big < small

    def test_sorted(self) -> None:
        """A list of one currency sorts by amount."""
        amounts = [Money(3, "USD"), Money(-1, "USD"), Money("2.5", "USD")]
        assert sorted(amounts) == [Money(-1, "USD"), Money("2.5", "USD"), Money(3, "USD")]

    def test_ordering_against_a_number_is_refused(self) -> None:
        """Money < 5 raises TypeError."""
        with pytest.raises(TypeError):
            Money(1, "USD") < 5  # type: ignore[operator]  # noqa: B015

    def test_equal_values_with_different_scale(self) -> None:
        """Money('1.0') equals Money('1.00') and they hash alike."""
        a, b = Money("1.0", "USD"), Money("1.00", "USD")
        assert a == b
        assert hash(a) == hash(b)
        assert len({a, b}) == 1

    def test_different_values_are_unequal(self) -> None:
        """Different amounts in one currency are unequal."""
        assert Money("1.00", "USD") != Money("1.01", "USD")

    def test_not_equal_to_a_number(self) -> None:
        """Money never equals a bare number."""
        assert Money(1, "USD") != 1
        assert Money(0, "USD") != Decimal(0)


class TestTotals:
    def test_total(self) -> None:
        """Money.total adds amounts of one currency."""
        total = Money.total([Money(10, "USD"), Money("2.50", "USD"), Money("-0.5", "USD")])
        assert total == Money("12.00", "USD")

    def test_total_accepts_a_generator(self) -> None:
        """Money.total takes any iterable, consumed once."""
        assert Money.total(Money(n, "EUR") for n in range(5)) == Money(10, "EUR")

    def test_empty_total_needs_a_currency(self) -> None:
        """An empty total without currency= raises ValueError saying so."""
        with pytest.raises(ValueError, match="currency="):
            Money.total([])

    def test_empty_total_with_currency_is_zero(self) -> None:
        """An empty total with currency= is zero in that currency."""
        assert Money.total([], currency="EUR") == Money(0, "EUR")

    def test_mixed_total_raises(self) -> None:
        """A total of mixed currencies raises CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError) as info:
            Money.total([Money(1, "USD"), Money(1, "USD"), Money(1, "EUR")])
        assert info.value.currencies == ("USD", "EUR")

    def test_total_against_the_given_currency(self) -> None:
        """An amount that differs from currency= raises CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError):
            Money.total([Money(1, "USD")], currency="EUR")

    def test_total_refuses_non_money(self) -> None:
        """A bare number among the amounts raises TypeError."""
        with pytest.raises(TypeError, match="Money values only"):
            Money.total([Money(1, "USD"), 2])  # type: ignore[list-item]

    def test_builtin_sum(self) -> None:
        """sum() works from its default start of 0."""
        assert sum([Money(1, "USD"), Money(2, "USD"), Money(3, "USD")]) == Money(6, "USD")

    def test_builtin_sum_with_money_start(self) -> None:
        """sum() works from a Money start, e.g. Money.zero."""
        assert sum([Money(1, "GBP")], Money.zero("GBP")) == Money(1, "GBP")

    def test_builtin_sum_of_mixed_currencies(self) -> None:
        """sum() of mixed currencies raises CurrencyMismatchError."""
        with pytest.raises(CurrencyMismatchError):
            sum([Money(1, "USD"), Money(1, "EUR")])

    def test_adding_a_nonzero_int_is_refused(self) -> None:
        """Only the 0 that sum() starts from is absorbed; 5 + money raises TypeError."""
        with pytest.raises(TypeError):
            5 + Money(1, "USD")  # type: ignore[operator]


class TestText:
    def test_repr_shows_the_exact_amount(self) -> None:
        """repr() shows the amount string as stored, and the currency."""
        assert repr(Money("1234.50", "USD")) == "Money('1234.50', 'USD')"
        assert repr(Money(-3, "EUR")) == "Money('-3', 'EUR')"

    def test_repr_round_trips(self) -> None:
        """eval(repr(money)) gives an equal Money."""
        money = Money("0.070", "CHF")
        assert eval(repr(money), {"Money": sf.Money}) == money

    def test_str_groups_thousands(self) -> None:
        """str() groups thousands and appends the currency code."""
        assert str(Money("1234567.5", "USD")) == "1,234,567.5 USD"
        assert str(Money(12, "EUR")) == "12 EUR"


class TestRecords:
    def test_to_dict_is_exact_and_json_safe(self) -> None:
        """to_dict() writes the amount as a decimal string."""
        assert Money("0.10", "USD").to_dict() == {"amount": "0.10", "currency": "USD"}

    def test_from_dict_round_trip(self) -> None:
        """from_dict(to_dict()) gives an equal Money."""
        money = Money("-42.4200", "SEK")
        assert Money.from_dict(money.to_dict()) == money
