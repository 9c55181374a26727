"""Tests for the Kaplan-Meier and Aalen-Johansen estimators in salesflow.metrics."""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesflow.metrics import (
    CumulativeIncidence,
    KaplanMeier,
    cumulative_incidence,
    kaplan_meier,
)

# REFERENCE.md, "Kaplan-Meier (time in stage with open spells censored)".
KM_DURATIONS = [2, 3, 3, 5, 8, 8, 9, 12, 15, 20]
KM_OBSERVED = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
KM_SURVIVAL = {2: 0.900000, 3: 0.800000, 5: 0.685714, 8: 0.571429, 9: 0.428571, 15: 0.214286}

# REFERENCE.md, "Competing risks: won vs lost vs still open (Aalen-Johansen)".
CR_DURATIONS = [10, 12, 15, 15, 20, 25, 30, 30, 40, 45]
CR_CAUSES = ["won", "lost", "won", None, "lost", "won", None, "lost", "won", None]
CIF_WON = {10: 0.1, 15: 0.2, 25: 0.316667, 40: 0.491667}
CIF_LOST = {12: 0.1, 20: 0.216667, 30: 0.333333}

# Small integer durations so that ties (events and censorings at one time) are common.
spells = st.lists(st.tuples(st.integers(0, 30), st.booleans()), max_size=40)
closed_spells = st.lists(st.integers(0, 30), min_size=1, max_size=40)
outcomes = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(["won", "lost", "parked", None])), max_size=40
)


def fit(pairs: list[tuple[int, bool]]) -> KaplanMeier[float]:
    return kaplan_meier([d for d, _ in pairs], [e for _, e in pairs])


def fit_outcomes(
    pairs: list[tuple[int, str]] | list[tuple[int, str | None]],
) -> CumulativeIncidence[float]:
    return cumulative_incidence([d for d, _ in pairs], [c for _, c in pairs])


def redistribute_to_the_right(pairs: list[tuple[int, bool]], t: float) -> Fraction:
    """S(t) by Efron's (1967) redistribute-to-the-right algorithm, in exact fractions.

    Each spell starts with mass 1/n; in time order (events before censorings on
    ties) a censored spell hands its mass in equal shares to every spell after it.
    S(t) is one minus the mass of events at or before t. It is a different
    algorithm from the product limit that yields the same estimate.
    """
    order = sorted(pairs, key=lambda pair: (pair[0], not pair[1]))
    mass = [Fraction(1, len(order))] * len(order)
    for i, (_, ended) in enumerate(order):
        if not ended and i + 1 < len(order):
            share = mass[i] / (len(order) - i - 1)
            mass[i] = Fraction(0)
            for j in range(i + 1, len(order)):
                mass[j] += share
    return 1 - sum(
        (m for (d, ended), m in zip(order, mass, strict=True) if ended and d <= t), Fraction(0)
    )


