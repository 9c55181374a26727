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
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

import attrs

from .._frames import build, float_series, int_series
from .._optional import pandas
from .._time import MICROSECOND

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KaplanMeier", "kaplan_meier"]

TimeT = TypeVar("TimeT", float, timedelta)
_NumberT = TypeVar("_NumberT", bound="float | Decimal")

# Products of float factors land a few ulps off exact values: with 24 distinct
# durations and no censoring, S after the 12th is 0.5000000000000001, and without
# this slack the median would be the 13th duration instead of the 12th.
_TOLERANCE = 1e-12


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

    Attributes:
        times: Distinct observed durations (events or censorings), ascending.
        at_risk: Spells still open just before each time.
        event_counts: Spells that ended at each time.
        censored_counts: Spells still open at the cut-off, at each time.
        survival_values: S(t) at each time.
    """

    times: tuple[TimeT, ...]
    at_risk: tuple[int, ...]
    event_counts: tuple[int, ...]
    censored_counts: tuple[int, ...]
    survival_values: tuple[float, ...]

    def __attrs_post_init__(self) -> None:
        columns = (self.at_risk, self.event_counts, self.censored_counts, self.survival_values)
        if any(len(column) != len(self.times) for column in columns):
            msg = f"Every column must have one entry per time, got {len(self.times)!r} times."
            raise ValueError(msg)

    @overload
    @classmethod
    def from_counts(
        cls, events: Mapping[timedelta, int], censored: Mapping[timedelta, int] | None = None
    ) -> KaplanMeier[timedelta]: ...
    @overload
    @classmethod
    def from_counts(
        cls, events: Mapping[_NumberT, int], censored: Mapping[_NumberT, int] | None = None
    ) -> KaplanMeier[float]: ...
    @classmethod
    def from_counts(
        cls, events: Mapping[Any, int], censored: Mapping[Any, int] | None = None
    ) -> KaplanMeier[Any]:
        """Build the curve from ``{time: spells that ended}`` and ``{time: spells still open}``.

        Gives exactly what :func:`kaplan_meier` gives on the durations these
        counts summarise, so accumulators can be merged by adding counts.

        Raises:
            ValueError: If a time is negative, NaN or infinite, if numbers and
                timedeltas are mixed, or if a count is not a non-negative int.

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
        return cls._from_checked(ended, still_open)

    @classmethod
    def _from_microseconds(
        cls, events: Mapping[int, int], censored: Mapping[int, int]
    ) -> KaplanMeier[float]:
        """From counts the library built itself (non-negative int keys and counts): no checks."""
        # Whole microseconds stay ints (exact, and ints are numbers to every reader).
        curve: KaplanMeier[float] = cls._from_checked(
            {t: n for t, n in events.items() if n}, {t: n for t, n in censored.items() if n}
        )
        return curve

    @classmethod
    def _from_checked(cls, ended: dict[Any, int], still_open: dict[Any, int]) -> KaplanMeier[Any]:
        try:
            times = sorted(ended.keys() | still_open.keys())
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
        # Column by column (comprehensions and accumulate run much faster than
        # one Python loop); the survival product multiplies in the same order.
        d_list = [ended.get(t, 0) for t in times]
        c_list = [still_open.get(t, 0) for t in times]
        total = sum(d_list) + sum(c_list)
        removed = accumulate(map(operator.add, d_list, c_list), initial=0)
        at_risk = [total - r for r in removed][: len(times)]
        factors = [(r - d) / r if d else 1.0 for r, d in zip(at_risk, d_list, strict=True)]
        survival = list(accumulate(factors, operator.mul))
        return cls(tuple(times), tuple(at_risk), tuple(d_list), tuple(c_list), tuple(survival))

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
        if isinstance(q, bool) or not 0 < q <= 1:
            msg = f"q must be greater than 0 and at most 1, got {q!r}."
            raise ValueError(msg)
        # survival_values never increases, so its negation is sorted for bisect.
        i = bisect.bisect_left(self.survival_values, q - 1.0 - _TOLERANCE, key=operator.neg)
        return self.times[i] if i < len(self.times) else None

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

    def to_dict(self) -> dict[str, Any]:
        """Summary counts, the median and the timeline as plain dicts and lists."""
        columns = ("time", "at_risk", "events", "censored", "survival")
        return {
            "n": self.n,
            "events": self.events,
            "censored": self.censored,
            "median": self.median,
            "timeline": [dict(zip(columns, row, strict=True)) for row in self.timeline],
        }

    def __repr__(self) -> str:
        return (
            f"KaplanMeier(n={self.n!r}, events={self.events!r}, "
            f"censored={self.censored!r}, median={self.median!r})"
        )

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame of the timeline: time, at_risk, events, censored, survival."""
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
            },
        )


@overload
def kaplan_meier(
    durations: Iterable[timedelta], observed: Iterable[object]
) -> KaplanMeier[timedelta]: ...
@overload
def kaplan_meier(
    durations: Iterable[float | Decimal], observed: Iterable[object]
) -> KaplanMeier[float]: ...
def kaplan_meier(
    durations: Iterable[float | Decimal] | Iterable[timedelta], observed: Iterable[object]
) -> KaplanMeier[Any]:
    """Kaplan-Meier survival curve of durations, some of them still open (censored).

    S(t) = prod over event times t_i <= t of (1 - d_i / n_i); see :class:`KaplanMeier`.

    Args:
        durations: Length of each spell (e.g. days in a stage), all numbers or
            all timedeltas; for an open spell, the time from its start to the
            cut-off.
        observed: One flag per duration: True (or 1) if the spell ended, False
            (or 0) if it was still open at the cut-off.

    Returns:
        The curve; with no durations, a curve with ``n == 0`` whose
        ``survival``, ``median``, ``percentile`` and ``restricted_mean`` are
        ``None``.

    Raises:
        ValueError: If the lengths differ, a duration is negative, NaN or
            infinite, numbers and timedeltas are mixed, or a flag is not 0/1.

    Examples:
        >>> km = kaplan_meier([2, 3, 3, 5, 8, 8, 9, 12, 15, 20], [1, 1, 0, 1, 1, 0, 1, 0, 1, 0])
        >>> round(km.survival(5), 6), km.median, round(km.restricted_mean(20), 6)
        (0.685714, 9.0, 10.771429)
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
    return KaplanMeier.from_counts(events, censored)
