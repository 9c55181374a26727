"""Exact amounts of money in one currency."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Self

import attrs

from .exceptions import CurrencyMismatchError

__all__ = ["Money"]

_CURRENCY = re.compile(r"[A-Z]{3}")


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
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace("_", ""))
        except InvalidOperation:
            msg = f"Money amount {value!r} is not a decimal number."
            raise ValueError(msg) from None
    else:
        msg = f"Money amount must be a Decimal, int or str, got {value!r}."
        raise TypeError(msg)
    if not amount.is_finite():
        msg = f"Money amount must be finite, got {value!r}."
        raise ValueError(msg)
    return amount


def _currency(value: object) -> str:
    if not isinstance(value, str) or _CURRENCY.fullmatch(value) is None:
        msg = f"Money currency must be a three-letter upper-case ISO 4217 code, got {value!r}."
        raise ValueError(msg)
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
        raise ValueError(msg)
    return factor


@attrs.frozen(order=False, repr=False)
class Money:
    """An exact amount of money in one currency.

    Amounts are :class:`~decimal.Decimal`; floats are refused because they
    cannot hold most cent values exactly. Arithmetic and comparisons between
    different currencies raise :class:`~salesflow.CurrencyMismatchError`;
    equality between different currencies is simply ``False``.

    Attributes:
        amount: A ``Decimal``, ``int`` or decimal string such as ``"1250.00"``.
        currency: An ISO 4217 code, three upper-case letters (``"USD"``).

    Raises:
        TypeError: The amount is a float, a bool or another type.
        ValueError: The amount is not a finite number, or the currency is not
            a three-letter upper-case code.

    Examples:
        >>> from salesflow import Money
        >>> Money("19.99", "EUR") * 3
        Money('59.97', 'EUR')
        >>> Money.total([Money(10, "USD"), Money("2.50", "USD")])
        Money('12.50', 'USD')
    """

    amount: Decimal = attrs.field(converter=_to_decimal)
    currency: str = attrs.field(validator=_check_currency)

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
            ValueError: *amounts* is empty and no *currency* was given.
        """
        total: Decimal = Decimal(0)
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
            total += money.amount
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
        return Money(self.amount + other.amount, self.currency)

    def __radd__(self, other: object) -> Money:
        # Lets the builtin sum() start from its int 0; any other number is refused.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "subtract")
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return Money(self.amount * _factor(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: int | Decimal) -> Money:
        factor = _factor(divisor)
        if not factor:
            msg = f"Cannot divide {self!r} by zero."
            raise ZeroDivisionError(msg)
        return Money(self.amount / factor, self.currency)

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
        """Round half-even to *places* decimals, for display or a ledger boundary."""
        return Money(self.amount.quantize(Decimal(1).scaleb(-places)), self.currency)

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
