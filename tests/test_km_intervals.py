"""Tests for the Kaplan-Meier intervals: pointwise (Greenwood) and for percentiles."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from salesflow.metrics import KaplanMeier, kaplan_meier

# R's survival::aml data set (Miller 1981, acute myelogenous leukaemia), both arms.
AML_TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_STATUS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]

# R 4.2 with survival 3.5.3: survfit(Surv(time, status) ~ 1, data=aml, conf.type=...):
# time -> (lower, upper) at a few times, and quantile(fit, c(.25, .5, .75)) as
# (quantile, lower, upper) with NA as None.
R_AML = {
    "log-log": {
        "points": {
            5: (0.694947537532058734, 0.9775156699007135),
            23: (0.319250413971186864, 0.7264491738206336),
            34: (0.104441343233593040, 0.4802846604165616),
            48: (0.006955966798536458, 0.2867603679809181),
        },
        "quantiles": {0.25: (12, 5, 23), 0.5: (27, 13, 34), 0.75: (43, 30, None)},
    },
    "log": {
        "points": {
            5: (0.80485479778295776, 1.0),
            23: (0.37207808724921121, 0.8029333528023695),
            34: (0.13382219562927281, 0.5694492963115149),
            48: (0.01483460825484722, 0.4623274065652936),
        },
        # R gives 48 for the median's upper end: its findq() interpolates with
        # approx(), which sorts the band's values, and this band is not monotone
        # (0.458 at 45, 0.462 at 48). The upper band first falls below 1/2 at 45,
        # which is the Brookmeyer-Crowley end that salesflow reports.
        "quantiles": {0.25: (12, 8, 30), 0.5: (27, 18, 45), 0.75: (43, 31, None)},
    },
    "plain": {
        "points": {
            5: (0.79788896016959576, 1.0),
            23: (0.33637645580222919, 0.7567912460611249),
            34: (0.07616870580632618, 0.4759361941246607),
            48: (0.0, 0.2252302470283978),
        },
        "quantiles": {0.25: (12, 8, 27), 0.5: (27, 18, 34), 0.75: (43, 30, 48)},
    },
}

# REFERENCE.md's curve, same R call: median intervals per scale.
KM_DURATIONS = [2, 3, 3, 5, 8, 8, 9, 12, 15, 20]
KM_OBSERVED = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
R_REFERENCE_MEDIAN = {"log-log": (2, None), "log": (5, None), "plain": (5, None)}

spells = st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=40)


def fit(pairs: list[tuple[int, bool]], **options: object) -> KaplanMeier[float]:
    return kaplan_meier([d for d, _ in pairs], [e for _, e in pairs], **options)  # type: ignore[arg-type]


class TestAgainstR:
    @pytest.mark.parametrize("transform", ["log-log", "log", "plain"])
    def test_pointwise_intervals(self, transform: str) -> None:
        """Greenwood intervals on each scale match R's survfit to 1e-12."""
        km = kaplan_meier(AML_TIME, AML_STATUS, transform=transform)  # type: ignore[arg-type]
        for t, expected in R_AML[transform]["points"].items():  # type: ignore[attr-defined]
            assert km.survival_interval(t) == pytest.approx(expected, rel=1e-12, abs=1e-15)

    @pytest.mark.parametrize("transform", ["log-log", "log", "plain"])
    def test_percentile_intervals(self, transform: str) -> None:
        """Brookmeyer-Crowley intervals of the quartiles match R's quantile.survfit."""
        km = kaplan_meier(AML_TIME, AML_STATUS, transform=transform)  # type: ignore[arg-type]
        for q, (point, low, high) in R_AML[transform]["quantiles"].items():  # type: ignore[attr-defined]
            assert km.percentile(q) == point
            assert km.percentile_interval(q) == (low, high)

    @pytest.mark.parametrize("transform", ["log-log", "log", "plain"])
    def test_reference_median(self, transform: str) -> None:
        """The REFERENCE.md curve's median interval matches R on every scale."""
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED, transform=transform)  # type: ignore[arg-type]
        assert km.median_interval == R_REFERENCE_MEDIAN[transform]

    def test_other_confidence(self) -> None:
        """A 90 % interval is narrower, and equals R's conf.int=0.9 (log-log, t = 23)."""
        km = kaplan_meier(AML_TIME, AML_STATUS, confidence=0.9)
        # R: survfit(..., conf.int=0.9, conf.type="log-log") at t = 23.
        assert km.survival_interval(23) == pytest.approx(
            (0.3567600210047057, 0.7018527262732069), rel=1e-12
        )


