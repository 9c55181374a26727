"""The funnel: per stage, how many deals entered, converted, were lost, are still open."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._deal import Deal
from .._frames import build, result_floats, result_ints, result_texts
from .._optional import pandas
from .._pipeline import Pipeline
from .._stage import Stage
from .._table import EventTable
from ._accumulator import DealAccumulator
from ._common import (
    Breakdown,
    By,
    Window,
    breakdown,
    check_window,
    common_pipeline,
    deals_of,
    in_window,
)
from ._rate import IntervalMethod, Rate, bounds
from ._table_dispatch import on_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Funnel", "FunnelAccumulator", "FunnelRow", "funnel"]

Mode = Literal["reached", "direct"]


@attrs.frozen
class FunnelRow:
    """One stage of a funnel.

    Attributes:
        stage: The stage.
        entered: Deals that entered the stage (once per deal).
        advanced: Of those, deals that converted from it (see :func:`funnel`).
        lost: Deals that entered it, did not convert and are now lost.
        still_open: Deals that entered it, did not convert and are still open.
        conversion: ``advanced / entered`` (``None`` for won stages), or
            ``advanced / (entered - still_open)`` with ``exclude_open=True``.
        cumulative: Share of all deals in the funnel that reached this stage
            or a later open or won stage.
    """

    stage: Stage
    entered: int
    advanced: int
    lost: int
    still_open: int
    conversion: Rate | None
    cumulative: Rate

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "stage": self.stage.key,
            "entered": self.entered,
            "advanced": self.advanced,
            "lost": self.lost,
            "still_open": self.still_open,
            "conversion": None if self.conversion is None else self.conversion.to_dict(),
            "cumulative": self.cumulative.to_dict(),
        }


@attrs.frozen(repr=False)
class Funnel:
    """A funnel: one :class:`FunnelRow` per open stage and per won stage, in order."""

    pipeline: Pipeline
    rows: tuple[FunnelRow, ...]
    total: int
    mode: Mode
    exclude_open: bool

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, stage: str | Stage) -> FunnelRow:
        key = self.pipeline.stage(stage).key
        for row in self.rows:
            if row.stage.key == key:
                return row
        msg = f"The funnel has no row for {key!r} (lost stages are not funnel steps)."
        raise KeyError(msg)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "pipeline": self.pipeline.name,
            "mode": self.mode,
            "exclude_open": self.exclude_open,
            "total": self.total,
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_text(self) -> str:
        """A plain-text table for terminals."""
        head = f"{'stage':<24}{'entered':>8}{'advanced':>9}{'lost':>7}{'open':>7}  {'step conversion':<39}{'cumulative'}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            step = "" if r.conversion is None else r.conversion.format()
            lines.append(
                f"{r.stage.name[:23]:<24}{r.entered:>8}{r.advanced:>9}{r.lost:>7}{r.still_open:>7}  "
                f"{step:<39}{r.cumulative.format()}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Funnel {self.pipeline.name!r}: {self.total} deals, {len(self.rows)} steps, mode={self.mode!r}>"

    def _repr_html_(self) -> str:
        from ._show import funnel_sheet

        return funnel_sheet(self).html()

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per step: counts, conversions and their intervals.

        Counts are ``Int64``, rates ``Float64``; a won step's conversion is ``pd.NA``.
        """
        pd = pandas("Funnel.to_frame()")
        rows = self.rows
        step = [bounds(r.conversion) for r in rows]
        cumulative = [bounds(r.cumulative) for r in rows]
        return build(
            pd,
            {
                "stage": result_texts(pd, [r.stage.key for r in rows]),
                "stage_name": result_texts(pd, [r.stage.name for r in rows]),
                "outcome": result_texts(pd, [r.stage.outcome.value for r in rows]),
                "entered": result_ints(pd, [r.entered for r in rows]),
                "advanced": result_ints(pd, [r.advanced for r in rows]),
                "lost": result_ints(pd, [r.lost for r in rows]),
                "still_open": result_ints(pd, [r.still_open for r in rows]),
                "conversion": result_floats(pd, [s[0] for s in step]),
                "conversion_ci_low": result_floats(pd, [s[1] for s in step]),
                "conversion_ci_high": result_floats(pd, [s[2] for s in step]),
                "reached": result_ints(pd, [int(r.cumulative.numerator) for r in rows]),
                "total": result_ints(pd, [self.total] * len(rows)),
                "cumulative": result_floats(pd, [c[0] for c in cumulative]),
                "cumulative_ci_low": result_floats(pd, [c[1] for c in cumulative]),
                "cumulative_ci_high": result_floats(pd, [c[2] for c in cumulative]),
            },
        )


