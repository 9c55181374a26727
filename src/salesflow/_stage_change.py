"""One event of a deal's history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._checks import is_aware, is_optional_text, text
from ._stage import Stage

__all__ = ["StageChange"]


def _stage_key(value: Stage | str) -> str:
    if isinstance(value, Stage):
        return value.key
    return text("StageChange stage", value)


@attrs.frozen
class StageChange:
    """One event of a deal's history: the deal entered *stage* at *at*.

    Attributes:
        stage: The key of the stage entered (a ``Stage`` is accepted and
            stored as its key).
        at: When (timezone-aware).
        actor: Who made the change, if recorded.
        reason: Why, e.g. the lost reason when the stage is a lost stage.
        note: Free text.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from salesflow import StageChange
        >>> StageChange("Proposal", datetime(2026, 5, 4, tzinfo=timezone.utc))
        StageChange(stage='Proposal', at=datetime.datetime(2026, 5, 4, 0, 0, tzinfo=datetime.timezone.utc), actor=None, reason=None, note=None)
    """

    stage: str = attrs.field(converter=_stage_key)
    at: datetime = attrs.field(validator=is_aware)
    actor: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)
    reason: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)
    note: str | None = attrs.field(default=None, kw_only=True, validator=is_optional_text)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the fields that are set (``at`` as ISO 8601).

        Examples:
            >>> from datetime import datetime, timezone
            >>> StageChange("Demo", datetime(2026, 5, 4, tzinfo=timezone.utc), actor="ana").to_dict()
            {'stage': 'Demo', 'at': '2026-05-04T00:00:00+00:00', 'actor': 'ana'}
        """
        from ._serde import to_record

        return to_record(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageChange:
        """Rebuild a stage change from :meth:`to_dict` output.

        Raises:
            SchemaError: The data is malformed; ``.path`` says where, e.g. ``$.at``.
        """
        from ._serde import structure

        return structure(data, StageChange, "the stage change record")