class TestEdges:
    def test_before_first_event_is_a_point(self) -> None:
        """Before the first event S = 1 with no variance: the interval is (1, 1)."""
        km = kaplan_meier(AML_TIME, AML_STATUS)
        assert km.survival_interval(0) == (1.0, 1.0)

    def test_no_interval_where_survival_is_zero(self) -> None:
        """Where every spell at risk ended, the variance is infinite: no interval."""
        km = kaplan_meier([1, 2, 3], [1, 1, 1])
        assert km.survival_interval(3) is None
        assert km.survival_interval(2) is not None
        assert km.intervals[-1] is None

    def test_empty_curve(self) -> None:
        """A curve of no spells has no interval and no percentile interval."""
        km = kaplan_meier([], [])
        assert km.survival_interval(1) is None
        assert km.median_interval == (None, None)

    def test_timedeltas(self) -> None:
        """Timedelta durations give timedelta percentile intervals."""
        km = kaplan_meier([timedelta(days=d) for d in AML_TIME], AML_STATUS)
        assert km.median_interval == (timedelta(days=13), timedelta(days=34))
        assert km.survival_interval(timedelta(days=23)) == pytest.approx(
            R_AML["log-log"]["points"][23],
            rel=1e-12,  # type: ignore[index]
        )

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"confidence": 1.0}, "confidence"),
            ({"confidence": 0}, "confidence"),
            ({"transform": "logit"}, "transform"),
            ({"confidence": float("nan")}, "confidence"),
        ],
    )
    def test_bad_options(self, options: dict[str, object], field: str) -> None:
        """A confidence outside (0, 1) or an unknown scale is refused by name."""
        with pytest.raises(ValueError, match=field):
            kaplan_meier([1, 2], [1, 0], **options)  # type: ignore[arg-type]

    def test_with_confidence_keeps_the_curve(self) -> None:
        """with_confidence changes the intervals, not the curve."""
        km = kaplan_meier(AML_TIME, AML_STATUS)
        other = km.with_confidence(0.8, "plain")
        assert other.survival_values == km.survival_values
        assert (other.confidence, other.transform) == (0.8, "plain")
        assert other.survival_interval(23) != km.survival_interval(23)


class TestPercentileExactness:
    def test_curve_that_never_reaches_one_half(self) -> None:
        """S stays at 1/2 + 3.75e-13, so the median is unknown (the issue's case)."""
        km = KaplanMeier.from_counts({1: 1_000_000, 2: 1}, {1: 333_334, 3: 666_668})
        assert km.median is None

    def test_exact_half_on_float_noise(self) -> None:
        """24 distinct durations: S after the 12th is exactly 1/2 (0.5000000000000001 in floats)."""
        km = kaplan_meier(range(1, 25), [1] * 24)
        assert km.survival_values[11] != 0.5  # the float noise this test is about
        assert km.median == 12

    def test_decimal_quantile_is_read_as_written(self) -> None:
        """q = 0.9 means nine tenths: S = 1/10 exactly reaches it."""
        km = kaplan_meier(range(1, 11), [1] * 10)
        assert km.percentile(0.9) == 9

    @given(spells, st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1.0]))
    def test_percentile_is_the_exact_first_crossing(
        self, pairs: list[tuple[int, bool]], q: float
    ) -> None:
        """percentile(q) is the first time whose exact S (in fractions) is <= 1 - q."""
        from fractions import Fraction

        km = fit(pairs)
        exact, expected = Fraction(1), None
        for t, n, d in zip(km.times, km.at_risk, km.event_counts, strict=True):
            exact *= Fraction(n - d, n)
            if exact <= 1 - Fraction(str(q)):
                expected = t
                break
        assert km.percentile(q) == expected


