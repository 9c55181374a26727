"""Lead conversion: the top of the funnel, from lead to deal."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, timedelta

from .._checks import aware
from .._deal import Deal
from .._lead import Lead
from .._warn import warn
from ._common import Breakdown, Window, check_window, deals_of, in_window
from ._rate import IntervalMethod, Rate

__all__ = ["lead_conversion"]

LeadBy = str | Callable[[Lead], Hashable]


def _lead_key(by: LeadBy) -> Callable[[Lead], Hashable]:
    if callable(by):
        return by
    if by == "source":
        return lambda lead: lead.source
    if by == "owner":
        return lambda lead: lead.owner
    return lambda lead: lead.attributes.get(by)


def _conversions(deals: Iterable[Deal]) -> tuple[dict[str, datetime], int]:
    """Lead id -> when its first deal opened (from the deals' ``lead_id``), and the deals counted."""
    opened: dict[str, datetime] = {}
    n = 0
    for deal in deals_of(deals, "lead_conversion"):
        n += 1
        lead_id = deal.lead_id
        if lead_id is not None and (lead_id not in opened or deal.created_at < opened[lead_id]):
            opened[lead_id] = deal.created_at
    return opened, n


def _warn_unconverted(leads: list[Lead], deals: int | None) -> None:
    n = len(leads)
    if deals is None:
        msg = (
            f"None of the {n:,} leads is marked converted and no deals were passed, so the "
            "lead conversion is 0; load the conversions with "
            "salesflow.io.read_conversions_csv(path, leads, pipeline) and measure its .leads, "
            "or pass the deals: lead_conversion(leads, deals=deals)."
        )
    else:
        msg = (
            f"None of the {n:,} leads is marked converted and none of the {deals:,} deals "
            "passed has one of their ids as its lead_id, so the lead conversion is 0; "
            "load the deals with their lead ids, or the conversions with "
            "salesflow.io.read_conversions_csv(path, leads, pipeline)."
        )
    warn(msg)


def lead_conversion(  # noqa: C901 - option checks, then one pass; each branch is one option
    leads: Iterable[Lead],
    deals: Iterable[Deal] | None = None,
    *,
    within: timedelta | None = None,
    as_of: datetime | None = None,
    between: Window | None = None,
    by: LeadBy | None = None,
    interval: IntervalMethod | None = "wilson",
    confidence: float = 0.95,
) -> Rate | Breakdown[Rate]:
    """Lead conversion rate: the share of leads that became deals.

    Formula: leads converted by the cut-off / leads created by it. With
    ``within``, a lead counts as converted only if it converted within that
    time of its creation, and leads created less than ``within`` before the
    cut-off are left out of the denominator: their window is not over, so
    counting them as failures would understate the rate (the same censoring
    rule as Mixpanel's conversion window).

    A lead has converted when it is marked so (:meth:`Lead.mark_converted`,
    or the ``.leads`` of :func:`~salesflow.io.read_conversions_csv`), or when
    one of *deals* names it in its ``lead_id`` (:meth:`Lead.convert` sets
    it); it converted when it was marked, else when its first such deal
    opened. Deals of other leads, or of none, are ignored.

    Leads of which not one has converted, with no deals passed or none
    linked to them, give a ``SalesflowWarning`` naming the call that loads
    the conversions. It warns rather than raises because a rate of 0 can be
    true (a new campaign whose leads have not converted yet) and an
    analyst must still get it; but a whole table of unconverted leads is
    far more often leads loaded without their conversions, which no number
    in the result would reveal.

    Args:
        leads: The leads.
        deals: Deals converted from the leads (by ``lead_id``), for leads
            that are not marked converted themselves.
        within: Conversion window from the lead's creation, e.g. 30 days.
        as_of: Cut-off. Default: the latest lead event (or conversion) in the data.
        between: ``(start, end)``: leads *created* in ``[start, end)``.
        by: ``"source"``, ``"owner"``, an attribute name or a function of the lead.
        interval: ``"wilson"``, ``"jeffreys"`` or ``None``.
        confidence: The interval's level.

    Returns:
        A :class:`Rate` (``None`` value with no eligible lead), or a
        :class:`Breakdown` of rates.

    Raises:
        TypeError: *leads* holds something other than leads (deals, say), or
            *deals* something other than deals.
        ValueError: *within* is not a positive ``timedelta``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import salesflow as sf
        >>> day = lambda d: datetime(2026, 3, d, tzinfo=timezone.utc)
        >>> leads = [sf.Lead(f"L{i}", created_at=day(1)) for i in range(1, 5)]
        >>> deal = leads[0].convert(sf.templates.b2b(), at=day(9))
        >>> sf.metrics.lead_conversion(leads, deals=[deal])
        Rate(1/4, value=0.25, interval=(0.0455873, 0.699358))
    """
    as_of, between = check_window(as_of, between)
    if within is not None and (not isinstance(within, timedelta) or within <= timedelta(0)):
        msg = f"within must be a positive timedelta, got {within!r}."
        raise ValueError(msg)
    leads = list(leads)
    for lead in leads:
        if not isinstance(lead, Lead):
            hint = (
                "; measure deals with the other metrics, e.g. salesflow.metrics.win_rate(deals), "
                "or pass them as lead_conversion(leads, deals=deals)"
                if isinstance(lead, Deal)
                else ""
            )
            msg = f"lead_conversion() takes Lead values, got {lead!r}{hint}."
            raise TypeError(msg)
    opened, n_deals = ({}, None) if deals is None else _conversions(deals)

    def converted_at(lead: Lead) -> datetime | None:
        at = lead.converted_at
        return opened.get(lead.id) if at is None else at

    if leads and not any(converted_at(lead) is not None for lead in leads):
        _warn_unconverted(leads, n_deals)
    cutoff = as_of
    if cutoff is None:
        ends = [lead.history[-1].at for lead in leads]
        ends.extend(at for lead in leads if (at := opened.get(lead.id)) is not None)
        cutoff = max(ends, default=None)
    if cutoff is not None:
        aware("as_of", cutoff)

    def compute(group: Iterable[Lead]) -> Rate:
        converted = eligible = 0
        for lead in group:
            if cutoff is not None and lead.created_at > cutoff:
                continue
            if not in_window(lead.created_at, between):
                continue
            at = converted_at(lead)
            done = at is not None and (cutoff is None or at <= cutoff)
            if within is not None:
                deadline = lead.created_at + within
                if cutoff is not None and deadline > cutoff:
                    # Its window is not over: leave it out whether or not it has
                    # converted yet, or young converters would inflate the rate.
                    continue
                done = done and at is not None and at <= deadline
            eligible += 1
            converted += done
        return Rate.of(converted, eligible, interval=interval, confidence=confidence)

    if by is not None:
        key = _lead_key(by)
        groups: dict[Hashable, list[Lead]] = {}
        for lead in leads:
            groups.setdefault(key(lead), []).append(lead)
        ordered = sorted(groups, key=lambda k: (k is None, str(k)))
        name = by if isinstance(by, str) else getattr(by, "__name__", "key")
        return Breakdown("lead conversion", name, {k: compute(groups[k]) for k in ordered})
    return compute(leads)
