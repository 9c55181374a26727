"""Testing a breakdown: do its groups differ, and which group differs from the rest?

:func:`compare_groups` takes a :class:`~salesflow.metrics.Breakdown` of rates
(win rate by owner) or of durations (sales cycle by product) and gives

* one test of the whole table: Pearson's chi-square test of homogeneity for
  rates (R's ``chisq.test(correct=FALSE)`` on the k x 2 table), the k-sample
  log-rank test for durations (R's ``survdiff``);
* each group against all the others pooled, by :func:`compare` or
  :func:`logrank`, with p-values adjusted for the number of groups by Holm's
  step-down (the default; it controls the chance of any false alarm) or
  Benjamini-Hochberg (``correction="bh"``; the expected share of false alarms).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Hashable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs

from ._compare import Comparison, compare, logrank
from ._kmci import check_confidence
from ._rate import Rate
from ._stats import Correction, adjust, chi2_sf
from ._summary import DurationSummary
from ._survival import KaplanMeier

__all__ = ["GroupComparison", "compare_groups"]

_REST = "the rest"


@attrs.frozen(repr=False)
class GroupComparison:
    """A breakdown tested as a whole and group by group.

    Attributes:
        metric: What was measured in each group.
        by: The grouping field(s).
        overall: The test of the whole table (``difference`` is ``None``).
        groups: Key -> the group compared with all the others pooled; its
            ``adjusted_p_value`` is corrected for the number of groups.
        correction: ``"holm"`` or ``"bh"``.
    """

    metric: str
    by: str
    overall: Comparison
    groups: dict[Hashable, Comparison]
    correction: Correction

    @property
    def significant(self) -> list[Hashable]:
        """The keys of the groups that differ from the rest after the correction."""
        return [key for key, c in self.groups.items() if c.significant()]

    def verdict(self) -> str:
        """The overall test, then one line per group."""
        overall = self.overall
        head = f"{self.metric} by {self.by}: "
        if overall.p_value is None:
            head += "no test possible (too little data)."
        else:
            differ = "the groups differ" if overall.significant() else "no clear difference"
            head += f"{differ} ({overall.test}, {overall._p_words()})."
        name = {"holm": "Holm", "bh": "Benjamini-Hochberg"}[self.correction]
        lines = [head, f"Each group against the rest ({name}-adjusted p):"]
        lines += [f"  {c.verdict()}" for c in self.groups.values()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.verdict()

    def __repr__(self) -> str:
        return (
            f"GroupComparison({self.metric} by {self.by}: overall p={self.overall.p_value!r}, "
            f"significant={self.significant!r}, correction={self.correction!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the overall test and each group's comparison (keys as text)."""
        return {
            "metric": self.metric,
            "by": self.by,
            "correction": self.correction,
            "overall": self.overall.to_dict(),
            "groups": {str(k): c.to_dict() for k, c in self.groups.items()},
        }

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(str(key))}{' *' if c.significant() else ''}</td>"
            f"<td>{esc(c.verdict())}</td><td>{_p(c.p_value)}</td><td>{_p(c.adjusted_p_value)}</td></tr>"
            for key, c in self.groups.items()
        )
        return (
            f"<table><caption>{esc(self.verdict().splitlines()[0])}</caption>"
            f"<tr><th>{esc(self.by)}</th><th>against the rest</th><th>p</th>"
            f"<th>adjusted p</th></tr>{rows}</table>"
            "<p>* differs from the rest after the correction</p>"
        )


def _p(p: float | None) -> str:
    return "" if p is None else f"{p:.3g}"


def _rates_overall(
    rates: Mapping[Hashable, Rate], confidence: float, names: tuple[str, ...], what: str
) -> Comparison:
    """Pearson's chi-square test of homogeneity of the k x 2 table (groups with n = 0 left out)."""
    base = Comparison("rates", confidence=confidence, names=names, what=what)
    counts = [
        (int(r.numerator), int(r.denominator))
        for r in rates.values()
        if not isinstance(r.denominator, Decimal) and r.denominator
    ]
    if len(counts) < 2 or len(counts) != sum(1 for r in rates.values() if r.denominator):
        return base
    total = sum(n for _, n in counts)
    successes = sum(x for x, _ in counts)
    if successes in (0, total):
        return base
    share = successes / total
    statistic = sum(
        (x - n * share) ** 2 / (n * share) + ((n - x) - n * (1 - share)) ** 2 / (n * (1 - share))
        for x, n in counts
    )
    df = len(counts) - 1
    return attrs.evolve(
        base,
        statistic=statistic,
        df=df,
        p_value=chi2_sf(statistic, df),
        test=f"chi-square test of homogeneity ({df} df)",
    )