class TestInvariants:
    @given(spells, st.sampled_from(["log-log", "log", "plain"]))
    def test_interval_holds_the_estimate(
        self, pairs: list[tuple[int, bool]], transform: str
    ) -> None:
        """0 <= low <= S(t) <= high <= 1 wherever an interval exists."""
        km = fit(pairs, transform=transform)
        for s, bound in zip(km.survival_values, km.intervals, strict=True):
            if bound is None:
                assert s == 0.0
                continue
            low, high = bound
            assert 0.0 <= low <= s * (1 + 1e-12)
            assert s <= high * (1 + 1e-12)
            assert high <= 1.0

    @given(spells, st.sampled_from([0.25, 0.5, 0.75]))
    def test_percentile_interval_brackets_the_percentile(
        self, pairs: list[tuple[int, bool]], q: float
    ) -> None:
        """low <= percentile <= high, where each is known."""
        km = fit(pairs)
        point = km.percentile(q)
        low, high = km.percentile_interval(q)
        if point is not None and low is not None:
            assert low <= point
        if point is not None and high is not None:
            assert point <= high
        if point is None:
            assert high is None  # the upper band is above S, so never lower first

    @given(spells)
    def test_wider_at_higher_confidence(self, pairs: list[tuple[int, bool]]) -> None:
        """A 99 % interval contains the 90 % one."""
        narrow = fit(pairs, confidence=0.9)
        wide = fit(pairs, confidence=0.99)
        for a, b in zip(narrow.intervals, wide.intervals, strict=True):
            if a is not None and b is not None:
                assert b[0] <= a[0] + 1e-15
                assert a[1] <= b[1] + 1e-15


class TestOracle:
    def test_lifelines_log_log(self) -> None:
        """lifelines' default (exponential Greenwood) band agrees on random samples."""
        lifelines = pytest.importorskip("lifelines", reason="lifelines is the oracle")
        rng = random.Random(13)
        for _ in range(15):
            n = rng.randrange(5, 80)
            durations = [rng.randrange(1, 40) for _ in range(n)]
            observed = [rng.random() < 0.7 for _ in range(n)]
            km = kaplan_meier(durations, observed)
            fitter = lifelines.KaplanMeierFitter().fit(durations, observed)
            band = fitter.confidence_interval_.reindex(list(km.times)).to_numpy().tolist()
            for bound, (low, high) in zip(km.intervals, band, strict=True):
                if bound is None or math.isnan(low):
                    continue
                assert bound == pytest.approx((low, high), rel=1e-9, abs=1e-12)


class TestCoverage:
    def test_pointwise_coverage(self) -> None:
        """Seeded: 95 % log-log intervals of S(t0) cover the truth in 95 % +- 3.5 sd of runs.

        Exponential durations (rate 1) censored by uniform(0, 3) entry; n = 80;
        t0 = ln 2 (true S = 1/2). 400 runs: binomial sd = 1.1 points.
        """
        rng = random.Random(20261202)
        runs, covered = 400, 0
        t0 = math.log(2)
        for _ in range(runs):
            durations, observed = [], []
            for _ in range(80):
                life, cut = rng.expovariate(1.0), rng.uniform(0, 3)
                durations.append(min(life, cut))
                observed.append(life <= cut)
            bound = kaplan_meier(durations, observed).survival_interval(t0)
            covered += bound is not None and bound[0] <= 0.5 <= bound[1]
        sd = math.sqrt(0.95 * 0.05 / runs)
        assert abs(covered / runs - 0.95) <= 3.5 * sd

    def test_median_coverage(self) -> None:
        """Seeded: the Brookmeyer-Crowley interval covers the true median ln 2 in ~95 % of runs."""
        rng = random.Random(7)
        runs, covered = 400, 0
        truth = math.log(2)
        for _ in range(runs):
            durations, observed = [], []
            for _ in range(80):
                life, cut = rng.expovariate(1.0), rng.uniform(0, 3)
                durations.append(min(life, cut))
                observed.append(life <= cut)
            low, high = kaplan_meier(durations, observed).median_interval
            covered += (low is None or low <= truth) and (high is None or truth <= high)
        sd = math.sqrt(0.95 * 0.05 / runs)
        # On the discrete time grid the interval's ends are observed times, which
        # makes it slightly conservative: allow the upper side a little more.
        assert 0.95 - 3.5 * sd <= covered / runs <= 0.95 + 4.5 * sd


