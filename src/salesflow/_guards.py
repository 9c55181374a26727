"""Declarative guards that ship with salesflow.

Unlike a plain function, these serialise with their pipeline and are checked
against it when the pipeline is built (their stage must exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, cast

import attrs

from ._checks import is_text

if TYPE_CHECKING:
    from ._deal import Deal
    from ._pipeline import Pipeline
    from ._stage import Stage

__all__ = ["MAX_WITHIN", "RequireTouchpoint", "RequireValue", "guard_from_dict", "refuse_answer"]

#: The longest window a :class:`RequireTouchpoint` accepts: a hundred years.
MAX_WITHIN = timedelta(days=36_525)


def refuse_answer(guard: object, answer: object) -> NoReturn:
    """Raise the ``TypeError`` for a guard that answered neither ``None`` nor a str."""
    msg = (
        f"Guard {guard!r} returned {answer!r}; a guard must return None to allow "
        "the move, or a str saying why it refuses it."
    )
    raise TypeError(msg)


def _check_within(_: object, __: attrs.Attribute[Any], value: timedelta | None) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta):
        msg = f"RequireTouchpoint within must be a timedelta or None, got {value!r}."
        raise TypeError(msg)
    if not timedelta(0) <= value <= MAX_WITHIN:
        msg = (
            f"RequireTouchpoint within must be from 0 to {MAX_WITHIN.days} days "
            f"(a hundred years), got {value!r}; pass within=None for no limit."
        )
        raise ValueError(msg)


def _applies(deal: Deal, stage_key: str, target: Stage) -> bool:
    # A guard on stage Y also covers stages after Y and winning, so a skip or an
    # early win cannot go around it. Lost stages are not progress: a guard on a
    # lost stage covers that stage only, and losing is otherwise never blocked.
    pipeline = deal.pipeline
    guarded = pipeline.rank(stage_key)
    if guarded is None:
        return target.key == pipeline.stage(stage_key).key
    target_rank = pipeline.rank(target)
    return target_rank is not None and target_rank >= guarded


@attrs.frozen
class RequireTouchpoint:
    """Refuse entering *stage* (or any later stage, or winning) without a touchpoint.

    Attributes:
        stage: The key of the first stage that needs the touchpoint.
        channel: The touchpoint channel required, e.g. ``"meeting"``.
        within: If given, the touchpoint must be at most this long before the
            move: from zero to 36,525 days (a hundred years).

    Raises:
        ValueError: *within* is negative or longer than a hundred years.

    Examples:
        >>> from salesflow import Pipeline, RequireTouchpoint
        >>> p = Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"],
        ...                     guards=[RequireTouchpoint("Proposal", "demo")])
        >>> p.guards[0]
        RequireTouchpoint(stage='Proposal', channel='demo', within=None)
    """

    stage: str = attrs.field(validator=is_text)
    channel: str = attrs.field(validator=is_text)
    within: timedelta | None = attrs.field(default=None, kw_only=True, validator=_check_within)

    def __call__(self, deal: Deal, target: Stage, at: datetime, /) -> str | None:
        if not _applies(deal, self.stage, target):
            return None
        # In UTC: wall-clock arithmetic in a zone with DST would be off by an hour.
        earliest = None if self.within is None else at.astimezone(UTC) - self.within
        for touch in deal.touchpoints:
            recent = earliest is None or touch.at >= earliest
            if touch.channel == self.channel and touch.at <= at and recent:
                return None
        when = "" if self.within is None else f" in the {self.within} before the move"
        return (
            f"entering {target.key!r} needs a {self.channel!r} touchpoint{when} "
            f"(rule for {self.stage!r} and later)"
        )

    def check_pipeline(self, pipeline: Pipeline) -> None:
        """Raise ``UnknownStageError`` if the guarded stage is not in *pipeline*."""
        pipeline.stage(self.stage)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict with a ``type`` tag."""
        data: dict[str, Any] = {"type": "require_touchpoint", "stage": self.stage}
        data["channel"] = self.channel
        if self.within is not None:
            data["within"] = self.within.total_seconds()
        return data


@attrs.frozen
class RequireValue:
    """Refuse entering *stage* (or any later stage, or winning) while the deal has no value.

    Attributes:
        stage: The key of the first stage that needs a value.
    """

    stage: str = attrs.field(validator=is_text)

    def __call__(self, deal: Deal, target: Stage, at: datetime, /) -> str | None:
        if deal.value is not None or not _applies(deal, self.stage, target):
            return None
        return f"entering {target.key!r} needs a deal value (rule for {self.stage!r} and later)"

    def check_pipeline(self, pipeline: Pipeline) -> None:
        """Raise ``UnknownStageError`` if the guarded stage is not in *pipeline*."""
        pipeline.stage(self.stage)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict with a ``type`` tag."""
        return {"type": "require_value", "stage": self.stage}


def guard_from_dict(data: Mapping[str, Any]) -> RequireTouchpoint | RequireValue:
    """Rebuild a built-in guard from its ``to_dict()`` output.

    Raises:
        SchemaError: The record is malformed or names an unknown guard type;
            ``.path`` names the field, e.g. ``$.type``.
    """
    from ._records import BuiltinGuard
    from ._serde import structure

    kind = cast("type[RequireTouchpoint | RequireValue]", BuiltinGuard)
    return structure(data, kind, "the guard record")
