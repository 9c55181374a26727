"""The intake: the neutral form and the one builder every loader uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import salesflow as sf
from salesflow._deal_info import DealInfo, EventMeta
from salesflow.io._intake import Event, Refused, StageLabels, build_deal, ordered


def day(d: int) -> datetime:
    return datetime(2026, 1, d, tzinfo=UTC)


@pytest.fixture
def sales() -> sf.Pipeline:
    return sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])


class TestOrdered:
    def test_time_then_file_order(self) -> None:
        """Events sort by time; equal times keep their file order."""
        events = [Event(day(3), 7, "Demo"), Event(day(1), 9, "Lead"), Event(day(3), 2, "Won")]
        assert [e.line for e in ordered(events)] == [9, 2, 7]

    def test_collapse_drops_repeated_stages(self) -> None:
        """With collapse, a save that stays in the same stage is not a stage change."""
        events = [Event(day(1), 1, "Lead"), Event(day(2), 2, "Lead"), Event(day(3), 3, "Demo")]
        assert [e.line for e in ordered(events, collapse=True)] == [1, 3]
        assert len(ordered(events)) == 3


class TestBuildDeal:
    def test_builds_what_open_deal_builds(self, sales: sf.Pipeline) -> None:
        """A valid history gives the same deal as the public moves."""
        info = DealInfo(value=sf.Money("10", "EUR"), owner="ana")
        events = [Event(day(1), 2, "Lead"), Event(day(4), 3, "Demo", EventMeta("bo", None, None))]
        built = build_deal(sales, "D-1", events, info)
        moved = sales.open_deal("D-1", at=day(1), value=sf.Money("10", "EUR"), owner="ana")
        moved = moved.advance(at=day(4), actor="bo")
        assert built == moved
        assert built.history == moved.history

    def test_refusal_names_the_event(self, sales: sf.Pipeline) -> None:
        """A skip is refused with the index of the offending event and the pipeline's words."""
        events = [Event(day(1), 2, "Lead"), Event(day(2), 5, "Proposal")]
        with pytest.raises(Refused) as info:
            build_deal(sales, "D-1", events, DealInfo())
        assert info.value.event == 1
        assert "does not allow skips" in info.value.why
        error = info.value.at(events)
        assert (error.line, error.value) == (5, "Proposal")
        assert isinstance(error, sf.LoadError)

    def test_unchecked_placement(self, sales: sf.Pipeline) -> None:
        """check=False places a snapshot deal in a closed stage without replaying rules."""
        deal = build_deal(sales, "D-1", [Event(day(1), 0, "Closed won")], DealInfo(), check=False)
        assert deal.is_won
        with pytest.raises(Refused):
            build_deal(sales, "D-1", [Event(day(1), 0, "Closed won")], DealInfo())


class TestStageLabels:
    def test_key_name_map_and_case(self, sales: sf.Pipeline) -> None:
        """A label maps by stage_map, then key or name, then a unique case-insensitive match."""
        labels = StageLabels(sales, {"Closed Won (Sales)": "Closed won"})
        assert labels("Closed Won (Sales)") == "Closed won"
        assert labels("Demo") == "Demo"
        assert labels("closed LOST") == "Closed lost"
        assert labels("Nowhere") is None

    def test_bad_map_target(self, sales: sf.Pipeline) -> None:
        """A stage_map entry naming no stage is refused at once."""
        with pytest.raises(sf.UnknownStageError, match="has no stage 'Nowhere'"):
            StageLabels(sales, {"X": "Nowhere"})


class TestBuildBulk:
    def test_same_deal_as_the_full_check(self, sales: sf.Pipeline) -> None:
        """A clean history gives the deal build_columns gives, and the path is remembered."""
        from salesflow.io._intake import build_bulk, build_columns

        stages, times = ("Lead", "Demo", "Closed won"), (day(1), day(2), day(3))
        paths: dict[tuple[str, ...], bool] = {}
        bulk = build_bulk(sales, "D", stages, times, None, DealInfo(), paths=paths)
        assert bulk == build_columns(sales, "D", stages, times, None, DealInfo())
        assert paths == {stages: True}

    @pytest.mark.parametrize(
        ("stages", "times"),
        [
            (("Lead", "Proposal"), (1, 2)),  # a skip
            (("Closed won", "Lead"), (1, 2)),  # opens closed
            (("Lead", "Demo"), (3, 2)),  # back in time on a clean path
        ],
    )
    def test_refuses_what_the_full_check_refuses(
        self, sales: sf.Pipeline, stages: tuple[str, ...], times: tuple[int, ...]
    ) -> None:
        """Skips, closed openings and time going back are refused, with the pipeline's reasons."""
        from salesflow.io._intake import build_bulk, build_columns

        stamps = tuple(day(t) for t in times)
        paths: dict[tuple[str, ...], bool] = {}
        with pytest.raises(Refused) as bulk:
            build_bulk(sales, "D", stages, stamps, None, DealInfo(), paths=paths)
        with pytest.raises(Refused) as full:
            build_columns(sales, "D", stages, stamps, None, DealInfo())
        assert (bulk.value.event, bulk.value.reasons) == (full.value.event, full.value.reasons)