def _curve(result: object) -> KaplanMeier[Any]:
    """A timedelta curve of a duration summary (censored for "km"), or the curve itself."""
    if isinstance(result, KaplanMeier):
        return result
    if isinstance(result, DurationSummary):
        ended = result.open if result.method == "current" else result.ended
        still = result.open if result.method == "km" else {}
        return KaplanMeier.from_counts(
            {timedelta(microseconds=t): n for t, n in ended.items()},
            {timedelta(microseconds=t): n for t, n in still.items()},
        )
    msg = f"compare_groups needs rates, duration summaries or Kaplan-Meier curves, got {result!r}."
    raise TypeError(msg)


def _pooled(curves: list[KaplanMeier[Any]]) -> KaplanMeier[Any]:
    events: Counter[Any] = Counter()
    censored: Counter[Any] = Counter()
    for c in curves:
        events.update(dict(zip(c.times, c.event_counts, strict=True)))
        censored.update(dict(zip(c.times, c.censored_counts, strict=True)))
    return KaplanMeier.from_counts(events, censored)


def compare_groups(
    breakdown: Mapping[Hashable, Any],
    *,
    correction: Correction = "holm",
    confidence: float = 0.95,
) -> GroupComparison:
    """Test a breakdown as a whole, and each group against all the others.

    Args:
        breakdown: A :class:`~salesflow.metrics.Breakdown` (or any mapping)
            of :class:`Rate`, :class:`DurationSummary` or :class:`KaplanMeier`.
        correction: ``"holm"`` (family-wise error) or ``"bh"``
            (Benjamini-Hochberg, false discovery rate).
        confidence: Level of the intervals; a group is marked as different
            when its adjusted p-value is below 1 − *confidence*.

    Returns:
        The :class:`GroupComparison`.

    Raises:
        TypeError: If the results are neither rates nor durations.
        ValueError: With fewer than two groups, an unknown correction, or a
            confidence outside (0, 1).
    """
    if correction not in ("holm", "bh"):
        msg = f"correction must be 'holm' or 'bh', got {correction!r}."
        raise ValueError(msg)
    level = check_confidence(confidence)
    if len(breakdown) < 2:
        msg = f"compare_groups needs at least two groups, got {len(breakdown)}."
        raise ValueError(msg)
    metric = str(getattr(breakdown, "metric", "result")).replace("_", " ")
    by = str(getattr(breakdown, "by", "group"))
    keys = list(breakdown)
    names = tuple(str(k) for k in keys)
    results = list(breakdown.values())
    groups: dict[Hashable, Comparison] = {}
    if all(isinstance(r, Rate) for r in results):
        overall = _rates_overall(dict(zip(keys, results, strict=True)), level, names, metric)
        for i, key in enumerate(keys):
            rest = [r for j, r in enumerate(results) if j != i]
            pooled = Rate.of(sum(r.numerator for r in rest), sum(r.denominator for r in rest))
            groups[key] = compare(
                results[i], pooled, confidence=level, names=(names[i], _REST), what=metric
            )
    else:
        curves = [_curve(r) for r in results]
        overall = logrank(*curves, names=names, what=metric, confidence=level)
        for i, key in enumerate(keys):
            others = _pooled([c for j, c in enumerate(curves) if j != i])
            groups[key] = logrank(
                curves[i], others, names=(names[i], _REST), what=metric, confidence=level
            )
    tested = [k for k, c in groups.items() if c.p_value is not None]
    adjusted = adjust([groups[k].p_value or 0.0 for k in tested], correction)
    for key, p in zip(tested, adjusted, strict=True):
        groups[key] = attrs.evolve(groups[key], adjusted_p_value=p)
    return GroupComparison(metric, by, overall, groups, correction)
