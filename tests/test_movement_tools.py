"""The movement tools around the metrics: the generator, the command line and the chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import salesflow as sf
from salesflow import metrics as m
from salesflow._cli import main
from salesflow.datasets import synthetic
from salesflow.io import write_events_csv


def at(month: int, day: int = 1) -> datetime:
    return datetime(2025, month, day, tzinfo=UTC)


class TestGenerator:
    def test_movement_leaves_the_other_draws_alone(self) -> None:
        """Same seed with and without movement: same stages, times, owners and touchpoints."""
        plain, moving = synthetic(200, seed=4), synthetic(200, seed=4, movement=True)
        assert [(d.stage_keys, d.stage_times, d.owner, d.touchpoints) for d in plain] == [
            (d.stage_keys, d.stage_times, d.owner, d.touchpoints) for d in moving
        ]
        assert all(d.changes == () and d.expected_close is None for d in plain)

    def test_deterministic_by_seed(self) -> None:
        """The same seed gives the same changes; another seed other ones."""
        one = [d.changes for d in synthetic(200, seed=4, movement=True)]
        assert one == [d.changes for d in synthetic(200, seed=4, movement=True)]
        assert one != [d.changes for d in synthetic(200, seed=5, movement=True)]

    def test_changes_are_made_while_open_and_read_back(self) -> None:
        """Every change falls while its deal is open, and records round-trip (the chain holds)."""
        deals = synthetic(300, seed=9, movement=True)
        assert sum(len(d.changes) for d in deals) > 100
        for deal in deals:
            for change in deal.changes:
                before = deal.as_of(change.at - timedelta(microseconds=1))
                assert before is not None
                assert before.is_open
            assert sf.Deal.from_dict(deal.to_dict(), deal.pipeline) == deal

    @pytest.mark.parametrize("month", range(1, 13))
    def test_identity_holds_on_generated_months(self, month: int) -> None:
        """The waterfall identity holds, to the cent, on every month of a generated year."""
        deals = synthetic(400, seed=month, movement=True)
        w = m.pipeline_changes(deals, at(month), at(month) + timedelta(days=30))
        assert isinstance(w, m.Waterfall)

        def amount(name: str) -> Decimal:
            value = w[name].amount
            assert value is not None
            return value.amount

        flows_in = ("open_at_start", "created", "reopened")
        count = sum(w[n].count for n in flows_in) - w["won"].count - w["lost"].count
        assert count == w["open_at_end"].count
        total = sum(amount(n) for n in (*flows_in, "value_up"))
        total -= sum(amount(n) for n in ("won", "lost", "value_down"))
        assert total == amount("open_at_end")


class TestCommandLine:
    @pytest.fixture
    def events(self, tmp_path: Path) -> Path:
        path = tmp_path / "events.csv"
        write_events_csv(synthetic(150, seed=2), path)
        return path

    def test_changes_prints_the_waterfall(
        self, events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`salesflow changes` prints every bucket and writes the JSON it was asked for."""
        out = tmp_path / "w.json"
        argv = ["changes", str(events), "--from", "2025-06-01", "--to", "2025-07-01"]
        assert main([*argv, "--timezone", "UTC", "--json", str(out)]) == 0
        printed = capsys.readouterr().out
        for name in m.Waterfall.names:
            assert name.replace("_", " ") in printed
        data = json.loads(out.read_text(encoding="utf-8"))
        expected = m.pipeline_changes(
            sf.io.read_events_csv(events, sf.templates.b2b()), at(6), at(7)
        )
        assert isinstance(expected, m.Waterfall)
        assert data["buckets"]["won"]["count"] == expected["won"].count

    def test_changes_refuses_a_reversed_window(
        self, events: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--to before --from is a usage error (exit 2)."""
        argv = ["changes", str(events), "--from", "2025-07-01", "--to", "2025-06-01"]
        assert main([*argv, "--timezone", "UTC"]) == 2
        assert "before --from" in capsys.readouterr().err

    def test_stale_without_rotting_stages_says_so(
        self, events: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The template has no rotting_after: no stale deals, and the hint says why."""
        assert main(["stale", str(events)]) == 0
        assert "no stage has a rotting_after" in capsys.readouterr().out


class TestChart:
    def test_waterfall_bars_end_where_the_pipeline_ends(self) -> None:
        """The last floating bar's bottom is the open pipeline at the end (the identity, drawn)."""
        mpl = pytest.importorskip("matplotlib")
        mpl.use("Agg")
        plt = pytest.importorskip("matplotlib.pyplot")
        deals = synthetic(300, seed=3, movement=True)
        w = m.pipeline_changes(deals, at(6), at(7))
        assert isinstance(w, m.Waterfall)
        ax = sf.plot.waterfall(w, amount=False)
        heights = [p.get_height() for p in ax.patches]
        bottoms = [p.get_y() for p in ax.patches]
        assert len(heights) == 12
        # In counts: start, created, reopened, won, lost, end, then the six beside it.
        assert bottoms[4] == w["open_at_end"].count  # lost, the last floating bar
        assert heights[5] == w["open_at_end"].count
        plt.close(ax.figure)

    def test_a_non_waterfall_is_refused(self) -> None:
        """plot.waterfall draws waterfalls only."""
        pytest.importorskip("matplotlib")
        with pytest.raises(TypeError, match="pipeline_changes"):
            sf.plot.waterfall(m.Rate.of(1, 2))
