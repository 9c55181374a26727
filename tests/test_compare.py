"""Tests for the comparisons: two rates, log-rank, and a breakdown tested as a whole."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow import metrics as m
from salesflow.metrics._stats import adjust, chi2_sf, fisher_exact

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "data" / "maven-crm-sales-opportunities"

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10
# (hybrid score, no continuity correction): (x1, n1, x2, n2) -> (low, high).
NEWCOMBE = {
    (56, 70, 48, 80): (0.0524, 0.3339),
    (9, 10, 3, 10): (0.1705, 0.8090),
    (5, 56, 0, 29): (-0.0381, 0.1926),
    (0, 10, 0, 20): (-0.1611, 0.2775),
    (0, 10, 0, 10): (-0.2775, 0.2775),
    (10, 10, 0, 20): (0.6791, 1.0000),
    (10, 10, 0, 10): (0.6075, 1.0000),
}

# R's survival::aml (both arms) and a third made-up arm for the 3-sample test.
AML_TIME = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_STATUS = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
THIRD_TIME = [2, 4, 4, 6, 7, 11, 14, 20, 22]
THIRD_STATUS = [1, 1, 0, 1, 1, 1, 0, 1, 1]


def curves() -> tuple[m.KaplanMeier[float], m.KaplanMeier[float], m.KaplanMeier[float]]:
    return (
        m.kaplan_meier(AML_TIME[:11], AML_STATUS[:11]),
        m.kaplan_meier(AML_TIME[11:], AML_STATUS[11:]),
        m.kaplan_meier(THIRD_TIME, THIRD_STATUS),
    )


class TestCompareRates:
    @pytest.mark.parametrize(("counts", "expected"), list(NEWCOMBE.items()))
    def test_newcombe_worked_examples(
        self, counts: tuple[int, int, int, int], expected: tuple[float, float]
    ) -> None:
        """The difference's interval is Newcombe's method 10, to his 4 decimals."""
        x1, n1, x2, n2 = counts
        result = m.compare(m.Rate.of(x1, n1), m.Rate.of(x2, n2))
        assert result.difference == pytest.approx(x1 / n1 - x2 / n2)
        assert result.interval == pytest.approx(expected, abs=5e-5)

    def test_score_test_matches_prop_test(self) -> None:
        """Large counts: R's prop.test(c(56, 48), c(70, 80), correct=FALSE)."""
        result = m.compare(m.Rate.of(56, 70), m.Rate.of(48, 80))
        assert result.test == "score test (chi-square, 1 df)"
        assert result.statistic == pytest.approx(7.02341137123746, rel=1e-12)
        assert result.p_value == pytest.approx(0.008045081368196564, rel=1e-10)
        assert result.ratio == pytest.approx((56 / 70) / (48 / 80))
        other = m.compare(m.Rate.of(120, 400), m.Rate.of(90, 410))
        assert other.statistic == pytest.approx(6.829965156794428, rel=1e-12)
        assert other.p_value == pytest.approx(0.008964101392626416, rel=1e-10)

    @pytest.mark.parametrize(
        ("table", "expected"),
        [
            ((9, 1, 3, 7), 0.01976661109788042),
            ((5, 51, 0, 29), 0.1606214432094712),
            ((2, 8, 7, 3), 0.06977851869492734),
        ],
    )
    def test_fisher_matches_r(self, table: tuple[int, int, int, int], expected: float) -> None:
        """Small expected counts: Fisher's exact test, as R's fisher.test gives it."""
        a, b, c, d = table
        result = m.compare(m.Rate.of(a, a + b), m.Rate.of(c, c + d))
        assert result.test == "Fisher's exact test"
        assert result.statistic is None
        assert result.p_value == pytest.approx(expected, rel=1e-12)

    def test_amount_rates_have_no_test(self) -> None:
        """Amount-based rates: difference and ratio only."""
        result = m.compare(
            m.Rate.of(Decimal(30), Decimal(100)), m.Rate.of(Decimal(10), Decimal(50))
        )
        assert result.difference == pytest.approx(0.1)
        assert result.ratio == pytest.approx(1.5)
        assert (result.interval, result.p_value, result.test) == (None, None, None)

    def test_undefined_rate(self) -> None:
        """A rate over nothing makes everything None."""
        result = m.compare(m.Rate.of(0, 0), m.Rate.of(1, 2))
        assert (result.difference, result.interval, result.p_value) == (None, None, None)
        assert "cannot be compared" in str(result)

    def test_verdict(self) -> None:
        """The verdict names both sides, the size in points, the interval and the p-value."""
        result = m.compare(
            m.Rate.of(56, 70), m.Rate.of(48, 80), names=("Anna", "the team"), what="win rate"
        )
        assert str(result) == (
            "Anna's win rate is 20.0 points higher than the team's (95 % CI 5.2 to 33.4, p = 0.008)."
        )
        assert "Anna" in result._repr_html_()
        assert "p_value=0.008" in repr(result)
        assert result.to_dict()["test"] == "score test (chi-square, 1 df)"
        flat = m.compare(m.Rate.of(5, 10), m.Rate.of(6, 10))
        assert str(flat).endswith(": no clear difference.")

    def test_refuses_non_rates(self) -> None:
        """Anything but a Rate is a TypeError naming the argument."""
        with pytest.raises(TypeError, match="b must be a Rate"):
            m.compare(m.Rate.of(1, 2), 0.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="confidence"):
            m.compare(m.Rate.of(1, 2), m.Rate.of(1, 2), confidence=2)

    def test_oracles_on_random_tables(self) -> None:
        """statsmodels' Newcombe interval and scipy's tests agree on random tables."""
        proportion = pytest.importorskip("statsmodels.stats.proportion", reason="oracle")
        stats = pytest.importorskip("scipy.stats", reason="scipy is the oracle")
        rng = random.Random(5)
        for _ in range(150):
            n1, n2 = rng.randrange(1, 120), rng.randrange(1, 120)
            x1, x2 = rng.randrange(n1 + 1), rng.randrange(n2 + 1)
            result = m.compare(m.Rate.of(x1, n1), m.Rate.of(x2, n2))
            low, high = proportion.confint_proportions_2indep(
                x1, n1, x2, n2, method="newcomb", compare="diff"
            )
            assert result.interval == pytest.approx((low, high), abs=1e-9)
            if result.test == "Fisher's exact test":
                expected = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue
            else:
                table = [[x1, n1 - x1], [x2, n2 - x2]]
                expected = stats.chi2_contingency(table, correction=False).pvalue
            assert result.p_value == pytest.approx(expected, rel=1e-9, abs=1e-14)

    def test_newcombe_coverage(self) -> None:
        """Seeded: the 95 % Newcombe interval covers the true difference in ~95 % of runs.

        p = 0.3 vs 0.2 with n = 60 each; 500 runs, binomial sd 1 point;
        Newcombe's interval is known to be slightly conservative.
        """
        rng = random.Random(3)
        runs, covered = 500, 0
        for _ in range(runs):
            x1 = sum(rng.random() < 0.3 for _ in range(60))
            x2 = sum(rng.random() < 0.2 for _ in range(60))
            low, high = m.compare(m.Rate.of(x1, 60), m.Rate.of(x2, 60)).interval  # type: ignore[misc]
            covered += low <= 0.1 <= high
        sd = math.sqrt(0.95 * 0.05 / runs)
        assert 0.95 - 3.5 * sd <= covered / runs <= 0.95 + 4 * sd

    @given(st.integers(0, 40), st.integers(1, 40), st.integers(0, 40), st.integers(1, 40))
    def test_interval_holds_the_difference(self, x1: int, n1: int, x2: int, n2: int) -> None:
        """The difference lies in its interval, inside [-1, 1]; swapping sides mirrors it."""
        x1, x2 = min(x1, n1), min(x2, n2)
        ab = m.compare(m.Rate.of(x1, n1), m.Rate.of(x2, n2))
        ba = m.compare(m.Rate.of(x2, n2), m.Rate.of(x1, n1))
        low, high = ab.interval  # type: ignore[misc]
        assert -1 - 1e-12 <= low <= ab.difference + 1e-12
        assert ab.difference - 1e-12 <= high <= 1 + 1e-12
        assert ba.interval == pytest.approx((-high, -low), abs=1e-12)
        assert ab.p_value == pytest.approx(ba.p_value, rel=1e-12)


