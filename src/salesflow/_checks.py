"""Small validators shared by the domain types.

They raise ordinary ``TypeError`` / ``ValueError`` with one sentence that names
the field and shows the value, as attrs validators do; the domain types call
them from ``__attrs_post_init__`` or their constructors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs


def aware(field: str, value: Any) -> datetime:
    """Return *value* if it is a timezone-aware datetime, else raise."""
    if type(value) is not datetime and not isinstance(value, datetime):
        msg = f"{field} must be a timezone-aware datetime, got {value!r}."
        raise TypeError(msg)
    if value.tzinfo is None or value.utcoffset() is None:
        msg = (
            f"{field} must be timezone-aware, got the naive datetime {value!r}; "
            "attach a zone, e.g. value.replace(tzinfo=datetime.timezone.utc)."
        )
        raise ValueError(msg)
    return value


def optional_text(field: str, value: Any) -> str | None:
    """Return *value* if it is ``None`` or a string, else raise."""
    if value is not None and not isinstance(value, str):
        msg = f"{field} must be a string or None, got {value!r}."
        raise TypeError(msg)
    return value


def text(field: str, value: Any) -> str:
    """Return *value* if it is a non-empty string, else raise."""
    if not isinstance(value, str):
        msg = f"{field} must be a string, got {value!r}."
        raise TypeError(msg)
    if not value.strip():
        msg = f"{field} must not be empty or blank, got {value!r}."
        raise ValueError(msg)
    return value


# attrs validators: the field is named as "<Class> <attribute>" in messages.


def _field(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__} {attribute.name}"


def is_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: a non-empty string."""
    # The common case returns before the message's field name is built.
    if type(value) is not str or not value.strip():
        text(_field(instance, attribute), value)


def is_optional_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: ``None`` or a string."""
    if value is not None and type(value) is not str:
        optional_text(_field(instance, attribute), value)


def is_aware(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Attrs validator: a timezone-aware datetime."""
    if type(value) is not datetime or value.tzinfo is None or value.utcoffset() is None:
        aware(_field(instance, attribute), value)