class TestKaplanMeierReference:
    def test_survival_values(self) -> None:
        """S(t) at 2, 3, 5, 8, 9 and 15 matches REFERENCE.md to 6 decimals."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        for t, expected in KM_SURVIVAL.items():
            assert km.survival(t) == pytest.approx(expected, abs=5e-7)

    def test_median(self) -> None:
        """The median is 9, the first time with S(t) <= 0.5."""
        assert kaplan_meier(KM_DURATIONS, KM_OBSERVED).median == 9

    def test_restricted_mean(self) -> None:
        """The area under S up to tau = 20 is 10.771429."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        assert km.restricted_mean(20) == pytest.approx(10.771429, abs=5e-7)

    def test_restricted_mean_is_not_a_naive_mean(self) -> None:
        """The estimate differs from both naive means in REFERENCE.md (7.0 and 8.5)."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        completed = [d for d, e in zip(KM_DURATIONS, KM_OBSERVED, strict=True) if e]
        assert sum(completed) / len(completed) == 7.0
        assert sum(KM_DURATIONS) / len(KM_DURATIONS) == 8.5
        assert km.restricted_mean(20) not in (pytest.approx(7.0), pytest.approx(8.5))

    def test_events_come_before_censorings_on_ties(self) -> None:
        """The spell censored at 3 is still at risk for the event at 3 (9 at risk, not 8)."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        assert km.timeline[1][:4] == (3.0, 9, 1, 1)
        assert km.survival(3) == pytest.approx(0.9 * 8 / 9, abs=1e-15)

    def test_step_function_is_right_continuous(self) -> None:
        """S is 1 before the first event, jumps at event times and is flat in between."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        assert km.survival(0) == km.survival(1.999) == 1.0
        assert km.survival(2) == pytest.approx(0.9)
        assert km.survival(4.5) == km.survival(3)
        assert km.survival(12) == km.survival(9)
        assert km.survival(100) == km.survival(20) == km.survival(15)

    def test_counts(self) -> None:
        """n, events and censored count the spells."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        assert (km.n, km.events, km.censored) == (10, 6, 4)

    def test_percentiles(self) -> None:
        """percentile(q) is the first t with S(t) <= 1 - q, or None when S never gets there."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        assert km.percentile(0.1) == 2  # S(2) = 0.9 exactly meets 1 - 0.1
        assert km.percentile(0.2) == 3
        assert km.percentile(0.5) == km.median
        assert km.percentile(0.75) == 15
        assert km.percentile(0.8) is None  # S never falls below 0.214286

    def test_from_counts_gives_the_same_curve(self) -> None:
        """The counts that summarise the reference durations give the same curve."""
        events = {2: 1, 3: 1, 5: 1, 8: 1, 9: 1, 15: 1}
        censored = {3: 1, 8: 1, 12: 1, 20: 1}
        assert KaplanMeier.from_counts(events, censored) == kaplan_meier(KM_DURATIONS, KM_OBSERVED)

    def test_timedelta_durations(self) -> None:
        """Timedelta durations give the reference values with results as timedeltas."""
        km = kaplan_meier([timedelta(days=d) for d in KM_DURATIONS], KM_OBSERVED)
        assert km.median == timedelta(days=9)
        assert km.survival(timedelta(days=5)) == pytest.approx(0.685714, abs=5e-7)
        mean = km.restricted_mean(timedelta(days=20))
        assert isinstance(mean, timedelta)
        assert mean / timedelta(days=1) == pytest.approx(10.771429, abs=5e-7)

    def test_decimal_durations(self) -> None:
        """Decimal durations are read as floats in the same unit."""
        km = kaplan_meier([Decimal(d) for d in KM_DURATIONS], KM_OBSERVED)
        assert km == kaplan_meier(KM_DURATIONS, KM_OBSERVED)

    def test_to_dict_and_repr(self) -> None:
        """to_dict has the counts, the median and one row per time; repr shows the summary."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        data = km.to_dict()
        assert (data["n"], data["events"], data["censored"], data["median"]) == (10, 6, 4, 9)
        assert [row["time"] for row in data["timeline"]] == [2, 3, 5, 8, 9, 12, 15, 20]
        assert data["timeline"][0] == {
            "time": 2,
            "at_risk": 10,
            "events": 1,
            "censored": 0,
            "survival": pytest.approx(0.9),
            # R survival 3.5.3, survfit(Surv(t, e) ~ 1) with conf.type="log-log".
            "ci_low": pytest.approx(0.4730092713620505, rel=1e-12),
            "ci_high": pytest.approx(0.985281393367343, rel=1e-12),
        }
        assert repr(km) == "KaplanMeier(n=10, events=6, censored=4, median=9.0)"


class TestKaplanMeierEmpty:
    def test_empty_input_is_undefined(self) -> None:
        """With no spells every estimate is None (undefined), not 1 or 0."""
        km = kaplan_meier([], [])
        assert (km.n, km.events, km.censored, km.timeline) == (0, 0, 0, ())
        assert km.survival(5) is None
        assert km.median is None
        assert km.percentile(0.25) is None
        assert km.restricted_mean(10) is None
        assert km.restricted_mean(timedelta(days=10)) is None

    def test_median_of_an_exact_half_is_not_pushed_by_rounding(self) -> None:
        """Durations 1..24, all ended: S(12) is exactly 0.5 in theory, so the median is 12."""
        # The float product (23/24)(22/23)... lands at 0.5000000000000001 after 12 steps.
        assert kaplan_meier(range(1, 25), [True] * 24).median == 12

    def test_all_censored_has_no_median(self) -> None:
        """If every spell is still open, S stays 1 and the median is None."""
        km = kaplan_meier([4, 9], [False, False])
        assert km.survival(100) == 1.0
        assert km.median is None
        assert km.restricted_mean(9) == 9