class TestLogrank:
    def test_two_sample_matches_survdiff(self) -> None:
        """R: survdiff(Surv(time, status) ~ x, data=aml): chisq 3.3964, p 0.0653."""
        a, b, _ = curves()
        result = m.logrank(a, b)
        assert result.statistic == pytest.approx(3.396388698977601, rel=1e-12)
        assert result.p_value == pytest.approx(0.06533932204050519, rel=1e-10)
        assert result.df == 1
        assert result.difference == 31.0 - 23.0
        assert result.interval is None  # the Maintained arm's median interval is open-ended

    def test_three_sample_matches_survdiff(self) -> None:
        """Three arms: R's survdiff gives chisq 11.44898 on 2 df."""
        result = m.logrank(*curves())
        assert result.statistic == pytest.approx(11.44897578427465, rel=1e-12)
        assert result.p_value == pytest.approx(0.003265024892834978, rel=1e-10)
        assert result.difference is None
        assert "the groups differ" in str(result)

    # lifelines calls pandas with positional arguments that pandas 3 deprecates.
    @pytest.mark.filterwarnings("ignore:Starting with pandas version 4")
    def test_lifelines_oracle(self) -> None:
        """lifelines' multivariate log-rank test agrees on random samples."""
        statistics = pytest.importorskip("lifelines.statistics", reason="lifelines is the oracle")
        rng = random.Random(17)
        for _ in range(10):
            k = rng.randrange(2, 5)
            durations, flags, groups = [], [], []
            for g in range(k):
                for _ in range(rng.randrange(3, 40)):
                    durations.append(rng.randrange(1, 30))
                    flags.append(rng.random() < 0.7)
                    groups.append(g)
            fitted = [
                m.kaplan_meier(
                    [d for d, gg in zip(durations, groups, strict=True) if gg == g],
                    [f for f, gg in zip(flags, groups, strict=True) if gg == g],
                )
                for g in range(k)
            ]
            expected = statistics.multivariate_logrank_test(durations, groups, flags)
            result = m.logrank(*fitted)
            assert result.statistic == pytest.approx(expected.test_statistic, rel=1e-9)
            assert result.p_value == pytest.approx(expected.p_value, rel=1e-8)

    def test_identical_curves(self) -> None:
        """A curve against itself: statistic 0, p = 1."""
        a, _, _ = curves()
        result = m.logrank(a, a)
        assert result.statistic == pytest.approx(0.0, abs=1e-12)
        assert result.p_value == pytest.approx(1.0)

    def test_timedeltas_and_median_interval(self) -> None:
        """Timedelta curves: the median difference and its interval are timedeltas."""
        day = timedelta(days=1)
        a = m.kaplan_meier([d * day for d in range(1, 41)], [1] * 40)
        b = m.kaplan_meier([d * day for d in range(11, 51)], [1] * 40)
        result = m.logrank(a, b, names=("GTX", "MG"), what="sales cycle")
        assert result.difference == -10 * day
        low, high = result.interval  # type: ignore[misc]
        assert low < -10 * day < high
        assert str(result).startswith("GTX's median sales cycle is 10.0 d shorter than MG's")

    def test_no_events(self) -> None:
        """With no spell ended there is nothing to test."""
        a = m.kaplan_meier([1, 2], [0, 0])
        assert m.logrank(a, a).p_value is None

    def test_bad_arguments(self) -> None:
        """One curve, or names of the wrong length, are refused."""
        a, b, _ = curves()
        with pytest.raises(ValueError, match="at least two"):
            m.logrank(a)
        with pytest.raises(ValueError, match="names"):
            m.logrank(a, b, names=("x",))


