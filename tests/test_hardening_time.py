"""Issue 10, finding 1: wall-clock times around DST changes, in the model and the loaders.

A time in a DST gap names no instant and is refused; a time in the repeated
hour is one instant or the other by its ``fold``; histories are ordered by
instant everywhere.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz

import salesflow as sf
from salesflow.io import SQLiteStore, read_events_csv, write_events_csv

NY = ZoneInfo("America/New_York")
#: 2026-03-08: New York springs forward at 02:00 to 03:00; 02:00-02:59 do not exist.
GAP = datetime(2026, 3, 8, 2, 30, tzinfo=NY)
#: 2026-11-01: New York falls back at 02:00 to 01:00; 01:00-01:59 happen twice.
FIRST_PASS = datetime(2026, 11, 1, 1, 45, tzinfo=NY)  # 05:45 UTC
SECOND_PASS = datetime(2026, 11, 1, 1, 15, fold=1, tzinfo=NY)  # 06:15 UTC, later


@pytest.fixture
def pipeline() -> sf.Pipeline:
    return sf.templates.b2b()


class TestGapRefused:
    def test_open_deal_in_gap_is_refused_naming_the_gap(self, pipeline: sf.Pipeline) -> None:
        """open_deal at a skipped wall time raises, naming the zone and resolve_imaginary."""
        with pytest.raises(ValueError, match="does not exist") as info:
            pipeline.open_deal("X", at=GAP)
        assert "America/New_York" in str(info.value)
        assert "resolve_imaginary" in str(info.value)

    def test_issue_reproduction_is_refused_at_the_first_move(self, pipeline: sf.Pipeline) -> None:
        """The issue's 02:59 -> 03:05 deal can no longer be made."""
        with pytest.raises(ValueError, match="daylight saving time gap"):
            pipeline.open_deal("X", at=datetime(2026, 3, 8, 2, 59, tzinfo=NY))

    @pytest.mark.parametrize("verb", ["advance", "move_to", "win", "lose"])
    def test_moves_into_gap_are_refused(self, pipeline: sf.Pipeline, verb: str) -> None:
        """Every move refuses an `at` in a DST gap."""
        deal = pipeline.open_deal("X", at=datetime(2026, 3, 8, 1, 0, tzinfo=NY))
        move = (
            (lambda: deal.move_to("Lead generation", at=GAP))
            if verb == "move_to"
            else (lambda: getattr(deal, verb)(at=GAP))
        )
        with pytest.raises(ValueError, match="does not exist"):
            move()

    def test_reopen_into_gap_is_refused(self, pipeline: sf.Pipeline) -> None:
        """reopen refuses an `at` in a DST gap."""
        deal = pipeline.open_deal("X", at=datetime(2026, 3, 7, tzinfo=NY)).lose(
            at=datetime(2026, 3, 8, 1, tzinfo=NY)
        )
        with pytest.raises(ValueError, match="does not exist"):
            deal.reopen(at=GAP)

    def test_stage_change_and_touchpoint_in_gap_are_refused(self) -> None:
        """The attrs validator refuses gap times too: the check lives in one place."""
        with pytest.raises(ValueError, match="does not exist"):
            sf.StageChange("Prospecting", GAP)
        with pytest.raises(ValueError, match="does not exist"):
            sf.Touchpoint(at=GAP, channel="call")

    def test_dateutil_zone_gap_is_refused(self, pipeline: sf.Pipeline) -> None:
        """A dateutil zone's skipped time is refused as well."""
        zone = dateutil_tz.gettz("America/New_York")
        with pytest.raises(ValueError, match="does not exist"):
            pipeline.open_deal("X", at=datetime(2026, 3, 8, 2, 30, tzinfo=zone))

    def test_resolve_imaginary_gives_an_accepted_time(self, pipeline: sf.Pipeline) -> None:
        """The suggested fix, dateutil.tz.resolve_imaginary, yields 03:30, which is accepted."""
        fixed = dateutil_tz.resolve_imaginary(GAP)
        deal = pipeline.open_deal("X", at=fixed)
        assert deal.created_at.hour == 3

    def test_fixed_offsets_and_existing_zone_times_are_accepted(
        self, pipeline: sf.Pipeline
    ) -> None:
        """Times just around the gap, and any fixed-offset time, still work."""
        deal = pipeline.open_deal("X", at=datetime(2026, 3, 8, 1, 59, tzinfo=NY))
        deal = deal.advance(at=datetime(2026, 3, 8, 3, 0, tzinfo=NY))
        deal = deal.advance(at=datetime(2026, 3, 8, 7, 30, tzinfo=UTC))
        assert deal.stage_keys[-1] == "Initial contact"


