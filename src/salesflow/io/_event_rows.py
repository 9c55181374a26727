"""The events format's rows, shared by the CSV and the DataFrame readers.

Both read the same logical columns (:data:`~salesflow.io.EVENT_COLUMNS`);
each turns its rows into ``{field: text}`` mappings and hands them here, so
that a file and a frame with the same content give the same deals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from .._deal import Deal
from .._deal_info import DealInfo, EventMeta
from .._money import Money
from .._pipeline import Pipeline
from ..exceptions import UnknownStageError
from ._common import RowProblem, parse_money, parse_time
from ._intake import Event, Refused, build_deal, ordered

__all__ = ["PendingDeal", "add_event_row", "build_pending"]


class PendingDeal:
    """The rows of one deal, gathered before its history is sorted and checked."""

    __slots__ = ("events", "lines", "owner", "source", "value", "value_line")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lines: list[int] = []
        self.value: Money | None = None
        self.value_line = 0
        self.owner: str | None = None
        self.source: str | None = None


def add_event_row(
    pending: dict[str, PendingDeal],
    values: Mapping[str, str],
    cols: Mapping[str, str | None],
    line: int,
    pipeline: Pipeline,
    fmt: str | None,
    zone: tzinfo | None,
    currency: str | None,
    money_cache: dict[tuple[str, str], Money] | None = None,
) -> None:
    stage_text = values.get("stage", "")
    try:
        stage = pipeline.key(stage_text)
    except UnknownStageError:
        raise RowProblem(
            f"pipeline {pipeline.name!r} has no such stage", cols["stage"], stage_text
        ) from None
    at_text = values.get("at", "")
    if not at_text:
        raise RowProblem("the timestamp is empty", cols["at"], "")
    at = parse_time(at_text, cols["at"] or "at", fmt=fmt, zone=zone)
    money = None
    amount = values.get("value", "")
    if amount:
        cur = values.get("currency", "") or currency
        if not cur:
            raise RowProblem(
                "a value needs a currency: add a currency column or pass currency='USD'",
                cols["value"],
                amount,
            )
        # A deal's rows repeat its value: parse each distinct amount once.
        money = None if money_cache is None else money_cache.get((amount, cur))
        if money is None:
            money = parse_money(amount, cols["value"] or "value", cur)
            if money_cache is not None:
                money_cache[amount, cur] = money
    deal = pending.get(values["deal_id"])
    if deal is None:
        deal = pending[values["deal_id"]] = PendingDeal()
    actor, reason, note = values.get("actor"), values.get("reason"), values.get("note")
    meta = (
        EventMeta(actor or None, reason or None, note or None) if actor or reason or note else None
    )
    deal.events.append(Event(at, line, stage, meta))
    deal.lines.append(line)
    # The latest row (by time, then file order) that has a value decides the deal's value.
    if money is not None and (deal.value is None or (at, line) >= deal.events[deal.value_line][:2]):
        deal.value = money
        deal.value_line = len(deal.events) - 1
    if values.get("owner"):
        deal.owner = values["owner"]
    if values.get("source"):
        deal.source = values["source"]


def build_pending(pipeline: Pipeline, deal_id: str, rows: PendingDeal) -> Deal:
    events = ordered(rows.events)
    info = DealInfo(value=rows.value, owner=rows.owner, source=rows.source)
    try:
        return build_deal(pipeline, deal_id, events, info)
    except Refused as refused:
        raise refused.at(events) from None
