"""The pipeline as an absorbing Markov chain: P(won | stage) and time to close."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Any

import attrs

from .._deal import Deal
from .._pipeline import Pipeline
from .._time import stamp
from ._common import check_as_of, common_pipeline, cut, deals_of

__all__ = [
    "AbsorbingChain",
    "absorbing_chain",
    "expected_time_to_close",
    "transition_counts",
    "win_probability",
]


@attrs.frozen
class AbsorbingChain:
    """What an absorbing Markov chain says about each transient state.

    Attributes:
        win_probability: P(absorbed in a won state | start here).
        expected_steps: Expected number of moves before absorption.
        expected_time: Expected time to absorption (in the unit of the holding
            times given), or ``None`` without holding times.
        undefined: States whose values are unknown (``None``): no move was
            observed out of them, or they can reach such a state.
    """

    win_probability: Mapping[str, float | None]
    expected_steps: Mapping[str, float | None]
    expected_time: Mapping[str, float | None] | None
    undefined: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "win_probability": dict(self.win_probability),
            "expected_steps": dict(self.expected_steps),
            "expected_time": None if self.expected_time is None else dict(self.expected_time),
            "undefined": sorted(self.undefined),
        }


def _solve(matrix: list[list[Fraction]], rhs: list[list[Fraction]]) -> list[list[Fraction]]:
    # Gauss-Jordan on exact fractions: pipelines have a handful of stages, and
    # exact arithmetic makes the result independent of elimination order.
    n = len(matrix)
    a = [row[:] + r[:] for row, r in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        lead = a[col][col]
        a[col] = [x / lead for x in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                factor = a[r][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col], strict=True)]
    return [row[n:] for row in a]


def absorbing_chain(
    counts: Mapping[str, Mapping[str, int]],
    *,
    won: Iterable[str],
    lost: Iterable[str],
    holding: Mapping[str, float] | None = None,
) -> AbsorbingChain:
    """Solve the absorbing chain estimated from observed transition counts.

    With Q the transition probabilities among transient states and R those
    into absorbing states (both estimated as count / row total), the
    fundamental matrix N = (I − Q)⁻¹ gives P(absorbed in a won state) = N R,
    expected moves to absorption t = N 1 and, with mean holding times h per
    state, expected time to absorption N h. Unlike the product of
    stage-to-stage advance rates, this stays right when deals move backward.

    Args:
        counts: ``{from state: {to state: moves observed}}``.
        won: The absorbing states that count as won.
        lost: The other absorbing states.
        holding: Mean time spent per stay in each transient state.

    Returns:
        An :class:`AbsorbingChain`; a state with no observed exit (or that can
        reach one) is ``None`` throughout.

    Raises:
        ValueError: A negative count, or a state that is both won and lost.

    Examples:
        >>> chain = absorbing_chain(
        ...     {"Lead": {"Qualified": 60, "Lost": 40},
        ...      "Qualified": {"Proposal": 30, "Lead": 5, "Lost": 15},
        ...      "Proposal": {"Won": 12, "Lost": 10, "Qualified": 3}},
        ...     won=["Won"], lost=["Lost"])
        >>> round(chain.win_probability["Lead"], 6)
        0.199078
    """
    won_set, lost_set = set(won), set(lost)
    if won_set & lost_set:
        msg = f"States {sorted(won_set & lost_set)!r} are both won and lost."
        raise ValueError(msg)
    absorbing = won_set | lost_set
    states = set(counts) | {d for row in counts.values() for d in row}
    transient = sorted(s for s in states if s not in absorbing)
    totals: dict[str, int] = {}
    for src, row in counts.items():
        if any(n < 0 for n in row.values()):
            msg = f"Transition counts out of {src!r} must not be negative, got {dict(row)!r}."
            raise ValueError(msg)
        totals[src] = sum(row.values())
    # Unknown: no observed exit, or a positive chance of reaching such a state.
    undefined = {s for s in transient if not totals.get(s)}
    changed = True
    while changed:
        changed = False
        for s in transient:
            if s not in undefined and any(counts[s].get(u, 0) > 0 for u in undefined):
                undefined.add(s)
                changed = True
    known = [s for s in transient if s not in undefined]
    index = {s: i for i, s in enumerate(known)}
    size = len(known)
    identity_minus_q = [[Fraction(int(i == j)) for j in range(size)] for i in range(size)]
    rhs = [[Fraction(0), Fraction(1), Fraction(0)] for _ in range(size)]  # won prob, steps, time
    for s in known:
        i, total = index[s], totals[s]
        for dst, n in counts[s].items():
            p = Fraction(n, total)
            if dst in index:
                identity_minus_q[i][index[dst]] -= p
            elif dst in won_set:
                rhs[i][0] += p
        if holding is not None:
            rhs[i][2] = Fraction(holding[s]) if holding.get(s) is not None else Fraction(0)
    solved = _solve(identity_minus_q, rhs) if size else []
    win = {s: (None if s in undefined else float(solved[index[s]][0])) for s in transient}
    steps = {s: (None if s in undefined else float(solved[index[s]][1])) for s in transient}
    time = None
    if holding is not None:
        missing = {s for s in known if holding.get(s) is None}
        time = {
            s: (None if s in undefined or missing else float(solved[index[s]][2]))
            for s in transient
        }
    return AbsorbingChain(win, steps, time, frozenset(undefined))


def transition_counts(
    deals: Iterable[Deal], *, as_of: datetime | None = None
) -> dict[str, Counter[str]]:
    """Moves observed between consecutive stage changes: ``{from: {to: count}}``.

    Every move counts (a deal that goes back and forth counts each time),
    which is what a Markov chain of stage changes needs.
    """
    as_of = check_as_of(as_of)
    counts: dict[str, Counter[str]] = {}
    for deal in deals_of(deals, "transition_counts"):
        seen = cut(deal, as_of)
        if seen is None:
            continue
        stages = seen[0]
        for src, dst in pairwise(stages):
            counts.setdefault(src, Counter())[dst] += 1
    return counts


def _chain(
    deals: list[Deal],
    pipeline: Pipeline,
    as_of: datetime | None,
    holding: Mapping[str, float] | None,
) -> AbsorbingChain:
    counts = transition_counts(deals, as_of=as_of)
    # Reopening is not part of the chain: a terminal stage absorbs.
    counts = {s: c for s, c in counts.items() if pipeline.stage(s).is_open}
    for stage in pipeline.open_stages:
        counts.setdefault(stage.key, Counter())
    return absorbing_chain(
        counts,
        won=[s.key for s in pipeline.won_stages],
        lost=[s.key for s in pipeline.lost_stages],
        holding=holding,
    )


def win_probability(
    deals: Iterable[Deal], *, pipeline: Pipeline | None = None, as_of: datetime | None = None
) -> dict[str, float | None]:
    """Empirical P(won | currently in stage k), from the pipeline's absorbing Markov chain.

    Transition probabilities are estimated from every observed move between
    consecutive stage changes (as of the cut-off); won and lost stages
    absorb. This accounts for backward moves and skips, unlike multiplying
    stage-to-stage advance rates. A stage never left in the data is ``None``,
    as is any stage that can reach it. Use the result as
    ``weighted_pipeline(probabilities=...)`` for an empirical forecast.

    Returns:
        ``{open stage key: probability or None}`` in pipeline order.
    """
    deals = list(deals_of(deals, "win_probability"))
    found = common_pipeline(deals, pipeline)
    if found is None:
        msg = "win_probability() of no deals needs pipeline=... to know its stages."
        raise ValueError(msg)
    chain = _chain(deals, found, check_as_of(as_of), None)
    return {s.key: chain.win_probability.get(s.key) for s in found.open_stages}


def completed_stays(
    deals: Iterable[Deal], pipeline: Pipeline, as_of: datetime | None
) -> dict[str, list[int]]:
    """Per open stage, the microseconds of each completed stay in it by *as_of* (in UTC)."""
    spent: dict[str, list[int]] = {}
    for deal in deals:
        seen = cut(deal, as_of)
        if seen is None:
            continue
        stages, times = seen
        for i in range(len(stages) - 1):
            if pipeline.stage(stages[i]).is_open:
                spent.setdefault(stages[i], []).append(stamp(times[i + 1]) - stamp(times[i]))
    return spent


def expected_time_to_close(
    deals: Iterable[Deal], *, pipeline: Pipeline | None = None, as_of: datetime | None = None
) -> dict[str, timedelta | None]:
    """Expected time from entering stage k until the deal is won or lost.

    Formula: N h, with N the chain's fundamental matrix and h the mean length
    of completed stays in each open stage (in UTC). Open stays are not in h
    (a known downward bias while many deals are open); stages with no
    completed stay are ``None``.
    """
    as_of = check_as_of(as_of)
    deals = list(deals_of(deals, "expected_time_to_close"))
    found = common_pipeline(deals, pipeline)
    if found is None:
        msg = "expected_time_to_close() of no deals needs pipeline=... to know its stages."
        raise ValueError(msg)
    spent = completed_stays(deals, found, as_of)
    holding = {k: sum(v) / len(v) for k, v in spent.items() if v}
    chain = _chain(deals, found, as_of, holding)
    times_ = chain.expected_time or {}
    return {
        s.key: None
        if times_.get(s.key) is None
        else timedelta(microseconds=round(times_[s.key] or 0))
        for s in found.open_stages
    }