def _path_counts(
    pipeline: Pipeline, mode: Mode, stages: tuple[str, ...]
) -> dict[str, tuple[int, ...]]:
    """One deal's contribution: stage key -> (entered, advanced, lost, still open, reached)."""
    rank = pipeline.table.rank
    by_key = pipeline.table.by_key
    final = by_key[stages[-1]]
    n = len(stages)
    # best[i]: the highest progress rank reached after event i (lost stages are -1).
    best = [-1] * (n + 1)
    for i in range(n - 1, -1, -1):
        r = rank[stages[i]]
        best[i] = max(best[i + 1], -1 if r is None else r)
    first: dict[str, int] = {}
    for i, key in enumerate(stages):
        first.setdefault(key, i)
    out: dict[str, tuple[int, ...]] = {}
    for key, i in first.items():
        r = rank[key]
        if r is None:
            continue
        advanced = lost = still_open = 0
        if not by_key[key].is_won:
            if mode == "reached":
                converted = best[i + 1] > r
            else:
                # From the last open stage, any won stage is the next step.
                nxt = pipeline.table.next[key]
                to_won = by_key[nxt].is_won
                converted = any(
                    stages[j] == key
                    and (stages[j + 1] == nxt or (to_won and by_key[stages[j + 1]].is_won))
                    for j in range(i, n - 1)
                )
            advanced = int(converted)
            lost = int(not converted and final.is_lost)
            still_open = int(not converted and final.is_open)
        out[key] = (1, advanced, lost, still_open, 0)
    # Cumulative: reached this stage or a later open or won one; won stages share
    # one rank, so a won row counts only the deals that entered it.
    for stage in pipeline.stages:
        r = rank[stage.key]
        hit = stage.key in first if stage.is_won else r is not None and best[0] >= r
        if hit:
            row = out.get(stage.key, (0, 0, 0, 0, 0))
            out[stage.key] = (*row[:4], 1)
    return out


