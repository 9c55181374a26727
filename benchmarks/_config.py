"""The run's settings, and the generated deals shared between cases."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from salesflow import Deal
from salesflow.datasets import synthetic


@dataclass(frozen=True)
class Config:
    """What one run of the suite measures.

    Attributes:
        deals: Live deals for the transitions, creation and memory cases.
        sizes: Deal counts for the report case, smallest first.
        load_size: Deals in the CSV of the loading case.
        repeat: Timed runs per measurement (see ``_harness.measure``).
        quick: A smoke run: small sizes, every implementation, every check.
        slow_cap: The most deals any slow peer runs on in this run.
        dask_deals: Deals in the opt-in Dask case's Parquet partitions.
        dask_partitions: Parquet files (Dask partitions) they are written in.
    """

    deals: int
    sizes: tuple[int, ...]
    load_size: int
    repeat: int
    quick: bool = False
    slow_cap: int | None = None
    dask_deals: int = 10_000_000
    dask_partitions: int = 32

    def cap(self, limit: int) -> int:
        """The deals a slow peer runs on: at most *limit* (and :attr:`slow_cap`) and :attr:`deals`."""
        return min(self.deals, limit, self.slow_cap or limit)


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the results."""
    print(message, file=sys.stderr, flush=True)


_cache: dict[int, list[Deal]] = {}


def generated(n: int) -> list[Deal]:
    """``synthetic(n, seed=0, touchpoints=False)``, generated once and kept for the next case.

    Only the latest size is kept, to bound memory (1M deals take over a gigabyte).
    """
    if n not in _cache:
        _cache.clear()
        log(f"  generating {n:,} deals ...")
        start = time.perf_counter()
        _cache[n] = synthetic(n, seed=0, touchpoints=False)
        log(f"  generated {n:,} deals in {time.perf_counter() - start:.1f} s")
    return _cache[n]


def forget() -> None:
    """Drop the generated deals."""
    _cache.clear()
