"""Close dates that slip, and deals that rot: ``slippage`` and ``stale_deals``."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._checks import aware
from .._deal import Deal, value_as_of
from .._frames import build, decimal_series, float_series, int_series, text_series
from .._money import Money
from .._optional import pandas
from ..exceptions import CurrencyMismatchError
from ._common import Breakdown, By, Window, breakdown, check_between, deals_of, in_window
from ._rate import Rate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DealSlippage", "Slippage", "StaleDeal", "StaleDeals", "slippage", "stale_deals"]


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@attrs.frozen
class DealSlippage:
    """How often one deal's expected close date was pushed, and by how much.

    Attributes:
        deal: The deal.
        pushes: Changes of its expected close date to a later date.
        days_pushed: The days those changes added up to.
    """

    deal: Deal
    pushes: int
    days_pushed: int


@attrs.frozen(repr=False)
class Slippage:
    """Pushed close dates over a set of deals.

    Attributes:
        deals: Per deal with an expected close date, its pushes, in input order.
        ever_pushed: The share of those deals pushed at least once (Wilson interval).
        mean_pushes: Pushes per deal (``None`` when no deal has an expected close date).
        pushed_out_of: Month (``"2026-03"``) -> the value pushed out of it: per push
            from a date in that month to a later month, the deal's value at the push.
    """

    deals: tuple[DealSlippage, ...]
    ever_pushed: Rate
    mean_pushes: float | None
    pushed_out_of: Mapping[str, Money]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "deals": [
                {"deal_id": d.deal.id, "pushes": d.pushes, "days_pushed": d.days_pushed}
                for d in self.deals
            ],
            "ever_pushed": self.ever_pushed.to_dict(),
            "mean_pushes": self.mean_pushes,
            "pushed_out_of": {k: v.to_dict() for k, v in self.pushed_out_of.items()},
        }

    def __repr__(self) -> str:
        mean = "None" if self.mean_pushes is None else f"{self.mean_pushes:.3g}"
        return f"Slippage(ever_pushed={self.ever_pushed.format()}, mean_pushes={mean})"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(d.deal.id)}</td><td>{d.pushes}</td><td>{d.days_pushed}</td></tr>"
            for d in self.deals
            if d.pushes
        )
        return (
            f"<table><caption>slippage: {esc(self.ever_pushed.format())} pushed</caption>"
            f"<tr><th>deal</th><th>pushes</th><th>days pushed</th></tr>{rows}</table>"
        )

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per deal: deal_id, pushes, days_pushed."""
        pd = pandas("Slippage.to_frame()")
        return build(
            pd,
            {
                "deal_id": text_series(pd, [d.deal.id for d in self.deals]),
                "pushes": int_series(pd, [d.pushes for d in self.deals]),
                "days_pushed": int_series(pd, [d.days_pushed for d in self.deals]),
            },
        )


def _slippage(deals: Iterable[Deal], between: Window | None) -> Slippage:
    rows: list[DealSlippage] = []
    out: dict[str, Decimal] = {}
    currency: str | None = None
    for deal in deals:
        pushes = days = 0
        dated = deal.expected_close is not None
        for change in deal.changes:
            if change.field != "expected_close":
                continue
            dated = dated or change.old is not None or change.new is not None
            old, new = change.old, change.new
            if old is None or new is None or new <= old or not in_window(change.at, between):
                continue
            pushes += 1
            days += (new - old).days
            value = value_as_of(deal, change.at)
            if _month(old) != _month(new) and value is not None:
                if currency is None:
                    currency = value.currency
                elif value.currency != currency:
                    msg = f"Cannot add {value.currency} and {currency} pushed values; use by='currency'."
                    raise CurrencyMismatchError(msg, currencies=(currency, value.currency))
                out[_month(old)] = out.get(_month(old), Decimal(0)) + value.amount
        if dated:
            rows.append(DealSlippage(deal, pushes, days))
    pushed = sum(1 for r in rows if r.pushes)
    total = sum(r.pushes for r in rows)
    return Slippage(
        tuple(rows),
        Rate.of(pushed, len(rows)),
        total / len(rows) if rows else None,
        {k: Money(out[k], currency or "XXX") for k in sorted(out)},
    )


def slippage(
    deals: Iterable[Deal], *, between: Window | None = None, by: By | None = None
) -> Slippage | Breakdown[Slippage]:
    """How often and how far expected close dates were pushed out.

    A *push* is a recorded change of a deal's expected close date to a later
    date (a change from or to no date is not). Per deal with an expected
    close date (now or in its history): the number of pushes and the days
    they add up to. Overall: the share of those deals pushed at least once,
    ``ever_pushed = pushed deals / dated deals`` (a :class:`Rate` with a
    Wilson interval), ``mean_pushes = pushes / dated deals`` (``None`` with
    no dated deal), and per calendar month the value pushed out of it (the
    deal's value at each push from that month to a later one). Mirrors
    Salesforce's close-date history reports ("pushed opportunities").

    Args:
        deals: The deals.
        between: Count only pushes made in ``[start, end)``.
        by: Group the deals; one result per group.

    Raises:
        CurrencyMismatchError: Pushed values in several currencies (use ``by="currency"``).
    """
    between = check_between(between)
    deals = deals_of(deals, "slippage")
    if by is None:
        return _slippage(deals, between)
    return breakdown("slippage", deals, by, lambda group: _slippage(group, between))


