"""A seeded percentile bootstrap for ratio estimators (amount-based win rate, NRR, …).

A ratio of sums, such as won value over closed value, has no binomial
interval: its uncertainty depends on how the amounts are spread. The
percentile bootstrap resamples the items (deals, accounts) with replacement,
recomputes the ratio and takes the central quantiles of the replicates. It
is random, so it is seeded: the same items, seed and ``n_boot`` give the same
interval. Its cost is ``n_boot`` passes over the items.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal

from ._kmci import check_confidence

__all__ = ["bootstrap_ratio"]


def bootstrap_ratio(
    numerators: Sequence[float | Decimal],
    denominators: Sequence[float | Decimal],
    *,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of sum(numerators) / sum(denominators).

    Items (pairs of numerator and denominator, e.g. a closed deal's won value
    and its value) are drawn with replacement *n_boot* times; each replicate's
    ratio is recomputed (a replicate whose denominator sums to 0 is skipped);
    the interval is the replicates' alpha/2 and 1 − alpha/2 quantiles
    (linear interpolation, R type 7).

    Args:
        numerators: One numerator per item (Decimals are read as floats).
        denominators: One denominator per item, as long as *numerators*.
        confidence: Level, strictly between 0 and 1.
        n_boot: Number of replicates, at least 100.
        seed: Seed of the resampling (the result is reproducible).

    Returns:
        ``(low, high)``, or ``None`` with no items or when the denominators
        sum to 0 (the ratio is undefined).

    Raises:
        ValueError: Lengths that differ, *n_boot* below 100, or a confidence
            outside (0, 1).

    Examples:
        >>> won = [100, 0, 250, 0, 80, 40, 0, 300]
        >>> closed = [100, 50, 250, 120, 80, 40, 60, 300]
        >>> low, high = bootstrap_ratio(won, closed, seed=1)
        >>> low < sum(won) / sum(closed) < high
        True
    """
    level = check_confidence(confidence)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        msg = f"n_boot must be an int of at least 100, got {n_boot!r}."
        raise ValueError(msg)
    if len(numerators) != len(denominators):
        msg = (
            "numerators and denominators must be as long, got "
            f"{len(numerators)} and {len(denominators)} items."
        )
        raise ValueError(msg)
    num = [float(x) for x in numerators]
    den = [float(x) for x in denominators]
    n = len(num)
    if not n or sum(den) == 0:
        return None
    rng = random.Random(seed)
    population = range(n)
    ratios = []
    for _ in range(n_boot):
        picks = rng.choices(population, k=n)
        total = sum(den[i] for i in picks)
        if total:
            ratios.append(sum(num[i] for i in picks) / total)
    ratios.sort()
    tail = (1 - level) / 2

    def quantile(q: float) -> float:
        pos = (len(ratios) - 1) * q
        low = int(pos)
        high = min(low + 1, len(ratios) - 1)
        return ratios[low] + (ratios[high] - ratios[low]) * (pos - low)

    return quantile(tail), quantile(1 - tail)
