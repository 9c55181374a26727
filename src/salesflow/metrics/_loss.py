"""Why deals are lost: the share of each lost reason, with intervals."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from .._deal import Deal
from ._common import Breakdown, By, Window, check_between, deals_of, in_window
from ._grouping import group
from ._rate import Rate

__all__ = ["loss_reasons"]

#: The ``by`` name of the reason part of a :func:`loss_reasons` key.
REASON = "lost_reason"


def _shares(lost: list[tuple[Deal, str | None]], confidence: float) -> dict[Hashable, Rate]:
    counts: dict[str | None, int] = {}
    for _, reason in lost:
        counts[reason] = counts.get(reason, 0) + 1
    # Most frequent first; deals lost without a reason last, as their own row.
    order = sorted(counts, key=lambda r: (r is None, -counts[r], r or ""))
    return {r: Rate.of(counts[r], len(lost), confidence=confidence) for r in order}


def loss_reasons(
    deals: Iterable[Deal],
    *,
    between: Window | None = None,
    by: By | None = None,
    confidence: float = 0.95,
) -> Breakdown[Rate]:
    """The share of lost deals per lost reason, each a :class:`Rate` with a Wilson interval.

    ``share(reason) = lost deals with that reason / lost deals``, over the
    deals lost now (their last stage is a lost stage). Deals lost without a
    reason are their own row, keyed ``None``, never dropped: a large ``None``
    share says the reasons are not being recorded. Rows are sorted by count.
    Mirrors Pipedrive's and HubSpot's lost-reason reports, with intervals.

    Args:
        deals: The deals.
        between: Count only deals lost in ``[start, end)``.
        by: Also split by another field (``"owner"``, an attribute such as
            ``"product"``): keys become ``(group, reason)`` and each share is
            within its group.
        confidence: The interval's confidence level.

    Returns:
        A :class:`Breakdown` keyed by reason (or ``(group…, reason)``); empty
        when no deal is lost.
    """
    between = check_between(between)
    deals = deals_of(deals, "loss_reasons")
    lost = [d for d in deals if d.is_lost and in_window(d.closed_at, between)]
    if by is None:
        shares = _shares([(d, d.lost_reason) for d in lost], confidence)
        return Breakdown("loss share", REASON, shares)
    grouped = group(lost, by)
    results: dict[Hashable, Rate] = {}
    for key, members in grouped.groups.items():
        parts = key if len(grouped.fields) > 1 and isinstance(key, tuple) else (key,)
        for reason, rate in _shares([(d, d.lost_reason) for d in members], confidence).items():
            results[(*parts, reason)] = rate
    fields = (*grouped.fields, REASON)
    return Breakdown("loss share", ", ".join(fields), results, grouped.missing, fields)
