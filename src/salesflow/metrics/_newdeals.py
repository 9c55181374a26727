"""Deals not yet created: what ``forecast(include_new=True)`` adds.

How many deals the next period creates is drawn from the past: the
history before the cut-off is cut into windows as long as the forecast's
reach (cut-off to period end), counting back from the cut-off, and each
simulation takes the count of one window, each equally likely (so a bursty
history gives a wide spread, as it should). Each new deal is then created at
a uniform time in ``[as_of, end)``, copies a deal created in those windows
(its first stage and its value at the cut-off: the mix of stages and sizes
the history shows), and follows a path from the stage's bank of simulated
fresh paths (``_simulate.py``). With no complete window, the count is the
history's creation rate times the reach, every time.

Draws use the same counter-based generator as the rest of the simulation, so
both lanes give the same numbers for the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._deal import Deal
from .._money import Money
from .._pipeline import Pipeline
from .._time import stamp
from ._common import cut

if TYPE_CHECKING:
    import numpy as np

__all__ = ["NewDeals", "new_deals", "simulate_new"]

_MAX_TEMPLATES = 1 << 20


@attrs.frozen
class NewDeals:
    """What the history says about deals to come.

    Attributes:
        counts: Deals created in each past window as long as the reach.
        stages: Per template deal, the index of its first open stage (or -1).
        values: Per template deal, its value at the cut-off (``None`` if none).
    """

    counts: tuple[int, ...]
    stages: tuple[int, ...]
    values: tuple[Money | None, ...]


def new_deals(deals: Sequence[Deal], pipeline: Pipeline, as_of: datetime, reach: int) -> NewDeals:
    """Creation counts per past window of *reach* microseconds, and the deals created in them."""
    cutoff = stamp(as_of)
    index = {s.key: i for i, s in enumerate(pipeline.open_stages)}
    created = []
    for deal in deals:
        seen = cut(deal, as_of)
        if seen is not None:
            created.append((stamp(seen[1][0]), deal, seen[0][0]))
    if not created or reach <= 0:
        return NewDeals((0,), (), ())
    first = min(c for c, _, _ in created)
    windows = (cutoff - first) // reach
    if windows:
        counts = [0] * windows
        for at, _, _ in created:
            k = max((cutoff - 1 - at) // reach, 0)  # one created at the cut-off is in the last
            if k < windows:
                counts[k] += 1
        since = cutoff - windows * reach
    else:
        span = max(cutoff - first, 1)
        counts = [round(len(created) * reach / span)]
        since = first
    recent = sorted(
        ((at, d, key) for at, d, key in created if at >= since), key=lambda row: row[0]
    )[-_MAX_TEMPLATES:]
    values = []
    for _, deal, _ in recent:
        then = deal.as_of(as_of)
        values.append(None if then is None else then.value)
    return NewDeals(tuple(counts), tuple(index.get(key, -1) for _, _, key in recent), tuple(values))


def _choose(h: int, bits: int, shift: int, size: int) -> int:
    """An index in ``[0, size)`` from *bits* bits of *h* (multiply-shift, no modulo)."""
    return (((h >> shift) & ((1 << bits) - 1)) * size) >> bits


def _offset(x: int, reach: int) -> int:
    """floor(x * reach / 2^20) for x < 2^20, without a product past 2^63."""
    return x * (reach >> 20) + ((x * (reach & 0xFFFFF)) >> 20)


def simulate_new(
    spec: NewDeals,
    cents: Sequence[int],
    banks: Sequence[Any],
    size: int,
    window: tuple[int, int],
    as_of: int,
    *,
    n: int,
    salt: int,
    draw: Any,
    np: Any = None,
) -> tuple[list[int], list[int]]:
    """Revenue and count won by new deals in each of *n* simulations (pure Python or NumPy)."""
    if np is not None:
        return _numpy(
            np, spec, cents, banks, size, window=window, as_of=as_of, n=n, salt=salt, draw=draw
        )
    start, end = window
    reach = end - as_of
    revenue, count = [0] * n, [0] * n
    k, r = len(spec.counts), len(spec.stages)
    for sim in range(n):
        made = spec.counts[_choose(draw(salt, sim << 32), 32, 32, k)] if r else 0
        for j in range(made):
            h = draw(salt, (sim << 32) + j + 1)
            born = as_of + _offset(h & 0xFFFFF, reach)
            t = _choose(h, 20, 20, r)
            stage = spec.stages[t]
            if stage < 0:
                continue
            bank = banks[stage]
            b = _choose(h, 24, 40, size)
            if b < len(bank) and start <= born + int(bank[b]) < end:
                revenue[sim] += cents[t]
                count[sim] += 1
    return revenue, count


def _numpy(
    np: Any,
    spec: NewDeals,
    cents: Sequence[int],
    banks: Sequence[np.ndarray],
    size: int,
    *,
    window: tuple[int, int],
    as_of: int,
    n: int,
    salt: int,
    draw: Any,
) -> tuple[list[int], list[int]]:
    start, end = window
    reach = end - as_of
    k, r = len(spec.counts), len(spec.stages)
    if not r:
        return [0] * n, [0] * n
    u64 = np.uint64
    sims = np.arange(n, dtype=np.uint64)
    pick = (((draw(salt, sims << u64(32)) >> u64(32)) * u64(k)) >> u64(32)).astype(np.int64)
    made = np.array(spec.counts, dtype=np.int64)[pick]
    owner = np.repeat(np.arange(n, dtype=np.int64), made)
    first = np.cumsum(made) - made
    j = np.arange(len(owner), dtype=np.int64) - np.repeat(first, made) + 1
    h = draw(salt, (owner.astype(np.uint64) << u64(32)) + j.astype(np.uint64))
    x = (h & u64(0xFFFFF)).astype(np.int64)
    born = as_of + x * (reach >> 20) + ((x * (reach & 0xFFFFF)) >> 20)
    t = ((((h >> u64(20)) & u64(0xFFFFF)) * u64(r)) >> u64(20)).astype(np.int64)
    b = ((((h >> u64(40)) & u64(0xFFFFFF)) * u64(size)) >> u64(24)).astype(np.int64)
    stage = np.array(spec.stages, dtype=np.int64)[t]
    won = np.zeros(len(owner), dtype=bool)
    for s, bank in enumerate(banks):
        rows = np.flatnonzero((stage == s) & (b < len(bank)))
        if len(rows):
            at = born[rows] + bank[b[rows]]
            won[rows] = (at >= start) & (at < end)
    value = np.array(cents, dtype=np.float64)[t[won]]
    revenue = np.bincount(owner[won], weights=value, minlength=n)
    count = np.bincount(owner[won], minlength=n)
    return [int(v) for v in np.rint(revenue).astype(np.int64).tolist()], [
        int(c) for c in count.tolist()
    ]