@attrs.define
class FunnelAccumulator(DealAccumulator):
    """Sufficient statistics for a funnel: how many deals took each distinct path.

    Deals that went through the same stages in the same order contribute the
    same counts, so the accumulator keeps a count per path (exact, and cheap
    to merge) and works out the funnel's rows once per distinct path in
    :meth:`result`.
    """

    pipeline: Pipeline
    mode: Mode = "reached"
    as_of: datetime | None = None
    between: Window | None = None
    paths: Counter[tuple[str, ...]] = attrs.field(factory=Counter)

    @property
    def total(self) -> int:
        """Deals counted."""
        return sum(self.paths.values())

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Count *deal* (if it existed by the cut-off and was created in the window).

        *stages* at *times* is its history up to the cut-off: :meth:`add` cuts
        it, and the report cuts each deal once for all of its accumulators.
        """
        if not in_window(times[0], self.between):
            return
        self.paths[stages] += 1

    def merge(self, other: FunnelAccumulator) -> FunnelAccumulator:
        """A new accumulator holding both parts."""
        if (self.pipeline, self.mode, self.as_of, self.between) != (
            other.pipeline,
            other.mode,
            other.as_of,
            other.between,
        ):
            msg = "Cannot merge funnel accumulators with different pipelines or options."
            raise ValueError(msg)
        return attrs.evolve(self, paths=self.paths + other.paths)

    def counts(self) -> dict[str, list[int]]:
        """Stage key -> [entered, advanced, lost, still open, reached]."""
        totals: dict[str, list[int]] = {s.key: [0, 0, 0, 0, 0] for s in self.pipeline.stages}
        for path, n in self.paths.items():
            for key, row in _path_counts(self.pipeline, self.mode, path).items():
                cell = totals[key]
                for j, x in enumerate(row):
                    cell[j] += x * n
        return totals

    def result(
        self,
        *,
        exclude_open: bool = False,
        interval: IntervalMethod | None = "wilson",
        confidence: float = 0.95,
    ) -> Funnel:
        """The funnel table."""
        rows = []
        counts = self.counts()
        total = self.total
        for stage in self.pipeline.stages:
            if stage.is_lost:
                continue
            entered, advanced, lost, still_open, reached = counts[stage.key]
            if stage.is_won:
                conversion = None
            else:
                trials = entered - still_open if exclude_open else entered
                conversion = Rate.of(advanced, trials, interval=interval, confidence=confidence)
            cumulative = Rate.of(reached, total, interval=interval, confidence=confidence)
            rows.append(
                FunnelRow(stage, entered, advanced, lost, still_open, conversion, cumulative)
            )
        return Funnel(self.pipeline, tuple(rows), total, self.mode, exclude_open)


def _funnel_accumulate(
    deals: Iterable[Deal],
    pipeline: Pipeline | None,
    mode: Mode,
    as_of: datetime | None,
    between: Window | None,
) -> FunnelAccumulator | None:
    deals = list(deals)
    found = common_pipeline(deals, pipeline)
    if found is None:
        return None
    acc = FunnelAccumulator(found, mode, as_of, between)
    for deal in deals:
        acc.add(deal)
    return acc


def funnel(
    deals: Iterable[Deal] | EventTable,
    *,
    pipeline: Pipeline | None = None,
    mode: Mode = "reached",
    as_of: datetime | None = None,
    between: Window | None = None,
    exclude_open: bool = False,
    by: By | None = None,
    interval: IntervalMethod | None = "wilson",
    confidence: float = 0.95,
) -> Funnel | Breakdown[Funnel]:
    """The funnel: per stage, how many deals entered, converted, were lost, are still open.

    Definitions (``mode="reached"``, the default): a deal has *converted from
    stage k* when, after first entering k, it reached an open or won stage that
    comes after k (skips count as progress; a lost stage never does). A deal
    that re-enters a stage counts once, so no rate exceeds 1. A deal opened
    directly in stage k has entered k, not the stages before it.
    ``mode="direct"`` counts only moves straight to the next stage (from the
    last open stage: to a won stage), like PostHog's "strict order" funnels
    (Amplitude's "exact order").

    * ``conversion`` = advanced / entered (the CRM convention; HubSpot and
      Pipedrive count every deal that entered), or advanced / (entered -
      still open) with ``exclude_open=True``, the rate among resolved deals.
      Both counts are always in the row.
    * ``cumulative`` = deals that reached k or a later open or won stage /
      all deals in the funnel: monotone, never above 1.
    * entered = advanced + lost + still_open for every open stage in
      ``"reached"`` mode. In ``"direct"`` mode a deal that progressed by
      another route (a skip, or a win straight from an earlier stage) is in
      none of the three, so the three may add up to less than entered.

    Args:
        deals: The deals, all in one pipeline.
        pipeline: The pipeline; default: the deals' own.
        mode: ``"reached"`` or ``"direct"``.
        as_of: Cut-off; later events are ignored. Default: all events.
        between: ``(start, end)``: only deals *created* in ``[start, end)``.
        exclude_open: Leave deals still open out of the conversion denominator.
        by: Group, as for :func:`win_rate`.
        interval: ``"wilson"``, ``"jeffreys"`` or ``None``.
        confidence: The interval's level.

    Raises:
        ValueError: The deals are in different pipelines, or no pipeline can
            be known (no deals and no ``pipeline=``).
    """
    if isinstance(deals, EventTable):
        return on_table("funnel", funnel, deals, dict(locals()))
    as_of, between = check_window(as_of, between)
    deals = deals_of(deals, "funnel")
    if mode not in ("reached", "direct"):
        msg = f"mode must be 'reached' or 'direct', got {mode!r}."
        raise ValueError(msg)

    def compute(group: Iterable[Deal]) -> Funnel:
        acc = _funnel_accumulate(group, pipeline, mode, as_of, between)
        if acc is None:
            msg = "funnel() of no deals needs pipeline=... to know its stages."
            raise ValueError(msg)
        return acc.result(exclude_open=exclude_open, interval=interval, confidence=confidence)

    if by is not None:
        return breakdown("funnel", deals, by, compute, as_of)
    return compute(deals)