class TestKaplanMeierValidation:
    @pytest.mark.parametrize(
        ("durations", "observed", "shown"),
        [
            ([1, -1], [1, 1], "-1"),
            ([1, math.nan], [1, 1], "nan"),
            ([1, math.inf], [1, 0], "inf"),
            ([1, timedelta(days=-1)], [1, 1], "timedelta(days=-1)"),
            ([1, timedelta(days=1)], [1, 1], "timedelta(days=1)"),
            ([1, "3"], [1, 1], "'3'"),
            ([True, 2], [1, 1], "True"),
            ([1, 2], [1, 2], "2"),
            ([1, 2], [1, 0.5], "0.5"),
            ([1, 2], [1, None], "None"),
            ([1, 2], [1], "2 and 1"),
        ],
    )
    def test_bad_input_raises(
        self, durations: list[object], observed: list[object], shown: str
    ) -> None:
        """Malformed durations or flags raise ValueError showing the offending value."""
        with pytest.raises(ValueError, match=re.escape(shown)):
            kaplan_meier(durations, observed)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("events", "censored", "shown"),
        [({1: -1}, {}, "-1"), ({1: True}, {}, "True"), ({1: 1.5}, {}, "1.5"), ({-2: 1}, {}, "-2")],
    )
    def test_bad_counts_raise(
        self, events: dict[float, object], censored: dict[float, int], shown: str
    ) -> None:
        """from_counts refuses negative, bool and fractional counts and negative times."""
        with pytest.raises(ValueError, match=re.escape(shown)):
            KaplanMeier.from_counts(events, censored)  # type: ignore[arg-type]

    @pytest.mark.parametrize("q", [0, -0.1, 1.5, math.nan])
    def test_bad_percentile_raises(self, q: float) -> None:
        """percentile(q) requires 0 < q <= 1."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        with pytest.raises(ValueError, match=re.escape(repr(q))):
            km.percentile(q)

    def test_query_of_the_wrong_kind_raises(self) -> None:
        """A timedelta query on a curve of numbers (and vice versa) raises ValueError."""
        numbers = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        deltas = kaplan_meier([timedelta(days=d) for d in KM_DURATIONS], KM_OBSERVED)
        with pytest.raises(ValueError, match=re.escape("timedelta(days=3)")):
            numbers.survival(timedelta(days=3))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="got 3"):
            deltas.survival(3)  # type: ignore[arg-type]

    def test_negative_tau_raises(self) -> None:
        """restricted_mean refuses a negative horizon."""
        with pytest.raises(ValueError, match="-1"):
            kaplan_meier(KM_DURATIONS, KM_OBSERVED).restricted_mean(-1)


class TestKaplanMeierProperties:
    @given(spells)
    def test_survival_is_non_increasing_in_unit_interval(
        self, pairs: list[tuple[int, bool]]
    ) -> None:
        """S(t) lies in [0, 1] and never increases."""
        values = fit(pairs).survival_values
        assert all(0.0 <= v <= 1.0 for v in values)
        assert all(b <= a for a, b in itertools.pairwise(values))

    @given(spells)
    def test_matches_redistribute_to_the_right(self, pairs: list[tuple[int, bool]]) -> None:
        """The product limit equals Efron's redistribute-to-the-right estimate at every time."""
        km = fit(pairs)
        for t in range(-1, 32):
            if pairs:
                assert km.survival(t) == pytest.approx(
                    redistribute_to_the_right(pairs, t), abs=1e-12
                )
            else:
                assert km.survival(t) is None

    @given(closed_spells)
    def test_without_censoring_equals_empirical_survival(self, durations: list[int]) -> None:
        """With every spell ended, S(t) is the share of durations above t."""
        km = kaplan_meier(durations, [True] * len(durations))
        for t in range(-1, 32):
            share = sum(d > t for d in durations) / len(durations)
            assert km.survival(t) == pytest.approx(share, abs=1e-12)

    @given(closed_spells, st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1.0]))
    def test_without_censoring_percentiles_are_empirical(
        self, durations: list[int], q: float
    ) -> None:
        """With every spell ended, percentile(q) is the first t by which a share q ended."""
        km = kaplan_meier(durations, [True] * len(durations))
        share = Fraction(str(q))  # the decimal the caller meant
        expected = min(
            t
            for t in durations
            if Fraction(sum(d <= t for d in durations), len(durations)) >= share
        )
        assert km.percentile(q) == expected

    @given(closed_spells, st.integers(0, 35))
    def test_without_censoring_restricted_mean_is_mean_of_min(
        self, durations: list[int], tau: int
    ) -> None:
        """With every spell ended, the restricted mean is the mean of min(T, tau)."""
        km = kaplan_meier(durations, [True] * len(durations))
        expected = sum(min(d, tau) for d in durations) / len(durations)
        assert km.restricted_mean(tau) == pytest.approx(expected, abs=1e-9)

    @given(spells, st.randoms(use_true_random=False))
    def test_input_order_does_not_matter(
        self, pairs: list[tuple[int, bool]], rng: random.Random
    ) -> None:
        """Shuffling the spells gives an identical curve."""
        shuffled = pairs[:]
        rng.shuffle(shuffled)
        assert fit(shuffled) == fit(pairs)

    @given(spells)
    def test_from_counts_equals_list_form(self, pairs: list[tuple[int, bool]]) -> None:
        """Counting the durations and calling from_counts gives an identical curve."""
        events = Counter(d for d, e in pairs if e)
        censored = Counter(d for d, e in pairs if not e)
        assert KaplanMeier.from_counts(events, censored) == fit(pairs)

    @given(spells, spells)
    def test_merged_counts_equal_pooled_spells(
        self, first: list[tuple[int, bool]], second: list[tuple[int, bool]]
    ) -> None:
        """Adding the counts of two batches gives the curve of the pooled spells."""
        events = Counter(d for d, e in first if e) + Counter(d for d, e in second if e)
        censored = Counter(d for d, e in first if not e) + Counter(d for d, e in second if not e)
        assert KaplanMeier.from_counts(events, censored) == fit(first + second)

    @given(spells, st.integers(0, 35))
    def test_timedelta_matches_day_numbers(self, pairs: list[tuple[int, bool]], tau: int) -> None:
        """Durations as timedeltas give the same curve as the same durations in days."""
        days = fit(pairs)
        deltas = kaplan_meier([timedelta(days=d) for d, _ in pairs], [e for _, e in pairs])
        assert deltas.survival_values == days.survival_values
        assert [t / timedelta(days=1) for t in deltas.times] == list(days.times)
        median = deltas.median
        assert (median is None and days.median is None) or median == timedelta(days=days.median)  # type: ignore[arg-type]
        mean = deltas.restricted_mean(timedelta(days=tau))
        expected = days.restricted_mean(tau)
        if expected is None:
            assert mean is None
        else:
            assert mean is not None
            assert mean / timedelta(days=1) == pytest.approx(expected, abs=1e-9)


