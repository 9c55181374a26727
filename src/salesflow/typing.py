"""Public type aliases and protocols, for annotating code that uses salesflow."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, TypeAlias, TypeVar

if TYPE_CHECKING:
    from ._deal import Deal
    from ._stage import Stage

__all__ = ["Accumulator", "Attributes", "Direction", "Guard", "StageRef"]

R_co = TypeVar("R_co", covariant=True)

StageRef: TypeAlias = "str | Stage"
"""A stage named by its key (or name), or the ``Stage`` object itself."""

Attributes: TypeAlias = Mapping[str, Any]
"""The free-form attributes of a deal or lead."""

Direction: TypeAlias = Literal["inbound", "outbound"]
"""The direction of a touchpoint."""


class Guard(Protocol):
    """A rule that may refuse a stage change.

    A guard is called with the deal as it is before the move, the stage it is
    to move to, and the time of the move. It returns ``None`` to allow the move,
    or one sentence saying why it is refused. Every guard of a pipeline is
    asked, so a refused move lists all of its reasons.
    """

    def __call__(self, deal: Deal, target: Stage, at: datetime, /) -> str | None:
        """``None`` to allow moving *deal* to *target* at *at*, else why not."""


class Accumulator(Protocol[R_co]):
    """Sufficient statistics of a metric, gathered one deal at a time (DESIGN §2.6).

    ``add`` each deal once, in any order; ``merge`` two accumulators built
    with the same options (say, over two partitions of the deals) into a new
    one; ``result`` gives the metric. Merging is exact: accumulating two parts
    and merging them gives the same result as accumulating all the deals in
    one, so the same code runs on one machine or on a distributed engine.
    ``R_co`` is the type of the result (``Rate`` for
    :class:`~salesflow.metrics.WinRateAccumulator`, ``Funnel`` for
    :class:`~salesflow.metrics.FunnelAccumulator` …).

    Examples:
        >>> from salesflow.datasets import synthetic
        >>> from salesflow.metrics import WinRateAccumulator, win_rate
        >>> from salesflow.typing import Accumulator
        >>> deals = synthetic(200, seed=3)
        >>> left: Accumulator[object] = WinRateAccumulator()
        >>> right = WinRateAccumulator()
        >>> for i, deal in enumerate(deals):
        ...     (left if i % 2 else right).add(deal)
        >>> left.merge(right).result() == win_rate(deals)
        True
    """

    def add(self, deal: Deal) -> None:
        """Count one deal."""

    def merge(self, other: Self) -> Self:
        """A new accumulator holding both parts."""

    def result(self) -> R_co:
        """The metric."""
