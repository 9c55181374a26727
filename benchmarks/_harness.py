"""Timing, memory and reporting helpers shared by every benchmark case.

A case produces :class:`Row` values: one per implementation and size. The
harness times a callable with :func:`measure` (``gc.collect()`` before every
run, ``time.perf_counter``, median of the runs), measures memory with
:func:`traced_bytes`, and formats rows, ratios and targets as text or Markdown.
Nothing here asserts speed: the numbers are reported, never checked.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

#: A first run longer than this is kept as a sample, and the measurement then
#: stops at :data:`LONG_REPEAT` runs: a 1M-deal load repeated five times would
#: double the suite's running time without changing its median much.
LONG_RUN_SECONDS = 10.0
LONG_REPEAT = 3

SALESFLOW = "salesflow"

#: Distributions named in the machine line.
PACKAGES = (
    "salesflow",
    "attrs",
    "transitions",
    "python-statemachine",
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
)


@dataclass
class Row:
    """One measured implementation: its run times (or its bytes) at one size.

    Attributes:
        case: The case's name, e.g. ``"transitions"``.
        implementation: Who did the work, e.g. ``"transitions (shared Machine)"``.
        n: Deals used.
        items: Units of work the per-item cost divides by (transitions,
            deals or rows).
        unit: What one item is, e.g. ``"transition"``.
        group: Rows in the same group are compared with each other.
        seconds: The timed runs (empty for a memory row).
        bytes: Traced bytes for the whole population (memory rows only).
        role: ``"peer"`` rows get ratios; ``"info"`` rows (conversion costs,
            data generation) are shown but not compared.
        note: Anything the reader needs to read the row right.
    """

    case: str
    implementation: str
    n: int
    items: int
    unit: str
    group: str
    seconds: list[float] = field(default_factory=list)
    bytes: int | None = None
    role: str = "peer"
    note: str = ""

    @property
    def median(self) -> float:
        """Median run time in seconds."""
        return statistics.median(self.seconds)

    @property
    def per_item(self) -> float:
        """Median cost per item: seconds per item, or bytes per item for memory rows."""
        if self.bytes is not None:
            return self.bytes / self.items
        return self.median / self.items

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        """Rebuild a row from :meth:`to_dict` output (derived numbers are recomputed)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the row and its derived numbers."""
        out: dict[str, Any] = {
            "case": self.case,
            "implementation": self.implementation,
            "n": self.n,
            "items": self.items,
            "unit": self.unit,
            "group": self.group,
            "role": self.role,
            "note": self.note,
        }
        if self.bytes is not None:
            out["bytes"] = self.bytes
            out["bytes_per_item"] = self.per_item
        else:
            out["seconds"] = self.seconds
            out["median_seconds"] = self.median
            out["per_item_us"] = self.per_item * 1e6
        return out


# ------------------------------------------------------------------ measuring


def measure(
    run: Callable[[Any], object],
    *,
    repeat: int,
    setup: Callable[[], Any] = lambda: None,
    check: Callable[[Any], None] | None = None,
) -> list[float]:
    """Time *run* (given what *setup* returns); return the timed runs in seconds.

    ``setup`` runs before every run and is not timed (it rebuilds state that a
    run consumes, such as deals moved to a terminal stage). The first run is a
    warm-up whose result goes to *check* (which raises if the result is
    wrong), so nothing is timed from code that gives a wrong answer. If the
    warm-up takes longer than :data:`LONG_RUN_SECONDS` it is kept as a sample
    instead, and at most :data:`LONG_REPEAT` runs are made in all.
    """
    first, result = _timed(run, setup)
    if check is not None:
        check(result)
    del result
    if first > LONG_RUN_SECONDS:
        samples = [first]
        repeat = min(repeat, LONG_REPEAT)
    else:
        samples = []
    while len(samples) < repeat:
        samples.append(_timed(run, setup)[0])
    return samples


def _timed(run: Callable[[Any], object], setup: Callable[[], Any]) -> tuple[float, object]:
    state = setup()
    gc.collect()
    start = time.perf_counter()
    result = run(state)
    elapsed = time.perf_counter() - start
    return elapsed, result


def time_once(run: Callable[[], object]) -> tuple[float, Any]:
    """Run *run* once after a ``gc.collect()``; return (seconds, its result)."""
    gc.collect()
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def traced_bytes(build: Callable[[], object]) -> int:
    """Bytes still allocated after *build* returns, while its result is alive.

    The difference of ``tracemalloc``'s traced memory before and after, with
    a ``gc.collect()`` at both ends so that garbage made on the way (such as
    the intermediate versions of an immutable deal) is not counted.
    """
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    return after - before


def rss_bytes() -> int:
    """The process's resident set size now (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except OSError:
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ the machine


