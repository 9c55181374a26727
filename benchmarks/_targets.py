"""The performance targets of issue 5, read off a run's rows.

Each target is reported as met or missed, with the measured ratio and how far
it is from the target. Nothing fails when a target is missed: the suite
measures, the reader judges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from _harness import SALESFLOW, Row

FULL_DEALS = 100_000
BIG = 1_000_000
SMALL = 10_000


@dataclass(frozen=True)
class Verdict:
    """One target's outcome."""

    case: str
    target: str
    measured: str
    status: str

    def cells(self) -> list[str]:
        """The cells of the targets table."""
        return [self.case, self.target, self.measured, self.status]


def _find(rows: list[Row], group: str, implementation: str) -> Row | None:
    return next((r for r in rows if r.group == group and r.implementation == implementation), None)


def _at(row: Row, wanted: int) -> str:
    return "" if row.n == wanted else f" (at n={row.n:,}, not {wanted:,})"


def _at_least(ratio: float, goal: float) -> str:
    """Status of a "salesflow is at least *goal* times better" target."""
    if ratio >= goal:
        return "met"
    return f"missed: {ratio:.1f}x of {goal:g}x ({goal / ratio:.1f}x short)"


def _at_most(ratio: float, limit: float) -> str:
    """Status of a "salesflow costs at most *limit* times the reference" target."""
    if ratio <= limit:
        return "met"
    return f"missed: {ratio:.2f}x, limit {limit:g}x ({ratio / limit:.2f}x over)"


Check = Callable[[list[Row]], tuple[str, str] | None]


def _faster_than(group: str, peer: str, goal: float, wanted: int) -> Check:
    def check(rows: list[Row]) -> tuple[str, str] | None:
        ours, theirs = _find(rows, group, SALESFLOW), _find(rows, group, peer)
        if ours is None or theirs is None:
            return None
        ratio = theirs.per_item / ours.per_item
        return f"{ratio:.1f}x faster{_at(ours, wanted)}", _at_least(ratio, goal)

    return check


def _within(group: str, peer: str, limit: float, wanted: int) -> Check:
    def check(rows: list[Row]) -> tuple[str, str] | None:
        ours, theirs = _find(rows, group, SALESFLOW), _find(rows, group, peer)
        if ours is None or theirs is None:
            return None
        ratio = ours.per_item / theirs.per_item
        return f"{ratio:.2f}x its time{_at(ours, wanted)}", _at_most(ratio, limit)

    return check


def _memory(rows: list[Row]) -> tuple[str, str] | None:
    ours = _find(rows, "memory", SALESFLOW)
    if ours is None:
        return None
    status = "met" if ours.per_item <= 1024 else _at_most(ours.per_item / 1024, 1)
    return f"{ours.per_item:,.0f} B/deal{_at(ours, FULL_DEALS)}", status


def _scaling(rows: list[Row]) -> tuple[str, str] | None:
    small = _find(rows, f"report {FULL_DEALS:,}", SALESFLOW)
    big = _find(rows, f"report {BIG:,}", SALESFLOW)
    if small is None or big is None:
        return None
    ratio = big.median / small.median
    return f"{ratio:.1f}x the time for 10x the deals", _at_most(ratio, 11)


TARGETS: list[tuple[str, str, Check]] = [
    (
        "transitions",
        ">= 10x faster than transitions (shared Machine)",
        _faster_than("transitions", "transitions (shared Machine)", 10, FULL_DEALS),
    ),
    (
        "transitions",
        "within 4x of the plain-Python baseline",
        _within("transitions", "plain Python (dict + list)", 4, FULL_DEALS),
    ),
    (
        "creation",
        ">= 40x faster than transitions (shared Machine)",
        _faster_than("creation", "transitions (shared Machine)", 40, FULL_DEALS),
    ),
    ("memory", "<= 1 KB per deal with an eight-entry history", _memory),
    (
        "report 1M",
        "<= 2.5x the time of pandas",
        _within(f"report {BIG:,}", "pandas (vectorised)", 2.5, BIG),
    ),
    (
        "report 10k",
        "no slower than pandas",
        _within(f"report {SMALL:,}", "pandas (vectorised)", 1, SMALL),
    ),
    ("report 100k -> 1M", "time grows <= 11x", _scaling),
    (
        "loading 1M",
        "<= 6x pandas.read_csv of the same file",
        _within(f"loading {BIG:,}", "pandas.read_csv", 6, BIG),
    ),
]


def _columnar_scaling(rows: list[Row]) -> tuple[str, str] | None:
    small = _find(rows, f"columnar report {FULL_DEALS:,}", SALESFLOW)
    big = _find(rows, f"columnar report {BIG:,}", SALESFLOW)
    if small is None or big is None:
        return None
    ratio = big.median / small.median
    return f"{ratio:.1f}x the time for 10x the deals", _at_most(ratio, 11)


def _columnar_memory(rows: list[Row]) -> tuple[str, str] | None:
    ours = _find(rows, f"columnar memory {BIG:,}", SALESFLOW) or _find(
        rows, f"columnar memory {FULL_DEALS:,}", SALESFLOW
    )
    if ours is None:
        return None
    return f"{ours.per_item:,.0f} B/deal{_at(ours, BIG)}", _at_most(ours.per_item / 200, 1)


# Issue 11: the columnar lane (EventTable).
TARGETS += [
    (
        "columnar report 1M",
        "<= 0.25x the time of pandas",
        _within(f"columnar report {BIG:,}", "pandas (vectorised)", 0.25, BIG),
    ),
    (
        "columnar report 10k",
        "no slower than pandas",
        _within(f"columnar report {SMALL:,}", "pandas (vectorised)", 1, SMALL),
    ),
    (
        "columnar loading 1M",
        "<= 2.5x pandas.read_csv",
        _within(f"columnar loading {BIG:,}", "pandas.read_csv", 2.5, BIG),
    ),
    (
        "columnar end to end 1M",
        "<= 0.5x pandas' CSV -> report",
        _within(f"columnar end-to-end {BIG:,}", "pandas: read_csv + report", 0.5, BIG),
    ),
    ("columnar memory", "<= 200 B per deal", _columnar_memory),
    ("columnar report 100k -> 1M", "time grows <= 11x", _columnar_scaling),
]


def verdicts(rows: list[Row]) -> list[Verdict]:
    """Every target, with "not measured in this run" for those whose rows are missing."""
    out = []
    for case, target, check in TARGETS:
        found = check(rows)
        if found is None:
            out.append(Verdict(case, target, "—", "not measured in this run"))
        else:
            out.append(Verdict(case, target, *found))
    return out
