"""The events CSV carries value and expected close history (issue 14)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import salesflow as sf
from salesflow.datasets import synthetic
from salesflow.io import read_events_csv, write_events_csv

HEAD = "deal_id,stage,at,value,currency,expected_close"


def day(d: int) -> datetime:
    return datetime(2026, 3, d, tzinfo=UTC)


@pytest.fixture
def linear() -> sf.Pipeline:
    return sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])


def read(text: str, pipeline: sf.Pipeline) -> sf.io.LoadResult:
    return read_events_csv(io.StringIO(text), pipeline)


class TestReading:
    def test_rows_state_value_and_close_date(self, linear: sf.Pipeline) -> None:
        """A change between a deal's rows is a field change at the later row; empty cells state nothing."""
        text = "\n".join(
            [
                HEAD,
                "A,Lead,2026-03-01T00:00:00+00:00,100,USD,2026-04-30",
                "A,Demo,2026-03-05T00:00:00+00:00,,,2026-05-31",
                "A,Proposal,2026-03-09T00:00:00+00:00,150,USD,2026-05-31",
            ]
        )
        deal = read(text + "\n", linear)[0]
        assert (deal.value, deal.expected_close) == (sf.Money(150, "USD"), date(2026, 5, 31))
        assert [(c.field, c.at.day) for c in deal.changes] == [
            ("expected_close", 5),
            ("value", 9),
        ]
        assert deal.as_of(day(6)).value == sf.Money(100, "USD")  # type: ignore[union-attr]

    def test_a_row_without_a_stage_states_fields_only(self, linear: sf.Pipeline) -> None:
        """A stage-less row records a change at its time and is no stage change."""
        text = (
            f"{HEAD}\nA,Lead,2026-03-01T00:00:00+00:00,100,USD,2026-04-30\n"
            "A,,2026-03-03T12:00:00+00:00,100,USD,2026-06-30\n"
        )
        deal = read(text, linear)[0]
        assert deal.stage_keys == ("Lead",)
        assert [(c.field, c.new, c.at) for c in deal.changes] == [
            ("expected_close", date(2026, 6, 30), day(3) + timedelta(hours=12))
        ]

    def test_a_bad_date_names_the_column(self, linear: sf.Pipeline) -> None:
        """expected_close must be an ISO date."""
        text = f"{HEAD}\nA,Lead,2026-03-01T00:00:00+00:00,100,USD,30/04/2026\n"
        with pytest.raises(sf.LoadError, match="not an ISO date") as info:
            read(text, linear)
        assert info.value.column == "expected_close"

    def test_a_field_row_before_the_deal_is_refused(self, linear: sf.Pipeline) -> None:
        """A change before the deal's first stage change is a LoadError at its line."""
        text = (
            f"{HEAD}\nA,,2026-02-01T00:00:00+00:00,100,USD,\n"
            "A,,2026-02-02T00:00:00+00:00,200,USD,\n"
            "A,Lead,2026-03-01T00:00:00+00:00,,,\n"
        )
        with pytest.raises(sf.LoadError, match="before its creation") as info:
            read(text, linear)
        assert info.value.line == 3


class TestRoundTrip:
    def test_generated_movement_round_trips(self, tmp_path: Path) -> None:
        """write -> read gives back equal deals, changes included, by every lane."""
        deals = synthetic(150, seed=6, movement=True)
        assert sum(len(d.changes) for d in deals) > 50
        path = tmp_path / "events.csv"
        write_events_csv(deals, path)
        pipeline = deals[0].pipeline
        by_path = read_events_csv(path, pipeline)  # may try the pyarrow lane first
        by_text = read_events_csv(io.StringIO(path.read_text(encoding="utf-8")), pipeline)
        for loaded in (by_path, by_text):
            assert [(d.id, d.changes, d.value, d.expected_close) for d in loaded] == [
                (d.id, d.changes, d.value, d.expected_close) for d in deals
            ]

    def test_deals_without_movement_are_written_as_before(self) -> None:
        """No expected close anywhere: no expected_close column, one row per stage change."""
        deals = synthetic(20, seed=1)
        out = io.StringIO()
        rows = write_events_csv(deals, out)
        assert "expected_close" not in out.getvalue().splitlines()[0]
        assert rows == sum(len(d.stage_keys) for d in deals)
