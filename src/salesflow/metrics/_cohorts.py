"""Pipeline created per period, and how each creation cohort converts with age."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._checks import aware
from .._deal import Deal, value_as_of
from .._frames import build, decimal_series, float_series, int_series, text_series
from .._money import Money
from .._optional import pandas
from .._stage import Stage
from ..exceptions import CurrencyMismatchError
from ._common import Breakdown, By, Window, breakdown, check_between, deals_of, in_window
from ._incidence import cumulative_incidence

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CohortTable", "Created", "cohort_conversion", "period_of", "pipeline_created"]

Every = Literal["week", "month", "quarter"]


def period_of(at: datetime, every: str, zone: tzinfo = UTC) -> str:
    """The calendar period of *at* in *zone*: ``"2026-W10"`` (ISO week), ``"2026-03"``, ``"2026Q1"``.

    Raises:
        ValueError: *every* is not ``"week"``, ``"month"`` or ``"quarter"``.
    """
    local = at.astimezone(zone)
    if every == "month":
        return f"{local.year:04d}-{local.month:02d}"
    if every == "quarter":
        return f"{local.year:04d}Q{(local.month - 1) // 3 + 1}"
    if every == "week":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    msg = f"every must be 'week', 'month' or 'quarter', got {every!r}."
    raise ValueError(msg)


# ------------------------------------------------------------ pipeline created


@attrs.frozen(repr=False)
class Created:
    """Deals created per calendar period: count and value.

    Attributes:
        every: ``"week"``, ``"month"`` or ``"quarter"``.
        counts: Period -> deals created, periods in order (only periods with deals).
        amounts: Period -> their value at creation (``None`` when none has a value).
        no_value: Deals created without a value (counted, not summed).
    """

    every: str
    counts: Mapping[str, int]
    amounts: Mapping[str, Money | None]
    no_value: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "every": self.every,
            "counts": dict(self.counts),
            "amounts": {k: None if v is None else v.to_dict() for k, v in self.amounts.items()},
            "no_value": self.no_value,
        }

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}: {v}" for k, v in self.counts.items())
        return f"Created(per {self.every}: {rows})"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td>{n}</td>"
            f"<td>{'' if self.amounts[k] is None else esc(str(self.amounts[k]))}</td></tr>"
            for k, n in self.counts.items()
        )
        return (
            f"<table><caption>pipeline created per {esc(self.every)}</caption>"
            f"<tr><th>{esc(self.every)}</th><th>deals</th><th>value</th></tr>{rows}</table>"
        )

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per period: period, count, amount, currency."""
        pd = pandas("Created.to_frame()")
        keys = list(self.counts)
        amounts = [self.amounts[k] for k in keys]
        return build(
            pd,
            {
                "period": text_series(pd, keys),
                "count": int_series(pd, [self.counts[k] for k in keys]),
                "amount": decimal_series(
                    pd, [None if a is None else a.amount for a in amounts], "float"
                ),
                "currency": text_series(pd, [None if a is None else a.currency for a in amounts]),
            },
        )


def _created(deals: Iterable[Deal], every: str, zone: tzinfo, between: Window | None) -> Created:
    counts: dict[str, int] = {}
    sums: dict[str, Decimal] = {}
    currency: str | None = None
    no_value = 0
    for deal in deals:
        at = deal.created_at
        if not in_window(at, between):
            continue
        key = period_of(at, every, zone)
        counts[key] = counts.get(key, 0) + 1
        value = value_as_of(deal, at)
        if value is None:
            no_value += 1
            continue
        if currency is None:
            currency = value.currency
        elif value.currency != currency:
            msg = f"Cannot add {value.currency} and {currency} created values; use by='currency'."
            raise CurrencyMismatchError(msg, currencies=(currency, value.currency))
        sums[key] = sums.get(key, Decimal(0)) + value.amount
    order = sorted(counts)
    return Created(
        every,
        {k: counts[k] for k in order},
        {k: None if k not in sums or currency is None else Money(sums[k], currency) for k in order},
        no_value,
    )


