"""Cumulative incidence of competing outcomes (Aalen-Johansen).

The competing-risks sibling of :mod:`._survival` (Kaplan-Meier): it shares
that module's duration checks and count builders (``_duration``,
``_add_counts``, ``_like``, ``_step``) on purpose, so that both estimators
accept and refuse exactly the same input.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, overload

import attrs

from .._frames import concat, float_series, int_series
from .._optional import pandas
from ._kmci import incidence_intervals, z_of
from ._survival import KaplanMeier, TimeT, _add_counts, _duration, _like, _NumberT, _step

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CumulativeIncidence", "cumulative_incidence"]


def _sorted_labels(labels: Iterable[Hashable]) -> tuple[Hashable, ...]:
    # Sorted so that results do not depend on input order; labels of mixed types
    # cannot be compared, so those fall back to sorting by repr.
    unique = set(labels)
    try:
        return tuple(sorted(unique))  # type: ignore[type-var]
    except TypeError:
        return tuple(sorted(unique, key=repr))


@attrs.frozen(repr=False)
class CumulativeIncidence(Generic[TimeT]):
    """Aalen-Johansen cumulative incidence of competing outcomes (e.g. won vs lost).

    CIF_j(t) = sum over times t_l <= t of S(t_l-) * d_jl / n_l, where S is the
    Kaplan-Meier curve of ending for any cause (:attr:`overall`), d_jl the spells
    ending with cause j at t_l and n_l those at risk. CIF_j(t) estimates the
    probability of ending with cause j by t; the CIFs and S(t) sum to 1. One
    minus a Kaplan-Meier curve that treats the other causes as censored
    overstates it, because it pretends that lost deals could still be won.

    :meth:`incidence_interval` gives a pointwise interval at the level of
    ``overall.confidence``: the delta-method (Greenwood-type) variance on the
    log(-log) scale, as SAS LIFETEST and lifelines compute it.

    Attributes:
        causes: The observed causes, sorted.
        overall: Kaplan-Meier curve of ending for any cause; its ``survival(t)``
            is the probability that a spell is still open after t.
        event_counts: Per cause, spells ending with it at each ``overall.times``.
        incidence_values: Per cause, CIF at each ``overall.times``.
    """

    causes: tuple[Hashable, ...]
    overall: KaplanMeier[TimeT]
    event_counts: tuple[tuple[int, ...], ...]
    incidence_values: tuple[tuple[float, ...], ...]
    # The interval columns are built on first use and kept.
    _cache: dict[Hashable, Any] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )

    @overload
    @classmethod
    def from_counts(
        cls,
        events: Mapping[Hashable, Mapping[timedelta, int]],
        censored: Mapping[timedelta, int] | None = None,
        *,
        confidence: float = 0.95,
    ) -> CumulativeIncidence[timedelta]: ...
    @overload
    @classmethod
    def from_counts(
        cls,
        events: Mapping[Hashable, Mapping[_NumberT, int]],
        censored: Mapping[_NumberT, int] | None = None,
        *,
        confidence: float = 0.95,
    ) -> CumulativeIncidence[float]: ...
    @classmethod
    def from_counts(
        cls,
        events: Mapping[Hashable, Mapping[Any, int]],
        censored: Mapping[Any, int] | None = None,
        *,
        confidence: float = 0.95,
    ) -> CumulativeIncidence[Any]:
        """Build from ``{cause: {time: spells ending with it}}`` and ``{time: still open}``.

        Gives exactly what :func:`cumulative_incidence` gives on the durations
        these counts summarise.

        Raises:
            ValueError: As :meth:`KaplanMeier.from_counts`, or if a cause is None.
        """
        by_cause: dict[Hashable, dict[Any, int]] = {}
        any_cause: dict[Any, int] = {}
        for cause, counts in events.items():
            if cause is None:
                msg = "events must not use the cause None, which marks open spells; got None."
                raise ValueError(msg)
            _add_counts(counts, "events", by_cause.setdefault(cause, {}))
            _add_counts(counts, "events", any_cause)
        overall = KaplanMeier.from_counts(any_cause, censored, confidence=confidence)
        causes = _sorted_labels(cause for cause, counts in by_cause.items() if counts)
        table = tuple(tuple(by_cause[c].get(t, 0) for t in overall.times) for c in causes)
        incidences = []
        for per_time in table:
            values, total, before = [], 0.0, 1.0
            for n, d, after in zip(overall.at_risk, per_time, overall.survival_values, strict=True):
                total += before * d / n  # before = S just before this time
                values.append(total)
                before = after
            incidences.append(tuple(values))
        return cls(causes, overall, table, tuple(incidences))

    @property
    def n(self) -> int:
        """Number of spells, ended or still open."""
        return self.overall.n

    @property
    def censored(self) -> int:
        """Number of spells still open at the cut-off."""
        return self.overall.censored

    @property
    def events(self) -> dict[Hashable, int]:
        """Number of spells that ended with each cause."""
        return {c: sum(counts) for c, counts in zip(self.causes, self.event_counts, strict=True)}

    def incidence(self, cause: Hashable, t: TimeT) -> float | None:
        """CIF of *cause* at *t*: the estimated probability of having ended with it by *t*.

        Returns ``None`` for a result built from no spells (undefined).

        Raises:
            ValueError: If *cause* was never observed (often a misspelt label),
                or *t* is not of the durations' kind.
        """
        if not self.overall.times:
            return None
        if cause not in self.causes:
            msg = f"cause must be one of the observed causes {self.causes!r}, got {cause!r}."
            raise ValueError(msg)
        values = self.incidence_values[self.causes.index(cause)]
        return _step(self.overall.times, values, _like(t, self.overall.times, "t"), 0.0)

    def _intervals(self, cause: Hashable) -> tuple[tuple[float, float], ...]:
        if cause not in self._cache:
            i = self.causes.index(cause)
            self._cache[cause] = incidence_intervals(
                self.overall.at_risk,
                self.overall.event_counts,
                self.overall.survival_values,
                self.event_counts[i],
                self.incidence_values[i],
                z_of(self.overall.confidence),
            )
        columns: tuple[tuple[float, float], ...] = self._cache[cause]
        return columns

    def incidence_interval(self, cause: Hashable, t: TimeT) -> tuple[float, float] | None:
        """Pointwise interval of :meth:`incidence` at ``overall.confidence`` (see the class).

        Returns ``(0.0, 0.0)`` before the cause's first event and ``None`` for
        a result built from no spells.

        Raises:
            ValueError: As :meth:`incidence`.
        """
        if self.incidence(cause, t) is None:
            return None
        i = bisect.bisect_right(self.overall.times, _like(t, self.overall.times, "t"))
        return self._intervals(cause)[i - 1] if i else (0.0, 0.0)

    def survival(self, t: TimeT) -> float | None:
        """Probability that a spell is still open after *t*: ``overall.survival(t)``."""
        return self.overall.survival(t)

    def to_dict(self) -> dict[str, Any]:
        """Counts and the timeline, with events and incidence per cause, as plain dicts."""
        rows = []
        for i, (time, at_risk, _, censored, survival) in enumerate(self.overall.timeline):
            events = {
                c: counts[i] for c, counts in zip(self.causes, self.event_counts, strict=True)
            }
            cifs = {c: cif[i] for c, cif in zip(self.causes, self.incidence_values, strict=True)}
            rows.append(
                {"time": time, "at_risk": at_risk, "events": events, "censored": censored}
                | {"survival": survival, "incidence": cifs}
            )
        return {"n": self.n, "censored": self.censored, "events": self.events, "timeline": rows}

    def __repr__(self) -> str:
        counts = f"n={self.n!r}, censored={self.censored!r}, events={self.events!r}"
        return f"CumulativeIncidence({counts})"

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per time and cause: events, incidence, survival."""
        pd = pandas("CumulativeIncidence.to_frame()")
        # The survival curve's own interval columns do not describe the incidences.
        overall = self.overall.to_frame().drop(columns=["ci_low", "ci_high"])
        parts = []
        for cause, counts, values in zip(
            self.causes, self.event_counts, self.incidence_values, strict=True
        ):
            part = overall.copy()
            part["events"] = int_series(pd, list(counts))
            part.insert(1, "cause", pd.Series([cause] * len(part), dtype=object))
            part["incidence"] = float_series(pd, list(values))
            bounds = self._intervals(cause)
            part["ci_low"] = float_series(pd, [b[0] for b in bounds])
            part["ci_high"] = float_series(pd, [b[1] for b in bounds])
            parts.append(part)
        if not parts:
            empty = overall.copy()
            empty.insert(1, "cause", pd.Series([], dtype=object))
            empty["incidence"] = float_series(pd, [])
            empty["ci_low"] = float_series(pd, [])
            empty["ci_high"] = float_series(pd, [])
            return empty
        return concat(pd, parts).sort_values(["time"], kind="stable", ignore_index=True)


