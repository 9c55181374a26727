"""Customer retention and churn as rates: with their counts and a confidence interval.

:func:`~salesflow.metrics.retention_rate` and
:func:`~salesflow.metrics.churn_rate` return a bare float; these return a
:class:`~salesflow.metrics.Rate`, which keeps *n* and carries an interval, so
a churn of 5 % over 20 customers does not read like one over 2,000.
"""

from __future__ import annotations

from ._formulas import _count
from ._rate import IntervalMethod, Rate

__all__ = ["churn", "retention"]


def _cohort(start_name: str, start: object, part_name: str, part: object) -> tuple[int, int]:
    total = _count(start_name, start)
    share = _count(part_name, part)
    if share > total:
        msg = (
            f"{part_name} ({share!r}) is more than {start_name} ({total!r}); "
            "count only customers of the starting cohort."
        )
        raise ValueError(msg)
    return share, total


def retention(
    customers_at_start: int,
    retained: int,
    *,
    interval: IntervalMethod | None = "wilson",
    confidence: float = 0.95,
) -> Rate:
    """Customer retention of a cohort: the share of starting customers still there.

    ``retention = retained / S`` (the cohort form of
    :func:`retention_rate`), as a :class:`Rate` with a Wilson interval by
    default: each starting customer is a trial that stayed or left.

    Args:
        customers_at_start: *S*, customers at the start of the period.
        retained: Of those, the ones still customers at its end (reactivated
            or new customers do not count).
        interval: ``"wilson"`` (default), ``"jeffreys"`` or ``None``.
        confidence: The interval's level.

    Returns:
        A :class:`Rate`; its ``value`` is ``None`` when there were no customers
        at the start.

    Raises:
        TypeError: A count is not an int.
        ValueError: A count is negative, or more customers were retained than
            there were at the start.

    Examples:
        >>> from salesflow.metrics import retention
        >>> retention(200, 180)
        Rate(180/200, value=0.9, interval=(0.850594, 0.93433))
    """
    kept, start = _cohort("customers_at_start", customers_at_start, "retained", retained)
    return Rate.of(kept, start, interval=interval, confidence=confidence)


def churn(
    customers_at_start: int,
    lost: int,
    *,
    interval: IntervalMethod | None = "wilson",
    confidence: float = 0.95,
) -> Rate:
    """Customer churn of a cohort: the share of starting customers lost.

    ``churn = lost / S``, as a :class:`Rate` with a Wilson interval by
    default; ``churn(S, L)`` and ``retention(S, S - L)`` are complements, and
    so are their Wilson intervals.

    Args:
        customers_at_start: *S*, customers at the start of the period.
        lost: Starting customers lost during the period.
        interval: ``"wilson"`` (default), ``"jeffreys"`` or ``None``.
        confidence: The interval's level.

    Returns:
        A :class:`Rate`; its ``value`` is ``None`` when there were no customers
        at the start.

    Raises:
        TypeError: A count is not an int.
        ValueError: A count is negative, or more customers were lost than
            there were at the start.

    Examples:
        >>> from salesflow.metrics import churn
        >>> churn(200, 20).value
        0.1
    """
    gone, start = _cohort("customers_at_start", customers_at_start, "lost", lost)
    return Rate.of(gone, start, interval=interval, confidence=confidence)
