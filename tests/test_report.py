"""The one-pass report and the generator behind the demo."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesflow as sf
from salesflow import metrics as m
from salesflow.datasets import synthetic
from salesflow.metrics._report import ReportAccumulator


class TestReport:
    def test_agrees_with_the_functions(self) -> None:
        """Every figure in the report equals the function that defines it."""
        deals = synthetic(400, seed=3)
        rep = sf.report(deals)
        assert rep.deals == 400
        assert rep.funnel == m.funnel(deals)
        assert rep.win_rate == m.win_rate(deals)
        assert rep.average_deal_size == m.average_deal_size(deals)
        assert rep.sales_cycle == m.sales_cycle(deals)
        assert rep.time_in_stage == m.time_in_stage(deals)
        assert rep.velocity == m.sales_velocity(deals)
        assert rep.pipeline_value == m.pipeline_value(deals)
        assert rep.weighted_pipeline == m.weighted_pipeline(deals)

    def test_renders_and_serialises(self) -> None:
        """The report prints as text, renders as HTML and dumps to JSON."""
        rep = sf.report(synthetic(200, seed=1))
        text = str(rep)
        assert "Win rate" in text
        assert "Kaplan-Meier" in text
        assert rep._repr_html_().count("<table") == 3  # headlines, funnel, time in stage
        assert json.loads(json.dumps(rep.to_dict()))["deals"] == 200

    def test_no_deals(self) -> None:
        """No deals: needs the pipeline, then every value is undefined."""
        with pytest.raises(ValueError, match="pipeline"):
            sf.report([])
        rep = sf.report([], pipeline=sf.templates.b2b())
        assert rep.win_rate.value is None
        assert rep.velocity.value is None

    @given(st.integers(0, 60), st.integers(0, 60))
    @settings(max_examples=25, deadline=None)
    def test_merge_equals_union(self, n_a: int, n_b: int) -> None:
        """A report merged from two partitions equals the report of all the deals."""
        deals = synthetic(n_a + n_b, seed=5)
        pipeline = sf.templates.b2b()
        parts = []
        for chunk in (deals[:n_a], deals[n_a:]):
            acc = ReportAccumulator(pipeline)
            for deal in chunk:
                acc.add(deal)
            parts.append(acc)
        whole = ReportAccumulator(pipeline)
        for deal in deals:
            whole.add(deal)
        assert parts[0].merge(parts[1]).result() == whole.result()


class TestSynthetic:
    def test_deterministic(self) -> None:
        """The same seed gives the same deals; another seed differs."""
        assert synthetic(50, seed=2) == synthetic(50, seed=2)
        assert synthetic(50, seed=2) != synthetic(50, seed=3)

    def test_every_history_is_legal(self) -> None:
        """Every generated deal passes the pipeline's replay check."""
        for deal in synthetic(300, seed=9):
            deal.pipeline.check(deal)

    def test_realistic_mix(self) -> None:
        """A sample has won, lost and open deals, backward moves and lost reasons."""
        deals = synthetic(2000, seed=0)
        assert {d.stage.outcome for d in deals} == set(sf.Outcome)
        ranks = [[d.pipeline.rank(k) for k in d.stage_keys] for d in deals]
        moves = [pair for r in ranks for pair in itertools.pairwise(r)]
        assert any(a is not None and b is not None and b < a for a, b in moves)
        assert any(d.lost_reason for d in deals if d.is_lost)

    def test_bad_size(self) -> None:
        """A negative size is refused."""
        with pytest.raises(ValueError, match="n_deals"):
            synthetic(-1)
