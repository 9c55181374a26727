"""The events format's rows, shared by the CSV and the DataFrame readers.

Both read the same logical columns (:data:`~salesflow.io.EVENT_COLUMNS`);
each turns its rows into ``{field: text}`` mappings and hands them here, so
that a file and a frame with the same content give the same deals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Literal

import attrs

from .._deal import Deal
from .._deal_info import DealInfo, EventMeta
from .._money import Money
from .._pipeline import Pipeline
from ._common import Ambiguous, Amounts, RowProblem, parse_time
from ._intake import Event, Refused, StageLabels, build_deal, ordered
from ._tables import CACHE_LIMIT

__all__ = ["Conflicts", "EventRows", "PendingDeal", "check_conflicts"]


#: What a loader does when a deal's rows disagree on a deal-level field.
Conflicts = Literal["error", "latest"]


class PendingDeal:
    """The rows of one deal, gathered before its history is sorted and checked."""

    __slots__ = (
        "events",
        "lines",
        "owner",
        "owner_line",
        "source",
        "source_line",
        "value",
        "value_line",
    )

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lines: list[int] = []
        self.value: Money | None = None
        self.value_line = 0  # index in events of the row that set the value
        self.owner: str | None = None
        self.owner_line = 0
        self.source: str | None = None
        self.source_line = 0


def check_conflicts(value: object) -> Conflicts:
    """Validate the ``conflicts=`` option."""
    if value not in ("error", "latest"):
        msg = f"conflicts must be 'error' or 'latest', got {value!r}."
        raise ValueError(msg)
    return value


@attrs.define
class EventRows:
    """Turns the rows of an events table into pending deals, then into deals.

    A deal-level field (value and currency, owner, source) must agree across
    a deal's rows unless ``conflicts="latest"`` says the rows are a history
    of it: then the latest row (by time, then file order) with a value wins.
    """

    pipeline: Pipeline
    cols: Mapping[str, str | None]
    fmt: str | None
    zone: tzinfo | None
    currency: str | None
    amounts: Amounts = attrs.field(factory=Amounts)
    case_insensitive: bool = False
    conflicts: Conflicts = "error"
    ambiguous: Ambiguous = "earlier"
    pending: dict[str, PendingDeal] = attrs.field(factory=dict)
    # A deal's rows repeat its value: parse each distinct amount once.
    money_cache: dict[tuple[str, str], Money] = attrs.field(factory=dict)
    labels: StageLabels = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.labels = StageLabels(self.pipeline, None, fold=self.case_insensitive)

    def add(self, values: Mapping[str, str], line: int) -> None:
        """Add one row (``{field: stripped text}``) at file *line*."""
        cols = self.cols
        stage_text = values.get("stage", "")
        stage = self.labels(stage_text)
        if stage is None:
            raise RowProblem(self.labels.unknown(stage_text), cols["stage"], stage_text)
        at_text = values.get("at", "")
        if not at_text:
            raise RowProblem("the timestamp is empty", cols["at"], "")
        at = parse_time(
            at_text, cols["at"] or "at", fmt=self.fmt, zone=self.zone, ambiguous=self.ambiguous
        )
        money = None
        amount = values.get("value", "")
        if amount:
            cur = values.get("currency", "") or self.currency
            if not cur:
                raise RowProblem(
                    "a value needs a currency: add a currency column or pass currency='USD'",
                    cols["value"],
                    amount,
                )
            money = self.money_cache.get((amount, cur))
            if money is None:
                money = self.amounts.money(amount, cols["value"] or "value", cur)
                if len(self.money_cache) < CACHE_LIMIT:
                    self.money_cache[amount, cur] = money
        deal_id = values["deal_id"]
        deal = self.pending.get(deal_id)
        if deal is None:
            deal = self.pending[deal_id] = PendingDeal()
        actor, reason, note = values.get("actor"), values.get("reason"), values.get("note")
        meta = (
            EventMeta(actor or None, reason or None, note or None)
            if actor or reason or note
            else None
        )
        # Deal-level fields first: a refused row must not be half recorded.
        index = len(deal.events)
        if money is not None:
            self._deal_field(deal, "value", money, index, at, line)
        owner = values.get("owner")
        if owner:
            self._deal_field(deal, "owner", owner, index, at, line)
        source = values.get("source")
        if source:
            self._deal_field(deal, "source", source, index, at, line)
        deal.events.append(Event(at, line, stage, meta))
        deal.lines.append(line)

    def _deal_field(
        self, deal: PendingDeal, field: str, new: object, index: int, at: datetime, line: int
    ) -> None:
        """Record a deal-level field from the row about to be event *index*, or refuse a disagreement."""
        old = getattr(deal, field)
        if old is None:
            setattr(deal, field, new)
            setattr(deal, f"{field}_line", index)
            return
        if new == old:
            return
        before = deal.events[getattr(deal, f"{field}_line")]
        if self.conflicts == "latest":
            if (at, line) >= (before.at, before.line):
                setattr(deal, field, new)
                setattr(deal, f"{field}_line", index)
            return
        reason = (
            f"the deal's {field} is {str(old)!r} on line {before.line} but {str(new)!r} here; "
            f"a deal has one {field} (pass conflicts='latest' if the rows are a history "
            "and the latest should win)"
        )
        raise RowProblem(reason, self.cols.get(field) or field, str(new))

    def build(self, deal_id: str, rows: PendingDeal) -> Deal:
        """The deal of *rows*; a refused history is a ``LoadError`` at the offending line."""
        events = ordered(rows.events)
        info = DealInfo(value=rows.value, owner=rows.owner, source=rows.source)
        try:
            return build_deal(self.pipeline, deal_id, events, info)
        except Refused as refused:
            raise refused.at(events) from None
