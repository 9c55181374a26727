"""The revenue forecast: exact cases by hand, an independent path simulator, both lanes."""

from __future__ import annotations

import bisect
import importlib.util
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import salesflow as sf
from salesflow import metrics as m
from salesflow.datasets import synthetic

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
USD = "USD"
needs_numpy = pytest.mark.skipif(
    importlib.util.find_spec("numpy") is None, reason="numpy (salesflow[fast]) is not installed"
)


def _closed(p: sf.Pipeline, i: int, days: float, *, won: bool, stages: int = 1) -> sf.Deal:
    """A deal opened on day i that moves every *days* through *stages* open stages, then closes."""
    at = T0 + i * DAY
    deal = p.open_deal(f"C{i}", at=at, value=sf.Money(1, USD))
    for _ in range(stages - 1):
        at += days * DAY
        deal = deal.advance(at=at)
    at += days * DAY
    return deal.win(at=at) if won else deal.lose(at=at)


class TestExactCases:
    """Cases whose probabilities follow by hand from the history."""

    def test_one_step_from_won(self) -> None:
        """Three of four stays in Lead ended won after 10 days: an open deal wins with 3/4."""
        p = sf.Pipeline.linear("S", ["Lead"])
        history = [_closed(p, i, 10, won=i < 3) for i in range(4)]
        cut = T0 + 30 * DAY
        a = p.open_deal("A", at=cut - 2 * DAY, value=sf.Money(100, USD))
        b = p.open_deal("B", at=cut - 2 * DAY, value=sf.Money(200, USD))
        f = m.forecast([*history, a, b], cut, cut + 30 * DAY, as_of=cut, n=4000)
        assert f.p_close("A") == f.p_close("B") == 0.75
        assert f.expected_count == 1.5
        assert f.open_deals == 2
        # Revenue is 0, 100, 200 or 300 with probabilities 1/16, 3/16, 3/16, 9/16.
        seen = Counter(f.revenue)
        assert set(seen) <= {0, 100, 200, 300}
        assert abs(seen[300] / 4000 - 9 / 16) < 4 * (9 / 16 * 7 / 16 / 4000) ** 0.5
        assert f.percentile(0.0) == sf.Money(0, USD) or seen[0] == 0
        assert f.percentile(1.0) == sf.Money(300, USD)
        assert f.median == sf.Money(300, USD)
        mean = f.mean
        assert mean is not None
        assert abs(mean.amount - Decimal(225)) < 4 * Decimal(Decimal(11_250 / 4000).sqrt())

    def test_the_win_must_fall_in_the_period(self) -> None:
        """A stay that ends after the period, or before its start, wins nothing in it."""
        p = sf.Pipeline.linear("S", ["Lead"])
        history = [_closed(p, i, 10, won=True) for i in range(4)]
        cut = T0 + 30 * DAY
        deal = p.open_deal("A", at=cut - 2 * DAY, value=sf.Money(100, USD))
        # The stay ends 8 days after the cut-off.
        late = m.forecast([*history, deal], cut, cut + 8 * DAY, as_of=cut, n=100)
        assert late.p_close("A") == 0.0
        inside = m.forecast([*history, deal], cut, cut + 8 * DAY + DAY / 24, as_of=cut, n=100)
        assert inside.p_close("A") == 1.0
        after = m.forecast([*history, deal], cut + 9 * DAY, cut + 20 * DAY, as_of=cut, n=100)
        assert after.p_close("A") == 0.0

    def test_two_steps_go_through_the_bank(self) -> None:
        """Half the Lead stays reach Demo, every Demo stay is won: an open Lead deal wins 1/2."""
        p = sf.Pipeline.linear("S", ["Lead", "Demo"])
        history = [_closed(p, i, 10, won=True, stages=2) for i in range(4)]
        history += [_closed(p, 10 + i, 10, won=False) for i in range(4)]
        cut = T0 + 60 * DAY
        deal = p.open_deal("A", at=cut, value=sf.Money(100, USD))
        f = m.forecast([*history, deal], cut, cut + 25 * DAY, as_of=cut, n=100)
        assert f.p_close("A") == 0.5
        short = m.forecast([*history, deal], cut, cut + 19 * DAY, as_of=cut, n=100)
        assert short.p_close("A") == 0.0

    def test_time_already_spent_conditions_the_stay(self) -> None:
        """Stays of 1..10 days, a deal 4.5 days in: P(leaves by day 7) = 3/6 = 1/2, not 7/10."""
        p = sf.Pipeline.linear("S", ["Lead"])
        history = [_closed(p, i, i, won=True) for i in range(1, 11)]
        cut = T0 + 40 * DAY
        deal = p.open_deal("A", at=cut - 4.5 * DAY, value=sf.Money(100, USD))
        end = cut + 2.5 * DAY + DAY / 24  # day 7 of the deal's stay, and an hour
        f = m.forecast([*history, deal], cut, end, as_of=cut, n=100)
        assert f.p_close("A") == 0.5

    def test_stage_probability_is_the_configured_chance(self) -> None:
        """The CRM baseline wins each deal with its stage's probability: the weighted pipeline."""
        p = sf.Pipeline.linear("S", ["Lead", "Demo"], probabilities=[0.25, 0.5])
        cut = T0 + 5 * DAY
        deals = [
            p.open_deal("A", at=T0, value=sf.Money(100, USD)),
            p.open_deal("B", at=T0, value=sf.Money(300, USD)).advance(at=T0 + DAY),
        ]
        f = m.forecast(deals, cut, cut + 30 * DAY, method="stage_probability", n=20_000)
        assert (f.p_close("A"), f.p_close("B")) == (0.25, 0.5)
        assert f.expected_count == 0.75
        mean = f.mean
        assert mean is not None
        # Weighted pipeline 175; the standard deviation of the revenue is about 156.
        assert abs(mean.amount - 175) < 4 * Decimal(156) / Decimal(20_000).sqrt()


