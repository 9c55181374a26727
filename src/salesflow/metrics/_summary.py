"""Summaries of durations and counts, built from exactly mergeable counts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._frames import build, days, result_floats, result_ints, result_texts
from .._optional import pandas
from .._time import DAY, micros
from ._intervals import t_quantile
from ._kmci import check_confidence
from ._survival import KaplanMeier

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd

__all__ = ["CountSummary", "DurationMethod", "DurationSummary"]

DurationMethod = Literal["km", "completed", "current"]


def _check_q(q: float) -> float:
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 1:
        msg = f"q must be a fraction between 0 and 1 (0.5 for the median), got {q!r}."
        raise ValueError(msg)
    return float(q)


def _quantile(values: list[int], q: float) -> float:
    # Linear interpolation between order statistics (numpy's default, R type 7).
    pos = (len(values) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


def _expand(counts: Mapping[int, int]) -> list[int]:
    return [v for v in sorted(counts) for _ in range(counts[v])]


@attrs.frozen(repr=False)
class DurationSummary:
    """How long something took: count, mean, median and percentiles as ``timedelta``.

    The method says which spells were measured:

    * ``"completed"``: spells that ended, only; conditional on exit, so it
      understates durations while many spells are still open.
    * ``"current"``: the age of spells still open at the cut-off.
    * ``"km"``: Kaplan-Meier, with open spells right-censored at the cut-off.
      ``median`` and ``percentile`` come from the curve (``None`` if it never
      falls that low); ``mean`` is the restricted mean up to the longest
      observed duration, a lower bound when that spell is still open, and
      ``None`` when no spell has ended.

    Every value is ``None`` when there is nothing to summarise.

    Intervals, at ``confidence``: :meth:`percentile_interval` and
    :attr:`median_interval` by Brookmeyer & Crowley on the Kaplan-Meier curve
    of the spells measured (with no censoring for ``"completed"`` and
    ``"current"``); :attr:`mean_interval` from the restricted mean's
    delta-method variance (``"km"``) or Student's t (otherwise).

    Attributes:
        method: ``"completed"``, ``"current"`` or ``"km"``.
        n: Spells summarised (for ``"km"``: ended plus still open).
        censored: Spells still open at the cut-off.
        ended: Spells that ended, as ``{microseconds: count}``.
        open: Open spells' ages at the cut-off, as ``{microseconds: count}``.
        confidence: Level of the intervals (0.95 unless given).
    """

    method: DurationMethod
    ended: Mapping[int, int] = attrs.field(hash=False)
    open: Mapping[int, int] = attrs.field(hash=False)
    confidence: float = attrs.field(default=0.95, converter=check_confidence, kw_only=True)
    # The curve and the sorted values are built on first use and kept: reading
    # the median, the mean and a percentile should not sort the data each time.
    _cache: dict[str, Any] = attrs.field(init=False, factory=dict, eq=False, repr=False, hash=False)

    @classmethod
    def of(
        cls, method: DurationMethod, ended: Mapping[int, int], still_open: Mapping[int, int]
    ) -> DurationSummary:
        """Build from duration counts in microseconds."""
        return cls(method, dict(ended), dict(still_open))

    @classmethod
    def from_durations(
        cls,
        durations: Iterable[timedelta],
        *,
        still_open: Iterable[timedelta] = (),
        method: DurationMethod = "completed",
    ) -> DurationSummary:
        """Build from lists of ended and still-open durations."""
        return cls(
            method, Counter(micros(d) for d in durations), Counter(micros(d) for d in still_open)
        )

    @property
    def _used(self) -> Mapping[int, int]:
        return self.open if self.method == "current" else self.ended

    @property
    def n(self) -> int:
        """Spells summarised."""
        if self.method == "km":
            return sum(self.ended.values()) + sum(self.open.values())
        return sum(self._used.values())

    @property
    def censored(self) -> int:
        """Spells still open at the cut-off."""
        return sum(self.open.values())

    @property
    def km(self) -> KaplanMeier[float] | None:
        """The Kaplan-Meier curve over microseconds (``"km"`` only)."""
        if self.method != "km":
            return None
        if "km" not in self._cache:
            self._cache["km"] = KaplanMeier._from_microseconds(self.ended, self.open)
        curve: KaplanMeier[float] = self._cache["km"]
        return curve

    @property
    def _curve(self) -> KaplanMeier[float]:
        """The curve the percentile intervals read: censored for "km", else uncensored."""
        if "curve" not in self._cache:
            km = self.km
            self._cache["curve"] = (
                km.with_confidence(self.confidence)
                if km is not None
                else KaplanMeier._from_microseconds(self._used, {}, confidence=self.confidence)
            )
        uncensored: KaplanMeier[float] = self._cache["curve"]
        return uncensored

    def percentile_interval(self, q: float) -> tuple[timedelta | None, timedelta | None]:
        """Confidence interval of :meth:`percentile` (``q`` in (0, 1]); see the class.

        Either end is ``None`` when the data cannot bound it (for ``"km"``,
        often the high end while many spells are open).

        Raises:
            ValueError: If *q* is not in (0, 1].
        """
        q = _check_q(q)
        if q == 0:
            msg = f"q must be greater than 0 for an interval, got {q!r}."
            raise ValueError(msg)
        low, high = self._curve.percentile_interval(q)
        return (
            None if low is None else timedelta(microseconds=round(low)),
            None if high is None else timedelta(microseconds=round(high)),
        )

    @property
    def median_interval(self) -> tuple[timedelta | None, timedelta | None]:
        """Confidence interval of the median: ``percentile_interval(0.5)``."""
        return self.percentile_interval(0.5)

    @property
    def mean_interval(self) -> tuple[timedelta, timedelta] | None:
        """Confidence interval of :attr:`mean`, or ``None`` where it has none.

        ``"km"``: the restricted mean ± z·SE (Klein & Moeschberger 4.5, as R's
        ``rmean``), to the same horizon as :attr:`mean`. Otherwise the
        t-interval mean ± t(n - 1)·s/√n, which needs n >= 2; durations are
        right-skewed, so for small n its coverage falls a little short (the
        "Metric definitions" page gives the simulated coverage).
        """
        if self.mean is None:
            return None
        if self.method == "km":
            curve = self._curve
            bound = curve.restricted_mean_interval(curve.times[-1])
            if bound is None:
                return None
            return timedelta(microseconds=round(bound[0])), timedelta(microseconds=round(bound[1]))
        used = self._used
        n = sum(used.values())
        if n < 2:
            return None
        # Exact integer sums (microseconds), so the variance loses no digits.
        total = sum(v * c for v, c in used.items())
        squares = sum(v * v * c for v, c in used.items())
        variance = (n * squares - total * total) / (n * (n - 1))
        half = t_quantile(0.5 + self.confidence / 2, n - 1) * math.sqrt(variance / n)
        centre = total / n
        return (
            timedelta(microseconds=round(max(0.0, centre - half))),
            timedelta(microseconds=round(centre + half)),
        )

    @property
    def mean(self) -> timedelta | None:
        """The mean (``"km"``: restricted to the longest observed duration)."""
        if self.method == "km":
            curve = self.km
            # With no spell ended, the curve says only "at least this long".
            if curve is None or not curve.times or not curve.events:
                return None
            area = curve.restricted_mean(curve.times[-1])
            return None if area is None else timedelta(microseconds=round(area))
        used = self._used
        total = sum(used.values())
        if not total:
            return None
        return timedelta(microseconds=round(sum(v * c for v, c in used.items()) / total))

    def percentile(self, q: float) -> timedelta | None:
        """The duration by which a fraction *q* of spells ended (``q`` in [0, 1])."""
        q = _check_q(q)
        if self.method == "km":
            curve = self.km
            if curve is None or not curve.times:
                return None
            if q == 0:
                return timedelta(0)
            found = curve.percentile(q)
            return None if found is None else timedelta(microseconds=round(found))
        if "values" not in self._cache:
            self._cache["values"] = _expand(self._used)
        values: list[int] = self._cache["values"]
        if not values:
            return None
        return timedelta(microseconds=round(_quantile(values, q)))

    @property
    def median(self) -> timedelta | None:
        """The median duration."""
        return self.percentile(0.5)

    def merge(self, other: DurationSummary) -> DurationSummary:
        """Both summaries' spells together (exact)."""
        if self.method != other.method:
            msg = f"Cannot merge a {self.method!r} summary with a {other.method!r} one."
            raise ValueError(msg)
        return DurationSummary(
            self.method,
            Counter(self.ended) + Counter(other.ended),
            Counter(self.open) + Counter(other.open),
            confidence=self.confidence,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; durations in seconds."""

        def seconds(d: timedelta | None) -> float | None:
            return None if d is None else d.total_seconds()

        return {
            "method": self.method,
            "n": self.n,
            "censored": self.censored,
            "mean_seconds": seconds(self.mean),
            "median_seconds": seconds(self.median),
            "p90_seconds": seconds(self.percentile(0.9)),
            "confidence": self.confidence,
            "mean_interval_seconds": [seconds(d) for d in self.mean_interval or (None, None)],
            "median_interval_seconds": [seconds(d) for d in self.median_interval],
        }

    def interval_text(self) -> str:
        """``'95% CI: median 9.0-15.0 d, mean 10.2-14.9 d'`` (``n/a`` for an open end)."""

        def days(d: timedelta | None) -> str:
            return "n/a" if d is None else f"{d / DAY:.1f}"

        median = "-".join(days(d) for d in self.median_interval) if self.n else "n/a"
        mean = self.mean_interval
        means = "n/a" if mean is None else "-".join(days(d) for d in mean)
        return f"{self.confidence:.0%} CI: median {median} d, mean {means} d"

    def format(self) -> str:
        """``'median 12.0 d, mean 14.2 d (n=40, 3 open, km)'``."""

        def days(d: timedelta | None) -> str:
            return "n/a" if d is None else f"{d / DAY:.1f} d"

        return f"median {days(self.median)}, mean {days(self.mean)} (n={self.n}, {self.censored} open, {self.method})"

    def __repr__(self) -> str:
        return f"DurationSummary({self.format()})"

    def __str__(self) -> str:
        return self.format()

    def _repr_html_(self) -> str:
        from ._show import duration_sheet

        return duration_sheet(self).html()

    def to_frame(self) -> pd.DataFrame:
        """A one-row pandas DataFrame: n, censored, mean/median/p90 in days, method, intervals."""
        pd = pandas("DurationSummary.to_frame()")
        return build(pd, _duration_columns(pd, [self]))


@attrs.frozen(repr=False)
class CountSummary:
    """A summary of whole counts (e.g. touchpoints per conversion).

    Attributes:
        counts: ``{value: how many items had it}``.
    """

    counts: Mapping[int, int] = attrs.field(hash=False)

    @property
    def n(self) -> int:
        """Items summarised."""
        return sum(self.counts.values())

    @property
    def total(self) -> int:
        """The sum of the values."""
        return sum(v * c for v, c in self.counts.items())

    @property
    def mean(self) -> float | None:
        """The mean, or ``None`` with no items."""
        return self.total / self.n if self.n else None

    def percentile(self, q: float) -> float | None:
        """Linear-interpolated quantile (``q`` in [0, 1]), or ``None`` with no items."""
        q = _check_q(q)
        values = _expand(self.counts)
        return _quantile(values, q) if values else None

    @property
    def median(self) -> float | None:
        """The median, or ``None`` with no items."""
        return self.percentile(0.5)

    def merge(self, other: CountSummary) -> CountSummary:
        """Both summaries together (exact)."""
        return CountSummary(Counter(self.counts) + Counter(other.counts))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "n": self.n,
            "mean": self.mean,
            "median": self.median,
            "counts": {str(k): v for k, v in sorted(self.counts.items())},
        }

    def __repr__(self) -> str:
        mean = "n/a" if self.mean is None else f"{self.mean:.2f}"
        return f"CountSummary(n={self.n}, mean={mean}, median={self.median})"

    def to_frame(self) -> pd.DataFrame:
        """A one-row pandas DataFrame: n, total, mean, median, p90."""
        pd = pandas("CountSummary.to_frame()")
        return build(
            pd,
            {
                "n": result_ints(pd, [self.n]),
                "total": result_ints(pd, [self.total]),
                "mean": result_floats(pd, [self.mean]),
                "median": result_floats(pd, [self.median]),
                "p90": result_floats(pd, [self.percentile(0.9)]),
            },
        )


def _duration_columns(pd: ModuleType, summaries: Sequence[DurationSummary]) -> dict[str, pd.Series]:
    return {
        "method": result_texts(pd, [s.method for s in summaries]),
        "n": result_ints(pd, [s.n for s in summaries]),
        "censored": result_ints(pd, [s.censored for s in summaries]),
        "mean_days": result_floats(pd, [days(s.mean) for s in summaries]),
        "median_days": result_floats(pd, [days(s.median) for s in summaries]),
        "p90_days": result_floats(pd, [days(s.percentile(0.9)) for s in summaries]),
        "mean_ci_low_days": result_floats(pd, [days(_end(s.mean_interval, 0)) for s in summaries]),
        "mean_ci_high_days": result_floats(pd, [days(_end(s.mean_interval, 1)) for s in summaries]),
        "median_ci_low_days": result_floats(
            pd, [days(_end(s.median_interval, 0)) for s in summaries]
        ),
        "median_ci_high_days": result_floats(
            pd, [days(_end(s.median_interval, 1)) for s in summaries]
        ),
    }


def _end(
    interval: tuple[timedelta | None, timedelta | None] | tuple[timedelta, timedelta] | None,
    i: int,
) -> timedelta | None:
    return None if interval is None else interval[i]


def summaries_frame(summaries: Mapping[str, DurationSummary]) -> pd.DataFrame:
    """One row per stage of a ``{stage key: DurationSummary}`` (``metrics.time_in_stage``)."""
    pd = pandas("time in stage to_frame()")
    items = list(summaries.items())
    columns = {"stage": result_texts(pd, [k for k, _ in items])}
    columns.update(_duration_columns(pd, [s for _, s in items]))
    return build(pd, columns)


def duration_rows(
    prefix: str, summary: DurationSummary, stage: str | None = None
) -> list[dict[str, Any]]:
    """The metric-table rows of a summary: mean, median and p90, in days."""
    values = {
        "mean": (summary.mean, summary.mean_interval),
        "median": (summary.median, summary.median_interval if summary.n else None),
        "p90": (summary.percentile(0.9), summary.percentile_interval(0.9) if summary.n else None),
    }
    return [
        {
            "metric": f"{prefix}_{name}",
            "stage": stage,
            "value": days(value),
            "unit": "days",
            "n": summary.n,
            "censored": summary.censored,
            "ci_low": days(_end(interval, 0)),
            "ci_high": days(_end(interval, 1)),
        }
        for name, (value, interval) in values.items()
    ]
