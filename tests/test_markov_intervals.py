"""Tests for win_probability_interval: n per stage and a Bayesian-bootstrap interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import salesflow as sf
from salesflow import metrics as m
from salesflow.metrics._intervals import _betaincinv

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def deals() -> list[sf.Deal]:
    """40 deals reach Demo (14 won there, 26 lost); 20 more are lost at Lead."""
    p = sf.Pipeline.linear("S", ["Lead", "Demo"])
    out = []
    for i in range(40):
        deal = p.open_deal(f"d{i}", at=T0).advance(at=T0 + timedelta(days=1))
        closed = T0 + timedelta(days=2)
        out.append(deal.win(at=closed) if i < 14 else deal.lose(at=closed))
    out += [p.open_deal(f"x{i}", at=T0).lose(at=T0 + timedelta(days=1)) for i in range(20)]
    return out


class TestWinProbabilityInterval:
    def test_point_and_counts(self) -> None:
        """The value is win_probability's; n counts the moves out of each stage."""
        result = m.win_probability_interval(deals())
        point = m.win_probability(deals())
        assert {k: v.value for k, v in result.items()} == point
        assert (result["Lead"].n, result["Demo"].n) == (60, 40)

    def test_last_stage_is_a_beta_posterior(self) -> None:
        """From Demo (14 won, 26 lost) the draws are Beta(14, 26): its quantiles, within MC error."""
        result = m.win_probability_interval(deals(), n_draws=4000, seed=1)
        low, high = result["Demo"].interval  # type: ignore[misc]
        assert low == pytest.approx(_betaincinv(14, 26, 0.025), abs=0.015)
        assert high == pytest.approx(_betaincinv(14, 26, 0.975), abs=0.015)

    def test_seeded(self) -> None:
        """The same seed gives the same interval; another seed, another one."""
        a = m.win_probability_interval(deals(), seed=7)
        b = m.win_probability_interval(deals(), seed=7)
        c = m.win_probability_interval(deals(), seed=8)
        assert a == b
        assert a["Lead"].interval != c["Lead"].interval
        assert "n=60" in str(a["Lead"])

    def test_undefined_stage(self) -> None:
        """A stage never left has no value and no interval."""
        p = sf.Pipeline.linear("S", ["Lead", "Demo"])
        only = [p.open_deal("a", at=T0).advance(at=T0 + timedelta(days=1))]
        result = m.win_probability_interval(only)
        assert result["Demo"].value is None
        assert result["Demo"].interval is None
        assert str(result["Demo"]) == "n/a (n=0)"

    def test_bad_arguments(self) -> None:
        """Too few draws, or no deals and no pipeline, are refused."""
        with pytest.raises(ValueError, match="n_draws"):
            m.win_probability_interval(deals(), n_draws=5)
        with pytest.raises(ValueError, match="pipeline"):
            m.win_probability_interval([])


class TestExpectedTimeToCloseInterval:
    def test_one_stage_is_the_mean_interval(self) -> None:
        """Lead -> closed directly: the draws are N(mean, s²/n) of the stays, within MC error."""
        p = sf.Pipeline.linear("S", ["Lead"])
        days = [2, 5, 9, 3, 7, 4, 6, 8, 1, 10] * 3
        out = []
        for i, d in enumerate(days):
            deal = p.open_deal(f"d{i}", at=T0)
            at = T0 + timedelta(days=d)
            out.append(deal.win(at=at) if i % 2 else deal.lose(at=at))
        result = m.expected_time_to_close_interval(out, n_draws=4000, seed=2)
        lead = result["Lead"]
        assert lead.value == m.expected_time_to_close(out)["Lead"]
        assert lead.n == 30
        mean = sum(days) / 30
        sd = (sum((d - mean) ** 2 for d in days) / 29) ** 0.5
        half = 1.959964 * sd / 30**0.5
        low, high = lead.interval  # type: ignore[misc]
        assert low / timedelta(days=1) == pytest.approx(mean - half, abs=0.1)
        assert high / timedelta(days=1) == pytest.approx(mean + half, abs=0.1)
        assert str(lead).startswith("5.5 d (n=30, 95% CI")

    def test_chain_holds_the_value(self) -> None:
        """Two stages: the interval holds the point estimate; same seed, same answer."""
        a = m.expected_time_to_close_interval(deals(), seed=5)
        assert a == m.expected_time_to_close_interval(deals(), seed=5)
        for estimate in a.values():
            low, high = estimate.interval  # type: ignore[misc]
            assert low <= estimate.value <= high
