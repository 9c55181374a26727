"""Cell parsers the loaders share: timestamps, amounts, and the formula guard of written cells.

Each turns one cell's text into a value or raises :class:`RowProblem`, which
the row loops of :mod:`salesflow.io._common` turn into a ``LoadError`` with
the file and the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import attrs

from .._checks import EARLIEST, EDGE_YEARS, LATEST, exists, in_range
from .._money import MAX_MAGNITUDE, Money, trusted_money
from ..exceptions import LoadError, MoneyError


class RowProblem(Exception):
    """A problem with one cell, turned into a ``LoadError`` with the file and line."""

    def __init__(self, reason: str, column: str | None = None, value: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.value = value

    def at(self, file: str, line: int) -> LoadError:
        """The ``LoadError`` for this problem at *file*, *line*."""
        return LoadError(self.reason, file=file, line=line, column=self.column, value=self.value)


def cell(row: Mapping[str, Any], column: str | None) -> str:
    """The stripped text of *column* in *row* ('' when the column is not mapped or empty)."""
    if column is None:
        return ""
    value = row.get(column)
    return "" if value is None else str(value).strip()


def parse_time(
    text: str,
    column: str,
    *,
    fmt: str | None,
    zone: tzinfo | None,
    ambiguous: Ambiguous = "earlier",
) -> datetime:
    """An aware datetime from *text*: ISO 8601 unless *fmt* is given; naive values get *zone*.

    A date without a time (``2026-03-01``) is midnight in *zone*. A naive
    time that *zone* skips (a DST gap) is refused, except a skipped
    midnight, which is the start of its day (the end of the gap); one
    it repeats (clocks going back) is read as *ambiguous* says:
    ``"earlier"`` (the first pass, ``fold=0``), ``"later"`` (``fold=1``) or
    ``"error"``.
    """
    try:
        at = datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)  # noqa: DTZ007
    except ValueError:
        if fmt is None:
            reason = (
                "not an ISO 8601 date or timestamp (e.g. 2026-03-01 or 2026-03-01T09:30:00+01:00); "
                "for another format pass timestamp_format, e.g. timestamp_format='%d/%m/%Y'"
            )
        else:
            reason = f"does not match timestamp_format {fmt!r}"
        raise RowProblem(reason, column, text) from None
    if at.tzinfo is None or at.utcoffset() is None:
        if zone is None:
            raise RowProblem(
                "the timestamp has no time zone; pass timezone='UTC' (or the zone it is in)",
                column,
                text,
            )
        at = at.replace(tzinfo=zone, fold=1 if ambiguous == "later" else 0)
        if type(zone) is not timezone:
            doubt = zone_doubt(at, refuse_ambiguous=ambiguous == "error")
            if doubt:
                if not skipped_midnight(at):
                    raise RowProblem(doubt, column, text)
                at = day_start(at)
    if at.year in EDGE_YEARS and not in_range(at):
        raise RowProblem(
            f"outside the supported range {EARLIEST.date()} to {LATEST.date()} (UTC)",
            column,
            text,
        )
    return at


def day_start(at: datetime) -> datetime:
    """A skipped midnight moved forward by the gap, as ``dateutil.tz.resolve_imaginary`` does."""
    return at + ((at + _DAY).utcoffset() - (at - _DAY).utcoffset())  # type: ignore[operator]


_DAY = timedelta(days=1)


def skipped_midnight(at: datetime) -> bool:
    """True for a midnight its zone skips: such a day starts at the end of the gap.

    Some zones change the clocks at midnight (São Paulo did until 2019), so a
    date read as midnight may not exist; it is read as the day's first
    instant (see :func:`day_start`), not refused.
    """
    return at.hour == at.minute == at.second == at.microsecond == 0 and not exists(at)


#: How a loader reads a naive time that its zone repeats when clocks go back.
Ambiguous = Literal["earlier", "later", "error"]


def check_ambiguous(value: object) -> Ambiguous:
    """*value* if it is an ``ambiguous=`` option, else a ``ValueError`` naming the options."""
    if value not in ("earlier", "later", "error"):
        msg = f"ambiguous must be 'earlier', 'later' or 'error', got {value!r}."
        raise ValueError(msg)
    return value


def zone_doubt(at: datetime, *, refuse_ambiguous: bool) -> str | None:
    """Why a zoned wall time cannot be read as one instant, or ``None`` when it can.

    A time in a DST gap does not exist; one in the repeated hour is ambiguous
    (refused only with *refuse_ambiguous*; otherwise its ``fold`` decides).
    """
    if not exists(at):
        return (
            f"the time does not exist in {str(at.tzinfo)!r}: the clocks skip it "
            "(a daylight saving time gap); write it with its UTC offset, or as the "
            "time the clocks showed"
        )
    if refuse_ambiguous and at.replace(fold=1 - at.fold).utcoffset() != at.utcoffset():
        return (
            f"the time is ambiguous in {str(at.tzinfo)!r}: the clocks show it twice "
            "(when daylight saving time ends); write it with its UTC offset, or pass "
            "ambiguous='earlier' or 'later'"
        )
    return None


# Thousands separators: space, the no-break spaces, apostrophe, and whichever of
# '.' and ',' is not the decimal mark; one kind per number, in groups of three.
_GROUPED = {
    ".": re.compile(r"[+-]?\d{1,3}(?:([, \u00a0\u202f'])\d{3})(?:\1\d{3})*(?:\.\d+)?", re.ASCII),
    ",": re.compile(r"[+-]?\d{1,3}(?:([. \u00a0\u202f'])\d{3})(?:\1\d{3})*(?:,\d+)?", re.ASCII),
}
_PLAIN = {
    ".": re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII),
    ",": re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)", re.ASCII),
}


def parse_amount(text: str, column: str, *, decimal: str = ".") -> Decimal:
    """An exact ``Decimal`` from a number as people write it.

    *decimal* is the decimal mark (``"."`` or ``","``). Thousands
    separators are accepted in groups of three (``1,234.50``, ``1 234,50``,
    ``1.234,50``, ``1'234.50``); anything else (``1,5`` with ``decimal="."``)
    is refused rather than guessed.
    """
    plain = _PLAIN[decimal].fullmatch(text)
    if plain is None:
        grouped = _GROUPED[decimal].fullmatch(text)
        if grouped is None:
            other = "," if decimal == "." else "."
            hint = (
                f"; if {other!r} is its decimal mark pass decimal={other!r}"
                if _PLAIN[other].fullmatch(text) or _GROUPED[other].fullmatch(text)
                else ""
            )
            reason = f"not a number with {decimal!r} as the decimal mark{hint}"
            raise RowProblem(reason, column, text)
        text = text.replace(grouped.group(1), "")
    try:
        amount = Decimal(text.replace(",", ".") if decimal == "," else text)
    except InvalidOperation:  # pragma: no cover - the patterns admit only numbers
        raise RowProblem("not a number", column, text) from None
    return amount


@attrs.frozen
class Amounts:
    """How a loader reads money cells: the decimal mark and whether negatives are allowed.

    A deal's value is what it is worth, so a negative one is refused unless
    *allow_negative*; :class:`~salesflow.Money` itself stays signed (refunds,
    differences).
    """

    decimal: str = attrs.field(default=".")
    allow_negative: bool = False
    # Currencies Money has accepted: plain digits in them need no second check.
    _checked: set[str] = attrs.field(factory=set, init=False, eq=False, repr=False)

    @decimal.validator
    def _check(self, _: object, value: str) -> None:
        if value not in (".", ","):
            msg = f"decimal must be '.' or ',', got {value!r}."
            raise ValueError(msg)

    def money(self, text: str, column: str, currency: str) -> Money:
        """Money from a cell (see :func:`parse_amount`)."""
        if currency in self._checked and text.isascii() and len(text) <= MAX_MAGNITUDE:
            # Digits (with at most one decimal point), at most 21 of them: a
            # non-negative amount within Money's range and precision.
            plain = text.replace(".", "", 1) if self.decimal == "." else text
            if plain.isdigit():
                return trusted_money(Decimal(text), currency)
        money = parse_money(
            text, column, currency, decimal=self.decimal, allow_negative=self.allow_negative
        )
        self._checked.add(money.currency)
        return money


def parse_money(
    text: str,
    column: str,
    currency: str,
    *,
    decimal: str = ".",
    allow_negative: bool = False,
) -> Money:
    """Money from a number cell (see :func:`parse_amount`); negative only when allowed."""
    if decimal == "." and text.isascii() and text.replace(".", "", 1).isdigit():
        amount = Decimal(text)  # the common case, without the patterns
    else:
        amount = parse_amount(text, column, decimal=decimal)
    if amount < 0 and not allow_negative:
        reason = "a deal value cannot be negative; pass allow_negative=True if the file's negatives are real"
        raise RowProblem(reason, column, text)
    try:
        return Money(amount, currency)
    except ValueError as exc:
        shown = text if isinstance(exc, MoneyError) and exc.field == "amount" else currency
        raise RowProblem(str(exc).rstrip("."), column, shown) from None


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# The start of the text and of each line in it, where a spreadsheet may read a formula.
# A line start followed by quotes and then a formula character: the writer adds
# one quote there, the reader takes one away, so text that already starts with
# guard quotes ("'=1+1") comes back as it was.
_LINE_STARTS = re.compile(r"(?:^|(?<=[\r\n]))(?='*[=+\-@\t\r])")
_GUARDS = re.compile(r"(?:^|(?<=[\r\n]))'(?='*[=+\-@\t\r])")
_FORMULA_LIKE = re.compile(r"'*[=+\-@\t\r]")


def escape_cell(text: str) -> str:
    """Guard a text cell against spreadsheet formula injection (OWASP's advice: prefix a quote).

    The start of the text and the start of each line in it (after a line
    feed or a carriage return) are guarded: a spreadsheet may read any of
    them as a formula. A line that already starts with quotes before a
    formula character gets one more, so that :func:`unescape_cell` gives it
    back exactly.
    """
    if "\n" not in text and "\r" not in text:
        if text.startswith(FORMULA_PREFIXES) or (
            text.startswith("'") and _FORMULA_LIKE.match(text) is not None
        ):
            return "'" + text
        return text
    return _LINE_STARTS.sub("'", text)


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell`: drop the quotes that guard formula-like lines."""
    if "\n" not in text and "\r" not in text:
        if text.startswith("'") and _FORMULA_LIKE.match(text, 1) is not None:
            return text[1:]
        return text
    return _GUARDS.sub("", text)