class TestCumulativeIncidence:
    def test_reference_values(self) -> None:
        """The cumulative incidence of won and of lost matches REFERENCE.md."""
        ci = cumulative_incidence(CR_DURATIONS, CR_CAUSES)
        for t, expected in CIF_WON.items():
            assert ci.incidence("won", t) == pytest.approx(expected, abs=5e-7)
        for t, expected in CIF_LOST.items():
            assert ci.incidence("lost", t) == pytest.approx(expected, abs=5e-7)

    def test_censoring_the_other_cause_overstates(self) -> None:
        """1 - KM(won, lost as censored) at 45 is 0.685, above the Aalen-Johansen 0.491667."""
        km = kaplan_meier(CR_DURATIONS, [c == "won" for c in CR_CAUSES])
        overstated = 1 - km.survival(45)  # type: ignore[operator]
        assert overstated == pytest.approx(0.685, abs=5e-7)
        ci = cumulative_incidence(CR_DURATIONS, CR_CAUSES)
        assert ci.incidence("won", 45) == pytest.approx(0.491667, abs=5e-7)

    def test_counts_and_repr(self) -> None:
        """n, censored and events per cause count the spells; causes are sorted."""
        ci = cumulative_incidence(CR_DURATIONS, CR_CAUSES)
        assert (ci.n, ci.censored, ci.events, ci.causes) == (
            10,
            3,
            {"lost": 3, "won": 4},
            ("lost", "won"),
        )
        assert repr(ci) == "CumulativeIncidence(n=10, censored=3, events={'lost': 3, 'won': 4})"

    def test_before_first_event_is_zero(self) -> None:
        """Before any spell ended the incidence is 0 and the survival 1."""
        ci = cumulative_incidence(CR_DURATIONS, CR_CAUSES)
        assert ci.incidence("won", 9) == 0.0
        assert ci.survival(9) == 1.0

    def test_from_counts_gives_the_same_result(self) -> None:
        """Counts per cause and time give the same estimate as the raw outcomes."""
        events = {"won": {10: 1, 15: 1, 25: 1, 40: 1}, "lost": {12: 1, 20: 1, 30: 1}}
        censored = {15: 1, 30: 1, 45: 1}
        assert CumulativeIncidence.from_counts(events, censored) == cumulative_incidence(
            CR_DURATIONS, CR_CAUSES
        )

    def test_timedelta_durations(self) -> None:
        """Timedelta durations give the same incidences, queried with timedeltas."""
        ci = cumulative_incidence([timedelta(days=d) for d in CR_DURATIONS], CR_CAUSES)
        assert ci.incidence("won", timedelta(days=40)) == pytest.approx(0.491667, abs=5e-7)

    def test_to_dict(self) -> None:
        """to_dict carries the counts and, per time, the events and incidence of each cause."""
        data = cumulative_incidence(CR_DURATIONS, CR_CAUSES).to_dict()
        assert (data["n"], data["censored"], data["events"]) == (10, 3, {"lost": 3, "won": 4})
        last = data["timeline"][-1]
        assert (last["time"], last["at_risk"], last["censored"]) == (45, 1, 1)
        assert last["events"] == {"lost": 0, "won": 0}
        assert last["incidence"]["won"] == pytest.approx(0.491667, abs=5e-7)
        assert last["survival"] == pytest.approx(1 - 0.491667 - 0.333333, abs=1e-6)

    def test_empty_input_is_undefined(self) -> None:
        """With no spells, incidence and survival are None."""
        ci = cumulative_incidence([], [])
        assert (ci.n, ci.causes) == (0, ())
        assert ci.incidence("won", 3) is None
        assert ci.survival(3) is None

    def test_unknown_cause_raises(self) -> None:
        """Asking for a cause never observed (e.g. a typo) raises ValueError naming it."""
        ci = cumulative_incidence(CR_DURATIONS, CR_CAUSES)
        with pytest.raises(ValueError, match="'wn'"):
            ci.incidence("wn", 10)

    def test_none_cause_in_counts_raises(self) -> None:
        """from_counts refuses None as a cause, since None marks open spells."""
        with pytest.raises(ValueError, match="None"):
            CumulativeIncidence.from_counts({None: {3: 1}})

    @pytest.mark.parametrize(
        ("durations", "causes", "shown"),
        [
            ([1, 2], ["won"], "2 and 1"),
            ([1, -2], ["won", "lost"], "-2"),
            ([math.nan], [None], "nan"),
        ],
    )
    def test_bad_input_raises(
        self, durations: list[float], causes: list[str | None], shown: str
    ) -> None:
        """Mismatched lengths and bad durations raise ValueError showing the value."""
        with pytest.raises(ValueError, match=re.escape(shown)):
            cumulative_incidence(durations, causes)


