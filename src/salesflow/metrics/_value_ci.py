"""A seeded percentile-bootstrap interval for the average deal size.

Deal values are skewed: many small deals and a few large ones. The mean's
sampling distribution is then skewed too at the sample sizes a team has, and
a t-interval, symmetric around the mean, puts its upper end too low and its
lower end too high (it can even go below zero). The percentile bootstrap
takes the interval from the resampled means themselves, so it follows the
skew. It is computed exactly: amounts become integers in their smallest
unit, each resample's total is an exact integer sum, and only the two
quantiles are divided and rounded.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from .._deal import Deal
from .._money import Money
from ._common import Window, check_window, deals_of
from ._kmci import check_confidence
from ._value import ValueAccumulator

__all__ = ["average_deal_size_interval"]

# ISO 4217 minor units that are not 2; every other currency (custom ones
# too) is taken to have cents.
_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def minor_units(currency: str) -> int:
    """The decimal places of *currency*'s smallest unit (ISO 4217; 2 when not listed)."""
    return _MINOR_UNITS.get(currency, 2)


def average_deal_size_interval(
    deals: Iterable[Deal],
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    as_of: datetime | None = None,
    between: Window | None = None,
) -> tuple[Money, Money] | None:
    """Percentile-bootstrap interval for the mean value of the won deals.

    The won deals (with a value, at the cut-off, closed in *between*) are
    resampled with replacement *n_boot* times; the interval is the
    alpha/2 and 1 − alpha/2 quantiles (R type 7) of the resampled means,
    rounded outwards to the currency's minor unit (cents; yen have none), so
    the rounded interval contains the unrounded one. It goes with
    :func:`average_deal_size` (``status="won"``, ``statistic="mean"``).
    Seeded, so the same deals give the same interval, in any order.

    Args:
        deals: The deals.
        confidence: Level, strictly between 0 and 1.
        n_boot: Number of resamples, at least 100.
        seed: Seed of the resampling.
        as_of: Cut-off. Default: all events.
        between: ``(start, end)``: only deals won in ``[start, end)``.

    Returns:
        ``(low, high)`` as ``Money``, or ``None`` when no won deal has a value.

    Raises:
        ValueError: *confidence* outside (0, 1), or *n_boot* below 100.
        CurrencyMismatchError: The won deals are in different currencies.

    Examples:
        >>> from datetime import datetime, timezone
        >>> import salesflow as sf
        >>> p = sf.Pipeline.linear("Sales", ["Lead"])
        >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> won = [p.open_deal(str(i), at=t, value=sf.Money("99.99", "USD")).win(at=t)
        ...        for i in range(3)]
        >>> sf.metrics.average_deal_size_interval(won)
        (Money('99.99', 'USD'), Money('99.99', 'USD'))
    """
    level = check_confidence(confidence)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        msg = f"n_boot must be an int of at least 100, got {n_boot!r}."
        raise ValueError(msg)
    if isinstance(seed, bool) or not isinstance(seed, int):
        msg = f"seed must be an int, got {seed!r}."
        raise ValueError(msg)
    as_of, between = check_window(as_of, between)
    acc = ValueAccumulator("won", as_of, between)
    for deal in deals_of(deals, "average_deal_size_interval"):
        acc.add(deal)
    # mean() warns about won deals without a value, as average_deal_size does.
    if acc.mean() is None or acc.currency is None:
        return None
    low, high = mean_bounds(acc.amounts, level, n_boot, seed)
    places = Decimal((0, (1,), -minor_units(acc.currency)))
    return (
        Money(low.quantize(places, rounding=ROUND_FLOOR), acc.currency),
        Money(high.quantize(places, rounding=ROUND_CEILING), acc.currency),
    )


def mean_bounds(
    amounts: Sequence[Decimal], confidence: float, n_boot: int, seed: int
) -> tuple[Decimal, Decimal]:
    """The percentile-bootstrap quantiles of the mean of *amounts* (not empty), unrounded."""
    with localcontext() as ctx:
        # Wide enough that every step below is exact but the two divisions.
        ctx.prec = 100
        places = max(0, *(-int(a.as_tuple().exponent) for a in amounts))
        scale = Decimal(10) ** places
        # Sorted, so the result depends on the amounts and not their order.
        units = [int(a * scale) for a in sorted(amounts)]
        n = len(units)
        rng = random.Random(seed)
        population = range(n)
        totals = sorted(sum(units[i] for i in rng.choices(population, k=n)) for _ in range(n_boot))
        # str() keeps 0.95 as 0.95 rather than its binary expansion.
        tail = (1 - Decimal(str(confidence))) / 2

        def quantile(q: Decimal) -> Decimal:
            pos = (n_boot - 1) * q
            low = int(pos)
            high = min(low + 1, n_boot - 1)
            total = totals[low] + (totals[high] - totals[low]) * (pos - low)
            return total / (n * scale)

        return quantile(tail), quantile(1 - tail)
