"""Tests for the proportion confidence intervals in salesflow.metrics._intervals."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from salesflow.metrics._intervals import (
    _betainc,
    _betaincinv,
    clopper_pearson_interval,
    jeffreys_interval,
    wilson_interval,
)

Interval = Callable[..., object]

# REFERENCE.md, "Confidence intervals for a proportion" (alpha = 0.05):
# x, n, Wilson, Jeffreys central, Jeffreys with the boundary rule, Clopper-Pearson.
REFERENCE = [
    (0, 10, (0.0, 0.277533), (0.000048, 0.217196), (0.0, 0.217196), (0.0, 0.308497)),
    (1, 10, (0.017876, 0.404150), (0.011012, 0.381315), (0.011012, 0.381315), (0.002529, 0.445016)),
    (5, 10, (0.236593, 0.763407), (0.223529, 0.776471), (0.223529, 0.776471), (0.187086, 0.812914)),
    (10, 10, (0.722467, 1.0), (0.782804, 0.999952), (0.782804, 1.0), (0.691503, 1.0)),
    (3, 20, (0.052369, 0.360419), (0.044131, 0.348578), (0.044131, 0.348578), (0.032071, 0.378927)),
    (
        45,
        180,
        (0.192413, 0.318035),
        (0.191072, 0.316893),
        (0.191072, 0.316893),
        (0.188571, 0.319856),
    ),
    (1, 1, (0.206549, 1.0), (0.146746, 0.999614), (0.146746, 1.0), (0.025, 1.0)),
]
REFERENCE_IDS = [f"{x}/{n}" for x, n, *_ in REFERENCE]


def jeffreys_boundary(successes: int, trials: int, confidence: float = 0.95) -> object:
    return jeffreys_interval(successes, trials, confidence, boundary=True)


ALL_INTERVALS = [wilson_interval, jeffreys_interval, jeffreys_boundary, clopper_pearson_interval]
# Intervals that always contain the observed proportion (central Jeffreys does not at 0 and n).
CONTAINING = [wilson_interval, jeffreys_boundary, clopper_pearson_interval]


def bounds(
    interval: Callable[..., object], x: int, n: int, level: float = 0.95
) -> tuple[float, float]:
    result = interval(x, n, level)
    assert isinstance(result, tuple)
    return result


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed term by term."""
    return math.fsum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def normal_quantile(level: float) -> float:
    """Two-sided normal quantile z with P(|Z| < z) = level."""
    # Inverse normal by bisection on erf, so the test does not reuse NormalDist.inv_cdf.
    lo, hi = 0.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.erf(mid / math.sqrt(2)) < level else (lo, mid)
    return (lo + hi) / 2


counts = st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
inner_counts = st.integers(2, 400).flatmap(lambda n: st.tuples(st.integers(1, n - 1), st.just(n)))
levels = st.floats(0.5, 0.999)


class TestWilson:
    @pytest.mark.parametrize(("x", "n", "expected"), [r[:3] for r in REFERENCE], ids=REFERENCE_IDS)
    def test_reference_values(self, x: int, n: int, expected: tuple[float, float]) -> None:
        """Wilson bounds match REFERENCE.md to 6 decimals."""
        assert wilson_interval(x, n) == pytest.approx(expected, abs=5e-7)

    def test_exact_boundaries(self) -> None:
        """0/n gives a lower bound of exactly 0.0 and n/n an upper bound of exactly 1.0."""
        assert bounds(wilson_interval, 0, 7)[0] == 0.0
        assert bounds(wilson_interval, 7, 7)[1] == 1.0

    @given(inner_counts, levels)
    def test_bounds_solve_the_score_equation(self, xn: tuple[int, int], level: float) -> None:
        """Each bound p solves (x/n - p)^2 = z^2 p (1 - p) / n, the score test's boundary."""
        x, n = xn
        z = normal_quantile(level)
        for p in bounds(wilson_interval, x, n, level):
            assert (x / n - p) ** 2 == pytest.approx(z * z * p * (1 - p) / n, rel=1e-9, abs=1e-15)

    def test_zero_trials_is_undefined(self) -> None:
        """With no trials the interval is None, never (0, 0) or (0, 1)."""
        assert wilson_interval(0, 0) is None


