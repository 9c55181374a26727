"""Changes to a deal's fields over its life: amount, expected close date, owner.

A CRM records every save of an opportunity (Salesforce's OpportunityHistory,
HubSpot's property history), so a deal's amount and close date are not one
value but a series. :class:`FieldChange` is one step of that series; the
deal keeps them in time order beside its stage changes (in its ``DealInfo``,
so a deal without any costs nothing more) and :meth:`Deal.as_of` walks them
back to show the deal as it was.

Expected close dates are calendar *dates*, not instants: a deal closes on a
day. Where a date meets a timestamp (a window's end, an as-of cut-off) the
timestamp's own calendar date is used, in the zone it carries
(:func:`day_of`): pass window bounds in the zone your sales team's calendar
lives in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from ._checks import is_aware, is_optional_text, optional_text, text
from ._money import Money
from ._rules import earlier

__all__ = ["FIELDS", "STATE_FIELDS", "FieldChange", "check_changes", "day_of", "rewind"]

#: The fields a :class:`FieldChange` may record, and what each holds.
FIELDS: Mapping[str, str] = {
    "value": "Money or None",
    "expected_close": "a date or None",
    "owner": "a string or None",
    "forecast_category": "a string or None",
    "probability": "a number from 0 to 1, or None",
}

#: The recorded fields that are also fields of the deal (``deal.value`` …).
STATE_FIELDS = ("value", "expected_close", "owner")


def day_of(at: datetime) -> date:
    """The calendar date of aware *at* in its own zone (how dates meet timestamps)."""
    return at.date()


def check_field_value(field: str, value: Any) -> Any:
    """*value* if it fits *field* (see :data:`FIELDS`), else raise naming both.

    Raises:
        TypeError: The value has the wrong type.
        ValueError: The value is out of range (a negative amount, a probability above 1).
    """
    if value is None:
        return None
    if field == "value":
        if not isinstance(value, Money):
            msg = f"FieldChange value must be Money or None, got {value!r}."
            raise TypeError(msg)
        if value.amount < 0:
            msg = f"FieldChange value cannot be negative, got {value!r}."
            raise ValueError(msg)
    elif field == "expected_close":
        if isinstance(value, datetime) or not isinstance(value, date):
            msg = (
                f"expected_close must be a date (a deal closes on a day), got {value!r}; "
                "e.g. datetime.date(2026, 6, 30), or at.date() for a timestamp."
            )
            raise TypeError(msg)
    elif field == "probability":
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"FieldChange probability must be a number from 0 to 1, got {value!r}."
            raise TypeError(msg)
        if not 0 <= value <= 1:
            msg = f"FieldChange probability must be from 0 to 1 (a fraction), got {value!r}."
            raise ValueError(msg)
        return float(value)
    else:
        optional_text(f"FieldChange {field}", value)
    return value


def _field(instance: FieldChange, attribute: attrs.Attribute[Any], value: Any) -> None:
    text("FieldChange field", value)
    if value not in FIELDS:
        msg = f"FieldChange field must be one of {', '.join(FIELDS)}, got {value!r}."
        raise ValueError(msg)


@attrs.frozen
class FieldChange:
    """One recorded change of a deal field: *field* went from *old* to *new* at *at*.

    Attributes:
        field: ``"value"``, ``"expected_close"``, ``"owner"``,
            ``"forecast_category"`` or ``"probability"``.
        old: The value before (``None`` when it was unset).
        new: The value after (``None`` when it was cleared).
        at: When (timezone-aware).
        actor: Who made the change, if recorded.
        note: Free text.

    Examples:
        >>> from datetime import date, datetime, timezone
        >>> from salesflow import FieldChange
        >>> change = FieldChange(
        ...     "expected_close", date(2026, 6, 30), date(2026, 7, 31),
        ...     datetime(2026, 6, 1, tzinfo=timezone.utc),
        ... )
        >>> change.new - change.old
        datetime.timedelta(days=31)
    """

    field: str = attrs.field(validator=_field)
    old: Any
    new: Any
    at: datetime = attrs.field(validator=is_aware)
    actor: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)
    note: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)

    def __attrs_post_init__(self) -> None:
        _set = object.__setattr__
        _set(self, "old", check_field_value(self.field, self.old))
        _set(self, "new", check_field_value(self.field, self.new))
        if self.old == self.new:
            msg = (
                f"A FieldChange records a change, but {self.field} stays {self.new!r} at "
                f"{self.at.isoformat()}; leave it out."
            )
            raise ValueError(msg)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (money as a money record, dates and times as ISO 8601).

        Examples:
            >>> from datetime import datetime, timezone
            >>> FieldChange("owner", "ana", "bo", datetime(2026, 5, 4, tzinfo=timezone.utc)).to_dict()
            {'field': 'owner', 'old': 'ana', 'new': 'bo', 'at': '2026-05-04T00:00:00+00:00'}
        """
        from ._serde import field_change_to_dict

        return field_change_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldChange:
        """Rebuild a field change from :meth:`to_dict` output.

        Raises:
            SchemaError: The data is malformed; ``.path`` says where, e.g. ``$.new``.
        """
        from ._serde import field_change_from_dict

        return field_change_from_dict(data)


def check_changes(
    deal_id: str,
    changes: Iterable[FieldChange],
    created_at: datetime,
    current: Mapping[str, Any],
) -> tuple[FieldChange, ...]:
    """*changes* as a tuple once they are in time order and consistent with the deal.

    Each change must come at or after the deal's creation and after the one
    before it; for each field, each change's ``old`` must be the previous
    change's ``new``; and the last change of a field in :data:`STATE_FIELDS`
    must leave the deal's current value (*current*).

    Raises:
        TypeError: An item is not a :class:`FieldChange`.
        ValueError: The changes are out of order or do not chain.
    """
    items = tuple(changes)
    last: dict[str, Any] = {}
    previous = created_at
    for i, change in enumerate(items):
        if not isinstance(change, FieldChange):
            msg = f"Deal {deal_id!r} changes must be FieldChange values, got {change!r}."
            raise TypeError(msg)
        if earlier(change.at, previous):
            what = "its creation" if i == 0 else "the change before it"
            msg = (
                f"Deal {deal_id!r} change {i} ({change.field} at {change.at.isoformat()}) comes "
                f"before {what} at {previous.isoformat()}; changes are in time order."
            )
            raise ValueError(msg)
        previous = change.at
        if change.field in last and last[change.field] != change.old:
            msg = (
                f"Deal {deal_id!r} change {i} says {change.field} was {change.old!r}, but the "
                f"change before set it to {last[change.field]!r}."
            )
            raise ValueError(msg)
        last[change.field] = change.new
    for field in STATE_FIELDS:
        if field in last and last[field] != current.get(field):
            msg = (
                f"Deal {deal_id!r}: its last {field} change sets {last[field]!r}, but the deal's "
                f"{field} is {current.get(field)!r}; give the deal the value its history ends with."
            )
            raise ValueError(msg)
    return items


def rewind(changes: tuple[FieldChange, ...], at: datetime) -> tuple[int, dict[str, Any]]:
    """How many *changes* happened by *at*, and the state fields they undo after it.

    Returns ``(n, before)``: ``changes[:n]`` are at or before *at*, and
    *before* maps each field in :data:`STATE_FIELDS` changed later to its
    value at *at* (the ``old`` of its first later change).
    """
    n = len(changes)
    while n and earlier(at, changes[n - 1].at):
        n -= 1
    before: dict[str, Any] = {}
    for change in reversed(changes[n:]):
        if change.field in STATE_FIELDS:
            before[change.field] = change.old
    return n, before
