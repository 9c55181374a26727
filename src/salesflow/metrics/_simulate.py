"""The forecast's Monte Carlo, in pure Python or NumPy, with identical results.

Simulated paths are independent across deals, so the revenue of one
simulation is a sum of independent draws: deal i brings its value with
probability p_i, the probability that its path reaches a won stage within
``[start, end)``. The simulation is therefore done in two steps, which give
the distribution that simulating every path in every simulation would give:

1. **p_i, per deal.** The deal's current stay ends at one of its 2^10
   age-conditioned quantiles (``Model.first``), each equally likely, and goes
   to each destination in proportion to the moves observed out of its stage
   (summed over exactly, not sampled). A move to a won stage wins if it falls
   in the period; a move to an open stage J at time u wins with the share of
   a *bank* of simulated fresh paths from J whose time to a won stage d has
   ``start <= u + d < end``. The bank holds, per open stage, B paths (B = n
   clamped to [2^12, 2^16]) drawn step by step from the stage tables.
2. **Revenue, per simulation.** Deal i is won in simulation s when a uniform
   draw is below p_i; the revenue is the sum of the values of the deals won.

Every random draw comes from a counter-based generator, the 64-bit SplitMix64
mix of (seed, purpose, index), so both lanes make the same draws in any order
and p_i is an exact fraction; the NumPy lane does the same integer arithmetic
on arrays.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date
from math import lcm
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._optional import require
from ._forecast_model import DEST_BITS, FIRST_BITS, HOLD_BITS, LOST, NEVER, WON, DealState, Model
from ._newdeals import NewDeals, simulate_new

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MAX_STEPS", "Outcome", "bank_size", "mix", "simulate"]

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
#: Moves simulated per bank path at most; a path still open after them is not won.
MAX_STEPS = 255
_STEP_BITS = 8
_DEST_SHIFT = HOLD_BITS
# Each 64-bit draw gives two 32-bit uniforms (high half, low half), one for
# each of two deals: half the hashing of one draw per deal, and p resolved to
# 2^-32, far below any interval's width.
_UNIFORM_BITS = 32
# Elements per NumPy batch: large enough to amortise each call, small enough
# for the working arrays to stay in a few tens of megabytes.
_BATCH = 1 << 20


def mix(z: int) -> int:
    """SplitMix64's finaliser: a 64-bit integer to a well-mixed 64-bit integer."""
    z = (z ^ (z >> 30)) * M1 & MASK
    z = (z ^ (z >> 27)) * M2 & MASK
    return z ^ (z >> 31)


def _salt(seed: int, purpose: int) -> int:
    return mix((mix((seed * GOLDEN + GOLDEN) & MASK) + purpose * GOLDEN) & MASK)


def _draw(salt: int, key: int) -> int:
    return mix((salt + (key + 1) * GOLDEN) & MASK)


def bank_size(n: int) -> int:
    """Paths per open stage in the bank: *n*, clamped to [2^12, 2^16]."""
    return min(max(n, 1 << 12), 1 << 16)


@attrs.frozen
class Outcome:
    """What the simulations gave.

    Attributes:
        revenue: Per group, per simulation, the value won (in units of the
            value exponent).
        count: Per group, per simulation, the deals won.
        p: Per deal, the probability that it is won within the period.
        new_revenue: Per simulation, the value won by deals not yet created.
        new_count: Per simulation, how many of those were won.
    """

    revenue: list[list[int]]
    count: list[list[int]]
    p: list[float]
    new_revenue: list[int] | None = None
    new_count: list[int] | None = None