class TestJeffreys:
    @pytest.mark.parametrize(
        ("x", "n", "expected"), [(r[0], r[1], r[3]) for r in REFERENCE], ids=REFERENCE_IDS
    )
    def test_central_reference_values(self, x: int, n: int, expected: tuple[float, float]) -> None:
        """The default (central) interval matches statsmodels' column of REFERENCE.md."""
        assert jeffreys_interval(x, n) == pytest.approx(expected, abs=5e-7)

    @pytest.mark.parametrize(
        ("x", "n", "expected"), [(r[0], r[1], r[4]) for r in REFERENCE], ids=REFERENCE_IDS
    )
    def test_boundary_reference_values(self, x: int, n: int, expected: tuple[float, float]) -> None:
        """boundary=True matches the Brown-Cai-DasGupta column of REFERENCE.md."""
        assert jeffreys_interval(x, n, boundary=True) == pytest.approx(expected, abs=5e-7)

    def test_boundary_rule_sets_exact_edges(self) -> None:
        """With the boundary rule, 0/n starts at exactly 0.0 and n/n ends at exactly 1.0."""
        assert bounds(jeffreys_boundary, 0, 10)[0] == 0.0
        assert bounds(jeffreys_boundary, 10, 10)[1] == 1.0

    @given(inner_counts, levels)
    def test_boundary_rule_changes_only_the_edges(self, xn: tuple[int, int], level: float) -> None:
        """For 0 < x < n the boundary rule gives the central interval unchanged."""
        x, n = xn
        assert jeffreys_interval(x, n, level, boundary=True) == jeffreys_interval(x, n, level)

    def test_closed_form_for_one_of_one(self) -> None:
        """At 1/1 the lower bound solves the closed-form Beta(3/2, 1/2) CDF = 0.025."""
        # I_x(3/2, 1/2) = (2/pi) (asin(sqrt x) - sqrt(x (1 - x))), from I_x(1/2, 1/2) and the
        # recurrence I_x(a + 1, b) = I_x(a, b) - x^a (1 - x)^b / (a B(a, b)).
        lower = bounds(jeffreys_interval, 1, 1)[0]
        cdf = 2 / math.pi * (math.asin(math.sqrt(lower)) - math.sqrt(lower * (1 - lower)))
        assert cdf == pytest.approx(0.025, abs=1e-12)

    def test_zero_trials_is_undefined(self) -> None:
        """With no trials the interval is None, with or without the boundary rule."""
        assert jeffreys_interval(0, 0) is None
        assert jeffreys_interval(0, 0, boundary=True) is None

    @settings(deadline=None)  # the first example pays for importing scipy
    @given(counts, levels)
    def test_matches_scipy(self, xn: tuple[int, int], level: float) -> None:
        """The central interval equals scipy's Beta quantiles (when scipy is installed)."""
        stats = pytest.importorskip("scipy.stats")
        x, n = xn
        tail = (1 - level) / 2
        expected = stats.beta.ppf([tail, 1 - tail], x + 0.5, n - x + 0.5)
        assert bounds(jeffreys_interval, x, n, level) == pytest.approx(expected, abs=1e-9)


class TestClopperPearson:
    @pytest.mark.parametrize(
        ("x", "n", "expected"), [(r[0], r[1], r[5]) for r in REFERENCE], ids=REFERENCE_IDS
    )
    def test_reference_values(self, x: int, n: int, expected: tuple[float, float]) -> None:
        """Clopper-Pearson bounds match REFERENCE.md to 6 decimals."""
        assert clopper_pearson_interval(x, n) == pytest.approx(expected, abs=5e-7)

    @given(st.integers(1, 150).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), levels)
    def test_bounds_invert_the_binomial_tests(self, xn: tuple[int, int], level: float) -> None:
        """P(X >= x | lower) and P(X <= x | upper) both equal alpha/2, by direct summation."""
        x, n = xn
        lower, upper = bounds(clopper_pearson_interval, x, n, level)
        tail = (1 - level) / 2
        if x > 0:
            assert 1 - binomial_cdf(x - 1, n, lower) == pytest.approx(tail, abs=1e-9)
        else:
            assert lower == 0.0
        if x < n:
            assert binomial_cdf(x, n, upper) == pytest.approx(tail, abs=1e-9)
        else:
            assert upper == 1.0

    def test_zero_trials_is_undefined(self) -> None:
        """With no trials the interval is None."""
        assert clopper_pearson_interval(0, 0) is None


