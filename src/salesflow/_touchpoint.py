"""Touchpoints: one contact with a lead or a deal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._checks import is_aware, is_optional_text, is_text
from ._money import Money

__all__ = ["Touchpoint"]


def _direction(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in ("inbound", "outbound"):
        msg = f"Touchpoint direction must be 'inbound', 'outbound' or None, got {value!r}."
        raise ValueError(msg)
    return value


def _cost(value: Money | None) -> Money | None:
    if value is not None and not isinstance(value, Money):
        msg = f"Touchpoint cost must be Money or None, got {value!r}; e.g. Money('12.50', 'USD')."
        raise TypeError(msg)
    return value


@attrs.frozen
class Touchpoint:
    """One contact with a lead or a deal: an email, call, meeting, demo, event, ad.

    Channels are free text so that a team's own vocabulary fits; salesflow's
    metrics group by the exact string. Common ones are ``"email"``,
    ``"call"``, ``"meeting"``, ``"demo"``, ``"event"``, ``"ad"`` and ``"web"``.

    Attributes:
        at: When it happened (timezone-aware).
        channel: How the contact was made.
        direction: ``"inbound"`` (they reached out), ``"outbound"`` (we did), or
            ``None`` when unknown.
        campaign: The marketing campaign it belongs to, if any.
        cost: What the contact cost, if known (used by attribution and CAC).
        note: Free text.

    Raises:
        TypeError: ``at`` is not a datetime, or ``cost`` is not ``Money``.
        ValueError: ``at`` is naive, ``channel`` is blank, or ``direction`` is
            not one of the two words.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from salesflow import Touchpoint
        >>> Touchpoint(datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc), "meeting").channel
        'meeting'
    """

    at: datetime = attrs.field(validator=is_aware)
    channel: str = attrs.field(validator=is_text)
    direction: str | None = attrs.field(default=None, kw_only=True, converter=_direction)
    campaign: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)
    cost: Money | None = attrs.field(default=None, kw_only=True, converter=_cost)
    note: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the fields that are set (``at`` as ISO 8601, ``cost`` as Money's record).

        Examples:
            >>> from datetime import datetime, timezone
            >>> Touchpoint(datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc), "call").to_dict()
            {'at': '2026-03-02T09:30:00+00:00', 'channel': 'call'}
        """
        from ._serde import to_record

        return to_record(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Touchpoint:
        """Rebuild a touchpoint from :meth:`to_dict` output.

        Raises:
            SchemaError: The data is malformed; ``.path`` says where, e.g. ``$.at``.
        """
        from ._serde import structure

        return structure(data, Touchpoint, "the touchpoint record")
