"""Small validators shared by the domain types.

They raise ordinary ``TypeError`` / ``ValueError`` with one sentence that names
the field and shows the value, as attrs validators do; the domain types call
them from ``__attrs_post_init__`` or their constructors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timezone
from typing import Any

import attrs


def aware(field: str, value: Any) -> datetime:
    """Return *value* if it is a timezone-aware datetime that exists and is in range, else raise.

    A wall time that a zone's clocks skip (``02:30`` on the night New York
    springs forward) is refused: it names no instant, and Python would place
    it by a rule nobody chose. Ambiguous wall times (the hour that repeats
    when clocks go back) exist twice; ``fold`` says which is meant.
    """
    if type(value) is not datetime and not isinstance(value, datetime):
        msg = f"{field} must be a timezone-aware datetime, got {value!r}."
        raise TypeError(msg)
    if value.tzinfo is None or value.utcoffset() is None:
        msg = (
            f"{field} must be timezone-aware, got the naive datetime {value!r}; "
            "attach a zone, e.g. value.replace(tzinfo=datetime.timezone.utc)."
        )
        raise ValueError(msg)
    if type(value.tzinfo) is not timezone and not exists(value):
        msg = (
            f"{field} {value.replace(tzinfo=None).isoformat()} does not exist in time zone "
            f"{str(value.tzinfo)!r}: the clocks skip it (a daylight saving time gap), so it "
            "names no instant; pass a time that exists, e.g. "
            "dateutil.tz.resolve_imaginary() moves it forward by the length of the gap."
        )
        raise ValueError(msg)
    if value.year in EDGE_YEARS and not in_range(value):
        msg = (
            f"{field} {value.isoformat()} is outside the supported range: salesflow keeps "
            f"times from {EARLIEST.isoformat()} to {LATEST.isoformat()} (UTC), a day inside "
            "Python's datetime range on each side, so that every time can be shown in any "
            "zone and compared with any other."
        )
        raise ValueError(msg)
    return value


#: The supported instants: Python's datetime range less a day at each end.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
#: Only times in these years can be out of range, so only they are looked at closely.
EDGE_YEARS = frozenset({1, 9999})


def in_range(value: datetime) -> bool:
    """True if aware *value* names an instant between :data:`EARLIEST` and :data:`LATEST`."""
    return EARLIEST <= value <= LATEST


def exists(value: datetime) -> bool:
    """True unless aware *value* is a wall time its zone skips (a DST gap).

    A time exists when its round trip through UTC gives back the same wall
    time; ``zoneinfo`` and ``dateutil`` zones map a skipped time to an
    instant whose wall time differs. Fixed offsets always exist.
    """
    zone = value.tzinfo
    if type(zone) is timezone:
        return True
    try:
        back = value.astimezone(UTC).astimezone(zone)
    except OverflowError:
        return True  # at the edge of the datetime range; the range is checked elsewhere
    return back.replace(tzinfo=None) == value.replace(tzinfo=None)


def optional_text(field: str, value: Any) -> str | None:
    """Return *value* if it is ``None`` or a string of valid Unicode, else raise."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"{field} must be a string or None, got {value!r}."
        raise TypeError(msg)
    return unicode(field, value)


def text(field: str, value: Any) -> str:
    """Return *value* if it is a non-empty string of valid Unicode, else raise."""
    if not isinstance(value, str):
        msg = f"{field} must be a string, got {value!r}."
        raise TypeError(msg)
    if not value.strip():
        msg = f"{field} must not be empty or blank, got {value!r}."
        raise ValueError(msg)
    return unicode(field, value)


def unicode(field: str, value: str) -> str:
    """Return *value* unless it holds a lone surrogate, which no file or database can store.

    Python strings may hold halves of UTF-16 surrogate pairs (``"\\ud800"``,
    from a JSON escape or ``errors="surrogateescape"``); UTF-8 cannot encode
    them, so such a text would be accepted here and fail when saved.
    """
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            msg = (
                f"{field} {value!r} is not valid Unicode text: it holds a lone surrogate "
                f"({value[error.start]!r} at position {error.start}), which no file or "
                "database can store; decode the source with a proper encoding."
            )
            raise ValueError(msg) from None
    return value


# attrs validators: the field is named as "<Class> <attribute>" in messages.


def _field(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__} {attribute.name}"


def is_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: a non-empty string."""
    # The common case returns before the message's field name is built.
    if type(value) is not str or not value.strip() or not value.isascii():
        text(_field(instance, attribute), value)


def is_optional_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: ``None`` or a string."""
    if value is not None and (type(value) is not str or not value.isascii()):
        optional_text(_field(instance, attribute), value)


def is_aware(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: a timezone-aware datetime that exists (not in a DST gap)."""
    if (
        type(value) is not datetime
        or type(value.tzinfo) is not timezone
        or value.year in EDGE_YEARS
    ):
        aware(_field(instance, attribute), value)
