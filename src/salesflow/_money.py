"""Exact amounts of money in one currency."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any, Self

import attrs

from ._currencies import is_known_currency, register
from .exceptions import CurrencyMismatchError, MoneyError

__all__ = ["MAX_DIGITS", "MAX_MAGNITUDE", "MAX_PLACES", "Money"]

_CURRENCY = re.compile(r"[A-Z]{3}")

#: At most this many significant digits in an amount.
MAX_DIGITS = 34
#: At most this many digits after the decimal point.
MAX_PLACES = 40
#: Amounts are below ``10 ** MAX_MAGNITUDE`` in absolute value.
MAX_MAGNITUDE = 21

# Wide enough that adding or subtracting two amounts in range is exact (at most
# 21 + 40 + 1 digits); it traps instead of returning infinities or NaNs.
_WIDE = Context(
    prec=80,
    rounding=ROUND_HALF_EVEN,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_INT_LIMIT = 10**MAX_MAGNITUDE


def _show(value: object) -> str:
    """``repr(value)``, shortened for a huge number or string."""
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an int of about {int(value.bit_length() * 0.30103)} digits"
    shown = repr(str(value)) if isinstance(value, Decimal) else repr(value)
    return shown if len(shown) <= 60 else f"{shown[:40]}... ({len(shown)} characters)"


def _in_range(amount: Decimal, value: object) -> Decimal:
    if amount.adjusted() >= MAX_MAGNITUDE and amount:  # 0E+23 is still zero
        msg = (
            f"Money amount {_show(value)} is out of range; Money holds amounts "
            f"below 10**{MAX_MAGNITUDE} in absolute value."
        )
        raise MoneyError(msg, value=value)
    _, digits, exponent = amount.as_tuple()
    if -exponent > MAX_PLACES:  # type: ignore[operator]  # finite: an int
        msg = (
            f"Money amount {_show(value)} has {-exponent} decimal places; Money keeps "  # type: ignore[operator]
            f"at most {MAX_PLACES}, so round it first, e.g. with Decimal.quantize()."
        )
        raise MoneyError(msg, value=value)
    if len(digits) > MAX_DIGITS:
        msg = (
            f"Money amount {_show(value)} has {len(digits)} significant digits; Money keeps "
            f"at most {MAX_DIGITS}, so round it first."
        )
        raise MoneyError(msg, value=value)
    return amount


def _to_decimal(value: Decimal | int | str) -> Decimal:
    # bool is an int subclass; True dollars is a bug, not an amount.
    if isinstance(value, bool | float):
        msg = (
            f"Money amount must be a Decimal, int or str, got the {type(value).__name__} "
            f"{value!r}; floats are inexact, pass str(value) or a Decimal instead."
        )
        raise TypeError(msg)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        if not -_INT_LIMIT < value < _INT_LIMIT:
            _in_range(Decimal(f"1E{MAX_MAGNITUDE}"), value)
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            msg = f"Money amount {_show(value)} is not a decimal number."
            raise MoneyError(msg, value=value) from None
    else:
        msg = f"Money amount must be a Decimal, int or str, got {value!r}."
        raise TypeError(msg)
    if not amount.is_finite():
        msg = f"Money amount must be finite, got {value!r}."
        raise MoneyError(msg, value=value)
    return _in_range(amount, value)


def _currency(value: object) -> str:
    if not isinstance(value, str) or _CURRENCY.fullmatch(value) is None:
        msg = f"Money currency must be a three-letter upper-case ISO 4217 code, got {value!r}."
        raise ValueError(msg)
    if not is_known_currency(value):
        msg = (
            f"Money currency {value!r} is not an ISO 4217 code; check its spelling, or call "
            f"Money.register_currency({value!r}) first if it is a code of your own."
        )
        raise MoneyError(msg, field="currency", value=value)
    return value


def _check_currency(_: object, __: attrs.Attribute[str], value: str) -> None:
    _currency(value)


def _factor(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        msg = (
            f"Money can be multiplied or divided by an int or a Decimal only, got {value!r}; "
            "convert a float rate with Decimal(str(rate))."
        )
        raise TypeError(msg)
    factor = Decimal(value)
    if not factor.is_finite():
        msg = f"Money cannot be scaled by {value!r}."
        raise MoneyError(msg, value=value)
    return factor


def _rounded(value: Decimal) -> Decimal:
    """*value* rounded half-even to MAX_DIGITS significant digits and MAX_PLACES places."""
    if value.adjusted() >= MAX_MAGNITUDE or not value:
        return value  # out of range: the constructor refuses it, and says why
    exponent = max(-MAX_PLACES, value.adjusted() - MAX_DIGITS + 1)
    if value.as_tuple().exponent >= exponent:  # type: ignore[operator]  # finite: an int
        return value
    result = value.quantize(Decimal((0, (1,), exponent)), context=_WIDE)
    if len(result.as_tuple().digits) > MAX_DIGITS:  # 9.99... rounded up to 10.00...
        result = value.quantize(Decimal((0, (1,), exponent + 1)), context=_WIDE)
    return result


def _scaled(amount: Decimal, factor: Decimal, currency: str, *, divide: bool = False) -> Decimal:
    """*amount* times (or over) *factor*, rounded to Money's precision once."""
    try:
        if divide:
            return _rounded(_WIDE.divide(amount, factor))
        # Exact first: the product has at most as many digits as both operands.
        digits = len(amount.as_tuple().digits) + len(factor.as_tuple().digits)
        context = _WIDE
        if digits > _WIDE.prec:
            context = _WIDE.copy()
            context.prec = digits
        return _rounded(context.multiply(amount, factor))
    except (Overflow, InvalidOperation):
        sign = "/" if divide else "*"
        msg = (
            f"Money({str(amount)!r}, {currency!r}) {sign} {_show(factor)} is out of range; "
            f"Money holds amounts below 10**{MAX_MAGNITUDE} in absolute value."
        )
        raise MoneyError(msg, value=factor) from None


