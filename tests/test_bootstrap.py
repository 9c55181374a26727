"""Tests for the seeded percentile bootstrap of a ratio of sums."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

from salesflow.metrics import bootstrap_ratio

WON = [100, 0, 250, 0, 80, 40, 0, 300, 0, 120]
CLOSED = [100, 50, 250, 120, 80, 40, 60, 300, 90, 120]


class TestBootstrapRatio:
    def test_seeded_and_holds_the_ratio(self) -> None:
        """Same seed, same interval; the interval holds the observed ratio."""
        a = bootstrap_ratio(WON, CLOSED, seed=3)
        assert a == bootstrap_ratio(WON, CLOSED, seed=3)
        assert a != bootstrap_ratio(WON, CLOSED, seed=4)
        low, high = a  # type: ignore[misc]
        assert 0 <= low < sum(WON) / sum(CLOSED) < high <= 1

    def test_decimals(self) -> None:
        """Decimal amounts give the same interval as their floats."""
        decimals = bootstrap_ratio([Decimal(x) for x in WON], [Decimal(x) for x in CLOSED])
        assert decimals == bootstrap_ratio(WON, CLOSED)

    def test_undefined(self) -> None:
        """No items, or denominators summing to 0: None."""
        assert bootstrap_ratio([], []) is None
        assert bootstrap_ratio([0, 0], [0, 0]) is None

    def test_bad_arguments(self) -> None:
        """Lengths that differ, too few replicates, a bad level: ValueError naming it."""
        with pytest.raises(ValueError, match="as long"):
            bootstrap_ratio([1], [1, 2])
        with pytest.raises(ValueError, match="n_boot"):
            bootstrap_ratio([1], [1], n_boot=10)
        with pytest.raises(ValueError, match="confidence"):
            bootstrap_ratio([1], [1], confidence=1.5)

    def test_coverage(self) -> None:
        """Seeded: the 95 % interval of won value / closed value covers the truth in ~95 %.

        60 deals, won with probability 0.4, lognormal values (independent of
        winning): true ratio 0.4. 200 runs of 300 replicates; the percentile
        bootstrap runs a little short at this n, so the band is 95 % - 5 sd to
        95 % + 3 sd (sd 1.5 points).
        """
        rng = random.Random(8)
        runs, covered = 200, 0
        for i in range(runs):
            values = [rng.lognormvariate(8, 1) for _ in range(60)]
            won = [v if rng.random() < 0.4 else 0.0 for v in values]
            low, high = bootstrap_ratio(won, values, n_boot=300, seed=i)  # type: ignore[misc]
            covered += low <= 0.4 <= high
        sd = math.sqrt(0.95 * 0.05 / runs)
        assert 0.95 - 5 * sd <= covered / runs <= 0.95 + 3 * sd
