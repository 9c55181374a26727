"""average_deal_size_interval: a seeded percentile bootstrap of the won deals' mean value."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest

import salesflow as sf
from salesflow import metrics as m
from tests.strategies import SMALL, T0


def won(*amounts: str | int, currency: str = "USD") -> list[sf.Deal]:
    return [
        SMALL.open_deal(f"w{i}", at=T0, value=sf.Money(a, currency)).win(at=T0)
        for i, a in enumerate(amounts)
    ]


def amounts(interval: tuple[sf.Money, sf.Money] | None) -> tuple[Decimal, Decimal]:
    assert interval is not None
    return interval[0].amount, interval[1].amount


class TestHandComputed:
    def test_equal_values_give_that_value(self) -> None:
        """Every resample of equal values has that mean: no float drift, no rounding."""
        low, high = amounts(m.average_deal_size_interval(won("99.99", "99.99", "99.99")))
        assert (low, high) == (Decimal("99.99"), Decimal("99.99"))

    def test_two_deals(self) -> None:
        """Means of two deals are 100 (p 1/4), 200 (1/2) or 300 (1/4): both ends are reached."""
        low, high = amounts(m.average_deal_size_interval(won(100, 300)))
        assert (str(low), str(high)) == ("100.00", "300.00")

    def test_rounds_the_high_end_up(self) -> None:
        """Values 0, 0, 1: the mean is k/3 with k ~ Binomial(3, 1/3).

        P(k = 3) = 1/27 = 0.037 < 0.05, P(k >= 2) = 7/27, so the 95 % quantile
        is 2/3 = 0.666…, rounded up to 0.67; P(k = 0) = 8/27 puts the 5 % one at 0.
        """
        interval = m.average_deal_size_interval(won(0, 0, 1), confidence=0.9)
        assert tuple(map(str, amounts(interval))) == ("0.00", "0.67")

    def test_rounds_the_low_end_down(self) -> None:
        """Values 1, 2, 2: the mean is (3 + k)/3, k ~ Binomial(3, 2/3); P(k = 0) = 1/27.

        The 5 % quantile is 4/3 = 1.333…, rounded down to 1.33.
        """
        interval = m.average_deal_size_interval(won(1, 2, 2), confidence=0.9)
        assert tuple(map(str, amounts(interval))) == ("1.33", "2.00")

    @pytest.mark.parametrize(
        ("currency", "values", "expected"),
        [
            ("JPY", (1000, 2000, 2000), ("1333", "2000")),
            ("KWD", (1, 2, 2), ("1.333", "2.000")),
            ("EUR", (1, 2, 2), ("1.33", "2.00")),
        ],
    )
    def test_currency_minor_units(
        self, currency: str, values: tuple[int, ...], expected: tuple[str, str]
    ) -> None:
        """Rounded to the currency's minor unit (ISO 4217: yen 0, dinar 3, euro 2 places)."""
        interval = m.average_deal_size_interval(won(*values, currency=currency), confidence=0.9)
        assert interval is not None
        assert interval[0].currency == currency
        assert tuple(map(str, amounts(interval))) == expected


class TestBehaviour:
    def test_no_won_deal_is_undefined(self) -> None:
        lost = SMALL.open_deal("l", at=T0, value=sf.Money(5, "USD")).lose(at=T0)
        assert m.average_deal_size_interval([]) is None
        assert m.average_deal_size_interval([lost]) is None

    def test_only_won_deals_count(self) -> None:
        deals = won(100, 300)
        lost = SMALL.open_deal("l", at=T0, value=sf.Money(10**6, "USD")).lose(at=T0)
        open_ = SMALL.open_deal("o", at=T0, value=sf.Money(10**6, "USD"))
        assert m.average_deal_size_interval([*deals, lost, open_]) == (
            m.average_deal_size_interval(deals)
        )

    def test_reproducible_in_any_order(self) -> None:
        rng = random.Random(3)
        values = [rng.randint(1, 10**6) for _ in range(40)]
        first = m.average_deal_size_interval(won(*values))
        rng.shuffle(values)
        assert m.average_deal_size_interval(won(*values)) == first

    def test_contains_the_average_and_widens_with_the_level(self) -> None:
        rng = random.Random(4)
        deals = won(*(round(rng.lognormvariate(9, 1)) for _ in range(50)))
        mean = m.average_deal_size(deals)
        assert mean is not None
        narrow = amounts(m.average_deal_size_interval(deals, confidence=0.8))
        wide = amounts(m.average_deal_size_interval(deals, confidence=0.99))
        assert wide[0] <= narrow[0] < mean.amount < narrow[1] <= wide[1]

    def test_warns_about_won_deals_without_a_value(self) -> None:
        blank = SMALL.open_deal("x", at=T0).win(at=T0)
        with pytest.warns(sf.SalesflowWarning, match="without a value"):
            assert m.average_deal_size_interval([*won(5), blank]) is not None

    def test_mixed_currencies_are_refused(self) -> None:
        with pytest.raises(sf.CurrencyMismatchError):
            m.average_deal_size_interval([*won(5), *won(7, currency="EUR")])

    @pytest.mark.parametrize(
        ("option", "bad"),
        [("n_boot", 99), ("n_boot", True), ("n_boot", 500.0), ("confidence", 1.0), ("seed", "0")],
    )
    def test_bad_options_are_refused(self, option: str, bad: object) -> None:
        with pytest.raises(ValueError, match=option):
            m.average_deal_size_interval(won(5), **{option: bad})  # type: ignore[arg-type]


class TestAgainstOracles:
    def test_matches_scipy_percentile_bootstrap(self) -> None:
        """scipy's percentile bootstrap (its own RNG) agrees within Monte Carlo error."""
        stats = pytest.importorskip("scipy.stats", reason="scipy is not installed")
        np = pytest.importorskip("numpy", reason="numpy is not installed")
        rng = random.Random(12)
        values = [round(rng.lognormvariate(9, 1), 2) for _ in range(100)]
        low, high = amounts(m.average_deal_size_interval(won(*(str(v) for v in values))))
        oracle = stats.bootstrap(
            (np.array(values),), np.mean, method="percentile", n_resamples=20_000, random_state=1
        ).confidence_interval
        # The mean is about 13,000 and its standard error about 1,500; the
        # quantiles of 2,000 resamples are within about 2 % of the exact ones.
        assert float(low) == pytest.approx(oracle.low, rel=0.03)
        assert float(high) == pytest.approx(oracle.high, rel=0.03)

    def test_coverage_on_a_lognormal_population(self) -> None:
        """Seeded simulation: 200 samples of 80 won deals from a lognormal(8, 0.5) population.

        The percentile bootstrap undercovers a skewed mean a little at this
        size: 2,000 runs of this design (outside the suite) covered the true
        mean exp(8 + 0.5²/2) in 93.1 % of them. With 200 runs the binomial
        standard error is sqrt(0.931 * 0.069 / 200) = 0.018, so 3 of them
        (0.054) give the accepted range [0.877, 0.985]. A wrong quantile, a
        wrong divisor or the wrong deals would land far outside it.
        """
        mu, sigma, n, runs = 8.0, 0.5, 80, 200
        true_mean = Decimal(math.exp(mu + sigma**2 / 2))
        rng = random.Random(2026)
        covered = 0
        for run in range(runs):
            values = [f"{rng.lognormvariate(mu, sigma):.2f}" for _ in range(n)]
            low, high = amounts(m.average_deal_size_interval(won(*values), n_boot=400, seed=run))
            covered += low <= true_mean <= high
        assert 0.877 <= covered / runs <= 0.985
