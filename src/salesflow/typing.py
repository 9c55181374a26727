"""Public type aliases and protocols, for annotating code that uses salesflow."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

if TYPE_CHECKING:
    from ._deal import Deal
    from ._stage import Stage

__all__ = ["Attributes", "Guard", "StageRef"]

#: A stage named by its key (or name), or the ``Stage`` object itself.
StageRef: TypeAlias = "str | Stage"

#: The free-form attributes of a deal or lead.
Attributes: TypeAlias = Mapping[str, Any]

#: The direction of a touchpoint.
Direction: TypeAlias = Literal["inbound", "outbound"]


class Guard(Protocol):
    """A rule that may refuse a stage change.

    A guard is called with the deal as it is before the move, the stage it is
    to move to, and the time of the move. It returns ``None`` to allow the move,
    or one sentence saying why it is refused. Every guard of a pipeline is
    asked, so a refused move lists all of its reasons.
    """

    def __call__(self, deal: Deal, target: Stage, at: datetime, /) -> str | None: ...
