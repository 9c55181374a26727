"""Conversion: win rate, the funnel, stage-to-stage conversion."""

from __future__ import annotations

import html
import warnings
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, overload

import attrs

from .._deal import Deal
from .._pipeline import Pipeline
from .._stage import Stage
from ..exceptions import CurrencyMismatchError, SalesflowWarning
from ._common import (
    Breakdown,
    By,
    Window,
    breakdown,
    check_as_of,
    check_between,
    common_pipeline,
    cut,
    in_window,
)
from ._rate import IntervalMethod, Rate

__all__ = [
    "Funnel",
    "FunnelAccumulator",
    "FunnelRow",
    "WinRateAccumulator",
    "funnel",
    "stage_conversion",
    "win_rate",
]

Basis = Literal["count", "amount"]
Mode = Literal["reached", "direct"]


# ------------------------------------------------------------------ win rate


@attrs.define
class WinRateAccumulator:
    """Sufficient statistics for the win rate: won and lost counts and amounts.

    ``add`` a deal at a time, ``merge`` partial accumulators (exact and
    associative), then ``result()``.
    """

    basis: Basis = "count"
    as_of: datetime | None = None
    between: Window | None = None
    interval: IntervalMethod | None = "wilson"
    confidence: float = 0.95
    won: int = 0
    lost: int = 0
    won_amount: Decimal = Decimal(0)
    lost_amount: Decimal = Decimal(0)
    currency: str | None = None
    no_value: int = 0

    def add(self, deal: Deal) -> None:
        """Count *deal* if it was closed by the cut-off (and in the window)."""
        seen = cut(deal, self.as_of)
        if seen is not None:
            self.add_seen(deal, *seen)

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Count *deal*, whose history up to the cut-off is *stages* at *times*.

        The report calls this for every accumulator with one cut per deal.
        """
        stage = deal.pipeline.table.by_key[stages[-1]]
        if stage.is_open or not in_window(times[-1], self.between):
            return
        if self.basis == "amount":
            value = deal.value
            if value is None:
                self.no_value += 1
                return
            if self.currency is None:
                self.currency = value.currency
            elif value.currency != self.currency:
                msg = (
                    f"Cannot add {value.currency} and {self.currency} amounts in an amount-based "
                    "win rate; use by='currency'."
                )
                raise CurrencyMismatchError(msg, currencies=(self.currency, value.currency))
            if stage.is_won:
                self.won_amount += value.amount
            else:
                self.lost_amount += value.amount
        if stage.is_won:
            self.won += 1
        else:
            self.lost += 1

    def merge(self, other: WinRateAccumulator) -> WinRateAccumulator:
        """A new accumulator holding both parts."""
        if (self.basis, self.as_of, self.between) != (other.basis, other.as_of, other.between):
            msg = "Cannot merge win-rate accumulators with different options."
            raise ValueError(msg)
        currencies = {c for c in (self.currency, other.currency) if c is not None}
        if len(currencies) > 1:
            msg = f"Cannot merge win rates in {sorted(currencies)}."
            raise CurrencyMismatchError(msg, currencies=sorted(currencies))
        return attrs.evolve(
            self,
            won=self.won + other.won,
            lost=self.lost + other.lost,
            won_amount=self.won_amount + other.won_amount,
            lost_amount=self.lost_amount + other.lost_amount,
            currency=self.currency or other.currency,
            no_value=self.no_value + other.no_value,
        )

    def result(self) -> Rate:
        """The win rate: won / (won + lost)."""
        if self.basis == "amount":
            if self.no_value:
                msg = f"{self.no_value} closed deal(s) without a value are left out of the amount-based win rate."
                warnings.warn(msg, SalesflowWarning, stacklevel=3)
            total = self.won_amount + self.lost_amount
            return Rate.of(self.won_amount, total, interval=None, confidence=self.confidence)
        return Rate.of(
            self.won, self.won + self.lost, interval=self.interval, confidence=self.confidence
        )


@overload
def win_rate(
    deals: Iterable[Deal],
    *,
    basis: Basis = ...,
    as_of: datetime | None = ...,
    between: Window | None = ...,
    by: None = ...,
    interval: IntervalMethod | None = ...,
    confidence: float = ...,
) -> Rate: ...
@overload
def win_rate(
    deals: Iterable[Deal],
    *,
    basis: Basis = ...,
    as_of: datetime | None = ...,
    between: Window | None = ...,
    by: By,
    interval: IntervalMethod | None = ...,
    confidence: float = ...,
) -> Breakdown[Rate]: ...
def win_rate(
    deals: Iterable[Deal],
    *,
    basis: Basis = "count",
    as_of: datetime | None = None,
    between: Window | None = None,
    by: By | None = None,
    interval: IntervalMethod | None = "wilson",
    confidence: float = 0.95,
) -> Rate | Breakdown[Rate]:
    """Win rate: the share of closed deals that were won.

    Formula: ``won / (won + lost)`` over the deals closed by the cut-off.
    Open deals are not in the denominator (they have not been decided).

    Variants:
        * ``basis="count"`` (default; Salesforce and HubSpot reports, Pipedrive
          ``won_conversion``): deals counted, with a Wilson (or Jeffreys)
          interval.
        * ``basis="amount"``: won value / closed value, as Fivetran's
          ``dbt_salesforce`` does; no interval. Deals without a value are left
          out with a ``SalesflowWarning``; mixed currencies raise
          ``CurrencyMismatchError`` unless ``by="currency"``.

    Args:
        deals: The deals.
        basis: ``"count"`` or ``"amount"``.
        as_of: Cut-off; later events are ignored. Default: all events.
        between: ``(start, end)``: only deals *closed* in ``[start, end)``.
        by: Group by ``"owner"``, ``"source"``, ``"currency"``, an attribute
            name or a function; returns a :class:`Breakdown`.
        interval: ``"wilson"`` (default), ``"jeffreys"`` or ``None``.
        confidence: The interval's level.

    Returns:
        A :class:`Rate`; its ``value`` is ``None`` when no deal is closed.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import salesflow as sf
        >>> p = sf.Pipeline.linear("Sales", ["Lead", "Demo"])
        >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> deals = [p.open_deal("a", at=t).win(at=t), p.open_deal("b", at=t).lose(at=t),
        ...          p.open_deal("c", at=t)]
        >>> sf.metrics.win_rate(deals)
        Rate(1/2, value=0.5, interval=(0.0945312, 0.905469))
    """
    as_of = check_as_of(as_of)
    between = check_between(between)
    if basis not in ("count", "amount"):
        msg = f"basis must be 'count' or 'amount', got {basis!r}."
        raise ValueError(msg)

    def compute(group: Iterable[Deal]) -> Rate:
        acc = WinRateAccumulator(basis, as_of, between, interval, confidence)
        for deal in group:
            acc.add(deal)
        return acc.result()

    if by is not None:
        return breakdown("win rate", deals, by, compute, as_of)
    return compute(deals)


# -------------------------------------------------------------------- funnel


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
        esc = html.escape
        cells = "".join(
            f"<tr><td>{esc(r.stage.name)}</td><td>{r.entered}</td><td>{r.advanced}</td><td>{r.lost}</td>"
            f"<td>{r.still_open}</td><td>{esc('' if r.conversion is None else r.conversion.format())}</td>"
            f"<td>{esc(r.cumulative.format())}</td></tr>"
            for r in self.rows
        )
        return (
            f"<table><caption>Funnel: {esc(self.pipeline.name)} ({self.total} deals, {self.mode})</caption>"
            "<tr><th>stage</th><th>entered</th><th>advanced</th><th>lost</th><th>still open</th>"
            f"<th>step conversion</th><th>cumulative</th></tr>{cells}</table>"
        )

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per step: counts, conversions and their intervals."""
        from .._frames import funnel_frame

        return funnel_frame(self)


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
class FunnelAccumulator:
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

    def add(self, deal: Deal) -> None:
        """Count *deal* (if it existed by the cut-off and was created in the window)."""
        seen = cut(deal, self.as_of)
        if seen is not None:
            self.add_seen(deal, *seen)

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Count *deal*, whose history up to the cut-off is *stages* at *times*.

        The report calls this for every accumulator with one cut per deal.
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
    deals: Iterable[Deal],
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
    as_of = check_as_of(as_of)
    between = check_between(between)
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