class TestStats:
    def test_chi2_against_scipy(self) -> None:
        """The chi-square tail matches scipy over a grid."""
        stats = pytest.importorskip("scipy.stats", reason="scipy is the oracle")
        for df in (1, 2, 3, 6, 29):
            for x in (0.01, 0.5, 1.0, 3.84, 10.0, 40.0, 120.0):
                assert chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-12)

    def test_chi2_published(self) -> None:
        """Tables: P(chi2_1 >= 3.841459) = 0.05, P(chi2_2 >= 5.991465) = 0.05."""
        assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-12)
        assert chi2_sf(5.991464547107979, 2) == pytest.approx(0.05, rel=1e-12)

    def test_fisher_tea_tasting(self) -> None:
        """Fisher's lady tasting tea, [[3, 1], [1, 3]]: two-sided p = 34/70."""
        assert fisher_exact(3, 1, 1, 3) == pytest.approx(34 / 70, rel=1e-15)

    def test_adjust_matches_p_adjust(self) -> None:
        """R: p.adjust(c(.01, .04, .03, .2), "holm") and "BH"."""
        ps = [0.01, 0.04, 0.03, 0.2]
        assert adjust(ps, "holm") == pytest.approx([0.04, 0.09, 0.09, 0.2], rel=1e-12)
        assert adjust(ps, "bh") == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2], rel=1e-12)