class TestIntervalProperties:
    @pytest.mark.parametrize("interval", ALL_INTERVALS)
    @given(xn=counts, level=st.floats(0.01, 0.999))
    def test_within_unit_interval(
        self, interval: Interval, xn: tuple[int, int], level: float
    ) -> None:
        """Both bounds lie in [0, 1] and the lower bound is not above the upper."""
        lower, upper = bounds(interval, *xn, level)
        assert 0.0 <= lower <= upper <= 1.0

    @pytest.mark.parametrize("interval", CONTAINING)
    @given(xn=counts, level=levels)
    def test_contains_observed_rate(
        self, interval: Interval, xn: tuple[int, int], level: float
    ) -> None:
        """The interval contains x / n."""
        x, n = xn
        lower, upper = bounds(interval, x, n, level)
        assert lower <= x / n <= upper

    @given(xn=inner_counts, level=levels)
    def test_central_jeffreys_contains_inner_rates(self, xn: tuple[int, int], level: float) -> None:
        """Central Jeffreys contains x / n whenever 0 < x < n."""
        x, n = xn
        lower, upper = bounds(jeffreys_interval, x, n, level)
        assert lower <= x / n <= upper

    def test_central_jeffreys_excludes_zero_at_zero_successes(self) -> None:
        """At 0/n the central Jeffreys interval starts above 0: why boundary=True exists."""
        assert bounds(jeffreys_interval, 0, 10)[0] > 0.0

    @pytest.mark.parametrize("interval", ALL_INTERVALS)
    @given(xn=counts, levels=st.tuples(levels, levels))
    def test_wider_at_higher_confidence(
        self, interval: Interval, xn: tuple[int, int], levels: tuple[float, float]
    ) -> None:
        """A higher confidence level gives an interval that contains the lower level's."""
        low, high = sorted(levels)
        lo_low, hi_low = bounds(interval, *xn, low)
        lo_high, hi_high = bounds(interval, *xn, high)
        assert lo_high <= lo_low + 1e-12
        assert hi_high >= hi_low - 1e-12

    @pytest.mark.parametrize("interval", ALL_INTERVALS)
    @given(xn=inner_counts, level=levels)
    def test_narrower_with_doubled_counts(
        self, interval: Interval, xn: tuple[int, int], level: float
    ) -> None:
        """Doubling both x and n (same rate, more evidence) narrows the interval."""
        x, n = xn
        lower, upper = bounds(interval, x, n, level)
        lower2, upper2 = bounds(interval, 2 * x, 2 * n, level)
        assert upper2 - lower2 < upper - lower

    @pytest.mark.parametrize("interval", ALL_INTERVALS)
    @given(xn=counts, level=levels)
    def test_symmetric_in_successes_and_failures(
        self, interval: Interval, xn: tuple[int, int], level: float
    ) -> None:
        """Swapping successes and failures maps (lower, upper) to (1 - upper, 1 - lower)."""
        x, n = xn
        lower, upper = bounds(interval, x, n, level)
        mirrored = bounds(interval, n - x, n, level)
        assert mirrored == pytest.approx((1 - upper, 1 - lower), abs=1e-12)