def stage_conversion(
    deals: Iterable[Deal],
    from_stage: str | Stage,
    to_stage: str | Stage,
    *,
    as_of: datetime | None = None,
    between: Window | None = None,
    interval: IntervalMethod | None = "wilson",
    confidence: float = 0.95,
) -> Rate:
    """Share of the deals that entered *from_stage* and later reached *to_stage*.

    Formula: deals that entered ``from_stage`` and entered ``to_stage`` after
    their first entry of ``from_stage`` / deals that entered ``from_stage``.
    Each deal counts once. Reaching a stage beyond ``to_stage`` without passing
    through it does not count (use :func:`funnel` for "reached or later").

    Raises:
        ValueError: The deals are in different pipelines.
        UnknownStageError: A stage is not in the pipeline.
    """
    as_of = check_as_of(as_of)
    between = check_between(between)
    deals = list(deals)
    pipeline = common_pipeline(deals, None)
    if pipeline is None:
        return Rate.of(0, 0, interval=interval, confidence=confidence)
    src = pipeline.stage(from_stage).key
    dst = pipeline.stage(to_stage).key
    entered = reached = 0
    for deal in deals:
        seen = cut(deal, as_of)
        if seen is None or not in_window(seen[1][0], between):
            continue
        stages = seen[0]
        if src in stages:
            entered += 1
            if dst in stages[stages.index(src) + 1 :]:
                reached += 1
    return Rate.of(reached, entered, interval=interval, confidence=confidence)