class TestInstantOrder:
    def test_second_pass_after_first_pass_is_allowed(self, pipeline: sf.Pipeline) -> None:
        """01:15 (fold=1) is half an hour after 01:45 (fold=0): the move is in order."""
        deal = pipeline.open_deal("X", at=FIRST_PASS).advance(at=SECOND_PASS)
        assert deal.stage_times == (FIRST_PASS, SECOND_PASS)

    def test_first_pass_after_second_pass_is_refused(self, pipeline: sf.Pipeline) -> None:
        """01:45 (fold=0) after 01:15 (fold=1) goes back in time, though its wall clock is later."""
        deal = pipeline.open_deal("X", at=SECOND_PASS)
        with pytest.raises(sf.TransitionError, match="is before"):
            deal.advance(at=FIRST_PASS)
        with pytest.raises(sf.TransitionError, match="is before"):
            deal.move_to("Lead generation", at=FIRST_PASS)

    def test_check_orders_by_instant(self, pipeline: sf.Pipeline) -> None:
        """Pipeline.check (fast path and full replay) compares instants, not wall clocks."""
        good = [
            sf.StageChange("Prospecting", FIRST_PASS),
            sf.StageChange("Lead generation", SECOND_PASS),
        ]
        assert sf.Deal.from_history(pipeline, "G", good).stage_keys[-1] == "Lead generation"
        bad = [
            sf.StageChange("Prospecting", SECOND_PASS),
            sf.StageChange("Lead generation", FIRST_PASS),
        ]
        with pytest.raises(sf.TransitionError, match="is before"):
            sf.Deal.from_history(pipeline, "B", bad)
        with pytest.raises(sf.TransitionError, match="is before"):
            sf.Deal.from_history(pipeline, "B", bad, guards=True)

    def test_as_of_uses_instants(self, pipeline: sf.Pipeline) -> None:
        """as_of between the two passes keeps the first-pass event only."""
        deal = pipeline.open_deal("X", at=FIRST_PASS - timedelta(hours=1))
        deal = deal.advance(at=FIRST_PASS).advance(at=SECOND_PASS)
        middle = datetime(2026, 11, 1, 1, 50, tzinfo=NY)  # 05:50 UTC
        before = deal.as_of(middle)
        assert before is not None
        assert before.stage_times[-1] == FIRST_PASS


class TestRoundTrips:
    def _deal(self, pipeline: sf.Pipeline) -> sf.Deal:
        return pipeline.open_deal("X", at=FIRST_PASS).advance(at=SECOND_PASS)

    def test_dict_round_trip_in_the_repeated_hour(self, pipeline: sf.Pipeline) -> None:
        """Deal.from_dict(deal.to_dict()) gives back a deal with times in the repeated hour."""
        deal = self._deal(pipeline)
        back = sf.Deal.from_dict(deal.to_dict(), pipeline)
        assert back.stage_times == deal.stage_times
        assert [t.fold for t in back.stage_times] == [0, 1]

    def test_sqlite_round_trip_in_the_repeated_hour(
        self, pipeline: sf.Pipeline, tmp_path: Path
    ) -> None:
        """A deal with times in the repeated hour loads back from SQLite, in order."""
        with SQLiteStore(tmp_path / "deals.db") as store:
            store.create_schema()
            store.save_pipeline(pipeline)
            store.save_deal(self._deal(pipeline))
            (back,) = store.load_deals()
        assert [t.astimezone(UTC) for t in back.stage_times] == [
            t.astimezone(UTC) for t in self._deal(pipeline).stage_times
        ]

    def test_csv_round_trip_keeps_order(self, pipeline: sf.Pipeline) -> None:
        """write_events_csv -> read_events_csv keeps a repeated-hour history in order."""
        buffer = io.StringIO()
        write_events_csv([self._deal(pipeline)], buffer)
        buffer.seek(0)
        (back,) = read_events_csv(buffer, pipeline)
        assert back.stage_keys == ("Prospecting", "Lead generation")
        assert [t.astimezone(UTC) for t in back.stage_times] == [
            FIRST_PASS.astimezone(UTC),
            SECOND_PASS.astimezone(UTC),
        ]


