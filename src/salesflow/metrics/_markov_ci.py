"""How sure is P(won | stage)? Intervals for the absorbing chain's win probabilities.

:func:`win_probability_interval` draws each open stage's row of transition
probabilities from a Dirichlet distribution with the observed move counts as
its parameters, which is Rubin's (1981) Bayesian bootstrap of the observed
moves (every move gets a Gamma(1) weight), solves the chain for each draw and
reports the central quantiles of the draws. Destinations never observed from
a stage stay impossible, as in the point estimate. The draws are seeded, so
the same data, seed and number of draws give the same interval.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from .._deal import Deal
from .._pipeline import Pipeline
from ._common import check_as_of, common_pipeline, deals_of
from ._kmci import check_confidence
from ._markov import transition_counts, win_probability
from ._stats import solve

__all__ = ["StageEstimate", "win_probability_interval"]


@attrs.frozen
class StageEstimate:
    """A stage's estimate with how much data it rests on and a seeded interval.

    Attributes:
        value: The point estimate (``None`` where undefined).
        n: Moves observed out of the stage.
        interval: ``(low, high)`` at ``confidence``, or ``None`` where undefined.
        confidence: Level of the interval.
        draws: Number of posterior draws behind the interval.
        seed: The seed of the draws.
    """

    value: float | None
    n: int
    interval: tuple[float, float] | None
    confidence: float
    draws: int
    seed: int

    def __str__(self) -> str:
        if self.value is None:
            return f"n/a (n={self.n})"
        text = f"{self.value:.1%} (n={self.n}"
        if self.interval is not None:
            low, high = self.interval
            text += f", {self.confidence:.0%} CI {low:.1%}-{high:.1%}"
        return text + ")"


def _quantile(sorted_values: list[float], q: float) -> float:
    # Linear interpolation between order statistics (R type 7, numpy's default).
    pos = (len(sorted_values) - 1) * q
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def _win_given(
    rows: Mapping[str, Mapping[str, float]], known: list[str], won: set[str]
) -> list[float] | None:
    """Solve (I − Q) x = R·1_won over the *known* states for one draw of the rows."""
    index = {s: i for i, s in enumerate(known)}
    size = len(known)
    matrix = [[float(i == j) for j in range(size)] for i in range(size)]
    rhs = [0.0] * size
    for s in known:
        i = index[s]
        for dst, p in rows[s].items():
            if dst in index:
                matrix[i][index[dst]] -= p
            elif dst in won:
                rhs[i] += p
    return solve(matrix, rhs)


def win_probability_interval(
    deals: Iterable[Deal],
    *,
    pipeline: Pipeline | None = None,
    as_of: datetime | None = None,
    confidence: float = 0.95,
    n_draws: int = 500,
    seed: int = 0,
) -> dict[str, StageEstimate]:
    """:func:`win_probability` per open stage, with n and a Bayesian-bootstrap interval.

    Each draw replaces every open stage's transition probabilities by a
    Dirichlet(counts) draw (the Bayesian bootstrap of its observed moves),
    solves the absorbing chain, and records P(won | stage); the interval is
    the central *confidence* share of the draws. Cost: *n_draws* solves of a
    stages x stages system (a few milliseconds each).

    Args:
        deals: The deals.
        pipeline: Needed when *deals* is empty.
        as_of: The cut-off.
        confidence: Level of the intervals, strictly between 0 and 1.
        n_draws: Number of draws, at least 20.
        seed: Seed of the draws (the result is reproducible).

    Returns:
        ``{open stage key: StageEstimate}`` in pipeline order; a stage whose
        probability is undefined has ``value`` and ``interval`` ``None``.

    Raises:
        ValueError: No deals and no pipeline, *n_draws* below 20, or a
            confidence outside (0, 1).
    """
    level = check_confidence(confidence)
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 20:
        msg = f"n_draws must be an int of at least 20, got {n_draws!r}."
        raise ValueError(msg)
    as_of = check_as_of(as_of)
    deals = list(deals_of(deals, "win_probability_interval"))
    found = common_pipeline(deals, pipeline)
    if found is None:
        msg = "win_probability_interval() of no deals needs pipeline=... to know its stages."
        raise ValueError(msg)
    point = win_probability(deals, pipeline=found, as_of=as_of)
    counts = {
        s: c for s, c in transition_counts(deals, as_of=as_of).items() if found.stage(s).is_open
    }
    won = {s.key for s in found.won_stages}
    known = [s for s in point if point[s] is not None]
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {s: [] for s in known}
    for _ in range(n_draws if known else 0):
        rows: dict[str, dict[str, float]] = {}
        for s in known:
            weights = {dst: rng.gammavariate(n, 1.0) for dst, n in counts[s].items() if n}
            total = sum(weights.values())
            rows[s] = {dst: w / total for dst, w in weights.items()}
        solved = _win_given(rows, known, won)
        if solved is None:
            continue
        for s, value in zip(known, solved, strict=True):
            samples[s].append(min(1.0, max(0.0, value)))
    tail = (1 - level) / 2
    result: dict[str, StageEstimate] = {}
    for stage in found.open_stages:
        key = stage.key
        n = sum(counts.get(key, {}).values())
        drawn = sorted(samples.get(key, []))
        interval = (
            (_quantile(drawn, tail), _quantile(drawn, 1 - tail))
            if point[key] is not None and drawn
            else None
        )
        result[key] = StageEstimate(point[key], n, interval, level, n_draws, seed)
    return result
