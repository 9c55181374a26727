"""Backtest and calibration: no leakage, coverage near nominal on a known process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import salesflow as sf
from salesflow import metrics as m
from salesflow.datasets import synthetic

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = datetime(2025, 1, 1, tzinfo=UTC)


class TestBacktest:
    def test_later_events_cannot_change_a_cutoffs_forecast(self) -> None:
        """Rewriting every deal's future after the cut-off changes the actual, never the forecast."""
        deals = synthetic(300, seed=8, touchpoints=False)
        cutoff = YEAR + 200 * DAY
        other = []
        for deal in deals:
            then = deal.as_of(cutoff)
            if then is None:
                continue
            # Another future: every deal still open is won the day after the cut-off.
            other.append(then.win(at=cutoff + DAY) if then.is_open else then)
        a = m.backtest(deals, [cutoff], horizon=30 * DAY, n=300)
        b = m.backtest(other, [cutoff], horizon=30 * DAY, n=300)
        assert a.rows[0].forecast == b.rows[0].forecast
        assert a.rows[0].actual != b.rows[0].actual
        assert b.rows[0].won == a.rows[0].forecast.open_deals

    def test_actual_is_what_the_open_deals_won_in_the_period(self) -> None:
        """The actual counts deals open at the cut-off and won inside the period, by hand."""
        p = sf.Pipeline.linear("S", ["Lead"])
        usd = sf.Money
        early = p.open_deal("E", at=T0, value=usd(7, "USD")).win(at=T0 + DAY)  # closed before
        inside = p.open_deal("I", at=T0, value=usd(100, "USD")).win(at=T0 + 15 * DAY)
        late = p.open_deal("L", at=T0, value=usd(40, "USD")).win(at=T0 + 45 * DAY)
        lost = p.open_deal("X", at=T0, value=usd(5, "USD")).lose(at=T0 + 12 * DAY)
        row = m.backtest([early, inside, late, lost], [T0 + 10 * DAY], horizon=30 * DAY, n=50).rows[
            0
        ]
        assert row.actual == usd(100, "USD")
        assert row.won == 1
        assert row.forecast.open_deals == 3

    def test_errors_and_coverage_by_hand(self) -> None:
        """error = mean − actual, ape = |error| / actual, coverage counts the rows inside."""
        deals = synthetic(300, seed=9, touchpoints=False)
        cutoffs = [YEAR + d * DAY for d in (150, 200, 250)]
        b = m.backtest(deals, cutoffs, horizon=30 * DAY, n=400)
        assert [r.cutoff for r in b.rows] == cutoffs
        inside = 0
        for row in b.rows:
            mean, actual = row.forecast.mean, row.actual
            assert mean is not None
            assert actual is not None
            assert row.error == mean - actual
            if actual.amount:
                ape = float(abs(mean.amount - actual.amount) / actual.amount)
                assert row.ape == pytest.approx(ape)
            else:
                assert row.ape is None
            low, high = row.forecast.interval(0.8)  # type: ignore[misc]
            inside += low <= actual <= high
        assert b.coverage(0.8).numerator == inside
        assert b.coverage(0.8).denominator == 3
        apes = [r.ape for r in b.rows if r.ape is not None]
        assert apes
        assert b.mape == pytest.approx(sum(apes) / len(apes))

    def test_bad_arguments(self) -> None:
        """A horizon that is not positive, or a naive cut-off, is refused."""
        deals = synthetic(20, seed=1, touchpoints=False)
        with pytest.raises(ValueError, match="horizon"):
            m.backtest(deals, [T0], horizon=timedelta(0))
        with pytest.raises(ValueError, match="cutoff"):
            m.backtest(deals, [datetime(2025, 6, 1)], horizon=DAY)

    def test_records(self) -> None:
        """to_dict, repr, HTML and frame carry the summary and one row per cut-off."""
        deals = synthetic(200, seed=2, touchpoints=False)
        b = m.backtest(deals, [YEAR + 180 * DAY, YEAR + 240 * DAY], horizon=30 * DAY, n=200)
        record = b.to_dict()
        assert record["cutoffs"] == len(record["rows"]) == 2
        assert "coverage" in repr(b)
        assert "<table>" in b._repr_html_()
        pytest.importorskip("pandas")
        frame = b.to_frame()
        assert list(frame["inside_80"]) == [r.inside(0.8) for r in b.rows]


