"""The base of the accumulators that count deals: one cut per deal, then the count.

Every deal accumulator answers "what did this deal look like at the cut-off?"
the same way before it counts anything, so that part lives here once.
:meth:`DealAccumulator.add` cuts the deal's history at ``as_of`` and hands
the cut to the subclass's :meth:`~DealAccumulator.add_seen`; the report cuts
each deal once and calls ``add_seen`` on all of its parts directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ._common import cut

if TYPE_CHECKING:
    from datetime import datetime

    from .._deal import Deal

__all__ = ["DealAccumulator"]


class DealAccumulator(ABC):
    """Feeds each deal's history up to ``as_of`` to :meth:`add_seen`.

    Subclasses are attrs classes with an ``as_of`` field; this base adds no
    field and no slot.
    """

    __slots__ = ()
    as_of: datetime | None

    def add(self, deal: Deal) -> None:
        """Count *deal* as it was at the cut-off (nothing if it did not exist yet)."""
        seen = cut(deal, self.as_of)
        if seen is not None:
            self.add_seen(deal, *seen)

    @abstractmethod
    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Count *deal*, whose history up to the cut-off is *stages* at *times*."""