class TestWithExpectedCloseDates:
    def test_baseline_counts_deals_expected_in_the_period(self) -> None:
        """stage_probability: a deal expected after the period adds nothing; one without a date counts."""
        p = sf.Pipeline.linear("S", ["Lead"], probabilities=[0.5])
        cut = T0 + 5 * DAY
        start, end = cut, cut + 30 * DAY
        inside = p.open_deal(
            "IN", at=T0, value=sf.Money(100, USD), expected_close=(cut + 3 * DAY).date()
        )
        on_last_day = p.open_deal(
            "LAST", at=T0, value=sf.Money(1, USD), expected_close=(end - DAY).date()
        )
        after = p.open_deal("OUT", at=T0, value=sf.Money(100, USD), expected_close=end.date())
        undated = p.open_deal("NONE", at=T0, value=sf.Money(100, USD))
        f = m.forecast(
            [inside, on_last_day, after, undated], start, end, method="stage_probability", n=10
        )
        assert {k: f.p_close(k) for k in ("IN", "LAST", "OUT", "NONE")} == {
            "IN": 0.5,
            "LAST": 0.5,
            "OUT": 0.0,
            "NONE": 0.5,
        }

    def test_dates_as_they_were_at_the_cutoff(self) -> None:
        """A close date pushed out after the cut-off does not change the cut-off's forecast."""
        p = sf.Pipeline.linear("S", ["Lead"], probabilities=[0.5])
        cut = T0 + 5 * DAY
        deal = p.open_deal("A", at=T0, value=sf.Money(100, USD), expected_close=(cut + DAY).date())
        pushed = deal.update(
            at=cut + DAY, expected_close=(cut + 90 * DAY).date(), value=sf.Money(900, USD)
        )
        f = m.forecast([pushed], cut, cut + 30 * DAY, as_of=cut, method="stage_probability", n=50)
        assert f.p_close("A") == 0.5
        assert f.percentile(1.0) == sf.Money(100, USD)
        later = m.forecast([pushed], cut, cut + 30 * DAY, method="stage_probability", n=50)
        assert later.p_close("A") == 0.0


class TestNewDeals:
    def _history(self) -> list[sf.Deal]:
        """One deal a day for 60 days, each won after exactly 2 days in Lead, worth 100."""
        p = sf.Pipeline.linear("S", ["Lead"])
        return [
            p.open_deal(f"H{i}", at=T0 + i * DAY, value=sf.Money(100, USD)).win(
                at=T0 + (i + 2) * DAY
            )
            for i in range(60)
        ]

    def test_creation_rate_and_conversion(self) -> None:
        """Ten deals per 10 days, each won 2 days after creation: 8 of them win in 10 days."""
        deals = self._history()
        cut = T0 + 60 * DAY
        f = m.forecast(deals, cut, cut + 10 * DAY, as_of=cut, n=2000, include_new=True)
        assert f.new_created == 10
        # Binomial(10, 0.8) per simulation: the mean of 2,000 is within 0.03 of 8 (1 sd).
        assert abs(f.new_won - 8) < 0.15
        without = m.forecast(deals, cut, cut + 10 * DAY, as_of=cut, n=2000)
        assert f.expected_count == pytest.approx(without.expected_count + f.new_won)
        assert sum(f.revenue) - sum(without.revenue) == 100 * round(f.new_won * 2000)

    @needs_numpy
    def test_lanes_agree_with_new_deals(self) -> None:
        """Both engines draw the same new deals."""
        deals = synthetic(300, seed=5, touchpoints=False)
        cut = datetime(2025, 8, 1, tzinfo=UTC)
        kwargs = {"as_of": cut, "n": 200, "seed": 3, "include_new": True}
        a = m.forecast(deals, cut, cut + 60 * DAY, engine="python", **kwargs)  # type: ignore[arg-type]
        b = m.forecast(deals, cut, cut + 60 * DAY, engine="numpy", **kwargs)  # type: ignore[arg-type]
        assert a.revenue == b.revenue
        assert a.new_won == b.new_won > 0

    def test_needs_markov(self) -> None:
        """The CRM baseline has no paths for deals not yet created."""
        with pytest.raises(ValueError, match="markov"):
            m.forecast(self._history(), T0, T0 + DAY, method="stage_probability", include_new=True)