class TestCompareGroups:
    def breakdown(self) -> m.Breakdown[m.Rate]:
        rates = {"A": m.Rate.of(30, 100), "B": m.Rate.of(45, 100), "C": m.Rate.of(20, 100)}
        return m.Breakdown("win_rate", "owner", rates)

    def test_homogeneity_matches_chisq_test(self) -> None:
        """R: chisq.test(matrix(c(30,70,45,55,20,80), 3, byrow=TRUE)): 14.634, 2 df."""
        result = m.compare_groups(self.breakdown())
        assert result.overall.statistic == pytest.approx(14.63414634146342, rel=1e-12)
        assert result.overall.p_value == pytest.approx(0.0006641030858712747, rel=1e-10)
        assert result.overall.df == 2

    def test_each_group_against_the_rest(self) -> None:
        """Group B is compared with A + C pooled, and its p-value is Holm-adjusted."""
        result = m.compare_groups(self.breakdown())
        direct = m.compare(m.Rate.of(45, 100), m.Rate.of(50, 200))
        b = result.groups["B"]
        assert b.p_value == pytest.approx(direct.p_value)
        raw = [result.groups[k].p_value for k in "ABC"]
        assert [result.groups[k].adjusted_p_value for k in "ABC"] == pytest.approx(
            adjust(raw, "holm")  # type: ignore[arg-type]
        )
        assert "B" in result.significant
        assert "B *" in result._repr_html_()
        assert str(result).startswith("win rate by owner: the groups differ")
        assert result.to_dict()["groups"]["B"]["adjusted_p_value"] == b.adjusted_p_value

    def test_bh(self) -> None:
        """correction="bh" gives Benjamini-Hochberg's adjusted p-values."""
        result = m.compare_groups(self.breakdown(), correction="bh")
        raw = [result.groups[k].p_value for k in "ABC"]
        assert [result.groups[k].adjusted_p_value for k in "ABC"] == pytest.approx(
            adjust(raw, "bh")  # type: ignore[arg-type]
        )

    def test_duration_breakdown_uses_logrank(self) -> None:
        """A breakdown of curves is tested by the k-sample log-rank test."""
        a, b, c = curves()
        result = m.compare_groups({"M": a, "N": b, "X": c})
        assert result.overall.statistic == pytest.approx(11.44897578427465, rel=1e-12)

    def test_bad_arguments(self) -> None:
        """One group, an unknown correction, or results that are not comparable, are refused."""
        with pytest.raises(ValueError, match="two groups"):
            m.compare_groups({"A": m.Rate.of(1, 2)})
        with pytest.raises(ValueError, match="correction"):
            m.compare_groups(self.breakdown(), correction="bonferroni")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="rates, duration summaries"):
            m.compare_groups({"A": 1, "B": 2})


@pytest.mark.skipif(
    not MAVEN.is_dir(), reason="../shared/data (Maven CRM dataset) is not beside this clone"
)
class TestMaven:
    @pytest.fixture(scope="class")
    @classmethod
    def deals(cls) -> list[sf.Deal]:
        from salesflow.io import read_deals_csv

        pipeline = sf.Pipeline.linear("Maven", ["Prospecting", "Engaging"], won="Won", lost="Lost")
        return list(
            read_deals_csv(
                MAVEN / "sales_pipeline.csv",
                pipeline,
                columns={
                    "deal_id": "opportunity_id",
                    "stage": "deal_stage",
                    "engaged_at": "engage_date",
                    "closed_at": "close_date",
                    "value": "close_value",
                    "owner": "sales_agent",
                },
                undated="latest",
                extra_columns=("product",),
                currency="USD",
                timezone="UTC",
            )
        )

    def test_agent_against_the_team(self, deals: list[sf.Deal]) -> None:
        """Hayden Neloms (107/152) against the rest (4131/6559): hand-checked score test."""
        agent = m.win_rate([d for d in deals if d.owner == "Hayden Neloms"])
        rest = m.win_rate([d for d in deals if d.owner != "Hayden Neloms"])
        assert (agent.numerator, agent.denominator) == (107, 152)
        assert (rest.numerator, rest.denominator) == (4131, 6559)
        result = m.compare(agent, rest)
        pooled = 4238 / 6711
        z2 = (107 / 152 - 4131 / 6559) ** 2 / (pooled * (1 - pooled) * (1 / 152 + 1 / 6559))
        assert result.statistic == pytest.approx(z2, rel=1e-12)
        assert result.p_value == pytest.approx(math.erfc(math.sqrt(z2 / 2)), rel=1e-9)

    def test_win_rate_by_agent(self, deals: list[sf.Deal]) -> None:
        """30 agents: no agent differs from the rest once 30 tests are allowed for."""
        result = m.compare_groups(m.win_rate(deals, by="owner"))
        assert len(result.groups) == 30
        assert result.overall.df == 29
        assert result.significant == []
        lajuana = result.groups["Lajuana Vencill"]
        assert lajuana.p_value < 0.05 < lajuana.adjusted_p_value  # type: ignore[operator]

    def test_cycle_by_product(self, deals: list[sf.Deal]) -> None:
        """Cycle by product: the 7-sample log-rank test on the won deals' cycles."""
        result = m.compare_groups(m.sales_cycle(deals, by="product"))
        assert result.overall.df == 6
        assert result.overall.test == "log-rank test (chi-square, 6 df)"
        assert result.overall.p_value is not None
        assert 0 < result.overall.p_value < 1