class TestCumulativeIncidenceProperties:
    @given(outcomes)
    def test_incidences_and_survival_sum_to_one(self, pairs: list[tuple[int, str | None]]) -> None:
        """At every time the incidences of all causes plus the survival sum to 1."""
        ci = fit_outcomes(pairs)
        if not pairs:
            assert ci.survival(0) is None
        for t in range(32) if pairs else ():
            total = sum(ci.incidence(c, t) for c in ci.causes) + ci.survival(t)  # type: ignore[operator]
            assert total == pytest.approx(1.0, abs=1e-12)

    @given(spells)
    def test_single_cause_is_one_minus_kaplan_meier(self, pairs: list[tuple[int, bool]]) -> None:
        """With one cause, its incidence is 1 - S(t) of the Kaplan-Meier curve."""
        ci = cumulative_incidence([d for d, _ in pairs], ["won" if e else None for _, e in pairs])
        km = fit(pairs)
        if not ci.causes:  # nothing ended: no incidence to compare
            assert ci.events == {}
        for t in range(32) if ci.causes else ():
            assert ci.incidence("won", t) == pytest.approx(1 - km.survival(t), abs=1e-12)  # type: ignore[operator]

    @given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["won", "lost"])), min_size=1))
    def test_without_censoring_equals_empirical_shares(self, pairs: list[tuple[int, str]]) -> None:
        """With every spell closed, CIF_j(t) is the share of spells that ended with j by t."""
        ci = fit_outcomes(pairs)
        for cause in ci.causes:
            for t in range(32):
                share = sum(d <= t and c == cause for d, c in pairs) / len(pairs)
                assert ci.incidence(cause, t) == pytest.approx(share, abs=1e-12)

    @given(outcomes, st.randoms(use_true_random=False))
    def test_input_order_does_not_matter(
        self, pairs: list[tuple[int, str | None]], rng: random.Random
    ) -> None:
        """Shuffling the spells gives an identical result."""
        shuffled = pairs[:]
        rng.shuffle(shuffled)
        assert fit_outcomes(shuffled) == fit_outcomes(pairs)

    @given(outcomes)
    def test_from_counts_equals_list_form(self, pairs: list[tuple[int, str | None]]) -> None:
        """Counting outcomes per cause and time and calling from_counts gives an identical result."""
        events: dict[str, Counter[int]] = {}
        for d, c in pairs:
            if c is not None:
                events.setdefault(c, Counter())[d] += 1
        censored = Counter(d for d, c in pairs if c is None)
        assert CumulativeIncidence.from_counts(events, censored) == fit_outcomes(pairs)
