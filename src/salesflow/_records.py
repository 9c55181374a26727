"""The shapes of the pipeline and deal records, as cattrs reads them.

A ``Pipeline`` validates its whole definition when it is built and a ``Deal``
is built from its history, so neither can be structured field by field. These
plain classes can: cattrs fills them in (each field through a strict hook,
with a path to every problem), and ``_serde`` then builds the real object.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NewType

import attrs

from ._field_change import FieldChange
from ._guards import RequireTouchpoint, RequireValue
from ._money import Money
from ._stage import Stage
from ._stage_change import StageChange
from ._touchpoint import Touchpoint

#: A non-blank stage key inside a record (``lose_from`` items).
StageKey = NewType("StageKey", str)

#: The built-in guards, as a record's ``guards`` list holds them.
BuiltinGuard = RequireTouchpoint | RequireValue


@attrs.frozen(kw_only=True)
class PipelineRecord:
    """The fields of a pipeline record, after its ``schema`` header."""

    name: str
    stages: list[Stage]
    allow_skip: bool = False
    allow_backward: bool = True
    allow_reopen: bool = True
    lose_from: list[StageKey] | None = None
    guards: list[BuiltinGuard] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class DealRecord:
    """The fields of a deal record, after its ``schema`` header."""

    id: str
    history: list[StageChange]
    pipeline: str | None = None
    value: Money | None = None
    owner: str | None = None
    source: str | None = None
    touchpoints: list[Touchpoint] = attrs.field(factory=list)
    attributes: dict[str, Any] | None = None
    lead_id: str | None = None
    lead_created_at: datetime | None = None
    expected_close: date | None = None
    changes: list[FieldChange] = attrs.field(factory=list)
