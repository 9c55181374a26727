"""Timing: how long deals spend in each stage, and how long they take to close."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

import attrs

from .._deal import Deal
from .._pipeline import Pipeline
from .._table import EventTable
from .._time import EPOCH, MICROSECOND, stamp
from ._accumulator import DealAccumulator
from ._common import (
    Breakdown,
    By,
    Window,
    breakdown,
    check_window,
    common_pipeline,
    cut,
    deals_of,
    in_window,
)
from ._summary import DurationMethod, DurationSummary
from ._table_dispatch import on_table

__all__ = ["SalesCycleAccumulator", "TimeInStageAccumulator", "sales_cycle", "time_in_stage"]

Per = Literal["spell", "deal"]
CycleStatus = Literal["won", "closed"]
CycleStart = Literal["deal", "lead"]


def _ages(offsets: Mapping[int, int], cutoff: int) -> Counter[int]:
    # An open spell's age is the cut-off plus its stored offset (minus its entry time,
    # plus time already spent in the stage for per="deal").
    return Counter({cutoff + offset: n for offset, n in offsets.items()})


@attrs.define
class TimeInStageAccumulator(DealAccumulator):
    """Time in stage: ended spells and the entry times of open ones, per stage.

    Durations are whole microseconds; open spells are kept as offsets so that
    censoring happens in :meth:`result`, at ``as_of`` or at the latest
    timestamp seen across every merged part.
    """

    pipeline: Pipeline
    per: Per = "spell"
    as_of: datetime | None = None
    between: Window | None = None
    latest: int | None = None
    # Durations (and open-spell offsets) as plain lists: appending is much
    # cheaper than counting in the pass; result() counts them once.
    ended: dict[str, list[int]] = attrs.field(factory=dict)
    open: dict[str, list[int]] = attrs.field(factory=dict)

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Record *deal*'s spells (if it existed by the cut-off and was created in the window).

        *stages* at *times* is its history up to the cut-off: :meth:`add` cuts
        it, and the report cuts each deal once for all of its accumulators.
        """
        # stamp() inlined: no function call per event in the hottest loop.
        stamps = [(t - EPOCH) // MICROSECOND for t in times]
        last = len(stages) - 1
        if self.latest is None or stamps[last] > self.latest:
            self.latest = stamps[last]
        if self.between is not None and not in_window(times[0], self.between):
            return
        open_keys = self.pipeline.table.open_keys
        ended = self.ended
        totals: dict[str, int] = {}
        for i in range(last):
            key = stages[i]
            if key in open_keys:
                spent = stamps[i + 1] - stamps[i]
                if self.per == "spell":
                    values = ended.get(key)
                    if values is None:
                        values = ended[key] = []
                    values.append(spent)
                else:
                    totals[key] = totals.get(key, 0) + spent
        key = stages[last]
        if key in open_keys:
            values = self.open.get(key)
            if values is None:
                values = self.open[key] = []
            values.append(totals.pop(key, 0) - stamps[last])
        for key, total in totals.items():
            values = ended.get(key)
            if values is None:
                values = ended[key] = []
            values.append(total)

    def merge(self, other: TimeInStageAccumulator) -> TimeInStageAccumulator:
        """A new accumulator holding both parts."""
        if (self.pipeline, self.per, self.as_of, self.between) != (
            other.pipeline,
            other.per,
            other.as_of,
            other.between,
        ):
            msg = "Cannot merge time-in-stage accumulators with different pipelines or options."
            raise ValueError(msg)
        latest = max((x for x in (self.latest, other.latest) if x is not None), default=None)
        keys = self.ended.keys() | other.ended.keys()
        open_keys = self.open.keys() | other.open.keys()
        return attrs.evolve(
            self,
            latest=latest,
            ended={k: [*self.ended.get(k, ()), *other.ended.get(k, ())] for k in keys},
            open={k: [*self.open.get(k, ()), *other.open.get(k, ())] for k in open_keys},
        )

    def result(self, method: DurationMethod = "km") -> dict[str, DurationSummary]:
        """One summary per open stage, in pipeline order."""
        cutoff = stamp(self.as_of) if self.as_of is not None else self.latest or 0
        return {
            stage.key: DurationSummary.of(
                method,
                Counter(self.ended.get(stage.key, ())),
                _ages(Counter(self.open.get(stage.key, ())), cutoff),
            )
            for stage in self.pipeline.open_stages
        }


def time_in_stage(
    deals: Iterable[Deal] | EventTable,
    *,
    method: DurationMethod = "km",
    per: Per = "spell",
    pipeline: Pipeline | None = None,
    as_of: datetime | None = None,
    between: Window | None = None,
    by: By | None = None,
) -> dict[str, DurationSummary] | Breakdown[dict[str, DurationSummary]]:
    """How long deals stay in each open stage.

    A *spell* is one stay in a stage, from entering it to the next stage
    change. Spells still open at the cut-off are *censored*: with
    ``method="km"`` (the default) they count as "at least this long" in a
    Kaplan-Meier estimate, so neither dropping them (``"completed"``, what most
    CRM reports do; it understates durations) nor treating them as finished
    biases the result. ``"current"`` summarises the age of the open spells only
    (Pipedrive's "deal age in stage"). ``per="deal"`` adds up each deal's
    spells in a stage (HubSpot's "cumulative time in stage"); ``per="spell"``
    counts every stay.

    Units: ``timedelta``, computed in UTC. Stages nobody entered get a summary
    with ``n == 0`` whose values are ``None``.

    Args:
        deals: The deals, all in one pipeline.
        method: ``"km"``, ``"completed"`` or ``"current"``.
        per: ``"spell"`` or ``"deal"``.
        pipeline: The pipeline; default: the deals' own.
        as_of: Cut-off: later events are ignored and open spells censored
            there. Default: the latest stage change in the data (never the clock).
        between: ``(start, end)``: only deals *created* in ``[start, end)``.
        by: Group, as for :func:`win_rate`.

    Returns:
        ``{stage key: DurationSummary}`` in pipeline order.
    """
    if isinstance(deals, EventTable):
        return on_table("time_in_stage", time_in_stage, deals, dict(locals()))
    as_of, between = check_window(as_of, between)
    if method not in ("km", "completed", "current"):
        msg = f"method must be 'km', 'completed' or 'current', got {method!r}."
        raise ValueError(msg)
    if per not in ("spell", "deal"):
        msg = f"per must be 'spell' or 'deal', got {per!r}."
        raise ValueError(msg)
    deals = list(deals_of(deals, "time_in_stage"))
    found = common_pipeline(deals, pipeline)
    if found is None:
        msg = "time_in_stage() of no deals needs pipeline=... to know its stages."
        raise ValueError(msg)
    latest = max(
        (stamp(cut_[1][-1]) for d in deals if (cut_ := cut(d, as_of)) is not None), default=None
    )

    def compute(group: Iterable[Deal]) -> dict[str, DurationSummary]:
        acc = TimeInStageAccumulator(found, per, as_of, between, latest)
        for deal in group:
            acc.add(deal)
        return acc.result(method)

    if by is not None:
        return breakdown("time in stage", deals, by, compute, as_of)
    return compute(deals)


@attrs.define
class SalesCycleAccumulator(DealAccumulator):
    """Sales cycle: durations of closed deals, start times of open ones (microseconds)."""

    status: CycleStatus = "won"
    start: CycleStart = "deal"
    as_of: datetime | None = None
    between: Window | None = None
    cohort: bool = False
    latest: int | None = None
    ended: Counter[int] = attrs.field(factory=Counter)
    open: Counter[int] = attrs.field(factory=Counter)

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Record *deal*: its cycle if it closed (with the right outcome), its start if open.

        *stages* at *times* is its history up to the cut-off: :meth:`add` cuts
        it, and the report cuts each deal once for all of its accumulators.
        """
        end = stamp(times[-1])
        if self.latest is None or end > self.latest:
            self.latest = end
        begin = times[0]
        if self.start == "lead" and deal.lead_created_at is not None:
            begin = deal.lead_created_at
        final = deal.pipeline.table.by_key[stages[-1]]
        if self.cohort:
            # Kaplan-Meier: a cohort by creation; every closed deal is an event.
            if not in_window(times[0], self.between):
                return
            if final.is_open:
                self.open[-stamp(begin)] += 1
            else:
                self.ended[end - stamp(begin)] += 1
            return
        if final.is_open:
            # Not part of a completed-cycle summary, but counted as still open
            # (``censored``) so the summary says how much it leaves out.
            if in_window(times[0], self.between):
                self.open[-stamp(begin)] += 1
            return
        if self.status == "won" and not final.is_won:
            return
        if in_window(times[-1], self.between):
            self.ended[end - stamp(begin)] += 1

    def merge(self, other: SalesCycleAccumulator) -> SalesCycleAccumulator:
        """A new accumulator holding both parts."""
        mine = (self.status, self.start, self.as_of, self.between, self.cohort)
        if mine != (other.status, other.start, other.as_of, other.between, other.cohort):
            msg = "Cannot merge sales-cycle accumulators with different options."
            raise ValueError(msg)
        latest = max((x for x in (self.latest, other.latest) if x is not None), default=None)
        return attrs.evolve(
            self, latest=latest, ended=self.ended + other.ended, open=self.open + other.open
        )

    def result(self) -> DurationSummary:
        """The summary (``"km"`` when built as a cohort, else ``"completed"``)."""
        cutoff = stamp(self.as_of) if self.as_of is not None else self.latest or 0
        return DurationSummary.of(
            "km" if self.cohort else "completed", self.ended, _ages(self.open, cutoff)
        )


def sales_cycle(
    deals: Iterable[Deal] | EventTable,
    *,
    status: CycleStatus = "won",
    method: Literal["completed", "km"] = "completed",
    start: CycleStart = "deal",
    as_of: datetime | None = None,
    between: Window | None = None,
    by: By | None = None,
) -> DurationSummary | Breakdown[DurationSummary]:
    """Sales cycle length: the time from a deal's creation to its close.

    Formula: ``closed_at - created_at`` in UTC, summarised over deals closed by
    the cut-off (``status="won"``, the default as in most CRM reports, or
    ``"closed"`` for won and lost alike). ``start="lead"`` measures from the
    lead's creation for deals converted from a lead (a lead-to-close cycle).

    ``method="km"`` (with ``status="closed"``) takes the deals *created* in the
    window as a cohort and censors those still open at the cut-off, the
    unbiased estimate when many deals are still open. Kaplan-Meier with lost
    deals censored would overstate the win side, so ``status="won"`` with
    ``"km"`` is refused.

    Args:
        deals: The deals.
        status: ``"won"`` or ``"closed"``.
        method: ``"completed"`` or ``"km"``.
        start: ``"deal"`` or ``"lead"``.
        as_of: Cut-off. Default: the latest stage change in the data.
        between: ``(start, end)``: deals *closed* in ``[start, end)``
            (``"completed"``) or *created* in it (``"km"``).
        by: Group, as for :func:`win_rate`.

    Returns:
        A :class:`DurationSummary`; ``n == 0`` and ``None`` values when no deal
        qualifies.
    """
    if isinstance(deals, EventTable):
        return on_table("sales_cycle", sales_cycle, deals, dict(locals()))
    as_of, between = check_window(as_of, between)
    if status not in ("won", "closed"):
        msg = f"status must be 'won' or 'closed', got {status!r}."
        raise ValueError(msg)
    if method not in ("completed", "km"):
        msg = f"method must be 'completed' or 'km', got {method!r}."
        raise ValueError(msg)
    if method == "km" and status != "closed":
        msg = "method='km' needs status='closed': censoring lost deals would overstate the cycle of won ones."
        raise ValueError(msg)
    deals = list(deals_of(deals, "sales_cycle"))
    latest = max((stamp(c[1][-1]) for d in deals if (c := cut(d, as_of)) is not None), default=None)

    def compute(group: Iterable[Deal]) -> DurationSummary:
        acc = SalesCycleAccumulator(status, start, as_of, between, method == "km", latest)
        for deal in group:
            acc.add(deal)
        return acc.result()

    if by is not None:
        return breakdown("sales cycle", deals, by, compute, as_of)
    return compute(deals)