class TestValidation:
    @pytest.mark.parametrize(
        "interval", [wilson_interval, jeffreys_interval, clopper_pearson_interval]
    )
    @pytest.mark.parametrize(
        ("args", "culprit"),
        [
            ((11, 10), "successes"),
            ((-1, 10), "successes"),
            ((1, -1), "trials"),
            ((1.0, 10), "successes"),
            ((1, 10.0), "trials"),
            ((True, 10), "successes"),
            ((1, "10"), "trials"),
            ((1, 10, 1.0), "confidence"),
            ((1, 10, 0.0), "confidence"),
            ((1, 10, 95), "confidence"),
            ((1, 10, math.nan), "confidence"),
            ((1, 10, "0.95"), "confidence"),
        ],
    )
    def test_bad_arguments_raise(
        self, interval: Interval, args: tuple[object, ...], culprit: str
    ) -> None:
        """A bad count or confidence raises ValueError naming the argument and its value."""
        names = ("successes", "trials", "confidence")
        value = args[names.index(culprit)]
        with pytest.raises(ValueError, match=rf"^{culprit} .*{re.escape(repr(value))}"):
            interval(*args)

    def test_message_names_the_bound(self) -> None:
        """successes > trials reports trials as the bound in a one-sentence message."""
        msg = "successes must be between 0 and trials (10), got 11."
        with pytest.raises(ValueError, match=re.escape(msg)):
            wilson_interval(11, 10)


class TestBetaFunctions:
    @given(st.floats(0.0, 1.0), st.floats(0.05, 50.0))
    def test_closed_forms(self, x: float, a: float) -> None:
        """I_x(a, 1) = x^a and I_x(1, a) = 1 - (1 - x)^a."""
        assert _betainc(a, 1.0, x) == pytest.approx(x**a, rel=1e-12, abs=1e-300)
        # -expm1(a log1p(-x)) is 1 - (1 - x)^a without the cancellation for small x.
        expected = -math.expm1(a * math.log1p(-x)) if x < 1 else 1.0
        assert _betainc(1.0, a, x) == pytest.approx(expected, rel=1e-12, abs=1e-300)

    @given(st.floats(1e-12, 1 - 1e-12))
    def test_arcsine_inverse(self, p: float) -> None:
        """Beta(1/2, 1/2) quantiles equal sin^2(pi p / 2), the arcsine law."""
        expected = math.sin(math.pi * p / 2) ** 2
        assert _betaincinv(0.5, 0.5, p) == pytest.approx(expected, rel=1e-10, abs=1e-15)

    @given(
        st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))),
        st.floats(0, 1),
    )
    def test_binomial_identity(self, kn: tuple[int, int], p: float) -> None:
        """I_p(k, n - k + 1) = P(Binomial(n, p) >= k)."""
        k, n = kn
        assert _betainc(k, n - k + 1, p) == pytest.approx(1 - binomial_cdf(k - 1, n, p), abs=1e-12)

    @given(st.floats(0.2, 2e4), st.floats(0.2, 2e4), st.floats(1e-12, 0.5))
    def test_inverse_round_trips(self, a: float, b: float, p: float) -> None:
        """I_x(a, b) at x = _betaincinv(a, b, p) gives back p, to 1e-9 relative."""
        x = _betaincinv(a, b, p)
        assume(0.0 < x < 1.0 - 1e-9)  # nearer 1, float spacing of x limits any inverse
        assert _betainc(a, b, x) == pytest.approx(p, rel=1e-9)

    def test_inverse_extremes(self) -> None:
        """p = 0 and p = 1 map to the ends of the support."""
        assert _betaincinv(2.5, 3.5, 0.0) == 0.0
        assert _betaincinv(2.5, 3.5, 1.0) == 1.0


class TestLargeCounts:
    @pytest.mark.parametrize("x", [1_000, 250_000, 500_000])
    def test_methods_agree_for_large_samples(self, x: int) -> None:
        """With a million trials Jeffreys and Clopper-Pearson agree with Wilson to 1e-5."""
        n = 1_000_000
        wilson = bounds(wilson_interval, x, n)
        assert bounds(jeffreys_interval, x, n) == pytest.approx(wilson, abs=1e-5)
        assert bounds(clopper_pearson_interval, x, n) == pytest.approx(wilson, abs=1e-5)
