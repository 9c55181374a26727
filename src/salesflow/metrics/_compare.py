"""Comparisons: is a difference between two rates, or between duration curves, real?

* :func:`compare`: two :class:`Rate`\\ s — the difference with Newcombe's
  hybrid score interval, the ratio, and a p-value (Fisher's exact test when an
  expected count is below 5, else the score test, i.e. Pearson's chi-square
  without continuity correction, as R's ``prop.test(correct=FALSE)``).
* :func:`logrank`: two or more Kaplan-Meier curves — the k-sample log-rank
  test (R's ``survdiff``) and, for two, the difference in medians with an
  approximate interval.

Each returns a :class:`Comparison` whose ``str`` is a plain-language verdict.
Comparing every group of a breakdown is :func:`._groups.compare_groups`.
"""

from __future__ import annotations

import bisect
import html
import math
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

import attrs

from ._intervals import wilson_interval
from ._kmci import check_confidence
from ._rate import Rate
from ._stats import chi2_sf, fisher_exact, solve
from ._survival import KaplanMeier

__all__ = ["Comparison", "compare", "logrank"]

ComparisonKind = Literal["rates", "durations"]


def _p_text(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _days(value: Any) -> float:
    return value / timedelta(days=1) if isinstance(value, timedelta) else float(value)


@attrs.frozen(repr=False)
class Comparison:
    """The outcome of comparing two rates or two or more duration curves.

    Every field that the comparison does not define is ``None``: an
    amount-based rate has no interval and no p-value; a log-rank test of
    three curves has no difference.

    Attributes:
        kind: ``"rates"`` or ``"durations"``.
        difference: a − b: of the rates (a fraction), or of the medians (in
            the curves' unit, a ``timedelta`` for timedelta curves).
        interval: ``(low, high)`` of the difference at ``confidence``.
        ratio: a ÷ b (of the rates, or of the medians).
        statistic: The test statistic (chi-square for the score and
            log-rank tests; ``None`` for Fisher's exact test).
        p_value: Two-sided p-value of "no difference".
        test: Which test gave the p-value, in words.
        confidence: Level of the interval.
        names: How the verdict names the two sides (or every group).
        what: What was compared, for the verdict (``"win rate"``).
        df: Degrees of freedom of a chi-square statistic.
        adjusted_p_value: The p-value after a multiple-testing correction,
            when the comparison is one of several (:func:`compare_groups`).
    """

    kind: ComparisonKind
    difference: Any = None
    interval: tuple[Any, Any] | None = None
    ratio: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    test: str | None = None
    confidence: float = 0.95
    names: tuple[str, ...] = ("a", "b")
    what: str = "rate"
    df: int | None = None
    adjusted_p_value: float | None = None

    def significant(self, level: float | None = None) -> bool | None:
        """Whether the (adjusted, if any) p-value is below *level* (default 1 − confidence)."""
        p = self.adjusted_p_value if self.adjusted_p_value is not None else self.p_value
        if p is None:
            return None
        return p < (1 - self.confidence if level is None else level)

    def _p_words(self) -> str:
        if self.p_value is None:
            return ""
        words = _p_text(self.p_value)
        if self.adjusted_p_value is not None:
            words += f", adjusted {_p_text(self.adjusted_p_value).removeprefix('p ')}"
        return words

    def verdict(self) -> str:
        """A plain-language sentence, e.g. "a's win rate is 8.1 points higher than b's (…)"."""
        level = f"{self.confidence:.0%}".replace("%", " %")
        if len(self.names) > 2:
            return self._groups_verdict()
        if self.kind == "rates":
            return self._rates_verdict(level)
        return self._durations_verdict(level)

    def _rates_verdict(self, level: str) -> str:
        a, b = self.names[0], self.names[1]
        if self.difference is None:
            return f"{a}'s {self.what} cannot be compared with {b}'s: one of them is undefined."
        points = self.difference * 100
        way = "higher than" if points > 0 else "lower than" if points < 0 else "the same as"
        size = f"{abs(points):.1f} points " if points else ""
        parts = []
        if self.interval is not None:
            # + 0.0 turns a -0.0 into 0.0 so that no interval prints "-0.0".
            low, high = (round(x * 100, 1) + 0.0 for x in self.interval)
            parts.append(f"{level} CI {low:.1f} to {high:.1f}")
        if self.p_value is not None:
            parts.append(self._p_words())
        detail = f" ({', '.join(parts)})" if parts else ""
        tail = self._tail()
        return f"{a}'s {self.what} is {size}{way} {b}'s{detail}{tail}"

    def _durations_verdict(self, level: str) -> str:
        detail = f" ({self.test}, {self._p_words()})" if self.p_value is not None else ""
        a, b = self.names
        if self.difference is None:
            return (
                f"{a}'s and {b}'s median {self.what} are not both known "
                f"(too many spells still open){detail}{self._tail()}"
            )
        days = _days(self.difference)
        # Timedelta curves are read in days; plain numbers keep their own unit.
        unit = " d" if isinstance(self.difference, timedelta) else ""
        way = "longer than" if days > 0 else "shorter than" if days < 0 else "the same as"
        size = f"{abs(days):.1f}{unit} " if days else ""
        parts = []
        if self.interval is not None:
            low, high = (round(_days(x), 1) + 0.0 for x in self.interval)
            parts.append(f"{level} CI {low:.1f} to {high:.1f}{unit}")
        if self.p_value is not None:
            parts.append(f"log-rank {self._p_words()}")
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{a}'s median {self.what} is {size}{way} {b}'s{detail}{self._tail()}"

    def _groups_verdict(self) -> str:
        """One test of three or more groups: do they differ at all?"""
        flag = self.significant()
        if flag is None:
            return f"{self.what} across {len(self.names)} groups: too little data to test."
        words = "the groups differ" if flag else "no clear difference"
        detail = f" ({self.test}, {self._p_words()})"
        return f"{self.what} across {len(self.names)} groups: {words}{detail}."

    def _tail(self) -> str:
        flag = self.significant()
        if flag is None or flag:
            return "."
        if self.p_value is not None and self.p_value < 1 - self.confidence:
            return ": no clear difference once the other comparisons are allowed for."
        return ": no clear difference."

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (durations in days)."""

        def plain(x: Any) -> Any:
            return _days(x) if isinstance(x, timedelta) else x

        return {
            "kind": self.kind,
            "names": list(self.names),
            "what": self.what,
            "difference": plain(self.difference),
            "interval": None if self.interval is None else [plain(x) for x in self.interval],
            "ratio": self.ratio,
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "adjusted_p_value": self.adjusted_p_value,
            "test": self.test,
            "confidence": self.confidence,
        }

    def __str__(self) -> str:
        return self.verdict()

    def __repr__(self) -> str:
        fields = ("difference", "interval", "ratio", "statistic", "p_value", "test")
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
        return f"Comparison({self.kind}: {' vs '.join(self.names)}; {shown})"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.verdict())}</p>"


def _counts(rate: Rate) -> tuple[int, int] | None:
    """A count rate's (successes, trials); ``None`` for an amount-based rate."""
    if isinstance(rate.numerator, Decimal) or isinstance(rate.denominator, Decimal):
        return None
    return int(rate.numerator), int(rate.denominator)


def compare(
    a: Rate,
    b: Rate,
    *,
    confidence: float = 0.95,
    names: tuple[str, str] = ("a", "b"),
    what: str = "rate",
) -> Comparison:
    """Compare two rates: difference, Newcombe interval, ratio and a p-value.

    * difference = p_a − p_b, with Newcombe's (1998) hybrid score interval
      (his method 10): from the Wilson intervals (l, u) of each rate,
      low = d − √((p_a − l_a)² + (u_b − p_b)²), high = d + √((u_a − p_a)² + (p_b − l_b)²).
    * ratio = p_a ÷ p_b (``None`` when p_b is 0).
    * p-value of "same proportion": Fisher's exact test (two-sided, as R's
      ``fisher.test``) when any expected count of the 2 x 2 table is below 5;
      otherwise the score test, Pearson's chi-square without continuity
      correction (R's ``prop.test(correct=FALSE)``), whose statistic is kept.

    Amount-based rates (``Decimal`` counts) get the difference and the ratio
    only; a rate over nothing makes everything ``None``.

    Args:
        a: The first rate (e.g. one rep's win rate).
        b: The second (e.g. the rest of the team's).
        confidence: Level of the interval, strictly between 0 and 1.
        names: How the verdict names *a* and *b*.
        what: What the rates are, for the verdict.

    Returns:
        The :class:`Comparison`.

    Raises:
        TypeError: If *a* or *b* is not a :class:`Rate`.
        ValueError: If *confidence* is not strictly between 0 and 1.

    Examples:
        >>> from salesflow.metrics import Rate, compare
        >>> c = compare(Rate.of(56, 70), Rate.of(48, 80))
        >>> round(c.difference, 4), [round(x, 4) for x in c.interval]
        (0.2, [0.0524, 0.3339])
        >>> c.test
        'score test (chi-square, 1 df)'
    """
    for name, rate in (("a", a), ("b", b)):
        if not isinstance(rate, Rate):
            msg = f"{name} must be a Rate, got {rate!r}."
            raise TypeError(msg)
    level = check_confidence(confidence)
    pa, pb = a.value, b.value
    base = Comparison("rates", confidence=level, names=names, what=what)
    if pa is None or pb is None:
        return base
    difference = pa - pb
    ratio = pa / pb if pb else None
    ca, cb = _counts(a), _counts(b)
    if ca is None or cb is None:
        return attrs.evolve(base, difference=difference, ratio=ratio)
    (xa, na), (xb, nb) = ca, cb
    la, ua = wilson_interval(xa, na, level) or (0.0, 1.0)
    lb, ub = wilson_interval(xb, nb, level) or (0.0, 1.0)
    low = difference - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
    high = difference + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    total, successes = na + nb, xa + xb
    expected = [
        na * successes / total,
        na * (total - successes) / total,
        nb * successes / total,
        nb * (total - successes) / total,
    ]
    if min(expected) < 5:
        p = fisher_exact(xa, na - xa, xb, nb - xb)
        return attrs.evolve(
            base,
            difference=difference,
            interval=(low, high),
            ratio=ratio,
            p_value=p,
            test="Fisher's exact test",
        )
    pooled = successes / total
    statistic = (pa - pb) ** 2 / (pooled * (1 - pooled) * (1 / na + 1 / nb))
    return attrs.evolve(
        base,
        difference=difference,
        interval=(low, high),
        ratio=ratio,
        statistic=statistic,
        df=1,
        p_value=chi2_sf(statistic, 1),
        test="score test (chi-square, 1 df)",
    )


def _at_risk(curve: KaplanMeier[Any], t: Any) -> int:
    """Spells of *curve* still at risk just before *t*."""
    i = bisect.bisect_left(curve.times, t)
    return curve.at_risk[i] if i < len(curve.times) else 0


def _median_difference(a: KaplanMeier[Any], b: KaplanMeier[Any]) -> tuple[Any, Any, Any]:
    """Difference of medians, its approximate interval and the ratio (None where unknown).

    The standard error of each median is read off its Brookmeyer-Crowley
    interval, (high − low) ÷ 2z, as Price & Bonett (2002) do with
    distribution-free intervals; the difference's interval is ± z·√(SE_a² + SE_b²),
    in which z cancels: ± √(width_a² + width_b²) ÷ 2.
    """
    ma, mb = a.median, b.median
    if ma is None or mb is None:
        return None, None, None
    timed = isinstance(ma, timedelta)
    va, vb = _days(ma), _days(mb)
    difference = ma - mb
    ratio = va / vb if vb else None
    ends = (a.median_interval, b.median_interval)
    if any(low is None or high is None for low, high in ends):
        return difference, None, ratio
    half = math.sqrt(sum((_days(high) - _days(low)) ** 2 for low, high in ends)) / 2
    d = va - vb
    interval: tuple[Any, Any] = (d - half, d + half)
    if timed:
        interval = (timedelta(days=interval[0]), timedelta(days=interval[1]))
    return difference, interval, ratio


def logrank(
    *curves: KaplanMeier[Any],
    names: tuple[str, ...] | None = None,
    what: str = "duration",
    confidence: float = 0.95,
) -> Comparison:
    """The k-sample log-rank test of two or more Kaplan-Meier curves (R's ``survdiff``).

    At each distinct event time t, with d ended of N at risk overall and n_j
    at risk in curve j: O_j − E_j sums d_j − d·n_j/N, and its covariance
    V_jl sums d (N − d)/(N − 1) · n_j/N · (δ_jl − n_l/N). The statistic
    (O − E)ᵀ V⁻¹ (O − E) over the first k − 1 curves is chi-square with
    k − 1 degrees of freedom. For two curves the comparison also gives the
    difference of medians (a − b), their ratio and an approximate interval
    from each median's Brookmeyer-Crowley interval (``None`` when an end is
    unknown).

    Args:
        *curves: Two or more curves of the same kind (numbers or timedeltas).
        names: How the verdict names each curve (default "1", "2", …).
        what: What the durations are, for the verdict.
        confidence: Level of the medians' intervals.

    Returns:
        The :class:`Comparison` (``kind="durations"``); ``p_value`` is
        ``None`` when no spell ended or every curve is empty.

    Raises:
        ValueError: With fewer than two curves, names of the wrong length, or
            a confidence outside (0, 1).
    """
    if len(curves) < 2:
        msg = f"logrank needs at least two curves, got {len(curves)}."
        raise ValueError(msg)
    labels = names if names is not None else tuple(str(i + 1) for i in range(len(curves)))
    if len(labels) != len(curves):
        msg = f"names must name each of the {len(curves)} curves, got {names!r}."
        raise ValueError(msg)
    level = check_confidence(confidence)
    k = len(curves)
    event_times = sorted(
        {t for c in curves for t, d in zip(c.times, c.event_counts, strict=True) if d}
    )
    excess = [0.0] * k
    cov = [[0.0] * k for _ in range(k)]
    for t in event_times:
        at_risk = [_at_risk(c, t) for c in curves]
        ended = []
        for c in curves:
            i = bisect.bisect_left(c.times, t)
            ended.append(c.event_counts[i] if i < len(c.times) and c.times[i] == t else 0)
        n, d = sum(at_risk), sum(ended)
        for j in range(k):
            excess[j] += ended[j] - d * at_risk[j] / n
        if n > 1:
            spread = d * (n - d) / (n - 1)
            for j in range(k):
                for m in range(k):
                    share = at_risk[j] / n
                    cov[j][m] += spread * share * ((j == m) - at_risk[m] / n)
    base = Comparison("durations", confidence=level, names=labels, what=what, df=k - 1)
    if k == 2:
        difference, interval, ratio = _median_difference(
            curves[0].with_confidence(level), curves[1].with_confidence(level)
        )
        base = attrs.evolve(base, difference=difference, interval=interval, ratio=ratio)
    solution = (
        solve([row[: k - 1] for row in cov[: k - 1]], excess[: k - 1]) if event_times else None
    )
    if solution is None:
        return base
    statistic = max(0.0, math.fsum(x * u for x, u in zip(solution, excess, strict=False)))
    return attrs.evolve(
        base,
        statistic=statistic,
        p_value=chi2_sf(statistic, k - 1),
        test=f"log-rank test (chi-square, {k - 1} df)",
    )