class TestRestrictedMean:
    def test_against_r(self) -> None:
        """The restricted mean's SE equals R's summary(fit, rmean=tau)$table["se(rmean)"]."""
        z = 1.959963984540054
        km = kaplan_meier(KM_DURATIONS, KM_OBSERVED)
        low, high = km.restricted_mean_interval(20)  # type: ignore[misc]
        assert (high - low) / (2 * z) == pytest.approx(2.21894457221835, rel=1e-12)
        aml = kaplan_meier(AML_TIME, AML_STATUS)
        low, high = aml.restricted_mean_interval(100)  # type: ignore[misc]
        assert (low + high) / 2 == pytest.approx(31.31262939958592, rel=1e-12)
        assert (high - low) / (2 * z) == pytest.approx(5.78644468019969, rel=1e-12)

    def test_timedeltas_and_empty(self) -> None:
        """Timedelta curves give timedelta ends; an empty curve has no interval."""
        km = kaplan_meier([timedelta(days=d) for d in KM_DURATIONS], KM_OBSERVED)
        low, high = km.restricted_mean_interval(timedelta(days=20))  # type: ignore[misc]
        assert low < timedelta(days=10.771429) < high
        assert kaplan_meier([], []).restricted_mean_interval(5) is None


class TestDurationSummary:
    def test_km_summary_reads_the_curve(self) -> None:
        """A "km" summary's median interval is its curve's, in timedeltas."""
        from salesflow.metrics import DurationSummary

        day = timedelta(days=1)
        ended = [d * day for d, e in zip(AML_TIME, AML_STATUS, strict=True) if e]
        still = [d * day for d, e in zip(AML_TIME, AML_STATUS, strict=True) if not e]
        summary = DurationSummary.from_durations(ended, still_open=still, method="km")
        assert summary.median_interval == (13 * day, 34 * day)
        assert summary.percentile_interval(0.75) == (30 * day, None)
        low, high = summary.mean_interval  # type: ignore[misc]
        assert low < summary.mean < high  # type: ignore[operator]

    def test_t_interval(self) -> None:
        """A "completed" summary's mean interval is Student's t (scipy as the oracle)."""
        from salesflow.metrics import DurationSummary

        stats = pytest.importorskip("scipy.stats", reason="scipy is the oracle")
        values = [3, 9, 1, 14, 2, 7, 30, 5]
        summary = DurationSummary.from_durations([timedelta(days=v) for v in values])
        low, high = stats.t.interval(
            0.95, len(values) - 1, loc=sum(values) / 8, scale=stats.sem(values)
        )
        got = summary.mean_interval
        assert got is not None
        assert got[0] / timedelta(days=1) == pytest.approx(max(low, 0.0), abs=1e-6)
        assert got[1] / timedelta(days=1) == pytest.approx(high, abs=1e-6)

    def test_one_spell_has_no_mean_interval(self) -> None:
        """With one spell there is no spread to measure: no mean interval."""
        from salesflow.metrics import DurationSummary

        assert DurationSummary.from_durations([timedelta(days=1)]).mean_interval is None


class TestTQuantile:
    def test_against_scipy(self) -> None:
        """Student's t quantiles match scipy to 1e-11 from 1 to a million degrees of freedom."""
        from salesflow.metrics._intervals import t_quantile

        stats = pytest.importorskip("scipy.stats", reason="scipy is the oracle")
        for df in (1, 2, 3, 7, 30, 120, 999, 1_000, 2_000, 10**6):
            for p in (0.9, 0.95, 0.975, 0.995):
                assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-11)

    def test_published_values(self) -> None:
        """Table values: t(0.975, 2) = 4.302653, t(0.975, 10) = 2.228139."""
        from salesflow.metrics._intervals import t_quantile

        assert t_quantile(0.975, 2) == pytest.approx(4.302653, abs=5e-7)
        assert t_quantile(0.975, 10) == pytest.approx(2.228139, abs=5e-7)


