"""The events format's rows, shared by the CSV and the DataFrame readers.

Both read the same logical columns (:data:`~salesflow.io.EVENT_COLUMNS`);
each turns its rows into ``{field: text}`` mappings and hands them here, so
that a file and a frame with the same content give the same deals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from itertools import pairwise
from typing import Any, Literal

import attrs

from .._deal import Deal
from .._deal_info import DealInfo, EventMeta
from .._field_change import FieldChange, check_changes
from .._money import Money
from .._pipeline import Pipeline
from ..exceptions import LoadError
from ._cells import Ambiguous, Amounts, RowProblem, parse_time
from ._intake import Event, Refused, StageLabels, build_deal, ordered
from ._tables import CACHE_LIMIT

__all__ = ["Conflicts", "EventRows", "PendingDeal", "check_conflicts", "read_date"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def read_date(text: str, column: str) -> date:
    """An ISO 8601 calendar date (``2026-06-30``), or a :class:`RowProblem` naming *column*."""
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass  # 2026-02-30
    raise RowProblem("not an ISO date (2026-06-30)", column, text)


#: What a loader does when a deal's rows disagree on a deal-level field.
Conflicts = Literal["error", "latest"]


class PendingDeal:
    """The rows of one deal, gathered before its history is sorted and checked."""

    __slots__ = (
        "closes",
        "events",
        "lines",
        "owner",
        "owner_line",
        "source",
        "source_line",
        "values",
    )

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lines: list[int] = []
        # (time, line, value) of each row that states a value / an expected close date.
        self.values: list[tuple[datetime, int, Money]] = []
        self.closes: list[tuple[datetime, int, date]] = []
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

    A deal-level field (owner, source) must agree across a deal's rows unless
    ``conflicts="latest"`` says the rows are a history of it: then the latest
    row (by time, then file order) with a value wins. The value and the
    expected close date are a history: each row may state them, the first
    stated is the deal's from its creation, and a row that states another
    records a field change at its time. A row without a stage states fields
    only (it is no stage change).
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
        close_text = values.get("expected_close", "")
        field_row = not stage_text and bool(values.get("value") or close_text)
        stage = None if field_row else self.labels(stage_text)
        if stage is None and not field_row:
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
        close = (
            read_date(close_text, cols.get("expected_close") or "expected_close")
            if close_text
            else None
        )
        # Deal-level fields first: a refused row must not be half recorded.
        index = len(deal.events)
        owner = values.get("owner") if stage is not None else None
        if owner:
            self._deal_field(deal, "owner", owner, index, at, line)
        source = values.get("source") if stage is not None else None
        if source:
            self._deal_field(deal, "source", source, index, at, line)
        if money is not None:
            deal.values.append((at, line, money))
        if close is not None:
            deal.closes.append((at, line, close))
        if stage is not None:
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
        if not events:
            msg = f"deal {deal_id!r} has rows without a stage but no stage change"
            raise LoadError(msg, file="", line=rows.lines[0], value="")
        value, close, changes = self._changes(deal_id, rows, events[0].at)
        info = DealInfo(
            value=value,
            owner=rows.owner,
            source=rows.source,
            expected_close=close,
            changes=changes,
        )
        try:
            return build_deal(self.pipeline, deal_id, events, info)
        except Refused as refused:
            raise refused.at(events) from None

    def _changes(
        self, deal_id: str, rows: PendingDeal, created: datetime
    ) -> tuple[Money | None, date | None, tuple[FieldChange, ...]]:
        """The final value and close date of *rows*, and the changes between them."""
        found: list[tuple[datetime, int, FieldChange]] = []
        last: dict[str, Any] = {}
        for field, stated in (("value", rows.values), ("expected_close", rows.closes)):
            ordered_rows = sorted(stated, key=lambda r: (r[0], r[1]))
            if not ordered_rows:
                continue
            # The first stated value is the deal's from its creation.
            for before, after in pairwise(ordered_rows):
                if after[2] != before[2]:
                    found.append(
                        (after[0], after[1], FieldChange(field, before[2], after[2], after[0]))
                    )
            last[field] = ordered_rows[-1][2]
        found.sort(key=lambda f: (f[0], f[1]))
        changes = tuple(f[2] for f in found)
        try:
            check_changes(deal_id, changes, created, last)
        except ValueError as exc:
            line = next((f[1] for f in found if f[0] < created), rows.lines[0])
            raise LoadError(f"deal {deal_id!r}: {exc}", file="", line=line, value="") from None
        return last.get("value"), last.get("expected_close"), changes
