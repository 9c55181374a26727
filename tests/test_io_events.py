"""The stage-event log loader and writer: round trips, options and every error kind."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import salesflow as sf
from salesflow.datasets import synthetic
from salesflow.exceptions import LoadError
from salesflow.io._events import read_events_csv, write_events_csv

HEAD = "deal_id,stage,at,value,currency,owner,source,reason"


def csv_text(*rows: str, head: str = HEAD) -> io.StringIO:
    """An in-memory event log: the header, then *rows*, one per line."""
    return io.StringIO("\n".join([head, *rows]) + "\n")


def written(deals: list[sf.Deal]) -> str:
    """The text write_events_csv produces for *deals*."""
    buffer = io.StringIO()
    write_events_csv(deals, buffer)
    return buffer.getvalue()


def fields(deal: sf.Deal) -> tuple[object, ...]:
    """What an event log carries for a deal: id, stages, times, value, owner, source, lost reason."""
    return (
        deal.id,
        deal.stage_keys,
        deal.stage_times,
        deal.value,
        deal.owner,
        deal.source,
        deal.lost_reason,
    )


@pytest.fixture(scope="module")
def generated() -> list[sf.Deal]:
    """300 generated deals on the B2B pipeline (seed 11)."""
    return synthetic(300, seed=11)


class TestRoundTrip:
    def test_generated_deals_survive(self, generated: list[sf.Deal]) -> None:
        """Writing then reading 300 generated deals keeps ids, stages, times, values, owners and reasons."""
        result = read_events_csv(io.StringIO(written(generated)), generated[0].pipeline)
        assert [fields(d) for d in result] == [fields(d) for d in generated]
        assert result.rows_read == sum(len(d.stage_keys) for d in generated)
        assert (result.rows_rejected, result.rejects) == (0, ())

    def test_row_count_returned(self, generated: list[sf.Deal]) -> None:
        """write_events_csv returns one row per stage change."""
        buffer = io.StringIO()
        count = write_events_csv(generated, buffer)
        assert count == sum(len(d.stage_keys) for d in generated)
        assert buffer.getvalue().count("\n") == count + 1

    def test_shuffled_rows(self, generated: list[sf.Deal]) -> None:
        """Rows in any order give the same deals (each history is sorted by time)."""
        head, *rows = written(generated).splitlines()
        random.Random(3).shuffle(rows)
        result = read_events_csv(io.StringIO("\n".join([head, *rows])), generated[0].pipeline)
        assert sorted(fields(d) for d in result) == sorted(fields(d) for d in generated)

    def test_path_target_and_source(self, generated: list[sf.Deal], tmp_path: Path) -> None:
        """A path works as the writer's target and the reader's source, and names the result."""
        path = tmp_path / "events.csv"
        write_events_csv(generated[:20], path)
        result = read_events_csv(path, generated[0].pipeline)
        assert [fields(d) for d in result] == [fields(d) for d in generated[:20]]
        assert result.source == str(path)

    def test_equal_times_keep_file_order(self, sales: sf.Pipeline) -> None:
        """Two events at the same instant are replayed in file order."""
        forward = csv_text(
            "A,Lead,2026-01-01T00:00:00+00:00,,,,,", "A,Demo,2026-01-01T00:00:00+00:00,,,,,"
        )
        backward = csv_text(
            "A,Demo,2026-01-01T00:00:00+00:00,,,,,", "A,Lead,2026-01-01T00:00:00+00:00,,,,,"
        )
        assert read_events_csv(forward, sales)[0].stage_keys == ("Lead", "Demo")
        assert read_events_csv(backward, sales)[0].stage_keys == ("Demo", "Lead")


class TestFormulaInjection:
    def test_owner_formula_is_escaped_and_restored(self, sales: sf.Pipeline) -> None:
        """An owner '=cmd()' is written as "'=cmd()" and read back as '=cmd()'."""
        day = datetime(2026, 1, 1, tzinfo=UTC)
        deal = sales.open_deal("D-1", at=day, owner="=cmd()", source="+1 ad")
        text = written([deal])
        assert ",'=cmd()," in text
        assert ",'+1 ad," in text
        back = read_events_csv(io.StringIO(text), sales)[0]
        assert (back.owner, back.source) == ("=cmd()", "+1 ad")

    def test_plain_quote_is_kept(self, sales: sf.Pipeline) -> None:
        """A cell that starts with a quote but no formula character is read as is."""
        back = read_events_csv(csv_text("A,Lead,2026-01-01T00:00:00+00:00,,,'ann,,"), sales)
        assert back[0].owner == "'ann"


class TestErrors:
    def test_missing_column(self, sales: sf.Pipeline) -> None:
        """A missing required column is a LoadError at line 1 that lists the header."""
        with pytest.raises(LoadError) as info:
            read_events_csv(csv_text("A,Lead", head="deal_id,stage"), sales)
        assert info.value.line == 1
        assert "'at'" in info.value.reason
        assert "'deal_id', 'stage'" in info.value.reason

    def test_missing_column_even_when_collecting(self, sales: sf.Pipeline) -> None:
        """A missing column raises with errors='collect' too: no row can be read."""
        with pytest.raises(LoadError):
            read_events_csv(csv_text("A,Lead", head="deal_id,stage"), sales, errors="collect")

    def test_unknown_stage(self, sales: sf.Pipeline) -> None:
        """A stage the pipeline lacks names the stage column and the value."""
        with pytest.raises(LoadError) as info:
            read_events_csv(csv_text("A,Pitch,2026-01-01T00:00:00+00:00,,,,,"), sales)
        error = info.value
        assert (error.line, error.column, error.value) == (2, "stage", "Pitch")

    def test_bad_timestamp(self, sales: sf.Pipeline) -> None:
        """A timestamp that is not ISO 8601 is refused with its column and text."""
        with pytest.raises(LoadError) as info:
            read_events_csv(csv_text("A,Lead,yesterday,,,,,"), sales)
        assert (info.value.column, info.value.value) == ("at", "yesterday")
        assert "ISO 8601" in info.value.reason

    def test_naive_timestamp_without_timezone(self, sales: sf.Pipeline) -> None:
        """A timestamp without an offset needs timezone=; the message says so."""
        with pytest.raises(LoadError, match="timezone='UTC'") as info:
            read_events_csv(csv_text("A,Lead,2026-01-01 09:00,,,,,"), sales)
        assert info.value.value == "2026-01-01 09:00"

    def test_empty_timestamp(self, sales: sf.Pipeline) -> None:
        """An empty timestamp is refused."""
        with pytest.raises(LoadError, match="empty") as info:
            read_events_csv(csv_text("A,Lead,,,,,,"), sales)
        assert info.value.column == "at"

    def test_bad_amount(self, sales: sf.Pipeline) -> None:
        """An amount that is not a number with the decimal mark is refused, with a hint."""
        with pytest.raises(LoadError, match="pass decimal=','") as info:
            read_events_csv(csv_text('A,Lead,2026-01-01T00:00:00+00:00,"1,5",USD,,,'), sales)
        assert (info.value.column, info.value.value) == ("value", "1,5")

    def test_value_without_currency(self, sales: sf.Pipeline) -> None:
        """A value with no currency column and no currency= is refused."""
        with pytest.raises(LoadError, match="currency") as info:
            read_events_csv(csv_text("A,Lead,2026-01-01T00:00:00+00:00,100,,,,"), sales)
        assert info.value.column == "value"

    def test_currency_option(self, sales: sf.Pipeline) -> None:
        """currency= supplies the currency of values when the file has none."""
        deal = read_events_csv(
            csv_text("A,Lead,2026-01-01T00:00:00+00:00,100,,,,"), sales, currency="EUR"
        )[0]
        assert deal.value == sf.Money(100, "EUR")

    def test_ragged_row(self, sales: sf.Pipeline) -> None:
        """A row with the wrong number of cells is refused at its line."""
        with pytest.raises(LoadError, match="expected 8 cells, got 3") as info:
            read_events_csv(
                csv_text("A,Lead,2026-01-01T00:00:00+00:00,,,,,", "B,Lead,2026-01-01"), sales
            )
        assert info.value.line == 3

    def test_empty_deal_id(self, sales: sf.Pipeline) -> None:
        """A row without a deal id is refused."""
        with pytest.raises(LoadError, match="deal id is empty"):
            read_events_csv(csv_text(",Lead,2026-01-01T00:00:00+00:00,,,,,"), sales)

    def test_illegal_history_points_at_the_event(self, sales: sf.Pipeline) -> None:
        """A skip the pipeline forbids is reported at the line of the offending event."""
        rows = csv_text(
            "A,Proposal,2026-01-05T00:00:00+00:00,,,,,",
            "B,Lead,2026-01-01T00:00:00+00:00,,,,,",
            "A,Lead,2026-01-01T00:00:00+00:00,,,,,",
        )
        with pytest.raises(LoadError, match="skip") as info:
            read_events_csv(rows, sales)
        assert (info.value.line, info.value.column, info.value.value) == (2, "stage", "Proposal")

    def test_empty_file(self, sales: sf.Pipeline) -> None:
        """A file without even a header is a LoadError at line 1."""
        with pytest.raises(LoadError, match="empty") as info:
            read_events_csv(io.StringIO(""), sales)
        assert info.value.line == 1

    def test_header_only(self, sales: sf.Pipeline) -> None:
        """A header without rows gives no deals and no rejects, and says so."""
        with pytest.warns(sf.EmptySourceWarning, match="no data rows"):
            result = read_events_csv(csv_text(), sales)
        assert (len(result), result.rows_read, result.rows_rejected) == (0, 0, 0)

    def test_message_names_file_line_column_value(self, sales: sf.Pipeline, tmp_path: Path) -> None:
        """The message of a bad row names the file, the line, the column and the value."""
        path = tmp_path / "log.csv"
        path.write_text(f"{HEAD}\nA,Pitch,2026-01-01T00:00:00+00:00,,,,,\n", encoding="utf-8")
        with pytest.raises(LoadError) as info:
            read_events_csv(path, sales)
        assert str(info.value).startswith(f"{path}, line 2, column 'stage': ")
        assert "(value 'Pitch')" in str(info.value)

    def test_bad_option(self, sales: sf.Pipeline) -> None:
        """errors= other than 'raise' or 'collect' is a ValueError."""
        with pytest.raises(ValueError, match="errors must be"):
            read_events_csv(csv_text(), sales, errors="ignore")

    def test_unknown_column_field(self, sales: sf.Pipeline) -> None:
        """A columns= key that is not a field is a ValueError naming it."""
        with pytest.raises(ValueError, match="closed"):
            read_events_csv(csv_text(), sales, columns={"closed": "x"})


class TestCollect:
    ROWS = (
        "A,Lead,2026-01-01T00:00:00+00:00,,,,,",  # line 2: A is good
        "A,Demo,2026-01-02T00:00:00+00:00,,,,,",  # line 3
        "B,Lead,2026-01-01T00:00:00+00:00,,,,,",  # line 4: B is dropped with its bad row
        "B,Demo,someday,,,,,",  # line 5: bad timestamp
        "B,Proposal,2026-01-03T00:00:00+00:00,,,,,",  # line 6: B already rejected
        "C,Lead,2026-01-01T00:00:00+00:00,,,,,",  # line 7: C skips Demo
        "C,Proposal,2026-01-02T00:00:00+00:00,,,,,",  # line 8
        "",  # a blank line is not a row
        "D,Lead,2026-01-04T00:00:00+00:00,,,,,",  # line 10: D is good
    )

    def test_counts(self, sales: sf.Pipeline) -> None:
        """Collecting reports rows read, rows rejected and deals built."""
        result = read_events_csv(csv_text(*self.ROWS), sales, errors="collect")
        assert [d.id for d in result] == ["A", "D"]
        assert (result.rows_read, result.rows_rejected, result.built) == (8, 5, 2)
        assert result.rejected == 5
        assert "read 8 rows, built 2 deals, rejected 5 rows" in result.summary()

    def test_rejects_locate_problems(self, sales: sf.Pipeline) -> None:
        """Each reject carries the line and column of its problem."""
        result = read_events_csv(csv_text(*self.ROWS), sales, errors="collect")
        assert [(e.line, e.column) for e in result.rejects] == [(5, "at"), (8, "stage")]
        assert result.rejects[0].to_dict()["value"] == "someday"

    def test_raise_stops_at_first_problem(self, sales: sf.Pipeline) -> None:
        """With errors='raise' the first bad row in the file is the one reported."""
        with pytest.raises(LoadError) as info:
            read_events_csv(csv_text(*self.ROWS), sales)
        assert info.value.line == 5


class TestOptions:
    def test_timestamp_format_and_timezone(self, sales: sf.Pipeline) -> None:
        """timestamp_format parses local times; timezone places them in that zone."""
        text = csv_text("A,Lead,05/01/2026 09:30,,,,,", "A,Demo,06/01/2026 17:00,,,,,")
        deal = read_events_csv(
            text, sales, timestamp_format="%d/%m/%Y %H:%M", timezone="Europe/Paris"
        )[0]
        paris = ZoneInfo("Europe/Paris")
        assert deal.stage_times == (
            datetime(2026, 1, 5, 9, 30, tzinfo=paris),
            datetime(2026, 1, 6, 17, 0, tzinfo=paris),
        )
        assert deal.created_at.astimezone(UTC) == datetime(2026, 1, 5, 8, 30, tzinfo=UTC)

    def test_timestamp_format_mismatch(self, sales: sf.Pipeline) -> None:
        """A cell that does not match timestamp_format names the format."""
        with pytest.raises(LoadError, match="%d/%m/%Y"):
            read_events_csv(
                csv_text("A,Lead,2026-01-05,,,,,"),
                sales,
                timestamp_format="%d/%m/%Y",
                timezone="UTC",
            )

    def test_offset_wins_over_timezone(self, sales: sf.Pipeline) -> None:
        """A timestamp with an offset keeps it; timezone= applies only to naive ones."""
        deal = read_events_csv(
            csv_text("A,Lead,2026-01-05T09:00:00+02:00,,,,,"), sales, timezone="UTC"
        )[0]
        assert deal.created_at.utcoffset() == timedelta(hours=2)

    def test_tzinfo_object(self, sales: sf.Pipeline) -> None:
        """timezone= also takes a tzinfo object."""
        zone = timezone(timedelta(hours=-5))
        deal = read_events_csv(csv_text("A,Lead,2026-01-05 09:00,,,,,"), sales, timezone=zone)[0]
        assert deal.created_at == datetime(2026, 1, 5, 9, tzinfo=zone)

    def test_unknown_timezone(self, sales: sf.Pipeline) -> None:
        """An unknown zone name is a ValueError."""
        with pytest.raises(ValueError, match="IANA"):
            read_events_csv(csv_text(), sales, timezone="Mars/Olympus")

    def test_columns_and_delimiter(self, sales: sf.Pipeline) -> None:
        """columns= maps your names, delimiter= splits cells, and None ignores a field."""
        text = io.StringIO("id;etapa;cuando;dueño\nA;Lead;2026-01-01T00:00:00+00:00;ana\n")
        cols = {"deal_id": "id", "stage": "etapa", "at": "cuando", "owner": None}
        deal = read_events_csv(text, sales, columns=cols, delimiter=";")[0]
        assert (deal.id, deal.stage.key, deal.owner) == ("A", "Lead", None)

    def test_lost_reason_and_latest_value(self, sales: sf.Pipeline) -> None:
        """The lost event's reason is the lost reason; with conflicts='latest' the latest value wins."""
        rows = (
            "A,Closed lost,2026-01-03T00:00:00+00:00,300,USD,,,budget",
            "A,Lead,2026-01-01T00:00:00+00:00,100,USD,,,",
        )
        deal = read_events_csv(csv_text(*rows), sales, conflicts="latest")[0]
        assert (deal.lost_reason, deal.value) == ("budget", sf.Money(300, "USD"))

    def test_disagreeing_values_are_a_recorded_change(self, sales: sf.Pipeline) -> None:
        """Rows that disagree on the value are its history: a field change at the later row (issue 14)."""
        rows = (
            "A,Closed lost,2026-01-03T00:00:00+00:00,300,USD,,,budget",
            "A,Lead,2026-01-01T00:00:00+00:00,100,USD,,,",
        )
        deal = read_events_csv(csv_text(*rows), sales)[0]
        assert deal.value == sf.Money(300, "USD")
        assert [(c.field, c.old, c.new, c.at.day) for c in deal.changes] == [
            ("value", sf.Money(100, "USD"), sf.Money(300, "USD"), 3)
        ]

    def test_bom_is_skipped(self, sales: sf.Pipeline, tmp_path: Path) -> None:
        """A UTF-8 byte-order mark does not spoil the first column name."""
        path = tmp_path / "bom.csv"
        path.write_text(f"{HEAD}\nA,Lead,2026-01-01T00:00:00+00:00,,,,,\n", encoding="utf-8-sig")
        assert read_events_csv(path, sales)[0].id == "A"

    def test_missing_file(self, sales: sf.Pipeline, tmp_path: Path) -> None:
        """A file that cannot be opened is a LoadError naming it."""
        with pytest.raises(LoadError, match="cannot open") as info:
            read_events_csv(tmp_path / "nope.csv", sales)
        assert info.value.file == str(tmp_path / "nope.csv")

    def test_progress(self, sales: sf.Pipeline) -> None:
        """progress is called with the rows read so far, every 10,000 rows."""
        rows = [f"D{i},Lead,2026-01-01T00:00:00+00:00,,,,," for i in range(25_000)]
        calls: list[int] = []
        result = read_events_csv(csv_text(*rows), sales, progress=calls.append)
        assert calls == [10_000, 20_000]
        assert result.built == 25_000
