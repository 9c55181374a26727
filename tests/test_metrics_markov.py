"""The absorbing Markov chain: P(won | stage) and expected time to close."""

from __future__ import annotations

from datetime import timedelta

import pytest

import salesflow as sf
from salesflow import metrics as m
from tests.strategies import T0

DAY = timedelta(days=1)
# REFERENCE.md: observed transition counts.
COUNTS = {
    "Lead": {"Qualified": 60, "Lost": 40},
    "Qualified": {"Proposal": 30, "Lead": 5, "Lost": 15},
    "Proposal": {"Won": 12, "Lost": 10, "Qualified": 3},
}


class TestAbsorbingChain:
    def test_reference_win_probabilities(self) -> None:
        """P(won | stage) reproduces REFERENCE.md."""
        chain = m.absorbing_chain(COUNTS, won=["Won"], lost=["Lost"])
        assert chain.win_probability == pytest.approx(
            {"Lead": 0.199078, "Qualified": 0.331797, "Proposal": 0.519816}, abs=5e-7
        )

    def test_reference_steps_and_days(self) -> None:
        """Expected moves and days to close reproduce REFERENCE.md."""
        chain = m.absorbing_chain(
            COUNTS,
            won=["Won"],
            lost=["Lost"],
            holding={"Lead": 10, "Qualified": 14, "Proposal": 21},
        )
        assert chain.expected_steps == pytest.approx(
            {"Lead": 2.175115, "Qualified": 1.958525, "Proposal": 1.235023}, abs=5e-7
        )
        assert chain.expected_time == pytest.approx(
            {"Lead": 29.078341, "Qualified": 31.797235, "Proposal": 24.815668}, abs=5e-7
        )

    def test_differs_from_product_of_advance_rates(self) -> None:
        """With backward moves the naive product (0.1728 for Lead) is wrong."""
        chain = m.absorbing_chain(COUNTS, won=["Won"], lost=["Lost"])
        naive = 0.6 * 0.6 * 0.48
        assert naive == pytest.approx(0.1728)
        assert chain.win_probability["Lead"] != pytest.approx(naive, abs=1e-3)

    def test_unobserved_state_is_undefined(self) -> None:
        """A state never left, and any state that can reach it, is None."""
        chain = m.absorbing_chain({"A": {"B": 1, "Won": 1}, "C": {"Won": 1}}, won=["Won"], lost=[])
        assert chain.win_probability == {"A": None, "B": None, "C": 1.0}
        assert chain.undefined == {"A", "B"}


class TestFromDeals:
    def deals(self) -> list[sf.Deal]:
        """Two deals won through B, one lost at A, one lost at B."""
        p = sf.Pipeline.linear("P", ["A", "B"])
        return [
            p.open_deal("1", at=T0).advance(at=T0 + DAY).win(at=T0 + 3 * DAY),
            p.open_deal("2", at=T0).advance(at=T0 + 2 * DAY).win(at=T0 + 3 * DAY),
            p.open_deal("3", at=T0).lose(at=T0 + 4 * DAY),
            p.open_deal("4", at=T0).advance(at=T0 + DAY).lose(at=T0 + 4 * DAY),
        ]

    def test_win_probability(self) -> None:
        """P(won | B) = 2/3 and P(won | A) = 3/4 × 2/3 = 1/2, worked by hand."""
        assert m.win_probability(self.deals()) == pytest.approx({"A": 0.5, "B": 2 / 3})

    def test_expected_time_to_close(self) -> None:
        """Mean stays: A (1 + 2 + 4 + 1) / 4 = 2 d, B (2 + 1 + 3) / 3 = 2 d; from A: 2 + 3/4 × 2 = 3.5 d."""
        result = m.expected_time_to_close(self.deals())
        assert result["B"] == 2 * DAY
        assert result["A"] == timedelta(days=3.5)

    def test_transition_counts(self) -> None:
        """Every consecutive move is counted."""
        counts = m.transition_counts(self.deals())
        assert counts == {"A": {"B": 3, "Closed lost": 1}, "B": {"Closed won": 2, "Closed lost": 1}}