def pipeline_created(
    deals: Iterable[Deal],
    *,
    every: Every = "month",
    by: By | None = None,
    between: Window | None = None,
    zone: tzinfo = UTC,
) -> Created | Breakdown[Created]:
    """How many deals were created per calendar period, and their value at creation.

    ``count(p)`` = deals whose creation falls in period *p*; ``amount(p)`` =
    the sum of their values as they were when created (later changes do not
    rewrite history). Periods are ISO weeks, months or quarters in *zone*.
    The "pipeline generation" report of Salesforce and HubSpot dashboards.

    Args:
        deals: The deals.
        every: ``"week"``, ``"month"`` or ``"quarter"``.
        by: Split by a field (``"source"``, ``"owner"`` …); one result per group.
        between: Count only deals created in ``[start, end)``.
        zone: The time zone of the calendar.

    Raises:
        ValueError: An unknown *every*.
        CurrencyMismatchError: Values in several currencies (use ``by="currency"``).
    """
    period_of(datetime(2026, 1, 1, tzinfo=UTC), every)  # check *every* once
    between = check_between(between)
    deals = deals_of(deals, "pipeline_created")
    if by is None:
        return _created(deals, every, zone, between)
    return breakdown("pipeline created", deals, by, lambda g: _created(g, every, zone, between))


# ------------------------------------------------------------ cohort conversion


@attrs.frozen(repr=False)
class CohortTable:
    """Conversion by creation cohort (rows) and age (columns).

    Attributes:
        every: The cohort period.
        ages: The ages, in days.
        target: ``"won"`` or the key of the stage to reach.
        sizes: Cohort -> deals in it.
        shares: Cohort -> per age, the estimated share converted by that age
            (``None`` past the cohort's last follow-up while some deal is open).
        at_risk: Cohort -> per age, the deals still open and followed at that age.
    """

    every: str
    ages: tuple[int, ...]
    target: str
    sizes: Mapping[str, int]
    shares: Mapping[str, tuple[float | None, ...]]
    at_risk: Mapping[str, tuple[int, ...]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "every": self.every,
            "ages": list(self.ages),
            "target": self.target,
            "cohorts": {
                k: {
                    "n": self.sizes[k],
                    "shares": list(self.shares[k]),
                    "at_risk": list(self.at_risk[k]),
                }
                for k in self.sizes
            },
        }

    def __repr__(self) -> str:
        return f"CohortTable({self.target} by {self.every} cohort, {len(self.sizes)} cohorts, ages {list(self.ages)})"

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{a} d</th>" for a in self.ages)
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td>{self.sizes[k]}</td>"
            + "".join(
                f"<td>{'n/a' if s is None else f'{s:.1%}'} ({r})</td>"
                for s, r in zip(self.shares[k], self.at_risk[k], strict=True)
            )
            + "</tr>"
            for k in self.sizes
        )
        return (
            f"<table><caption>{esc(self.target)} by age, per {esc(self.every)} cohort "
            f"(share, at risk)</caption><tr><th>cohort</th><th>n</th>{head}</tr>{rows}</table>"
        )

    def to_frame(self) -> pd.DataFrame:
        """A long pandas DataFrame: cohort, n, age_days, share, at_risk."""
        pd = pandas("CohortTable.to_frame()")
        cells = [(k, i) for k in self.sizes for i in range(len(self.ages))]
        return build(
            pd,
            {
                "cohort": text_series(pd, [k for k, _ in cells]),
                "n": int_series(pd, [self.sizes[k] for k, _ in cells]),
                "age_days": int_series(pd, [self.ages[i] for _, i in cells]),
                "share": float_series(pd, [self.shares[k][i] for k, i in cells]),
                "at_risk": int_series(pd, [self.at_risk[k][i] for k, i in cells]),
            },
        )


def _outcome(
    deal: Deal, target: Stage | None, cutoff: datetime
) -> tuple[timedelta, str | None] | None:
    """(follow-up, cause) of *deal* at *cutoff*; ``None`` if not created yet.

    The cause is ``"hit"`` when it reached the target, ``"lost"`` when it was
    lost without reaching it, ``None`` (censored) while open.
    """
    seen = deal.as_of(cutoff)
    if seen is None:
        return None
    table = seen.pipeline.table
    created = seen.created_at.astimezone(UTC)
    goal = None if target is None else table.rank[target.key]
    for key, at in zip(seen.stage_keys, seen.stage_times, strict=True):
        stage = table.by_key[key]
        reached = (
            stage.is_won if goal is None else (table.rank[key] or -1) >= goal and not stage.is_lost
        )
        if reached:
            return at.astimezone(UTC) - created, "hit"
    if seen.is_lost:
        return seen.entered_at.astimezone(UTC) - created, "lost"
    return cutoff.astimezone(UTC) - created, None


