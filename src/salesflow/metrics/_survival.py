"""Survival curves for durations when some spells are still open: Kaplan-Meier.

Time in a stage or time to close cannot be averaged honestly while some deals
are open: dropping them keeps only the fast ones, and counting them as closed at
the cut-off shortens every long spell. Kaplan-Meier uses an open spell for as
long as it was observed ("censored" at the cut-off); Aalen-Johansen does the
same when a spell can end in several ways (won, lost), where treating the other
outcome as censored would overstate each one (``_incidence.py``).

Both are built from counts per time (``from_counts``), so mergeable accumulators
can feed them and get exactly what the raw durations would give. Durations are
all numbers (int, float, Decimal, Fraction; results are floats in the same unit)
or all :class:`datetime.timedelta` (results are timedeltas).
"""

from __future__ import annotations

import bisect
import math
import numbers
import operator
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import accumulate, islice, repeat
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

import attrs

from .._frames import build, float_series, int_series
from .._optional import pandas
from .._time import MICROSECOND
from ._kmci import (
    Transform,
    bounds,
    check_confidence,
    check_transform,
    greenwood,
    restricted_mean_variance,
    z_of,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KaplanMeier", "kaplan_meier"]

TimeT = TypeVar("TimeT", float, timedelta)
_NumberT = TypeVar("_NumberT", bound="float | Decimal")

# Products of float factors land a few ulps off exact values: with 24 distinct
# durations and no censoring, S after the 12th is 0.5000000000000001. Each of the
# k factors and k products rounds once (relative error 2**-53 each), so a float
# S within 4 (k + 2) 2**-53 of the target, relatively, is decided exactly.
_UNIT_ROUNDOFF = 2.0**-53


def _duration(value: object, name: str) -> float | timedelta:
    """Return *value* as a timedelta or a float, refusing negatives, NaN and infinities."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            msg = f"{name} must not be negative, got {value!r}."
            raise ValueError(msg)
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        msg = f"{name} must be a number or a timedelta, got {value!r}."
        raise ValueError(msg)
    number = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0.
    if not math.isfinite(number) or number < 0:
        msg = f"{name} must be a finite, non-negative number, got {value!r}."
        raise ValueError(msg)
    return number


def _add_counts(counts: Mapping[Any, Any], name: str, into: dict[Any, int]) -> None:
    for time, count in counts.items():
        # Plain non-negative ints (what the metrics' accumulators hold) need no
        # further checks; anything else goes through the full validation.
        if type(time) is int and type(count) is int and time >= 0 and count >= 0:
            if count:
                number = float(time)
                into[number] = into.get(number, 0) + count
            continue
        key = _duration(time, f"{name} times")
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            msg = f"{name} counts must be non-negative ints, got {count!r} at {time!r}."
            raise ValueError(msg)
        if count:
            into[key] = into.get(key, 0) + int(count)


def _like(value: object, times: tuple[Any, ...], name: str) -> Any:
    """Check that a query time has the kind of the curve's times; return it in that kind."""
    of_timedeltas = bool(times) and isinstance(times[0], timedelta)
    if isinstance(value, timedelta) and (of_timedeltas or not times):
        return value
    if of_timedeltas:
        msg = f"{name} must be a timedelta, as the durations were, got {value!r}."
        raise ValueError(msg)
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        msg = f"{name} must be a number, as the durations were, got {value!r}."
        raise ValueError(msg)
    if math.isnan(number := float(value)):
        msg = f"{name} must not be NaN, got {value!r}."
        raise ValueError(msg)
    return number


def _number(t: float | timedelta) -> float:
    """A time as a float: timedeltas in microseconds, which they represent exactly."""
    return t / MICROSECOND if isinstance(t, timedelta) else t


def _level(q: float) -> Fraction:
    """1 - q exactly, for the q the caller wrote (0.9 means nine tenths, not its float)."""
    if isinstance(q, bool) or not isinstance(q, numbers.Real | Decimal) or not 0 < q <= 1:
        msg = f"q must be greater than 0 and at most 1, got {q!r}."
        raise ValueError(msg)
    exact = Fraction(q) if isinstance(q, Fraction | int) else Fraction(Decimal(str(q)))
    return 1 - exact


def _first_at_or_below(
    values: tuple[float, ...], target: Fraction, at_risk: tuple[int, ...], ended: tuple[int, ...]
) -> int | None:
    """First i with S_i <= target, deciding float near-ties in exact arithmetic.

    *values* are the float S_i, products of the factors (n - d) / n of
    *at_risk* and *ended*. A float within the rounding bound of *target*
    (relative 4 (k + 2) 2**-53 for k values) may lie on either side of it;
    for those the product is taken again in fractions. Any other float is on
    the same side of *target* as the true value.
    """
    slack = 4 * (len(values) + 2) * _UNIT_ROUNDOFF
    near = float(target)
    high = near * (1 + slack) + 1e-300
    low = near * (1 - slack)
    # values never increases, so its negation is sorted for bisect.
    i = bisect.bisect_left(values, -high, key=operator.neg)
    exact: Fraction | None = None
    while i < len(values):
        if values[i] < low:
            return i
        # A near-tie (rare, and then usually a few steps): the exact product up
        # to i once, then one factor per further step.
        if exact is None:
            exact = Fraction(1)
            for n, d in zip(at_risk[: i + 1], ended[: i + 1], strict=True):
                if d:
                    exact *= Fraction(n - d, n)
        elif ended[i]:
            exact *= Fraction(at_risk[i] - ended[i], at_risk[i])
        if exact <= target:
            return i
        i += 1
    return None


def _step(times: tuple[Any, ...], values: tuple[float, ...], t: Any, before: float) -> float:
    """Value at *t* of a right-continuous step function, *before* left of its first step."""
    i = bisect.bisect_right(times, t)
    return values[i - 1] if i else before


@attrs.frozen(repr=False)
class KaplanMeier(Generic[TimeT]):
    """Kaplan-Meier estimate of the survival curve S(t) = P(spell still open after t).

    S(t) = prod over event times t_i <= t of (1 - d_i / n_i), with d_i the spells
    that ended at t_i and n_i those still open just before t_i. A censored spell
    counts as at risk up to and including its censoring time: on ties, events
    come before censorings. Build one with :func:`kaplan_meier` or
    :meth:`from_counts`.

    Beyond the largest observed duration the curve is held at its last value (as
    lifelines and statsmodels do); it is not identified there when the last spell
    is censored, so read :meth:`restricted_mean` past that point with care.

    Pointwise intervals (:meth:`survival_interval`) use Greenwood's variance on
    the scale named by ``transform``; intervals for the median and other
    percentiles (:meth:`percentile_interval`) invert them as Brookmeyer &
    Crowley (1982) do. Both are at ``confidence``; :meth:`with_confidence`
    gives the same curve at another level or scale.

    Attributes:
        times: Distinct observed durations (events or censorings), ascending.
        at_risk: Spells still open just before each time.
        event_counts: Spells that ended at each time.
        censored_counts: Spells still open at the cut-off, at each time.
        survival_values: S(t) at each time.
        confidence: Level of the intervals, strictly between 0 and 1.
        transform: Scale of the intervals: ``"log-log"``, ``"log"`` or ``"plain"``.
    """

    times: tuple[TimeT, ...]
    at_risk: tuple[int, ...]
    event_counts: tuple[int, ...]
    censored_counts: tuple[int, ...]
    survival_values: tuple[float, ...]
    confidence: float = attrs.field(default=0.95, converter=check_confidence, kw_only=True)
    transform: Transform = attrs.field(
        default="log-log", validator=lambda _s, _a, v: check_transform(v), kw_only=True
    )
    # The interval columns are built on first use and kept.
    _cache: dict[str, Any] = attrs.field(init=False, factory=dict, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        columns = (self.at_risk, self.event_counts, self.censored_counts, self.survival_values)
        if any(len(column) != len(self.times) for column in columns):
            msg = f"Every column must have one entry per time, got {len(self.times)!r} times."
            raise ValueError(msg)

    @overload
    @classmethod
    def from_counts(
        cls,
        events: Mapping[timedelta, int],
        censored: Mapping[timedelta, int] | None = None,
        *,
        confidence: float = 0.95,
        transform: Transform = "log-log",
    ) -> KaplanMeier[timedelta]: ...
    @overload
    @classmethod
    def from_counts(
        cls,
        events: Mapping[_NumberT, int],
        censored: Mapping[_NumberT, int] | None = None,
        *,
        confidence: float = 0.95,
        transform: Transform = "log-log",
    ) -> KaplanMeier[float]: ...
    @classmethod
    def from_counts(
        cls,
        events: Mapping[Any, int],
        censored: Mapping[Any, int] | None = None,
        *,
        confidence: float = 0.95,
        transform: Transform = "log-log",
    ) -> KaplanMeier[Any]:
        """Build the curve from ``{time: spells that ended}`` and ``{time: spells still open}``.

        Gives exactly what :func:`kaplan_meier` gives on the durations these
        counts summarise, so accumulators can be merged by adding counts.

        Raises:
            ValueError: If a time is negative, NaN or infinite, if numbers and
                timedeltas are mixed, if a count is not a non-negative int, or
                if *confidence* or *transform* is not one :class:`KaplanMeier`
                accepts.

        Examples:
            >>> km = KaplanMeier.from_counts(
            ...     {2: 1, 3: 1, 5: 1, 8: 1, 9: 1, 15: 1}, {3: 1, 8: 1, 12: 1, 20: 1}
            ... )
            >>> km.n, km.median, round(km.survival(15), 6)
            (10, 9.0, 0.214286)
        """
        ended: dict[Any, int] = {}
        still_open: dict[Any, int] = {}
        _add_counts(events, "events", ended)
        _add_counts(censored or {}, "censored", still_open)
        return cls._from_checked(ended, still_open)._with(confidence, transform)

    @classmethod
    def _from_microseconds(
        cls,
        events: Mapping[int, int],
        censored: Mapping[int, int],
        *,
        confidence: float = 0.95,
        transform: Transform = "log-log",
    ) -> KaplanMeier[float]:
        """From counts the library built itself (non-negative int keys and counts): no checks."""
        # Whole microseconds stay ints (exact, and ints are numbers to every reader).
        # Copying to drop zero counts costs a pass; most inputs have none.
        curve: KaplanMeier[float] = cls._from_checked(
            {t: n for t, n in events.items() if n} if 0 in events.values() else events,
            {t: n for t, n in censored.items() if n} if 0 in censored.values() else censored,
        )
        return curve._with(confidence, transform)

    @classmethod
    def _from_checked(
        cls, ended: Mapping[Any, int], still_open: Mapping[Any, int]
    ) -> KaplanMeier[Any]:
        try:
            # Sorting a list of the keys and dropping the (adjacent) repeats is
            # about half the work of sorting their set union for a million
            # mostly distinct durations.
            times = sorted([*ended, *still_open])
            if any(map(operator.eq, times, islice(times, 1, None))):
                times = list(dict.fromkeys(times))
        except TypeError:
            # Numbers and timedeltas do not compare; sort them apart to name both.
            times = sorted(
                ended.keys() | still_open.keys(), key=lambda t: (isinstance(t, timedelta), t)
            )
        if times and isinstance(times[0], timedelta) != isinstance(times[-1], timedelta):
            msg = (
                f"Times must be all numbers or all timedeltas, got {times[0]!r} and {times[-1]!r}."
            )
            raise ValueError(msg)
        # Column by column, with map() over C functions only: no Python-level
        # code runs per distinct time (this builds the curves of a million-deal
        # report). Every number is as before: (r - 0) / r is exactly 1.0, and
        # the survival product multiplies in the same order.
        d_list = list(map(ended.get, times, repeat(0)))
        c_list = list(map(still_open.get, times, repeat(0)))
        total = sum(d_list) + sum(c_list)
        at_risk = list(accumulate(map(operator.add, d_list, c_list), operator.sub, initial=total))
        at_risk.pop()  # the last entry is what remains after the last time: 0
        # At every listed time r >= d + c >= 1 (zero counts never make a time).
        factors = map(operator.truediv, map(operator.sub, at_risk, d_list), at_risk)
        survival = tuple(accumulate(factors, operator.mul))
        return cls(tuple(times), tuple(at_risk), tuple(d_list), tuple(c_list), survival)

    def _with(self, confidence: float, transform: Transform) -> KaplanMeier[TimeT]:
        if confidence == 0.95 and transform == "log-log":
            return self
        return attrs.evolve(self, confidence=confidence, transform=transform)

    def with_confidence(
        self, confidence: float = 0.95, transform: Transform = "log-log"
    ) -> KaplanMeier[TimeT]:
        """The same curve with its intervals at another level or on another scale.

        Raises:
            ValueError: If *confidence* is not strictly between 0 and 1 or
                *transform* is not ``"log-log"``, ``"log"`` or ``"plain"``.
        """
        return attrs.evolve(self, confidence=confidence, transform=transform)

    @property
    def n(self) -> int:
        """Number of spells, ended or still open."""
        return self.at_risk[0] if self.at_risk else 0

    @property
    def events(self) -> int:
        """Number of spells that ended."""
        return sum(self.event_counts)

    @property
    def censored(self) -> int:
        """Number of spells still open at the cut-off."""
        return sum(self.censored_counts)

    @property
    def timeline(self) -> tuple[tuple[TimeT, int, int, int, float], ...]:
        """Rows ``(time, at_risk, events, censored, survival)``, one per distinct time."""
        columns = (self.at_risk, self.event_counts, self.censored_counts, self.survival_values)
        return tuple(zip(self.times, *columns, strict=True))

    def survival(self, t: TimeT) -> float | None:
        """S(t): the fraction of spells estimated still open after *t* (right-continuous).

        Returns 1.0 before the first event, and ``None`` for a curve built from
        no spells: with nothing observed the fraction is undefined, not 1.
        """
        if not self.times:
            return None
        return _step(self.times, self.survival_values, _like(t, self.times, "t"), 1.0)

    def percentile(self, q: float) -> TimeT | None:
        """Time by which a fraction *q* of spells had ended: the first t with S(t) <= 1 - q.

        lifelines' ``percentile(p)`` counts the other way (the t where S(t) = p).

        Args:
            q: Fraction of spells ended, 0 < q <= 1 (0.5 gives the median).

        Returns:
            A time from :attr:`times`, or ``None`` if the curve never falls that
            low (too many spells still open): the percentile is then unknown.

        Raises:
            ValueError: If *q* is not in (0, 1].
        """
        target = _level(q)
        i = _first_at_or_below(self.survival_values, target, self.at_risk, self.event_counts)
        return self.times[i] if i is not None else None

    def _interval_columns(self) -> tuple[tuple[float, float] | None, ...]:
        if "intervals" not in self._cache:
            z = z_of(self.confidence)
            variances = greenwood(self.at_risk, self.event_counts)
            self._cache["intervals"] = tuple(
                bounds(s, v, z, self.transform)
                for s, v in zip(self.survival_values, variances, strict=True)
            )
        columns: tuple[tuple[float, float] | None, ...] = self._cache["intervals"]
        return columns

    @property
    def intervals(self) -> tuple[tuple[float, float] | None, ...]:
        """The pointwise interval of S at each of :attr:`times` (see :meth:`survival_interval`)."""
        return self._interval_columns()

    def survival_interval(self, t: TimeT) -> tuple[float, float] | None:
        """Pointwise confidence interval ``(low, high)`` of S(t), at :attr:`confidence`.

        Greenwood's variance of log S on the :attr:`transform` scale (see the
        "Metric definitions" page for the formulas). Before the first event
        it is ``(1.0, 1.0)``.

        Returns:
            The interval, or ``None`` for a curve built from no spells and
            where S(t) = 0 (every spell at risk ended: Greenwood's variance is
            infinite there, and R reports no interval either).
        """
        if not self.times:
            return None
        i = bisect.bisect_right(self.times, _like(t, self.times, "t"))
        return self._interval_columns()[i - 1] if i else (1.0, 1.0)

    def percentile_interval(self, q: float) -> tuple[TimeT | None, TimeT | None]:
        """Confidence interval of :meth:`percentile` (Brookmeyer & Crowley 1982).

        The times t at which "S(t) = 1 - q" is not rejected: the low end is
        the first time at which the interval's lower bound falls to 1 - q or
        below, the high end the first time at which its upper bound does (as
        R's ``quantile.survfit`` and lifelines do, on the same scale as
        :meth:`survival_interval`). Where S = 0 both bounds count as 0.

        Args:
            q: Fraction of spells ended, 0 < q <= 1 (0.5 for the median).

        Returns:
            ``(low, high)``; either end is ``None`` when its bound never falls
            that low (the high end often is: the data cannot rule out a longer
            time).

        Raises:
            ValueError: If *q* is not in (0, 1].
        """
        target = float(_level(q))
        # A scan, not a bisection: the bounds need not fall monotonically (on
        # the log scale the upper one is clipped at 1, then may return there).
        # They are transcendental in the counts, so exact ties with the target
        # do not arise and float comparisons suffice.
        low = high = None
        for time, bound in zip(self.times, self._interval_columns(), strict=True):
            lower, upper = (0.0, 0.0) if bound is None else bound
            if low is None and lower <= target:
                low = time
            if upper <= target:
                high = time
                break
        return low, high

    @property
    def median_interval(self) -> tuple[TimeT | None, TimeT | None]:
        """Confidence interval of the median: :meth:`percentile_interval` at 0.5."""
        return self.percentile_interval(0.5)

    @property
    def median(self) -> TimeT | None:
        """Median duration, the first t with S(t) <= 0.5 (``None`` if never reached).

        R's survfit returns the midpoint when S(t) is exactly 0.5 over an
        interval; this returns the start of that interval (as lifelines does).
        """
        return self.percentile(0.5)

    def restricted_mean(self, tau: TimeT) -> TimeT | None:
        """Restricted mean duration: the area under S from 0 to *tau*.

        It estimates the mean of min(T, tau), in the unit of the durations.
        Returns ``None`` for a curve built from no spells.

        Raises:
            ValueError: If *tau* is negative or not of the durations' kind.
        """
        horizon = _like(tau, self.times, "tau")
        end = _number(horizon)
        if end < 0:
            msg = f"tau must not be negative, got {tau!r}."
            raise ValueError(msg)
        if not self.times:
            return None
        # The steps at or before tau, summed as whole columns: much faster than
        # a Python loop over hundreds of thousands of distinct durations.
        k: int = bisect.bisect_right(self.times, horizon)
        head: tuple[Any, ...] = self.times[:k]
        starts: list[float] = (
            [_number(t) for t in head] if k and isinstance(head[0], timedelta) else list(head)
        )
        levels = [1.0, *self.survival_values[: k - 1]] if k else []
        widths = map(operator.sub, starts, [0.0, *starts[:-1]])
        area = sum(map(operator.mul, levels, widths))
        last_level = self.survival_values[k - 1] if k else 1.0
        area += last_level * (end - (starts[-1] if k else 0.0))
        result = timedelta(microseconds=area) if isinstance(horizon, timedelta) else area
        return cast("TimeT", result)

    def restricted_mean_interval(self, tau: TimeT) -> tuple[TimeT, TimeT] | None:
        """Confidence interval of :meth:`restricted_mean` at :attr:`confidence`.

        The restricted mean ± z·SE, SE from the delta-method variance
        sum of A_i² d_i / (n_i (n_i - d_i)) over event times up to *tau*, A_i
        the area under S from t_i to *tau* (Klein & Moeschberger 2003, 4.5;
        R's ``print(fit, rmean=tau)`` gives the same SE). The low end is
        clipped at 0. ``None`` for a curve built from no spells.

        Raises:
            ValueError: As :meth:`restricted_mean`.
        """
        mean = self.restricted_mean(tau)
        if mean is None:
            return None
        horizon = _like(tau, self.times, "tau")
        k = bisect.bisect_right(self.times, horizon)
        starts = [_number(t) for t in self.times[:k]]
        variance = restricted_mean_variance(
            starts, self.survival_values, self.at_risk, self.event_counts, _number(horizon)
        )
        half = z_of(self.confidence) * math.sqrt(variance)
        centre = _number(mean)
        ends: tuple[Any, Any] = (max(0.0, centre - half), centre + half)
        if isinstance(horizon, timedelta):
            ends = (timedelta(microseconds=ends[0]), timedelta(microseconds=ends[1]))
        return ends

    def to_dict(self) -> dict[str, Any]:
        """Summary counts, the median and the timeline as plain dicts and lists."""
        columns = ("time", "at_risk", "events", "censored", "survival")
        return {
            "n": self.n,
            "events": self.events,
            "censored": self.censored,
            "median": self.median,
            "median_interval": list(self.median_interval),
            "confidence": self.confidence,
            "transform": self.transform,
            "timeline": [
                dict(zip(columns, row, strict=True))
                | {"ci_low": None if b is None else b[0], "ci_high": None if b is None else b[1]}
                for row, b in zip(self.timeline, self.intervals, strict=True)
            ],
        }

    def __repr__(self) -> str:
        return (
            f"KaplanMeier(n={self.n!r}, events={self.events!r}, "
            f"censored={self.censored!r}, median={self.median!r})"
        )

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame of the timeline.

        Columns: time, at_risk, events, censored, survival, and the pointwise
        interval ci_low, ci_high (missing where S = 0).
        """
        pd = pandas("KaplanMeier.to_frame()")
        times: list[Any] = list(self.times)  # all floats or all timedeltas
        if times and isinstance(times[0], timedelta):
            time = pd.Series(times, dtype="timedelta64[us]")
        else:
            time = float_series(pd, times)
        return build(
            pd,
            {
                "time": time,
                "at_risk": int_series(pd, list(self.at_risk)),
                "events": int_series(pd, list(self.event_counts)),
                "censored": int_series(pd, list(self.censored_counts)),
                "survival": float_series(pd, list(self.survival_values)),
                "ci_low": float_series(pd, [None if b is None else b[0] for b in self.intervals]),
                "ci_high": float_series(pd, [None if b is None else b[1] for b in self.intervals]),
            },
        )


@overload
def kaplan_meier(
    durations: Iterable[timedelta],
    observed: Iterable[object],
    *,
    confidence: float = ...,
    transform: Transform = ...,
) -> KaplanMeier[timedelta]: ...
@overload
def kaplan_meier(
    durations: Iterable[float | Decimal],
    observed: Iterable[object],
    *,
    confidence: float = ...,
    transform: Transform = ...,
) -> KaplanMeier[float]: ...
def kaplan_meier(
    durations: Iterable[float | Decimal] | Iterable[timedelta],
    observed: Iterable[object],
    *,
    confidence: float = 0.95,
    transform: Transform = "log-log",
) -> KaplanMeier[Any]:
    """Kaplan-Meier survival curve of durations, some of them still open (censored).

    S(t) = prod over event times t_i <= t of (1 - d_i / n_i); see :class:`KaplanMeier`.

    Args:
        durations: Length of each spell (e.g. days in a stage), all numbers or
            all timedeltas; for an open spell, the time from its start to the
            cut-off.
        observed: One flag per duration: True (or 1) if the spell ended, False
            (or 0) if it was still open at the cut-off.
        confidence: Level of the curve's intervals, strictly between 0 and 1.
        transform: Scale of the pointwise intervals, as R's ``conf.type``:
            ``"log-log"`` (the default, as lifelines), ``"log"`` (R's
            default) or ``"plain"``.

    Returns:
        The curve; with no durations, a curve with ``n == 0`` whose
        ``survival``, ``median``, ``percentile`` and ``restricted_mean`` are
        ``None``.

    Raises:
        ValueError: If the lengths differ, a duration is negative, NaN or
            infinite, numbers and timedeltas are mixed, a flag is not 0/1, or
            *confidence* or *transform* is out of range.

    Examples:
        >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12, 15, 20], [1, 1, 0, 1, 1, 0, 1, 0, 1, 0])
        >>> round(km.survival(5), 6), km.median, round(km.restricted_mean(20), 6)
        (0.685714, 9.0, 10.771429)
        >>> [round(x, 4) for x in km.survival_interval(5)], km.median_interval
        ([0.3046, 0.8871], (2.0, None))
    """
    values, flags = list(durations), list(observed)
    if len(values) != len(flags):
        msg = f"durations and observed must be as long, got {len(values)} and {len(flags)} items."
        raise ValueError(msg)
    events: dict[Any, int] = {}
    censored: dict[Any, int] = {}
    for i, (value, flag) in enumerate(zip(values, flags, strict=True)):
        time = _duration(value, f"durations[{i}]")
        if isinstance(flag, numbers.Integral) and flag in (0, 1):  # bool is Integral too
            counts = events if flag else censored
            counts[time] = counts.get(time, 0) + 1
        else:
            msg = f"observed[{i}] must be True/False or 1/0, got {flag!r}."
            raise ValueError(msg)
    return KaplanMeier.from_counts(events, censored, confidence=confidence, transform=transform)
