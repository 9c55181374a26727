"""Value: average deal size, open pipeline, weighted pipeline, coverage."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeVar

import attrs

from .._deal import Deal, value_as_of
from .._money import Money
from .._pipeline import Pipeline
from .._table import EventTable
from .._warn import warn
from ..exceptions import CurrencyMismatchError
from ._accumulator import DealAccumulator
from ._common import (
    Breakdown,
    By,
    Window,
    breakdown,
    check_window,
    deals_of,
    in_window,
)
from ._table_dispatch import on_table

__all__ = [
    "ValueAccumulator",
    "average_deal_size",
    "pipeline_coverage",
    "pipeline_value",
    "weighted_pipeline",
]

R = TypeVar("R")
Status = Literal["won", "closed", "open", "lost"]
Probabilities = Literal["stage"] | Mapping[str, float | Decimal]


def _fraction(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        msg = f"{name} must be a number in [0, 1], got {value!r}."
        raise TypeError(msg)
    # str() keeps a float's shortest repr (0.1 -> Decimal('0.1')), not its binary expansion.
    fraction = Decimal(str(value))
    if not fraction.is_finite() or not 0 <= fraction <= 1:
        msg = f"{name} must be a fraction in [0, 1], got {value!r}; divide percentages by 100."
        raise ValueError(msg)
    return fraction


@attrs.define
class ValueAccumulator(DealAccumulator):
    """Sums and counts of deal values by status, in one currency; exactly mergeable.

    ``weights`` (stage key -> probability) makes it also add up the weighted
    value of open deals.
    """

    status: Status = "won"
    as_of: datetime | None = None
    between: Window | None = None
    weights: Mapping[str, Decimal] | None = None
    currency: str | None = None
    count: int = 0
    total: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    no_value: int = 0
    amounts: list[Decimal] = attrs.field(factory=list)

    def add_seen(self, deal: Deal, stages: tuple[str, ...], times: tuple[datetime, ...]) -> None:
        """Count *deal* if it has the status at the cut-off (and is in the window).

        *stages* at *times* is its history up to the cut-off: :meth:`add` cuts
        it, and the report cuts each deal once for all of its accumulators.
        """
        stage = deal.pipeline.table.by_key[stages[-1]]
        status = "open" if stage.is_open else "won" if stage.is_won else "lost"
        wanted = self.status == status or (self.status == "closed" and status != "open")
        # Closed deals are placed by their close, open ones by their creation.
        when = times[0] if status == "open" else times[-1]
        if not wanted or not in_window(when, self.between):
            return
        value = value_as_of(deal, self.as_of)
        if value is None:
            self.no_value += 1
            return
        if self.currency is None:
            self.currency = value.currency
        elif value.currency != self.currency:
            msg = f"Cannot add {value.currency} and {self.currency} deal values; use by='currency'."
            raise CurrencyMismatchError(msg, currencies=(self.currency, value.currency))
        self.count += 1
        self.total += value.amount
        self.amounts.append(value.amount)
        if self.weights is not None:
            self.weighted += value.amount * self.weights[stage.key]

    def merge(self, other: ValueAccumulator) -> ValueAccumulator:
        """A new accumulator holding both parts."""
        if (self.status, self.as_of, self.between, self.weights) != (
            other.status,
            other.as_of,
            other.between,
            other.weights,
        ):
            msg = "Cannot merge value accumulators with different options."
            raise ValueError(msg)
        currencies = sorted({c for c in (self.currency, other.currency) if c is not None})
        if len(currencies) > 1:
            msg = f"Cannot merge deal values in {currencies}."
            raise CurrencyMismatchError(msg, currencies=currencies)
        return attrs.evolve(
            self,
            currency=self.currency or other.currency,
            count=self.count + other.count,
            total=self.total + other.total,
            weighted=self.weighted + other.weighted,
            no_value=self.no_value + other.no_value,
            amounts=[*self.amounts, *other.amounts],
        )

    def _warn(self, what: str) -> None:
        if self.no_value:
            msg = (
                f"{self.no_value} {self.status} deal(s) without a value are left out of the {what}."
            )
            warn(msg)

    def mean(self) -> Money | None:
        """The average value, or ``None`` with no valued deal."""
        self._warn("average deal size")
        if not self.count or self.currency is None:
            return None
        return Money(self.total / self.count, self.currency)

    def median(self) -> Money | None:
        """The median value, or ``None`` with no valued deal."""
        self._warn("median deal size")
        if not self.amounts or self.currency is None:
            return None
        values = sorted(self.amounts)
        mid = len(values) // 2
        middle = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        return Money(middle, self.currency)

    def sum(self, currency: str | None = None, *, weighted: bool = False) -> Money | None:
        """The (weighted) total; zero in *currency* when there is nothing to add."""
        self._warn("weighted pipeline" if weighted else "pipeline value")
        found = self.currency or currency
        if found is None or (not self.count and self.no_value):
            # No currency to speak of, or deals whose values are all unknown:
            # the total is unknown, not zero.
            return None
        if currency is not None and self.currency is not None and currency != self.currency:
            msg = f"The deals are in {self.currency}, not {currency}."
            raise CurrencyMismatchError(msg, currencies=(self.currency, currency))
        return Money(self.weighted if weighted else self.total, found)


def _group(
    deals: Iterable[Deal],
    by: By | None,
    metric: str,
    compute: Callable[[Iterable[Deal]], R],
    as_of: datetime | None,
) -> R | Breakdown[R]:
    if by is not None:
        return breakdown(metric, deals, by, compute, as_of)
    return compute(deals)


def average_deal_size(
    deals: Iterable[Deal] | EventTable,
    *,
    status: Status = "won",
    statistic: Literal["mean", "median"] = "mean",
    as_of: datetime | None = None,
    between: Window | None = None,
    by: By | None = None,
) -> Money | Breakdown[Money | None] | None:
    """Average deal size: the mean (or median) value of the deals with *status*.

    Formula: sum of values / number of deals, over the won deals by default
    (Salesforce's and HubSpot's "average deal size"), or ``"closed"`` (won
    and lost: lost deals often carry a value of 0 in CRM exports), ``"lost"``
    or ``"open"``. The mean is exact (``Decimal``); round it for display with
    ``Money.quantize``.

    Deals without a value are left out with a ``SalesflowWarning``. Mixed
    currencies raise ``CurrencyMismatchError``; use ``by="currency"``.

    Args:
        deals: The deals.
        status: ``"won"``, ``"closed"``, ``"lost"`` or ``"open"`` (at the cut-off).
        statistic: ``"mean"`` or ``"median"``.
        as_of: Cut-off. Default: all events.
        between: ``(start, end)``: closed deals by close date, open deals by
            creation date, in ``[start, end)``.
        by: Group, as for :func:`win_rate`.

    Returns:
        ``Money``, or ``None`` when no deal qualifies (undefined, not zero).
    """
    if isinstance(deals, EventTable):
        return on_table("average_deal_size", average_deal_size, deals, dict(locals()))
    as_of, between = check_window(as_of, between)
    deals = deals_of(deals, "average_deal_size")
    if status not in ("won", "closed", "open", "lost"):
        msg = f"status must be 'won', 'closed', 'lost' or 'open', got {status!r}."
        raise ValueError(msg)
    if statistic not in ("mean", "median"):
        msg = f"statistic must be 'mean' or 'median', got {statistic!r}."
        raise ValueError(msg)

    def compute(group: Iterable[Deal]) -> Money | None:
        acc = ValueAccumulator(status, as_of, between)
        for deal in group:
            acc.add(deal)
        return acc.mean() if statistic == "mean" else acc.median()

    return _group(deals, by, "average deal size", compute, as_of)


def pipeline_value(
    deals: Iterable[Deal] | EventTable,
    *,
    as_of: datetime | None = None,
    between: Window | None = None,
    currency: str | None = None,
    by: By | None = None,
) -> Money | Breakdown[Money | None] | None:
    """Open pipeline: the total value of the deals open at the cut-off.

    A pipeline with no open deal is worth zero, a real value, in the deals'
    currency (or *currency*); ``None`` only when no currency can be known.
    Deals without a value are left out with a ``SalesflowWarning``.
    """
    if isinstance(deals, EventTable):
        return on_table("pipeline_value", pipeline_value, deals, dict(locals()))
    as_of, between = check_window(as_of, between)
    deals = deals_of(deals, "pipeline_value")

    def compute(group: Iterable[Deal]) -> Money | None:
        group = list(group)
        acc = ValueAccumulator("open", as_of, between)
        for deal in group:
            acc.add(deal)
        return acc.sum(currency or _any_currency(group, as_of))

    return _group(deals, by, "pipeline value", compute, as_of)


def _any_currency(deals: Iterable[Deal], as_of: datetime | None = None) -> str | None:
    """The currency of the first deal with a value at *as_of* (its value then, not now)."""
    return next(
        (value.currency for d in deals if (value := value_as_of(d, as_of)) is not None), None
    )


def stage_weights(
    pipelines: Iterable[Pipeline], probabilities: Probabilities
) -> dict[str, Decimal]:
    """Stage key -> win probability (``Decimal``) for every stage of *pipelines*."""
    weights: dict[str, Decimal] = {}
    missing = []
    given = {} if probabilities == "stage" else probabilities
    if not isinstance(given, Mapping):
        msg = f"probabilities must be 'stage' or a mapping of stage key to fraction, got {probabilities!r}."
        raise TypeError(msg)
    pipelines = list(pipelines)
    known = {stage.key for pipeline in pipelines for stage in pipeline.stages}
    unknown = sorted(set(given) - known)
    if known and unknown:
        msg = f"probabilities names stages that are not in the pipeline: {unknown!r}; the stages are {sorted(known)!r}."
        raise ValueError(msg)
    for pipeline in pipelines:
        for stage in pipeline.stages:
            if stage.key in given:
                weights[stage.key] = _fraction(given[stage.key], f"probability of {stage.key!r}")
            elif stage.probability is not None:
                weights[stage.key] = _fraction(stage.probability, f"probability of {stage.key!r}")
            else:
                missing.append(stage.key)
    if missing:
        msg = (
            f"Stages {missing!r} have no win probability; give them one in the pipeline "
            "or pass probabilities={stage key: fraction}."
        )
        raise ValueError(msg)
    return weights


def weighted_pipeline(
    deals: Iterable[Deal],
    *,
    probabilities: Probabilities = "stage",
    as_of: datetime | None = None,
    between: Window | None = None,
    currency: str | None = None,
    by: By | None = None,
) -> Money | Breakdown[Money | None] | None:
    """Weighted pipeline (expected value): the sum of value × win probability of open deals.

    Formula: Σ value(d) × p(stage(d)) over deals open at the cut-off, with the
    stage's default probability (Salesforce's ``ExpectedRevenue``, HubSpot's
    weighted amount) or a mapping ``{stage key: fraction}`` that overrides it
    (for example empirical probabilities from your own history). Never above
    :func:`pipeline_value`.

    Raises:
        ValueError: A stage has no probability and none is given.
    """
    as_of, between = check_window(as_of, between)
    deals = list(deals_of(deals, "weighted_pipeline"))
    weights = stage_weights({id(d.pipeline): d.pipeline for d in deals}.values(), probabilities)

    def compute(group: Iterable[Deal]) -> Money | None:
        group = list(group)
        acc = ValueAccumulator("open", as_of, between, weights)
        for deal in group:
            acc.add(deal)
        return acc.sum(currency or _any_currency(group, as_of), weighted=True)

    return _group(deals, by, "weighted pipeline", compute, as_of)


def pipeline_coverage(
    deals: Iterable[Deal],
    quota: Money,
    *,
    basis: Literal["full", "remaining"] = "full",
    weighted: bool = False,
    probabilities: Probabilities = "stage",
    as_of: datetime | None = None,
    between: Window | None = None,
) -> float | None:
    """Pipeline coverage: open pipeline / quota (e.g. 3.0 means "3x coverage").

    Variants: ``basis="full"`` divides by the whole quota; ``"remaining"`` by
    the quota left after the value already won in ``between`` (or by the
    cut-off), the question "is there enough pipeline to close the gap?".
    ``weighted=True`` uses the weighted pipeline in the numerator.

    Returns:
        A float, or ``None`` when the quota (or the remaining quota) is zero or
        less: coverage of nothing is undefined.

    Raises:
        CurrencyMismatchError: The deals and the quota differ in currency.
    """
    if not isinstance(quota, Money):
        msg = f"quota must be Money, got {quota!r}."
        raise TypeError(msg)
    if basis not in ("full", "remaining"):
        msg = f"basis must be 'full' or 'remaining', got {basis!r}."
        raise ValueError(msg)
    deals = list(deals_of(deals, "pipeline_coverage"))
    if weighted:
        numerator = weighted_pipeline(
            deals, probabilities=probabilities, as_of=as_of, currency=quota.currency
        )
    else:
        numerator = pipeline_value(deals, as_of=as_of, currency=quota.currency)
    target = quota
    if basis == "remaining":
        acc = ValueAccumulator("won", *check_window(as_of, between))
        for deal in deals:
            acc.add(deal)
        won = acc.sum(quota.currency)
        assert won is not None  # the quota's currency is known
        target = quota - won
    if target.amount <= 0 or not isinstance(numerator, Money):
        return None
    return float(numerator.ratio(target))