class TestOnAKnownProcess:
    def test_coverage_is_nominal_and_markov_beats_the_crm_baseline(self) -> None:
        """On generated data (a stationary semi-Markov process), the intervals cover as they claim.

        Ten data sets of 600 deals (seeds 0-9), four cut-offs each 60 days
        apart, 45-day periods: 40 backtests. Margins: coverage within three
        binomial standard errors of nominal (sqrt(p(1-p)/40)); the Markov
        forecast's mean absolute error below 60 % of the stage-probability
        baseline's (it measures about 45 %).
        """
        cutoffs = [YEAR + d * DAY for d in (120, 180, 240, 300)]
        markov: list[m.BacktestRow] = []
        crm: list[m.BacktestRow] = []
        for seed in range(10):
            deals = synthetic(600, seed=seed, touchpoints=False)
            markov += m.backtest(deals, cutoffs, horizon=45 * DAY, n=1000).rows
            crm += m.backtest(
                deals, cutoffs, horizon=45 * DAY, n=200, method="stage_probability"
            ).rows
        ours = m.Backtest("markov", 45 * DAY, tuple(markov))
        theirs = m.Backtest("stage_probability", 45 * DAY, tuple(crm))
        for level in (0.5, 0.8, 0.95):
            share = ours.coverage(level).value
            assert share is not None
            assert abs(share - level) <= 3 * (level * (1 - level) / 40) ** 0.5, level
        a, b = ours.mean_absolute_error, theirs.mean_absolute_error
        assert a is not None
        assert b is not None
        assert a.amount < b.amount * 6 / 10


class TestCalibration:
    def _deals(self, p: sf.Pipeline) -> list[sf.Deal]:
        usd = sf.Money(1, "USD")
        lost = p.open_deal("A", at=T0, value=usd).lose(at=T0 + DAY)
        won = [
            p.open_deal(f"W{i}", at=T0, value=usd).advance(at=T0 + DAY).win(at=T0 + 2 * DAY)
            for i in range(3)
        ]
        still_open = p.open_deal("O", at=T0, value=usd)
        return [lost, *won, still_open]

    def test_rates_by_hand(self) -> None:
        """Lead: 3 of 4 closed deals won; Demo: 3 of 3; the open deal is not counted."""
        p = sf.Pipeline.linear("S", ["Lead", "Demo"], probabilities=[0.5, 0.9])
        c = m.calibration(self._deals(p))
        lead, demo = c.rows
        assert (lead.rate.numerator, lead.rate.denominator) == (3, 4)
        assert (demo.rate.numerator, demo.rate.denominator) == (3, 3)
        assert lead.rate.interval == m.wilson_interval(3, 4)
        assert (lead.configured, demo.configured) == (0.5, 0.9)
        assert c.flagged == ()
        assert lead.chain == pytest.approx(0.75)

    def test_a_configured_value_outside_the_interval_is_flagged(self) -> None:
        """A 10 % Lead probability is below Wilson(3, 4)'s lower bound (about 0.30)."""
        p = sf.Pipeline.linear("S", ["Lead", "Demo"], probabilities=[0.1, 0.9])
        c = m.calibration(self._deals(p))
        assert c.flagged == ("Lead",)
        assert c.rows[0].outside is True
        assert c.to_dict()["rows"][0]["outside"] is True
        assert "Lead" in repr(c)
        assert "<table>" in c._repr_html_()

    def test_unset_probability_is_not_judged(self) -> None:
        """A stage without a configured probability is neither inside nor outside."""
        p = sf.Pipeline.linear("S", ["Lead", "Demo"])
        c = m.calibration(self._deals(p))
        assert [r.outside for r in c.rows] == [None, None]