def machine_line() -> str:
    """CPU model, cores, Python version and the versions of the packages measured."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    commit = _commit()
    if commit:
        versions[0] += f" (git {commit})"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} cores, {python} on {sys.platform}; {', '.join(versions)}"


def _commit() -> str | None:
    """The repository's short commit, with ``+changes`` when ``src/`` has uncommitted edits."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--", "src")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+changes" if changed else "")


# ------------------------------------------------------------------ formatting


def fmt_seconds(seconds: float) -> str:
    """``'812 ms'``, ``'1.23 s'``, ``'45.1 µs'``."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"


def fmt_per_item(row: Row) -> str:
    """The per-item cost with its unit: ``'1.45 µs/transition'`` or ``'812 B/deal'``."""
    if row.bytes is not None:
        return f"{row.per_item:,.0f} B/{row.unit}"
    us = row.per_item * 1e6
    digits = 3 if us < 1 else 2 if us < 10 else 1
    return f"{us:,.{digits}f} µs/{row.unit}"


def fmt_ratio(ratio: float, *, memory: bool = False) -> str:
    """``'14.2x faster'`` / ``'2.1x slower'`` (``less``/``more`` memory); two decimals below 2x."""
    better, worse = ("less memory", "more memory") if memory else ("faster", "slower")
    factor, word = (ratio, better) if ratio >= 1 else (1 / ratio, worse)
    return f"{factor:.{2 if factor < 2 else 1}f}x {word}"


def table_cells(row: Row) -> list[str]:
    """The table's cells for one row."""
    if row.bytes is not None:
        spread = median = "—"
    else:
        median = fmt_seconds(row.median)
        spread = f"{fmt_seconds(min(row.seconds))}–{fmt_seconds(max(row.seconds))}"
    return [
        row.case,
        row.implementation,
        f"{row.n:,}",
        median,
        spread,
        fmt_per_item(row),
        row.note,
    ]


HEADERS = ["case", "implementation", "n", "median", "min–max", "per item", "notes"]


def ratios(rows: Iterable[Row]) -> list[tuple[str, Row, Row, float]]:
    """(group, salesflow row, peer row, how many times better salesflow is), per peer.

    Times are compared per item, so peers measured on fewer deals are still
    compared fairly; memory rows compare bytes per deal.
    """
    out = []
    groups: dict[str, list[Row]] = {}
    for row in rows:
        if row.role == "peer":
            groups.setdefault(row.group, []).append(row)
    for group, members in groups.items():
        ours = [r for r in members if r.implementation == SALESFLOW]
        if not ours:
            continue
        out += [
            (group, ours[0], peer, peer.per_item / ours[0].per_item)
            for peer in members
            if peer is not ours[0]
        ]
    return out


def ratio_rows(rows: Iterable[Row]) -> list[list[str]]:
    """``[group, peer, '14.2x faster']`` per peer, for a table."""
    return [
        [group, peer.implementation, fmt_ratio(ratio, memory=peer.bytes is not None)]
        for group, _ours, peer, ratio in ratios(rows)
    ]


def ratio_lines(rows: Iterable[Row]) -> list[str]:
    """One line per peer: ``'[transitions] salesflow vs transitions (...): 14.2x faster'``."""
    return [
        f"[{group}] salesflow vs {peer.implementation}: "
        f"{fmt_ratio(ratio, memory=peer.bytes is not None)}"
        for group, _ours, peer, ratio in ratios(rows)
    ]


def text_table(headers: list[str], body: list[list[str]], right: set[int]) -> str:
    """A fixed-width plain-text table; columns in *right* are right-aligned."""
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in body)])


def markdown_table(headers: list[str], body: list[list[str]], right: set[int]) -> str:
    """A GitHub-flavoured Markdown table."""
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)