GAP_CSV = "deal_id,stage,at\nA,Prospecting,2026-03-08T01:30:00\nA,Lead generation,2026-03-08T02:30:00\nB,Prospecting,2026-03-08T03:30:00\n"
FOLD_CSV = (
    "deal_id,stage,at\nA,Prospecting,2026-11-01T01:30:00\nA,Lead generation,2026-11-01T01:40:00\n"
)


def _sources(text: str, tmp_path: Path) -> list[io.StringIO | Path]:
    # A stream takes the bulk lane; a path the Arrow lane when pyarrow is there.
    path = tmp_path / "events.csv"
    path.write_text(text)
    return [io.StringIO(text), path]


class TestLoaderZones:
    def test_naive_time_in_gap_is_a_load_error(self, pipeline: sf.Pipeline, tmp_path: Path) -> None:
        """timezone='America/New_York' and a naive 02:30 on the spring-forward night: LoadError at its line."""
        for source in _sources(GAP_CSV, tmp_path):
            with pytest.raises(sf.LoadError, match="does not exist") as info:
                read_events_csv(source, pipeline, timezone="America/New_York")
            assert info.value.line == 3

    def test_gap_row_leaves_its_deal_out_when_collecting(
        self, pipeline: sf.Pipeline, tmp_path: Path
    ) -> None:
        """errors='collect' leaves the deal with the gap row out and keeps the others."""
        for source in _sources(GAP_CSV, tmp_path):
            result = read_events_csv(
                source, pipeline, timezone="America/New_York", errors="collect"
            )
            assert [d.id for d in result] == ["B"]
            assert len(result.rejects) == 1

    @pytest.mark.parametrize(("ambiguous", "offset"), [("earlier", -4), ("later", -5)])
    def test_ambiguous_option_picks_the_pass(
        self, pipeline: sf.Pipeline, tmp_path: Path, ambiguous: str, offset: int
    ) -> None:
        """ambiguous='earlier' reads the repeated hour as EDT (fold=0), 'later' as EST (fold=1)."""
        for source in _sources(FOLD_CSV, tmp_path):
            (deal,) = read_events_csv(
                source,
                pipeline,
                timezone="America/New_York",
                ambiguous=ambiguous,  # type: ignore[arg-type]
            )
            assert {t.utcoffset() for t in deal.stage_times} == {timedelta(hours=offset)}

    def test_ambiguous_error_is_a_load_error(self, pipeline: sf.Pipeline, tmp_path: Path) -> None:
        """ambiguous='error' refuses a time in the repeated hour, at its line."""
        for source in _sources(FOLD_CSV, tmp_path):
            with pytest.raises(sf.LoadError, match="ambiguous") as info:
                read_events_csv(source, pipeline, timezone="America/New_York", ambiguous="error")
            assert info.value.line == 2

    def test_unknown_ambiguous_option_is_refused(self, pipeline: sf.Pipeline) -> None:
        """A misspelt ambiguous= option raises a ValueError naming the options."""
        with pytest.raises(ValueError, match="'earlier', 'later' or 'error'"):
            read_events_csv(io.StringIO(FOLD_CSV), pipeline, timezone="UTC", ambiguous="first")  # type: ignore[arg-type]

    def test_times_with_offsets_are_not_affected(self, pipeline: sf.Pipeline) -> None:
        """A time written with its offset is read as written, whatever the zone."""
        text = "deal_id,stage,at\nA,Prospecting,2026-03-08T02:30:00-05:00\n"
        (deal,) = read_events_csv(io.StringIO(text), pipeline, timezone="America/New_York")
        assert deal.created_at.utcoffset() == timedelta(hours=-5)


