"""Lead conversion: the top of the funnel, from lead to deal."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, timedelta

from .._checks import aware
from .._lead import Lead
from ._common import Breakdown, Window, check_window, in_window
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


def lead_conversion(
    leads: Iterable[Lead],
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

    Args:
        leads: The leads (mark converted ones with ``Lead.mark_converted``).
        within: Conversion window from the lead's creation, e.g. 30 days.
        as_of: Cut-off. Default: the latest lead event in the data.
        between: ``(start, end)``: leads *created* in ``[start, end)``.
        by: ``"source"``, ``"owner"``, an attribute name or a function of the lead.
        interval: ``"wilson"``, ``"jeffreys"`` or ``None``.
        confidence: The interval's level.

    Returns:
        A :class:`Rate` (``None`` value with no eligible lead), or a
        :class:`Breakdown` of rates.
    """
    as_of, between = check_window(as_of, between)
    if within is not None and (not isinstance(within, timedelta) or within <= timedelta(0)):
        msg = f"within must be a positive timedelta, got {within!r}."
        raise ValueError(msg)
    leads = list(leads)
    for lead in leads:
        if not isinstance(lead, Lead):
            msg = f"lead_conversion() takes Lead values, got {lead!r}."
            raise TypeError(msg)
    cutoff = (
        as_of if as_of is not None else max((lead.history[-1].at for lead in leads), default=None)
    )
    if cutoff is not None:
        aware("as_of", cutoff)

    def compute(group: Iterable[Lead]) -> Rate:
        converted = eligible = 0
        for lead in group:
            if cutoff is not None and lead.created_at > cutoff:
                continue
            if not in_window(lead.created_at, between):
                continue
            at = lead.converted_at
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
