"""The records a deal is made of, besides its stage keys and times.

:class:`DealInfo` holds the fields that stage changes leave alone (shared
between a deal's versions); :class:`EventMeta` the optional who / why / note
of one stage change. Loaders build both by keyword and hand them to
:func:`salesflow._deal.assemble`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

import attrs

from ._checks import aware, is_optional_text
from ._field_change import FieldChange, check_field_value
from ._money import Money
from ._touchpoint import Touchpoint
from .exceptions import MoneyError

_EMPTY: Mapping[str, Any] = MappingProxyType({})

T = TypeVar("T")


def _value(value: Money | None) -> Money | None:
    if value is not None and not isinstance(value, Money):
        msg = f"Deal value must be Money or None, got {value!r}; e.g. Money('1200', 'USD')."
        raise TypeError(msg)
    return value


def non_negative(value: Money | None) -> Money | None:
    """*value*, refused if negative: a deal is worth what it is worth, never less than nothing.

    Raises:
        MoneyError: *value* is below zero.
    """
    if value is not None and isinstance(value, Money) and value.amount < 0:
        msg = (
            f"Deal value cannot be negative, got {value!r}; keep refunds, credits and "
            "clawbacks as separate Money amounts (Money itself is signed)."
        )
        raise MoneyError(msg, value=value)
    return value


def _expected_close(value: date | None) -> date | None:
    return check_field_value("expected_close", value)  # type: ignore[no-any-return]


def _changes(value: Iterable[FieldChange]) -> tuple[FieldChange, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, FieldChange):
            msg = f"Deal changes must be FieldChange values, got {item!r}."
            raise TypeError(msg)
    return items


def _attributes(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None or value is _EMPTY:
        return _EMPTY
    if not isinstance(value, Mapping):
        msg = f"Deal attributes must be a mapping, got {value!r}."
        raise TypeError(msg)
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        msg = f"Deal attribute names must be strings, got {bad[0]!r}."
        raise TypeError(msg)
    return MappingProxyType(dict(value))


def _touchpoints(value: Iterable[Touchpoint]) -> tuple[Touchpoint, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, Touchpoint):
            msg = f"Deal touchpoints must be Touchpoint values, got {item!r}."
            raise TypeError(msg)
    return tuple(sorted(items, key=lambda t: t.at))


class EventMeta(NamedTuple):
    """Who made one stage change, why, and a note; ``None`` for the event when all are unset."""

    actor: str | None
    reason: str | None
    note: str | None


#: Per event of a deal: its :class:`EventMeta` or ``None``; ``None`` for a deal with none at all.
Metas = tuple[EventMeta | None, ...] | None


@attrs.frozen(repr=False, kw_only=True)
class DealInfo:
    """The fields of a deal that stage changes do not touch, shared between versions.

    Built by keyword; every field defaults to empty. *changes* are the
    recorded field changes (checked against the other fields by
    :func:`salesflow._field_change.check_changes` where a deal is built).
    """

    value: Money | None = attrs.field(default=None, converter=_value)
    owner: str | None = attrs.field(default=None, validator=is_optional_text)
    source: str | None = attrs.field(default=None, validator=is_optional_text)
    touchpoints: tuple[Touchpoint, ...] = attrs.field(default=(), converter=_touchpoints)
    attributes: Mapping[str, Any] = attrs.field(default=None, converter=_attributes, hash=False)
    lead_id: str | None = attrs.field(default=None, validator=is_optional_text)
    lead_created_at: datetime | None = attrs.field(default=None)
    expected_close: date | None = attrs.field(default=None, converter=_expected_close)
    changes: tuple[FieldChange, ...] = attrs.field(default=(), converter=_changes)

    def __attrs_post_init__(self) -> None:
        if self.lead_created_at is not None:
            aware("Deal lead_created_at", self.lead_created_at)

    def __reduce__(self) -> tuple[Any, ...]:
        # The attributes are a read-only mappingproxy, which pickle and deepcopy refuse.
        return restore, (DealInfo, state_of(self))


#: The record of every deal that has nothing but a history: they share it.
NO_INFO = DealInfo()


def trusted_info(
    *,
    value: Money | None,
    owner: str | None,
    source: str | None,
    attributes: Mapping[str, Any] | None,
) -> DealInfo:
    """A :class:`DealInfo` from fields the caller has checked, without re-validating them.

    The attrs validators cost a fifth of a bulk load, and a loader already
    knows that *value* is ``Money`` or ``None`` and the texts are strings.
    Only the intake builder in :mod:`salesflow.io` uses it.
    """
    info: DealInfo = _new(DealInfo)
    _set(info, "value", value)
    _set(info, "owner", owner)
    _set(info, "source", source)
    _set(info, "touchpoints", ())
    _set(info, "attributes", _attributes(attributes))
    _set(info, "lead_id", None)
    _set(info, "lead_created_at", None)
    _set(info, "expected_close", None)
    _set(info, "changes", ())
    return info


_new = object.__new__
_set = object.__setattr__


def state_of(obj: Any) -> dict[str, Any]:
    """The fields of an attrs record, its ``attributes`` as a plain dict (see :func:`restore`)."""
    state = {a.name: getattr(obj, a.name) for a in attrs.fields(type(obj))}
    state["attributes"] = dict(state["attributes"])
    return state


def restore(cls: type[T], state: dict[str, Any]) -> T:
    """Rebuild a record of *cls* (``DealInfo``, ``Lead``) pickled by :func:`state_of`.

    The fields were checked when the record was first made, so they are set
    as they are, without running validators again.
    """
    obj: T = _new(cls)
    for name, value in state.items():
        _set(obj, name, _attributes(value) if name == "attributes" else value)
    return obj


# trusted_info() sets every field by name; fail at import if one is added.
assert tuple(a.name for a in attrs.fields(DealInfo)) == (
    "value",
    "owner",
    "source",
    "touchpoints",
    "attributes",
    "lead_id",
    "lead_created_at",
    "expected_close",
    "changes",
), "trusted_info() must set every DealInfo field"
