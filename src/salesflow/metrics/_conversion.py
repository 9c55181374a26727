"""Conversion: the win rate and stage-to-stage conversion (the funnel is in ``_funnel.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Literal, overload

import attrs

from .._deal import Deal, value_as_of
from .._stage import Stage
from .._table import EventTable
from .._warn import warn
from ..exceptions import CurrencyMismatchError
from ._accumulator import DealAccumulator
from ._bootstrap import bootstrap_ratio
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
from ._rate import IntervalMethod, Rate
from ._table_dispatch import on_table

__all__ = ["WinRateAccumulator", "stage_conversion", "win_rate"]

Basis = Literal["count", "amount"]

#: The amount-based win rate's bootstrap: fixed, so the same deals give the same interval.
BOOTSTRAP_SEED = 0
BOOTSTRAP_REPLICATES = 1000


# ------------------------------------------------------------------ win rate


@attrs.define
class WinRateAccumulator(DealAccumulator):
    """Sufficient statistics for the win rate: won and lost counts and amounts.

    ``add`` a deal at a time, ``merge`` partial accumulators (exact and
    associative), then ``result()``. With ``basis="amount"`` it also keeps
    each closed deal's ``(won value, value)`` pair, which the bootstrap
    interval resamples; the count basis keeps only counts.
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
    pairs: list[tuple[Decimal, Decimal]] = attrs.field(factory=list)

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Count *deal* if it was closed by the cut-off (and in the window).

        *stages* at *times* is its history up to the cut-off: :meth:`add` cuts
        it, and the report cuts each deal once for all of its accumulators.
        """
        stage = deal.pipeline.table.by_key[stages[-1]]
        if stage.is_open or not in_window(times[-1], self.between):
            return
        if self.basis == "amount":
            value = value_as_of(deal, self.as_of)
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
            self.pairs.append((value.amount if stage.is_won else Decimal(0), value.amount))
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
            pairs=[*self.pairs, *other.pairs],
        )

    def result(self) -> Rate:
        """The win rate: won / (won + lost)."""
        if self.basis == "amount":
            if self.no_value:
                msg = f"{self.no_value} closed deal(s) without a value are left out of the amount-based win rate."
                warn(msg)
            total = self.won_amount + self.lost_amount
            rate = Rate.of(self.won_amount, total, interval=None, confidence=self.confidence)
            if self.interval is None:
                return rate
            # Sorted, so the interval depends on the deals and not on the order
            # they were added or merged in (the resampling draws by position).
            pairs = sorted(self.pairs)
            bounds = bootstrap_ratio(
                [won for won, _ in pairs],
                [value for _, value in pairs],
                confidence=self.confidence,
                n_boot=BOOTSTRAP_REPLICATES,
                seed=BOOTSTRAP_SEED,
            )
            if bounds is None:
                return rate
            return attrs.evolve(rate, interval=bounds, method="percentile-bootstrap")
        return Rate.of(
            self.won, self.won + self.lost, interval=self.interval, confidence=self.confidence
        )


@overload
def win_rate(
    deals: Iterable[Deal] | EventTable,
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
    deals: Iterable[Deal] | EventTable,
    *,
    basis: Basis = ...,
    as_of: datetime | None = ...,
    between: Window | None = ...,
    by: By,
    interval: IntervalMethod | None = ...,
    confidence: float = ...,
) -> Breakdown[Rate]: ...
def win_rate(
    deals: Iterable[Deal] | EventTable,
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
          ``dbt_salesforce`` does, with a percentile-bootstrap interval over
          the closed deals (1,000 resamples, seed 0, so it is reproducible;
          ``method="percentile-bootstrap"``); any *interval* but ``None``
          asks for it. Deals without a value are left out with a
          ``SalesflowWarning``; mixed currencies raise
          ``CurrencyMismatchError`` unless ``by="currency"``.

    Args:
        deals: The deals.
        basis: ``"count"`` or ``"amount"``.
        as_of: Cut-off; later events are ignored. Default: all events.
        between: ``(start, end)``: only deals *closed* in ``[start, end)``.
        by: Group by ``"owner"``, ``"source"``, ``"currency"``, an attribute
            name or a function; returns a :class:`Breakdown`.
        interval: ``"wilson"`` (default), ``"jeffreys"`` or ``None``; by
            amount, the bootstrap unless ``None``.
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
    if isinstance(deals, EventTable):
        return on_table("win_rate", win_rate, deals, dict(locals()))
    as_of, between = check_window(as_of, between)
    deals = deals_of(deals, "win_rate")
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
    as_of, between = check_window(as_of, between)
    deals = list(deals_of(deals, "stage_conversion"))
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