@attrs.frozen(order=False, repr=False)
class Money:
    """An exact amount of money in one currency.

    Amounts are :class:`~decimal.Decimal`; floats are refused because they
    cannot hold most cent values exactly. Arithmetic and comparisons between
    different currencies raise :class:`~salesflow.CurrencyMismatchError`;
    equality between different currencies is simply ``False``.

    **Range and precision.** An amount is below ``10**21`` in absolute value,
    has at most 40 decimal places and at most 34 significant digits; anything
    else raises :class:`~salesflow.exceptions.MoneyError` (a ``ValueError``),
    so a loader reports it as a bad cell. Addition, subtraction,
    :meth:`total` and negation are exact: a result that would leave the range
    or need more digits raises ``MoneyError`` rather than being rounded.
    Multiplication and division round half-even to 34 significant digits and
    at most 40 decimal places (``Money(1, "USD") / 3`` has 34 threes).

    **Currencies.** The code must be an ISO 4217 code (the active list plus a
    few recently withdrawn ones); allow a code of your own, such as ``"XBT"``,
    with :meth:`register_currency`.

    Attributes:
        amount: A ``Decimal``, ``int`` or decimal string such as ``"1250.00"``.
        currency: An ISO 4217 code, three upper-case letters (``"USD"``).

    Raises:
        TypeError: The amount is a float, a bool or another type.
        MoneyError: The amount is not a finite number or is outside the range
            and precision above, or the currency is not a known code. It is
            a ``ValueError``.

    Examples:
        >>> from salesflow import Money
        >>> Money("19.99", "EUR") * 3
        Money('59.97', 'EUR')
        >>> Money.total([Money(10, "USD"), Money("2.50", "USD")])
        Money('12.50', 'USD')
    """

    amount: Decimal = attrs.field(converter=_to_decimal)
    currency: str = attrs.field(validator=_check_currency)

    @staticmethod
    def register_currency(code: str) -> None:
        """Accept *code*, three upper-case letters outside ISO 4217, as a currency.

        The registration holds for the rest of the process. Registering an
        ISO 4217 code, or a code twice, does nothing.

        Raises:
            MoneyError: *code* is not three upper-case letters.

        Examples:
            >>> from salesflow import Money
            >>> Money.register_currency("XBT")
            >>> Money("0.5", "XBT")
            Money('0.5', 'XBT')
        """
        if not isinstance(code, str) or _CURRENCY.fullmatch(code) is None:
            msg = f"A currency code must be three upper-case letters, got {code!r}."
            raise MoneyError(msg, field="currency", value=code)
        register(code)

    @classmethod
    def zero(cls, currency: str) -> Self:
        """Zero in *currency*."""
        return cls(Decimal(0), currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], *, currency: str | None = None) -> Money:
        """Add up *amounts*, all in one currency.

        Args:
            amounts: The amounts to add.
            currency: The currency of the result. Required when *amounts* may be
                empty, since an empty sum has no currency of its own.

        Raises:
            CurrencyMismatchError: Two amounts, or an amount and *currency*,
                differ in currency.
            MoneyError: The total is out of Money's range or precision.
            ValueError: *amounts* is empty and no *currency* was given.
        """
        total: Decimal = Decimal(0)
        add = _WIDE.add
        seen = currency
        for money in amounts:
            if not isinstance(money, Money):
                msg = f"Money.total() takes Money values only, got {money!r}."
                raise TypeError(msg)
            if seen is None:
                seen = money.currency
            elif money.currency != seen:
                msg = f"Cannot add {money.currency} to {seen}; convert the amounts first."
                raise CurrencyMismatchError(msg, currencies=(seen, money.currency))
            total = add(total, money.amount)
        if seen is None:
            msg = "Money.total() of no amounts needs currency=..., e.g. currency='USD'."
            raise ValueError(msg)
        return Money(total, seen)

    def _same(self, other: Money, verb: str) -> None:
        if other.currency != self.currency:
            msg = f"Cannot {verb} {other.currency} and {self.currency}; convert the amounts first."
            raise CurrencyMismatchError(msg, currencies=(self.currency, other.currency))

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "add")
        return Money(_WIDE.add(self.amount, other.amount), self.currency)

    def __radd__(self, other: object) -> Money:
        # Lets the builtin sum() start from its int 0; any other number is refused.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "subtract")
        return Money(_WIDE.subtract(self.amount, other.amount), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        factor = _factor(factor)
        return Money(_scaled(self.amount, factor, self.currency), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: int | Decimal) -> Money:
        factor = _factor(divisor)
        if not factor:
            msg = f"Cannot divide {self!r} by zero."
            raise ZeroDivisionError(msg)
        return Money(_scaled(self.amount, factor, self.currency, divide=True), self.currency)

    def ratio(self, other: Money) -> Decimal:
        """``self / other`` as a ``Decimal`` (same currency; ``other`` not zero)."""
        self._same(other, "divide")
        if not other.amount:
            msg = f"Cannot divide {self!r} by a zero amount."
            raise ZeroDivisionError(msg)
        return self.amount / other.amount

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def _compare(self, other: object) -> Decimal | None:
        if not isinstance(other, Money):
            return None
        self._same(other, "compare")
        return other.amount

    def __lt__(self, other: Money) -> bool:
        amount = self._compare(other)
        return NotImplemented if amount is None else self.amount < amount

    def __le__(self, other: Money) -> bool:
        amount = self._compare(other)
        return NotImplemented if amount is None else self.amount <= amount

    def __gt__(self, other: Money) -> bool:
        amount = self._compare(other)
        return NotImplemented if amount is None else self.amount > amount

    def __ge__(self, other: Money) -> bool:
        amount = self._compare(other)
        return NotImplemented if amount is None else self.amount >= amount

    def quantize(self, places: int = 2) -> Money:
        """Round half-even to *places* decimals, for display or a ledger boundary.

        Raises:
            MoneyError: *places* is not from -20 to 40, or the result would
                need more than 34 significant digits.
        """
        if isinstance(places, bool) or not isinstance(places, int):
            msg = f"Money.quantize() takes an int number of places, got {places!r}."
            raise TypeError(msg)
        if not -(MAX_MAGNITUDE - 1) <= places <= MAX_PLACES:
            msg = f"Money.quantize() rounds to -{MAX_MAGNITUDE - 1} to {MAX_PLACES} places, got {places!r}."
            raise MoneyError(msg, value=places)
        amount = self.amount.quantize(Decimal((0, (1,), -places)), context=_WIDE)
        return Money(amount, self.currency)

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the amount as a decimal string (exact), and the currency."""
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Money:
        """Rebuild an amount from :meth:`to_dict` output.

        The amount must be a decimal string (or an int); a float is refused, as
        by the constructor. Unknown keys are refused too.

        Args:
            data: A mapping with ``"amount"`` and ``"currency"``.

        Returns:
            The amount, with the digits and exponent of the record.

        Raises:
            SchemaError: The record is malformed; ``.path`` names the field,
                e.g. ``$.amount``.

        Examples:
            >>> from salesflow import Money
            >>> Money.from_dict({"amount": "48000.00", "currency": "EUR"})
            Money('48000.00', 'EUR')
            >>> Money.from_dict({"amount": 1.5, "currency": "EUR"})
            Traceback (most recent call last):
            ...
            salesflow.exceptions.SchemaError: Cannot read the money record at $.amount: Money amount must be a decimal string, got the float 1.5; write '1.5'.
        """
        from ._serde import structure

        return structure(data, Money, "the money record")


def trusted_money(amount: Decimal, currency: str) -> Money:
    """A :class:`Money` from parts the caller has checked, without re-validating them.

    *amount* must be a finite ``Decimal`` and *currency* a code that
    :class:`Money` has accepted before. Only the bulk loaders use it, for
    amounts they have parsed themselves.
    """
    money: Money = _new(Money)
    _set(money, "amount", amount)
    _set(money, "currency", currency)
    return money


_new = object.__new__
_set = object.__setattr__
