"""Stages of a pipeline and their outcomes."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs

from ._checks import is_text

__all__ = ["Outcome", "Stage"]


class Outcome(enum.Enum):
    """What being in a stage means for a deal: still open, won, or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"

    def __repr__(self) -> str:
        return f"Outcome.{self.name}"


def _probability(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        msg = f"Stage probability must be a number in [0, 1] or None, got {value!r}."
        raise TypeError(msg)
    prob = float(value)
    if math.isnan(prob) or not 0.0 <= prob <= 1.0:
        msg = (
            f"Stage probability must be a fraction in [0, 1], got {value!r}; "
            "divide percentages by 100."
        )
        raise ValueError(msg)
    return prob


def _name(value: str | None) -> str:
    if value is None:
        return ""  # replaced by the key after init
    if not isinstance(value, str):
        msg = f"Stage name must be a string or None, got {value!r}."
        raise TypeError(msg)
    return value


def _outcome(value: Outcome | str) -> Outcome:
    if isinstance(value, Outcome):
        return value
    try:
        return Outcome(value)
    except ValueError:
        msg = f"Stage outcome must be one of 'open', 'won', 'lost', got {value!r}."
        raise ValueError(msg) from None


def _rotting(value: object) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta):
        msg = f"Stage rotting_after must be a timedelta or None, got {value!r}."
        raise TypeError(msg)
    if value <= timedelta(0):
        msg = f"Stage rotting_after must be positive, got {value!r}."
        raise ValueError(msg)
    return value


@attrs.frozen(repr=False)
class Stage:
    """One step of a pipeline.

    Attributes:
        key: The stage's identifier, unique in its pipeline. Keys are plain
            strings so that transition tables stay cheap.
        name: A display name; defaults to the key.
        outcome: ``Outcome.OPEN`` for working stages, ``WON`` or ``LOST`` for
            terminal ones. A string ``"open"``/``"won"``/``"lost"`` is accepted.
        probability: The default chance, as a fraction in [0, 1], that a deal in
            this stage is won; used by the weighted pipeline. ``None`` means
            unknown; terminal stages default to 1 (won) and 0 (lost).
        rotting_after: How long a deal may sit in the stage before it counts as
            stale (Pipedrive calls it "rotting").

    Raises:
        ValueError: An empty key, a probability outside [0, 1], an unknown
            outcome, or a non-positive ``rotting_after``.

    Examples:
        >>> from salesflow import Stage, Outcome
        >>> Stage("proposal", "Proposal", probability=0.6)
        Stage('proposal', name='Proposal', probability=0.6)
        >>> Stage("won", outcome="won").probability
        1.0
    """

    key: str = attrs.field(validator=is_text)
    name: str = attrs.field(default=None, converter=_name)
    outcome: Outcome = attrs.field(default=Outcome.OPEN, converter=_outcome)
    probability: float | None = attrs.field(default=None, converter=_probability)
    rotting_after: timedelta | None = attrs.field(default=None, converter=_rotting)

    # Derived flags, stored rather than computed: metrics read them per event.
    is_open: bool = attrs.field(init=False, eq=False, repr=False)
    """True for a working (non-terminal) stage."""
    is_terminal: bool = attrs.field(init=False, eq=False, repr=False)
    """True for a won or lost stage."""
    is_won: bool = attrs.field(init=False, eq=False, repr=False)
    """True for a won stage."""
    is_lost: bool = attrs.field(init=False, eq=False, repr=False)
    """True for a lost stage."""

    def __attrs_post_init__(self) -> None:
        outcome = self.outcome
        object.__setattr__(self, "is_open", outcome is Outcome.OPEN)
        object.__setattr__(self, "is_terminal", outcome is not Outcome.OPEN)
        object.__setattr__(self, "is_won", outcome is Outcome.WON)
        object.__setattr__(self, "is_lost", outcome is Outcome.LOST)
        if not self.name:
            object.__setattr__(self, "name", self.key)
        if self.probability is None and self.outcome is not Outcome.OPEN:
            object.__setattr__(self, "probability", 1.0 if self.outcome is Outcome.WON else 0.0)

    def __repr__(self) -> str:
        parts = [repr(self.key)]
        if self.name != self.key:
            parts.append(f"name={self.name!r}")
        if self.outcome is not Outcome.OPEN:
            parts.append(f"outcome={self.outcome!r}")
            default = 1.0 if self.outcome is Outcome.WON else 0.0
            if self.probability != default:
                parts.append(f"probability={self.probability!r}")
        elif self.probability is not None:
            parts.append(f"probability={self.probability!r}")
        if self.rotting_after is not None:
            parts.append(f"rotting_after={self.rotting_after!r}")
        return f"Stage({', '.join(parts)})"

    def __str__(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the key, the name, and the other fields that are set.

        ``rotting_after`` is written in seconds; an open outcome and an unknown
        probability are left out.

        Examples:
            >>> from datetime import timedelta
            >>> Stage("Demo", probability=0.4, rotting_after=timedelta(days=14)).to_dict()
            {'key': 'Demo', 'name': 'Demo', 'probability': 0.4, 'rotting_after': 1209600.0}
        """
        from ._serde import to_record

        return to_record(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        """Rebuild a stage from :meth:`to_dict` output.

        Raises:
            SchemaError: The data is malformed; ``.path`` says where, e.g.
                ``$.probability``.

        Examples:
            >>> Stage.from_dict({"key": "Won", "outcome": "won"})
            Stage('Won', outcome=Outcome.WON)
        """
        from ._serde import structure

        return structure(data, Stage, "the stage record")