def _oracle(
    deals: list[sf.Deal], cut: datetime, start: datetime, end: datetime, paths: int
) -> dict[str, float]:
    """p_close by brute force: sample every path step by step from the fitted curves."""
    pipeline = deals[0].pipeline
    as_seen = [d for d in (x.as_of(cut) for x in deals) if d is not None]
    counts = m.transition_counts(as_seen)
    stays: dict[str, tuple[list[float], list[bool]]] = {}
    for deal in as_seen:
        keys, times = deal.stage_keys, deal.stage_times
        for i, key in enumerate(keys):
            if not pipeline.stage(key).is_open:
                continue
            ended = i + 1 < len(keys)
            span = (times[i + 1] if ended else cut) - times[i]
            stays.setdefault(key, ([], []))[0].append(span / DAY)
            stays[key][1].append(ended)
    curves = {k: m.kaplan_meier(v[0], v[1]) for k, v in stays.items()}
    negated = {k: [-s for s in c.survival_values] for k, c in curves.items()}
    rng = random.Random(7)

    def draw(key: str, older_than: float) -> float | None:
        """A stay's whole length, given it has lasted *older_than* days (inverse KM)."""
        curve = curves[key]
        survive = (curve.survival(older_than) or 0.0) if older_than else 1.0
        i = bisect.bisect_left(negated[key], -rng.random() * survive)
        return None if i == len(curve.times) else curve.times[i]

    out = {}
    for deal in as_seen:
        if not deal.is_open:
            continue
        won = 0
        for _ in range(paths):
            key, clock, age = deal.stage.key, deal.entered_at, (cut - deal.entered_at) / DAY
            while (stay := draw(key, age)) is not None:
                clock, age = clock + stay * DAY, 0.0
                row = counts[key]
                nxt = rng.choices(list(row), weights=list(row.values()))[0]
                if clock >= end or pipeline.stage(nxt).is_lost:
                    break
                if pipeline.stage(nxt).is_won:
                    won += clock >= start
                    break
                key = nxt
        out[deal.id] = won / paths
    return out


class TestAgainstABruteForceSimulation:
    def test_p_close_matches_path_by_path_sampling(self) -> None:
        """On generated data, p_close agrees with a naive path simulator within its noise."""
        deals = synthetic(400, seed=3, touchpoints=False)
        cut = datetime(2025, 9, 1, tzinfo=UTC)
        end = cut + 45 * DAY
        f = m.forecast(deals, cut, end, as_of=cut, n=4096)
        paths = 3000
        oracle = _oracle(deals, cut, cut, end, paths)
        assert oracle.keys() == f.chances.keys()
        for deal_id, expected in oracle.items():
            noise = max((expected * (1 - expected) / paths) ** 0.5, 1 / paths)
            # The bank's own noise (4,096 paths per stage) and the tables'
            # quantisation are well inside this margin.
            assert abs(f.p_close(deal_id) - expected) < 5 * noise + 0.01, deal_id
        assert abs(f.expected_count - sum(oracle.values())) < 0.02 * len(oracle) ** 0.5 + 0.5


class TestLanes:
    @needs_numpy
    @pytest.mark.parametrize("method", ["markov", "stage_probability"])
    def test_python_and_numpy_agree_exactly(self, method: str) -> None:
        """The two engines make the same draws: the same forecast, number for number."""
        deals = synthetic(300, seed=5, touchpoints=False)
        cut = datetime(2025, 8, 1, tzinfo=UTC)
        kwargs = {"as_of": cut, "n": 300, "seed": 11, "method": method, "by": "owner"}
        a = m.forecast(deals, cut, cut + 60 * DAY, engine="python", **kwargs)  # type: ignore[arg-type]
        b = m.forecast(deals, cut, cut + 60 * DAY, engine="numpy", **kwargs)  # type: ignore[arg-type]
        assert a.revenue == b.revenue
        assert a.counts == b.counts
        assert a.chances == b.chances
        assert a.by is not None
        assert b.by is not None
        assert {k: v.revenue for k, v in a.by.items()} == {k: v.revenue for k, v in b.by.items()}

    def test_the_seed_decides(self) -> None:
        """The same seed gives the same forecast; another seed other draws, same chances."""
        deals = synthetic(200, seed=2, touchpoints=False)
        cut = datetime(2025, 8, 1, tzinfo=UTC)
        a = m.forecast(deals, cut, cut + 60 * DAY, as_of=cut, n=200, seed=1)
        b = m.forecast(deals, cut, cut + 60 * DAY, as_of=cut, n=200, seed=1)
        c = m.forecast(deals, cut, cut + 60 * DAY, as_of=cut, n=200, seed=2)
        assert a == b
        assert a.counts != c.counts


