"""The fields of a deal that stage changes leave alone, and their checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from ._checks import aware, is_optional_text
from ._money import Money
from ._touchpoint import Touchpoint

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _value(value: Money | None) -> Money | None:
    if value is not None and not isinstance(value, Money):
        msg = f"Deal value must be Money or None, got {value!r}; e.g. Money('1200', 'USD')."
        raise TypeError(msg)
    return value


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


@attrs.frozen(repr=False)
class _Info:
    """The fields of a deal that stage changes do not touch, shared between versions."""

    value: Money | None = attrs.field(converter=_value)
    owner: str | None = attrs.field(validator=is_optional_text)
    source: str | None = attrs.field(validator=is_optional_text)
    touchpoints: tuple[Touchpoint, ...] = attrs.field(converter=_touchpoints)
    attributes: Mapping[str, Any] = attrs.field(converter=_attributes, hash=False)
    lead_id: str | None = attrs.field(validator=is_optional_text)
    lead_created_at: datetime | None = attrs.field()

    def __attrs_post_init__(self) -> None:
        if self.lead_created_at is not None:
            aware("Deal lead_created_at", self.lead_created_at)


_NO_INFO = _Info(None, None, None, (), None, None, None)
