"""Touchpoints per conversion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from .._deal import Deal
from .._lead import Lead
from ._common import Window, check_window, in_window
from ._summary import CountSummary

__all__ = ["touchpoints_per_conversion"]


def touchpoints_per_conversion(
    items: Iterable[Deal | Lead],
    *,
    channel: str | None = None,
    as_of: datetime | None = None,
    between: Window | None = None,
) -> CountSummary:
    """How many touchpoints a conversion took, measured from your data.

    A conversion is a won deal (counted at ``closed_at``) or a converted lead
    (at ``converted_at``); its touchpoints are those at or before that moment,
    which for a deal include the touchpoints of the lead it came from. Items
    that did not convert are not counted. The often-quoted "about five
    touchpoints per sale" has no traceable source; this gives your own number.

    Args:
        items: Deals and/or leads.
        channel: Count only touchpoints of this channel.
        as_of: Cut-off: only conversions (and touchpoints) by then.
        between: ``(start, end)``: conversions in ``[start, end)``.

    Returns:
        A :class:`CountSummary` (``n`` conversions, ``mean``, ``median``,
        ``percentile``); its values are ``None`` when nothing converted.
    """
    as_of, between = check_window(as_of, between)
    counts: Counter[int] = Counter()
    for item in items:
        if isinstance(item, Deal):
            view = item if as_of is None else item.as_of(as_of)
            at = None if view is None or not view.is_won else view.closed_at
        elif isinstance(item, Lead):
            at = item.converted_at
            if at is not None and as_of is not None and at > as_of:
                at = None
        else:
            msg = f"touchpoints_per_conversion() takes deals and leads, got {item!r}."
            raise TypeError(msg)
        if at is None or not in_window(at, between):
            continue
        counts[
            sum(
                1
                for t in item.touchpoints
                if t.at <= at and (channel is None or t.channel == channel)
            )
        ] += 1
    return CountSummary(counts)
