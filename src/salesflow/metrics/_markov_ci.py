"""How sure is P(won | stage)? Intervals for the absorbing chain's answers.

:func:`win_probability_interval` draws each open stage's row of transition
probabilities from a Dirichlet distribution with the observed move counts as
its parameters, which is Rubin's (1981) Bayesian bootstrap of the observed
moves (every move gets a Gamma(1) weight), solves the chain for each draw and
reports the central quantiles of the draws. Destinations never observed from
a stage stay impossible, as in the point estimate. The draws are seeded, so
the same data, seed and number of draws give the same interval.
:func:`expected_time_to_close_interval` does the same for N h, drawing each
stage's mean holding time from its normal approximation, N(mean, s²/n).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from .._deal import Deal
from .._pipeline import Pipeline
from ._common import check_as_of, common_pipeline, deals_of
from ._kmci import check_confidence
from ._markov import (
    completed_stays,
    expected_time_to_close,
    transition_counts,
    win_probability,
)
from ._stats import solve

__all__ = ["StageEstimate", "expected_time_to_close_interval", "win_probability_interval"]


@attrs.frozen
class StageEstimate:
    """A stage's estimate with how much data it rests on and a seeded interval.

    Attributes:
        value: The point estimate: a probability, or a ``timedelta`` for
            times (``None`` where undefined).
        n: Moves observed out of the stage.
        interval: ``(low, high)`` at ``confidence``, or ``None`` where undefined.
        confidence: Level of the interval.
        draws: Number of posterior draws behind the interval.
        seed: The seed of the draws.
    """

    value: Any
    n: int
    interval: tuple[Any, Any] | None
    confidence: float
    draws: int
    seed: int

    def __str__(self) -> str:
        if self.value is None:
            return f"n/a (n={self.n})"

        def show(x: Any) -> str:
            return f"{x / timedelta(days=1):.1f} d" if isinstance(x, timedelta) else f"{x:.1%}"

        text = f"{show(self.value)} (n={self.n}"
        if self.interval is not None:
            low, high = self.interval
            text += f", {self.confidence:.0%} CI {show(low)}-{show(high)}"
        return text + ")"


def _quantile(sorted_values: list[float], q: float) -> float:
    # Linear interpolation between order statistics (R type 7, numpy's default).
    pos = (len(sorted_values) - 1) * q
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def _win_given(
    rows: Mapping[str, Mapping[str, float]],
    known: list[str],
    won: set[str],
    holding: Mapping[str, float] | None = None,
) -> list[float] | None:
    """Solve (I − Q) x = R·1_won (or = h, given *holding*) over the *known* states."""
    index = {s: i for i, s in enumerate(known)}
    size = len(known)
    matrix = [[float(i == j) for j in range(size)] for i in range(size)]
    rhs = [0.0] * size
    for s in known:
        i = index[s]
        for dst, p in rows[s].items():
            if dst in index:
                matrix[i][index[dst]] -= p
            elif dst in won and holding is None:
                rhs[i] += p
        if holding is not None:
            rhs[i] = holding[s]
    return solve(matrix, rhs)


def _checked(
    name: str,
    deals: Iterable[Deal],
    pipeline: Pipeline | None,
    as_of: datetime | None,
    confidence: float,
    n_draws: int,
) -> tuple[float, datetime | None, list[Deal], Pipeline]:
    """The checked level, cut-off, deals and pipeline of an interval function called *name*."""
    level = check_confidence(confidence)
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 20:
        msg = f"n_draws must be an int of at least 20, got {n_draws!r}."
        raise ValueError(msg)
    as_of = check_as_of(as_of)
    found_deals = list(deals_of(deals, name))
    found = common_pipeline(found_deals, pipeline)
    if found is None:
        msg = f"{name}() of no deals needs pipeline=... to know its stages."
        raise ValueError(msg)
    return level, as_of, found_deals, found


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
    level, as_of, deals, found = _checked(
        "win_probability_interval", deals, pipeline, as_of, confidence, n_draws
    )
    point = win_probability(deals, pipeline=found, as_of=as_of)
    counts = {
        s: c for s, c in transition_counts(deals, as_of=as_of).items() if found.stage(s).is_open
    }
    won = {s.key for s in found.won_stages}
    known = [s for s in point if point[s] is not None]
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {s: [] for s in known}
    for _ in range(n_draws if known else 0):
        solved = _win_given(_draw_rows(rng, counts, known), known, won)
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


def _draw_rows(
    rng: random.Random, counts: Mapping[str, Mapping[str, int]], known: list[str]
) -> dict[str, dict[str, float]]:
    """One Bayesian-bootstrap draw of every known stage's transition probabilities."""
    rows: dict[str, dict[str, float]] = {}
    for s in known:
        weights = {dst: rng.gammavariate(n, 1.0) for dst, n in counts[s].items() if n}
        total = sum(weights.values())
        rows[s] = {dst: w / total for dst, w in weights.items()}
    return rows


def expected_time_to_close_interval(
    deals: Iterable[Deal],
    *,
    pipeline: Pipeline | None = None,
    as_of: datetime | None = None,
    confidence: float = 0.95,
    n_draws: int = 500,
    seed: int = 0,
) -> dict[str, StageEstimate]:
    """:func:`expected_time_to_close` per open stage, with n and a seeded interval.

    Each draw takes the transition rows as :func:`win_probability_interval`
    does and each stage's mean holding time from N(mean, s²/n) of its
    completed stays (clipped at 0; a stage with one stay keeps its mean),
    then solves N h. ``n`` is the number of completed stays in the stage.
    Like the point estimate, it leaves open stays out of h.

    Args:
        deals: The deals.
        pipeline: Needed when *deals* is empty.
        as_of: The cut-off.
        confidence: Level of the intervals, strictly between 0 and 1.
        n_draws: Number of draws, at least 20.
        seed: Seed of the draws.

    Returns:
        ``{open stage key: StageEstimate}`` with ``timedelta`` values and ends.

    Raises:
        ValueError: As :func:`win_probability_interval`.
    """
    level, as_of, deals, found = _checked(
        "expected_time_to_close_interval", deals, pipeline, as_of, confidence, n_draws
    )
    point = expected_time_to_close(deals, pipeline=found, as_of=as_of)
    spent = completed_stays(deals, found, as_of)
    moments = {}
    for key, values in spent.items():
        n = len(values)
        mean = sum(values) / n
        var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
        moments[key] = (mean, math.sqrt(var / n))
    counts = {
        s: c for s, c in transition_counts(deals, as_of=as_of).items() if found.stage(s).is_open
    }
    known = [s for s in point if point[s] is not None]
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {s: [] for s in known}
    for _ in range(n_draws if known else 0):
        rows = _draw_rows(rng, counts, known)
        holding = {s: max(0.0, rng.gauss(*moments[s])) for s in known}
        solved = _win_given(rows, known, set(), holding)
        if solved is None:
            continue
        for s, value in zip(known, solved, strict=True):
            samples[s].append(max(0.0, value))
    tail = (1 - level) / 2
    result: dict[str, StageEstimate] = {}
    for stage in found.open_stages:
        key = stage.key
        drawn = sorted(samples.get(key, []))
        interval = None
        if point[key] is not None and drawn:
            interval = (
                timedelta(microseconds=round(_quantile(drawn, tail))),
                timedelta(microseconds=round(_quantile(drawn, 1 - tail))),
            )
        result[key] = StageEstimate(
            point[key], len(spent.get(key, [])), interval, level, n_draws, seed
        )
    return result