@overload
def cumulative_incidence(
    durations: Iterable[timedelta], causes: Iterable[Hashable | None], *, confidence: float = ...
) -> CumulativeIncidence[timedelta]: ...
@overload
def cumulative_incidence(
    durations: Iterable[float | Decimal],
    causes: Iterable[Hashable | None],
    *,
    confidence: float = ...,
) -> CumulativeIncidence[float]: ...
def cumulative_incidence(
    durations: Iterable[float | Decimal] | Iterable[timedelta],
    causes: Iterable[Hashable | None],
    *,
    confidence: float = 0.95,
) -> CumulativeIncidence[Any]:
    """Aalen-Johansen cumulative incidence of competing outcomes (won, lost, still open).

    See :class:`CumulativeIncidence` for the formula.

    Args:
        durations: Length of each spell, all numbers or all timedeltas.
        causes: How each spell ended, as any hashable label (e.g. ``"won"``,
            ``"lost"``), or ``None`` if it was still open at the cut-off.
        confidence: Level of :meth:`CumulativeIncidence.incidence_interval`.

    Returns:
        The estimate; with no durations, one with ``n == 0`` whose
        ``incidence`` and ``survival`` are ``None``.

    Raises:
        ValueError: If the lengths differ, a duration is negative, NaN or
            infinite, or numbers and timedeltas are mixed.

    Examples:
        >>> ci = cumulative_incidence(
        ...     [10, 12, 15, 15, 20, 25, 30, 30, 40, 45],
        ...     ["won", "lost", "won", None, "lost", "won", None, "lost", "won", None],
        ... )
        >>> round(ci.incidence("won", 40), 6), round(ci.incidence("lost", 30), 6)
        (0.491667, 0.333333)
    """
    values, labels = list(durations), list(causes)
    if len(values) != len(labels):
        msg = f"durations and causes must be as long, got {len(values)} and {len(labels)} items."
        raise ValueError(msg)
    events: dict[Hashable, dict[Any, int]] = {}
    censored: dict[Any, int] = {}
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        time = _duration(value, f"durations[{i}]")
        counts = censored if label is None else events.setdefault(label, {})
        counts[time] = counts.get(time, 0) + 1
    return CumulativeIncidence.from_counts(events, censored, confidence=confidence)