def cohort_conversion(
    deals: Iterable[Deal],
    *,
    every: Every = "month",
    ages: Sequence[int] = (30, 60, 90, 180),
    stage: Stage | str | None = None,
    as_of: datetime | None = None,
    zone: tzinfo = UTC,
) -> CohortTable:
    """The share of each creation cohort won (or reaching *stage*) within each age, censoring-aware.

    Cohorts are the calendar periods of creation (in *zone*). Within a
    cohort, each deal is followed from its creation to the cut-off: it
    *converts* when it first wins (or enters *stage* or a later open or won
    stage), is *lost* when it closes lost before that (a competing outcome:
    it never converts), and is *censored* at the cut-off while still open —
    a deal younger than an age is not counted as a failure at that age. The
    cell is the Aalen–Johansen cumulative incidence of converting by that age,
    ``F(a) = Σ_{t_i ≤ a} S(t_i−) · d_i / n_i`` (Kaplan–Meier's ``1 − S`` when
    nothing is lost), with ``n_i`` the deals still open and followed at
    ``t_i``. A cell is ``None`` when no deal of the cohort is still followed
    at that age and one was censored before it (the estimate stops at the
    last follow-up); when every deal has closed, every age is known.
    ``at_risk`` gives the deals still open and followed at each age. The cohort conversion grids of Clari and
    InsightSquared, with open deals censored instead of counted as failures.

    Args:
        deals: The deals.
        every: ``"week"``, ``"month"`` or ``"quarter"``.
        ages: The ages (days since creation) of the columns.
        stage: The stage to reach; default winning.
        as_of: The cut-off; default the latest stage change in *deals*.
        zone: The time zone of the calendar.

    Raises:
        ValueError: An unknown *every*, or an age that is not a positive whole number.
    """
    period_of(datetime(2026, 1, 1, tzinfo=UTC), every)
    days = tuple(ages)
    for age in days:
        if isinstance(age, bool) or not isinstance(age, int) or age <= 0:
            msg = f"ages must be positive whole numbers of days, got {age!r}."
            raise ValueError(msg)
    deals = list(deals_of(deals, "cohort_conversion"))
    target: Stage | None = None
    if stage is not None and deals:
        target = deals[0].pipeline.stage(stage)
    if as_of is None:
        cutoff = max((d.stage_times[-1].astimezone(UTC) for d in deals), default=None)
    else:
        cutoff = aware("as_of", as_of)
    cohorts: dict[str, list[tuple[timedelta, str | None]]] = {}
    if cutoff is not None:
        for deal in deals:
            outcome = _outcome(deal, target, cutoff)
            if outcome is not None:
                cohorts.setdefault(period_of(deal.created_at, every, zone), []).append(outcome)
    sizes: dict[str, int] = {}
    shares: dict[str, tuple[float | None, ...]] = {}
    at_risk: dict[str, tuple[int, ...]] = {}
    for key in sorted(cohorts):
        rows = cohorts[key]
        ci = cumulative_incidence([r[0] for r in rows], [r[1] for r in rows])
        cells: list[float | None] = []
        risk: list[int] = []
        for age in days:
            span = timedelta(days=age)
            followed = sum(1 for r in rows if r[0] >= span)
            if not followed and any(r[1] is None and r[0] < span for r in rows):
                cells.append(None)  # past the last follow-up, and not every deal has closed
            else:
                share = ci.incidence("hit", span) if "hit" in ci.causes else 0.0
                cells.append(0.0 if share is None else share)
            risk.append(followed)
        sizes[key] = len(rows)
        shares[key] = tuple(cells)
        at_risk[key] = tuple(risk)
    return CohortTable(every, days, "won" if target is None else target.key, sizes, shares, at_risk)