class TestSkippedMidnight:
    """São Paulo moved its clocks at midnight: 2017-10-15 00:00 never happened there."""

    TEXT = "deal_id,stage,at\nA,Prospecting,2017-10-15\nA,Lead generation,2017-10-16\n"

    def test_date_on_a_skipped_midnight_is_the_start_of_the_day(
        self, pipeline: sf.Pipeline, tmp_path: Path
    ) -> None:
        """A date whose midnight the zone skips is read as the day's first instant, 01:00."""
        zone = ZoneInfo("America/Sao_Paulo")
        for source in _sources(self.TEXT, tmp_path):
            (deal,) = read_events_csv(source, pipeline, timezone="America/Sao_Paulo")
            assert deal.created_at == datetime(2017, 10, 15, 1, tzinfo=zone)
            assert deal.created_at.utcoffset() == timedelta(hours=-2)

    def test_other_skipped_times_are_still_refused(
        self, pipeline: sf.Pipeline, tmp_path: Path
    ) -> None:
        """Only midnight is moved: 00:30 on that night is a bad row."""
        text = "deal_id,stage,at\nA,Prospecting,2017-10-15T00:30:00\n"
        for source in _sources(text, tmp_path):
            with pytest.raises(sf.LoadError, match="does not exist"):
                read_events_csv(source, pipeline, timezone="America/Sao_Paulo")


#: Just outside the supported range: each is a valid Python datetime whose UTC
#: instant is not (year 0 or year 10000).
OUT_OF_RANGE = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00")


class TestSupportedRange:
    """Issue 10, finding 4: times at the very ends of Python's range crashed report() and age()."""

    @pytest.mark.parametrize("text", OUT_OF_RANGE)
    def test_model_refuses_times_outside_the_range(self, pipeline: sf.Pipeline, text: str) -> None:
        """open_deal, a move and a StageChange refuse the time and name the range."""
        at = datetime.fromisoformat(text)
        with pytest.raises(ValueError, match="outside the supported range"):
            pipeline.open_deal("X", at=at)
        with pytest.raises(ValueError, match="outside the supported range"):
            sf.StageChange("prospecting", at=at)
        if at.year == 9999:
            deal = pipeline.open_deal("X", at=datetime(2026, 1, 1, tzinfo=UTC))
            with pytest.raises(ValueError, match="outside the supported range"):
                deal.advance(at=at)
            with pytest.raises(ValueError, match="outside the supported range"):
                deal.move_to("Closed won", at=at)

    def test_the_ends_of_the_range_are_accepted_and_reported(self, pipeline: sf.Pipeline) -> None:
        """A deal from the first to the last supported instant reports and ages without overflow."""
        first = datetime(1, 1, 2, tzinfo=UTC)
        last = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
        deal = pipeline.open_deal("X", at=first, value=sf.Money("5", "EUR")).win(at=last)
        assert deal.age(as_of=last) == last - first
        report = sf.report([deal], as_of=last)
        assert (report.win_rate.numerator, report.deals) == (1, 1)
        assert report.average_deal_size == sf.Money("5", "EUR")
        assert "as of 9999-12-30" in report.to_text()
        # Shown in the zones furthest east and west without overflow.
        assert last.astimezone(ZoneInfo("Pacific/Kiritimati")).year == 9999
        assert first.astimezone(ZoneInfo("Etc/GMT+12")).year == 1

    @pytest.mark.parametrize("text", OUT_OF_RANGE)
    def test_loader_refuses_at_the_line(
        self, pipeline: sf.Pipeline, tmp_path: Path, text: str
    ) -> None:
        """Every lane of the events loader gives a LoadError at the row's line; collect keeps the rest."""
        csv = f"deal_id,stage,at\nA,Prospecting,2026-01-01T00:00:00+00:00\nB,Prospecting,{text}\n"
        for source in _sources(csv, tmp_path):
            with pytest.raises(sf.LoadError, match="outside the supported range") as info:
                read_events_csv(source, pipeline)
            assert info.value.line == 3
        for source in _sources(csv, tmp_path):
            result = read_events_csv(source, pipeline, errors="collect")
            assert [d.id for d in result] == ["A"]
            assert len(result.rejects) == 1

    def test_cli_says_one_line_and_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """salesflow report on a file with such a time: one line naming the line, exit 2."""
        from salesflow._cli import main

        path = tmp_path / "events.csv"
        path.write_text(f"deal_id,stage,at\nA,Prospecting,{OUT_OF_RANGE[1]}\n")
        assert main(["report", str(path)]) == 2
        err = capsys.readouterr().err
        assert "line 2" in err
        assert "outside the supported range" in err
        assert "Traceback" not in err