class TestLeakage:
    def test_later_events_do_not_change_the_forecast(self) -> None:
        """Forecasting as of a cut-off gives what the deals cut at that time give."""
        deals = synthetic(300, seed=4, touchpoints=False)
        cut = datetime(2025, 7, 1, tzinfo=UTC)
        full = m.forecast(deals, cut, cut + 90 * DAY, as_of=cut, n=300)
        known = [d for d in (x.as_of(cut) for x in deals) if d is not None]
        assert m.forecast(known, cut, cut + 90 * DAY, as_of=cut, n=300) == full


class TestGroupsAndResults:
    def test_groups_share_the_simulations(self) -> None:
        """by='owner': the groups' revenue adds up to the whole, simulation by simulation in sum."""
        deals = synthetic(300, seed=6, touchpoints=False)
        cut = datetime(2025, 8, 1, tzinfo=UTC)
        f = m.forecast(deals, cut, cut + 60 * DAY, as_of=cut, n=200, by="owner")
        assert f.by is not None
        assert sum(sum(g.revenue) for g in f.by.values()) == sum(f.revenue)
        assert sum(g.open_deals for g in f.by.values()) == f.open_deals
        assert sum(g.expected_count for g in f.by.values()) == pytest.approx(f.expected_count)

    def test_interval_histogram_and_records(self) -> None:
        """Intervals nest, the histogram counts every simulation, records carry the summary."""
        deals = synthetic(300, seed=6, touchpoints=False)
        cut = datetime(2025, 8, 1, tzinfo=UTC)
        f = m.forecast(deals, cut, cut + 60 * DAY, as_of=cut, n=500)
        i50, i95 = f.interval(0.5), f.interval(0.95)
        assert i50 is not None
        assert i95 is not None
        assert i95[0] <= i50[0] <= i50[1] <= i95[1]
        bins = f.histogram(10)
        assert sum(b.count for b in bins) == 500
        assert bins[0].low == f.percentile(0)
        assert bins[-1].high == f.percentile(1)
        record = f.to_dict()
        assert record["p50"] == str(f.median.amount)  # type: ignore[union-attr]
        assert "Forecast" in repr(f)
        assert "<table>" in f._repr_html_()

    def test_to_frame(self) -> None:
        """to_frame() has one row per headline statistic, amounts exact."""
        pytest.importorskip("pandas")
        deals = synthetic(100, seed=6, touchpoints=False)
        cut = datetime(2025, 8, 1, tzinfo=UTC)
        f = m.forecast(deals, cut, cut + 60 * DAY, as_of=cut, n=100)
        frame = f.to_frame()
        assert list(frame["statistic"])[:2] == ["mean", "p5"]
        assert frame["amount"][1] == f.percentile(0.05).amount  # type: ignore[union-attr]


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"method": "magic"}, "method"),
            ({"n": 0}, "n must"),
            ({"seed": -1}, "seed"),
            ({"engine": "gpu"}, "engine"),
        ],
    )
    def test_bad_options(self, kwargs: dict[str, object], match: str) -> None:
        """Bad options raise ValueError naming the option."""
        deals = synthetic(20, seed=1, touchpoints=False)
        with pytest.raises(ValueError, match=match):
            m.forecast(deals, T0, T0 + DAY, **kwargs)  # type: ignore[arg-type]

    def test_period_and_unknown_deal(self) -> None:
        """An empty period and a deal that was not open are clear errors."""
        deals = synthetic(50, seed=1, touchpoints=False)
        with pytest.raises(ValueError, match="after start"):
            m.forecast(deals, T0, T0)
        f = m.forecast(deals, T0, T0 + DAY, n=10)
        with pytest.raises(m.UnknownDealError, match="nope"):
            f.p_close("nope")

    def test_currencies_are_not_mixed(self) -> None:
        """Open deals in two currencies cannot be added up."""
        p = sf.Pipeline.linear("S", ["Lead"])
        deals = [
            p.open_deal("A", at=T0, value=sf.Money(1, "USD")),
            p.open_deal("B", at=T0, value=sf.Money(1, "EUR")),
        ]
        with pytest.raises(sf.CurrencyMismatchError):
            m.forecast(deals, T0, T0 + DAY)