# ----------------------------------------------------------------- stale deals


@attrs.frozen
class StaleDeal:
    """An open deal that has sat too long.

    Attributes:
        deal: The deal as it was at the cut-off.
        stage: The key of its stage.
        owner: Its owner at the cut-off.
        value: Its value at the cut-off.
        in_stage: Time since it entered the stage.
        idle: Time since its last activity (stage change, field change or touchpoint).
        days_over: Whole days beyond the stage's ``rotting_after`` (by the rule used).
    """

    deal: Deal
    stage: str
    owner: str | None
    value: Money | None
    in_stage: timedelta
    idle: timedelta
    days_over: int


class StaleDeals(tuple[StaleDeal, ...]):
    """The stale deals, most value at risk first; a tuple with a frame and HTML."""

    __slots__ = ()

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per stale deal."""
        pd = pandas("StaleDeals.to_frame()")
        return build(
            pd,
            {
                "deal_id": text_series(pd, [s.deal.id for s in self]),
                "stage": text_series(pd, [s.stage for s in self]),
                "owner": text_series(pd, [s.owner for s in self]),
                "value": decimal_series(
                    pd, [None if s.value is None else s.value.amount for s in self], "float"
                ),
                "currency": text_series(
                    pd, [None if s.value is None else s.value.currency for s in self]
                ),
                "days_in_stage": float_series(pd, [s.in_stage / timedelta(days=1) for s in self]),
                "days_idle": float_series(pd, [s.idle / timedelta(days=1) for s in self]),
                "days_over": int_series(pd, [s.days_over for s in self]),
            },
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(s.deal.id)}</td><td>{esc(s.stage)}</td><td>{esc(str(s.owner or ''))}</td>"
            f"<td>{'' if s.value is None else esc(str(s.value))}</td><td>{s.days_over}</td></tr>"
            for s in self
        )
        return (
            f"<table><caption>stale deals ({len(self)})</caption><tr><th>deal</th><th>stage</th>"
            f"<th>owner</th><th>value</th><th>days over</th></tr>{rows}</table>"
        )


def _latest(deal: Deal) -> datetime:
    last = deal.stage_times[-1].astimezone(UTC)
    if deal.changes:
        last = max(last, deal.changes[-1].at.astimezone(UTC))
    return last


def stale_deals(
    deals: Iterable[Deal],
    *,
    as_of: datetime | None = None,
    rule: Literal["stage", "activity"] = "stage",
) -> StaleDeals:
    """Open deals that have sat longer than their stage's ``rotting_after``.

    For each deal open at the cut-off whose stage has a ``rotting_after``:
    ``in_stage = as_of − entered stage`` and ``idle = as_of − last activity``
    (its latest stage change, field change or touchpoint). The default rule
    ``"stage"`` flags ``in_stage > rotting_after``; ``"activity"`` flags
    ``idle > rotting_after`` (Pipedrive's rotting deals: no activity for that
    long). Since entering the stage is itself an activity, every deal idle
    too long has also been in its stage too long. ``days_over`` is the whole
    days beyond the limit. Sorted by value at risk (largest first, deals
    without a value last), then by days over.

    Args:
        deals: The deals.
        as_of: The cut-off; default the latest stage or field change in *deals*.
        rule: ``"stage"`` or ``"activity"``.

    Raises:
        ValueError: An unknown *rule*, or a naive *as_of*.
    """
    if rule not in ("stage", "activity"):
        msg = f"stale_deals rule must be 'stage' or 'activity', got {rule!r}."
        raise ValueError(msg)
    deals = list(deals_of(deals, "stale_deals"))
    if as_of is None:
        if not deals:
            return StaleDeals(())
        cutoff = max(_latest(d) for d in deals)
    else:
        cutoff = aware("as_of", as_of)
    found: list[StaleDeal] = []
    for deal in deals:
        seen = deal.as_of(cutoff)
        if seen is None or not seen.is_open or seen.stage.rotting_after is None:
            continue
        limit = seen.stage.rotting_after
        entered = seen.entered_at.astimezone(UTC)
        activity = [_latest(seen)] + [t.at.astimezone(UTC) for t in seen.touchpoints]
        in_stage = cutoff.astimezone(UTC) - entered
        idle = cutoff.astimezone(UTC) - max(activity)
        measure = in_stage if rule == "stage" else idle
        if measure <= limit:
            continue
        found.append(
            StaleDeal(
                seen,
                seen.stage.key,
                seen.owner,
                seen.value,
                in_stage,
                idle,
                (measure - limit) // timedelta(days=1),
            )
        )
    found.sort(
        key=lambda s: (
            s.value is None,
            -(s.value.amount if s.value is not None else 0),
            -s.days_over,
        )
    )
    return StaleDeals(found)
