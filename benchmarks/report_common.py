"""What the three report implementations share: the numbers they must agree on.

Each implementation (salesflow, pandas, DuckDB SQL) turns its input into a
:class:`ReportNumbers`; :func:`disagreements` compares two of them with the
tolerances the benchmark promises: counts exactly, money to the cent,
durations to one second, rates and intervals to 1e-9, velocity to 1e-9
relative. The definitions are salesflow's (see ``salesflow.metrics``):

* funnel, reached mode: a deal has *entered* stage k if it was ever in k; it
  *advanced* from k if, after its first entry of k, it reached an open or won
  stage of higher rank; the others are *lost* or *still open* by the deal's
  final stage. *reached* counts deals whose highest rank is at least k's (a
  won row counts only deals that entered it);
* time in stage: one spell per stay in an open stage, ended by the next event
  or censored at the cut-off (the latest event in the data); Kaplan-Meier
  median = the first duration with S(t) <= 0.5, mean = the area under S up to
  the longest observed duration;
* win rate: won / (won + lost) over closed deals; average deal size: mean
  value of won deals; sales cycle: creation to win of won deals (plain mean,
  median interpolated between order statistics); velocity: open deals × win
  rate × average deal size / mean cycle in days; open and weighted pipeline:
  value (× stage probability) of open deals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

from _machines import PIPELINE

#: Stage key -> rank: open stages 0..6, won stages 7, lost stages -1.
RANK: dict[str, int] = {
    key: -1 if (rank := PIPELINE.rank(key)) is None else rank for key in PIPELINE.keys
}
OPEN_KEYS: tuple[str, ...] = tuple(s.key for s in PIPELINE.open_stages)
WON_KEYS: tuple[str, ...] = tuple(s.key for s in PIPELINE.won_stages)
FUNNEL_KEYS: tuple[str, ...] = OPEN_KEYS + WON_KEYS
PROBABILITY: dict[str, str] = {
    s.key: str(s.probability) for s in PIPELINE.stages if s.probability is not None
}
#: The z of a two-sided 95 % interval, as salesflow's Wilson interval uses it.
Z95 = NormalDist().inv_cdf(0.975)
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Duration:
    """A duration summary: spells, how many still open, median and mean in microseconds."""

    n: int
    censored: int
    median_us: float | None
    mean_us: float | None


@dataclass(frozen=True)
class FunnelCounts:
    """One funnel row's counts and its step-conversion interval (``None`` for won rows)."""

    entered: int
    advanced: int
    lost: int
    still_open: int
    reached: int
    interval: tuple[float, float] | None


@dataclass(frozen=True)
class ReportNumbers:
    """Every number of the standard report, in plain types."""

    deals: int
    funnel: dict[str, FunnelCounts]
    time_in_stage: dict[str, Duration]
    won: int
    lost: int
    win_interval: tuple[float, float] | None
    opportunities: int
    average_won: Decimal | None
    pipeline_value: Decimal
    weighted_pipeline: Decimal
    cycle: Duration
    velocity: float | None


class Disagreement(AssertionError):
    """Two implementations of the report gave different numbers (a correctness bug)."""


def cents(amount: Decimal) -> Decimal:
    """Round half-even to the cent, as ``Money.quantize`` does."""
    return amount.quantize(CENT)


def _close(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= tolerance


def _interval_close(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(_close(x, y, 1e-9) for x, y in zip(a, b, strict=True))


def _duration_problems(where: str, a: Duration, b: Duration) -> list[str]:
    out = []
    if (a.n, a.censored) != (b.n, b.censored):
        out.append(f"{where}: n/censored {a.n}/{a.censored} != {b.n}/{b.censored}")
    for name in ("median_us", "mean_us"):
        x, y = getattr(a, name), getattr(b, name)
        if not _close(x, y, US_PER_SECOND):
            out.append(f"{where}: {name} {x} != {y} (more than 1 s apart)")
    return out


def disagreements(a: ReportNumbers, b: ReportNumbers) -> list[str]:
    """Every number on which *a* and *b* differ beyond the tolerances."""
    out = []
    if a.deals != b.deals:
        out.append(f"deals {a.deals} != {b.deals}")
    for key in FUNNEL_KEYS:
        x, y = a.funnel[key], b.funnel[key]
        if (x.entered, x.advanced, x.lost, x.still_open, x.reached) != (
            y.entered,
            y.advanced,
            y.lost,
            y.still_open,
            y.reached,
        ):
            out.append(f"funnel {key!r}: {x} != {y}")
        elif not _interval_close(x.interval, y.interval):
            out.append(f"funnel {key!r} interval: {x.interval} != {y.interval}")
    for key in OPEN_KEYS:
        out += _duration_problems(f"time in {key!r}", a.time_in_stage[key], b.time_in_stage[key])
    if (a.won, a.lost, a.opportunities) != (b.won, b.lost, b.opportunities):
        out.append(
            f"won/lost/open {a.won}/{a.lost}/{a.opportunities} != {b.won}/{b.lost}/{b.opportunities}"
        )
    if not _interval_close(a.win_interval, b.win_interval):
        out.append(f"win-rate interval {a.win_interval} != {b.win_interval}")
    if a.average_won != b.average_won:
        out.append(f"average won deal {a.average_won} != {b.average_won}")
    if a.pipeline_value != b.pipeline_value:
        out.append(f"pipeline value {a.pipeline_value} != {b.pipeline_value}")
    if abs(a.weighted_pipeline - b.weighted_pipeline) > CENT:
        out.append(f"weighted pipeline {a.weighted_pipeline} != {b.weighted_pipeline}")
    out += _duration_problems("sales cycle", a.cycle, b.cycle)
    if a.velocity is None or b.velocity is None:
        if a.velocity is not b.velocity:
            out.append(f"velocity {a.velocity} != {b.velocity}")
    elif abs(a.velocity - b.velocity) > 1e-9 * abs(a.velocity):
        out.append(f"velocity {a.velocity} != {b.velocity}")
    return out


def check_agreement(reference: ReportNumbers, other: ReportNumbers, name: str) -> None:
    """Raise :class:`Disagreement` listing every difference between salesflow and *name*."""
    problems = disagreements(reference, other)
    if problems:
        msg = f"{name} disagrees with salesflow.report:\n  " + "\n  ".join(problems)
        raise Disagreement(msg)