def simulate(
    model: Model,
    states: Sequence[DealState],
    groups: Sequence[int],
    n_groups: int,
    window: tuple[int, int],
    *,
    method: str,
    n: int,
    seed: int,
    engine: str,
    days: tuple[date, date] | None = None,
    new: tuple[NewDeals, Sequence[int]] | None = None,
) -> Outcome:
    """Run *n* simulations of every deal in *states* (see the module docstring).

    *days* is the period as calendar days ``[first, after)``, which expected
    close dates are compared with (the baseline method only). *new* is what
    ``include_new`` adds: the history's new-deal spec and each template's
    value in units (Markov only).
    """
    lane: Any = _Numpy() if engine == "numpy" else _Python()
    if method == "markov":
        size = bank_size(n)
        banks = lane.banks(model, size, _salt(seed, 1), window[1] - model.as_of)
        nums, den = lane.chances(model, states, banks, size, window)
        thresholds = [(num << _UNIFORM_BITS) // den for num in nums]
        p = [num / den for num in nums]
        if new is not None:
            new_revenue, new_count = simulate_new(
                new[0],
                new[1],
                banks,
                size,
                window,
                model.as_of,
                n=n,
                salt=_salt(seed, 3),
                draw=lane.new_draw,
                np=getattr(lane, "np", None),
            )
            revenue, count = lane.draw(states, thresholds, groups, n_groups, n, _salt(seed, 2))
            return Outcome(revenue, count, p, new_revenue, new_count)
    else:
        p = [_stage_probability(s, days) for s in states]
        thresholds = [int(x * (1 << _UNIFORM_BITS)) for x in p]
    revenue, count = lane.draw(states, thresholds, groups, n_groups, n, _salt(seed, 2))
    return Outcome(revenue, count, p)


def _stage_probability(state: DealState, days: tuple[date, date] | None) -> float:
    """The CRM baseline: the deal's probability if it is expected to close in the period."""
    close = state.expected_close
    if state.probability is None:
        return 0.0
    if close is not None and days is not None and not days[0] <= close < days[1]:
        return 0.0
    return state.probability


class _Python:
    """The pure-Python lane: correct everywhere, fast enough for thousands of deals."""

    new_draw = staticmethod(_draw)

    def banks(self, model: Model, size: int, salt: int, horizon: int) -> list[list[int]]:
        banks = []
        hold_mask, dest_mask = (1 << HOLD_BITS) - 1, (1 << DEST_BITS) - 1
        for s0 in range(len(model.stages)):
            times = []
            for j in range(size):
                base = (s0 * size + j) << _STEP_BITS
                stage, clock = s0, 0
                for step in range(MAX_STEPS):
                    h = _draw(salt, base + step)
                    stay, table = model.hold[stage][h & hold_mask], model.dest[stage]
                    if stay == NEVER or table is None:
                        break
                    clock += stay
                    nxt = table[(h >> _DEST_SHIFT) & dest_mask]
                    if clock >= horizon or nxt == LOST:
                        break
                    if nxt == WON:
                        times.append(clock)
                        break
                    stage = nxt
            banks.append(sorted(times))
        return banks

    def chances(
        self,
        model: Model,
        states: Sequence[DealState],
        banks: Sequence[Sequence[int]],
        size: int,
        window: tuple[int, int],
    ) -> tuple[list[int], int]:
        start, end = window
        nums = []
        den_of = [(1 << FIRST_BITS) * sum(c for _, c in row) * size for row in model.moves]
        common = _common_denominator(den_of)
        for state in states:
            num = 0
            for t in model.first(state):
                u = state.entered + t
                if t == NEVER or u >= end:
                    continue
                for code, count in model.moves[state.stage]:
                    if code == WON:
                        num += count * size if u >= start else 0
                    elif code != LOST:
                        bank = banks[code]
                        won = bisect.bisect_left(bank, end - u) - bisect.bisect_left(
                            bank, start - u
                        )
                        num += count * won
            den = den_of[state.stage]
            nums.append(num * (common // den) if den else 0)
        return nums, common

    def draw(
        self,
        states: Sequence[DealState],
        thresholds: Sequence[int],
        groups: Sequence[int],
        n_groups: int,
        n: int,
        salt: int,
    ) -> tuple[list[list[int]], list[list[int]]]:
        revenue = [[0] * n for _ in range(n_groups)]
        count = [[0] * n for _ in range(n_groups)]
        pairs = (len(states) + 1) // 2
        low = (1 << _UNIFORM_BITS) - 1
        for sim in range(n):
            for d, state in enumerate(states):
                h = _draw(salt, sim * pairs + d // 2)
                if (h & low if d % 2 else h >> _UNIFORM_BITS) < thresholds[d]:
                    g = groups[d]
                    count[g][sim] += 1
                    revenue[g][sim] += state.cents or 0
        return revenue, count


def _common_denominator(dens: Sequence[int]) -> int:
    """The least common multiple of the stages' denominators (1 when all are 0)."""
    return lcm(*[d for d in dens if d]) if any(dens) else 1


def _mix_array(np: Any, z: np.ndarray) -> Any:
    z = np.multiply(z ^ (z >> np.uint64(30)), np.uint64(M1))
    z = np.multiply(z ^ (z >> np.uint64(27)), np.uint64(M2))
    return cast("np.ndarray", z ^ (z >> np.uint64(31)))


class _Numpy:
    """The NumPy lane: the same arithmetic on arrays (extra ``salesflow[fast]``)."""

    def __init__(self) -> None:
        self.np = require("numpy", "salesflow[fast]", "forecast(engine='numpy')")

    def _draws(self, salt: int, keys: np.ndarray) -> Any:
        np = self.np
        return _mix_array(np, np.uint64(salt) + (keys + np.uint64(1)) * np.uint64(GOLDEN))

    def new_draw(self, salt: int, keys: np.ndarray) -> Any:
        """The draws of :func:`_draw` for an array of keys."""
        return self._draws(salt, keys)

    def banks(self, model: Model, size: int, salt: int, horizon: int) -> list[np.ndarray]:
        np = self.np
        n_stages = len(model.stages)
        hold = np.array(model.hold, dtype=np.int64).reshape(-1)
        no_exit = np.full(1 << DEST_BITS, LOST, dtype=np.int64)
        dest = np.array([no_exit if t is None else t for t in model.dest], dtype=np.int64)
        has_dest = np.array([t is not None for t in model.dest])
        start = np.repeat(np.arange(n_stages, dtype=np.int64), size)
        path = np.arange(n_stages * size, dtype=np.int64)
        base = path.astype(np.uint64) << np.uint64(_STEP_BITS)
        stage, clock = start.copy(), np.zeros(len(path), dtype=np.int64)
        won_path, won_time = [], []
        for step in range(MAX_STEPS):
            if not len(path):
                break
            h = self._draws(salt, base + np.uint64(step))
            stay = hold[
                (stage << HOLD_BITS) + (h & np.uint64((1 << HOLD_BITS) - 1)).astype(np.int64)
            ]
            lvl = ((h >> np.uint64(_DEST_SHIFT)) & np.uint64((1 << DEST_BITS) - 1)).astype(np.int64)
            nxt = dest[stage, lvl]
            clock = clock + stay
            alive = (stay != NEVER) & has_dest[stage] & (clock < horizon) & (nxt != LOST)
            hit = alive & (nxt == WON)
            won_path.append(path[hit])
            won_time.append(clock[hit])
            keep = alive & (nxt >= 0)
            path, base, stage, clock = path[keep], base[keep], nxt[keep], clock[keep]
        paths, times = np.concatenate(won_path), np.concatenate(won_time)
        owner = paths // size
        return [np.sort(times[owner == s]) for s in range(n_stages)]

    def _first(self, model: Model, stage: np.ndarray, entered: np.ndarray) -> Any:
        """:meth:`Model.first` for many deals of one stage at once (the same numbers)."""
        np = self.np
        size = 1 << FIRST_BITS
        curve = model.curves[int(stage[0])]
        age = (model.as_of - entered).astype(np.float64)
        steps = (2 * np.arange(size, dtype=np.float64) + 1) / (2 * size)
        times = np.array(curve.times, dtype=np.float64)
        values = np.array(curve.survival_values, dtype=np.float64)
        i = np.searchsorted(times, age, side="right")
        left = np.where(i > 0, values[np.maximum(i - 1, 0)], 1.0)
        j = np.searchsorted(-values, -(steps[None, :] * left[:, None]), side="left")
        picked = np.rint(times[np.minimum(j, len(values) - 1)]).astype(np.int64)
        return np.where(j < len(values), picked, NEVER)

    def _numerators(
        self,
        model: Model,
        s: int,
        stage: np.ndarray,
        entered: np.ndarray,
        *,
        banks: Sequence[np.ndarray],
        size: int,
        window: tuple[int, int],
    ) -> list[int]:
        np = self.np
        start, end = window
        first = self._first(model, stage, entered)
        u = entered[:, None] + first
        ok = (first != NEVER) & (u < end)
        num = [0] * len(stage)
        for code, count in model.moves[s]:
            if code == WON:
                won = (ok & (u >= start)).sum(axis=1) * size
            elif code == LOST:
                continue
            else:
                bank = banks[code]
                hits = np.searchsorted(bank, end - u) - np.searchsorted(bank, start - u)
                won = np.where(ok, hits, 0).sum(axis=1)
            # Python ints: the products can pass 2^63 for large histories.
            num = [a + int(b) * count for a, b in zip(num, won.tolist(), strict=True)]
        return num

    def chances(
        self,
        model: Model,
        states: Sequence[DealState],
        banks: Sequence[np.ndarray],
        size: int,
        window: tuple[int, int],
    ) -> tuple[list[int], int]:
        np = self.np
        den_of = [(1 << FIRST_BITS) * sum(c for _, c in row) * size for row in model.moves]
        common = _common_denominator(den_of)
        stage = np.array([s.stage for s in states], dtype=np.int64)
        entered = np.array([s.entered for s in states], dtype=np.int64)
        nums: list[int] = [0] * len(states)
        for s in range(len(model.stages)):
            every = np.flatnonzero(stage == s)
            if not den_of[s]:
                continue
            factor = common // den_of[s]
            # A few thousand deals at a time keeps the (deals x 1,024) arrays small.
            for c in range(0, len(every), 2048):
                rows = every[c : c + 2048]
                num = self._numerators(
                    model, s, stage[rows], entered[rows], banks=banks, size=size, window=window
                )
                for r, value in zip(rows.tolist(), num, strict=True):
                    nums[r] = value * factor
        return nums, common

    def draw(
        self,
        states: Sequence[DealState],
        thresholds: Sequence[int],
        groups: Sequence[int],
        n_groups: int,
        n: int,
        salt: int,
    ) -> tuple[list[list[int]], list[list[int]]]:
        np = self.np
        size = len(states)
        revenue = np.zeros((n, n_groups), dtype=np.float64)
        count = np.zeros((n, n_groups), dtype=np.float64)
        if size:
            limit = np.array(thresholds, dtype=np.uint64)
            onehot = np.zeros((size, n_groups), dtype=np.float64)
            onehot[np.arange(size), np.array(groups, dtype=np.int64)] = 1.0
            # Whole numbers below 2^53 (forecast() checks the total): float64
            # products and sums of them are exact in any order.
            weights = onehot * np.array([s.cents or 0 for s in states], dtype=np.float64)[:, None]
            pairs = (size + 1) // 2
            keys = np.arange(pairs, dtype=np.uint64)
            per_batch = max(1, _BATCH // size)
            bits = np.uint64(_UNIFORM_BITS)
            low = np.uint64((1 << _UNIFORM_BITS) - 1)
            for s0 in range(0, n, per_batch):
                s1 = min(n, s0 + per_batch)
                sims = np.arange(s0, s1, dtype=np.uint64)[:, None] * np.uint64(pairs)
                h = self._draws(salt, sims + keys[None, :])
                uniform = np.empty((s1 - s0, 2 * pairs), dtype=np.uint64)
                uniform[:, 0::2] = h >> bits
                uniform[:, 1::2] = h & low
                won = uniform[:, :size] < limit[None, :]
                as_float = won.astype(np.float64)
                revenue[s0:s1] = as_float @ weights
                count[s0:s1] = as_float @ onehot
        rev = np.rint(revenue).astype(np.int64).T.tolist()
        cnt = np.rint(count).astype(np.int64).T.tolist()
        return [[int(x) for x in row] for row in rev], [[int(x) for x in row] for row in cnt]