class TestMeanCoverage:
    def test_t_interval_coverage(self) -> None:
        """Seeded: the 95 % t-interval of a mean of 40 exponential durations covers 1 in ~95 %.

        The exponential's skew makes the t-interval a little short; 400 runs,
        binomial sd 1.1 points, bounds 95 % - 4 sd to 95 % + 3 sd.
        """
        from salesflow.metrics import DurationSummary

        rng = random.Random(11)
        runs, covered = 400, 0
        for _ in range(runs):
            values = [timedelta(days=rng.expovariate(1.0)) for _ in range(40)]
            bound = DurationSummary.from_durations(values).mean_interval
            assert bound is not None
            covered += bound[0] <= timedelta(days=1) <= bound[1]
        sd = math.sqrt(0.95 * 0.05 / runs)
        assert 0.95 - 4 * sd <= covered / runs <= 0.95 + 3 * sd


class TestIncidenceIntervals:
    def test_lifelines_oracle(self) -> None:
        """The delta-method interval equals lifelines' AalenJohansenFitter band (no ties)."""
        lifelines = pytest.importorskip("lifelines", reason="lifelines is the oracle")
        import warnings

        from salesflow.metrics import cumulative_incidence

        rng = random.Random(2)
        for _ in range(5):
            n = rng.randrange(10, 60)
            durations = [rng.uniform(0, 10) for _ in range(n)]
            causes = [rng.choice(["won", "lost", None]) for _ in range(n)]
            result = cumulative_incidence(durations, causes)
            codes = [0 if c is None else 1 if c == "won" else 2 for c in causes]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitter = lifelines.AalenJohansenFitter().fit(durations, codes, event_of_interest=1)
                band = fitter.confidence_interval_
                rows = list(zip(band.index, band.to_numpy().tolist(), strict=True))
            for t, row in rows:
                low, high = sorted(row)
                if t <= 0 or math.isnan(low):
                    continue
                got = result.incidence_interval("won", t)
                assert got is not None
                if got != (0.0, 0.0):
                    assert got == pytest.approx((low, high), abs=1e-12)

    @given(
        st.lists(
            st.tuples(st.integers(0, 30), st.sampled_from(["won", "lost", None])),
            min_size=1,
            max_size=40,
        )
    )
    @example(pairs=[(0, "won"), (0, None), (1, "won"), (1, "won"), (1, "won")])  # F = 1 + 2e-16
    def test_interval_holds_the_estimate(self, pairs: list[tuple[int, str | None]]) -> None:
        """0 <= low <= F(t) <= high <= 1 at every time, for every cause."""
        from salesflow.metrics import cumulative_incidence

        result = cumulative_incidence([d for d, _ in pairs], [c for _, c in pairs])
        for cause in result.causes:
            for t in result.overall.times:
                f = result.incidence(cause, t)
                low, high = result.incidence_interval(cause, t)  # type: ignore[misc]
                assert f is not None
                assert 0.0 <= low <= f * (1 + 1e-12) + 1e-15
                assert f <= high * (1 + 1e-12) + 1e-15
                assert high <= 1.0

    def test_before_the_first_event_and_empty(self) -> None:
        """Before the cause's first event the interval is (0, 0); no spells, no interval."""
        from salesflow.metrics import cumulative_incidence

        result = cumulative_incidence([5, 6, 7], ["won", "lost", None])
        assert result.incidence_interval("lost", 5) == (0.0, 0.0)
        assert cumulative_incidence([], []).incidence_interval("won", 1) is None

    def test_coverage(self) -> None:
        """Seeded: 95 % intervals of F_won(1) cover the truth in ~95 % of 300 runs.

        Won at rate 1, lost at rate 1 (competing exponentials), censoring
        uniform(0, 3), n = 100: true F_won(1) = (1 - e^-2) / 2.
        """
        from salesflow.metrics import cumulative_incidence

        rng = random.Random(99)
        truth = (1 - math.exp(-2)) / 2
        runs, covered = 300, 0
        for _ in range(runs):
            durations, causes = [], []
            for _ in range(100):
                won, lost, cut = rng.expovariate(1), rng.expovariate(1), rng.uniform(0, 3)
                end = min(won, lost, cut)
                durations.append(end)
                causes.append(None if end == cut else "won" if end == won else "lost")
            low, high = cumulative_incidence(durations, causes).incidence_interval("won", 1.0)  # type: ignore[misc]
            covered += low <= truth <= high
        sd = math.sqrt(0.95 * 0.05 / runs)
        assert abs(covered / runs - 0.95) <= 3.5 * sd
