"""Issue 10's loader findings, each a named regression test: 2, 3, 5 and 10."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import salesflow as sf
import salesflow.io._events as events_module
from salesflow import templates
from salesflow.exceptions import LoadError
from salesflow.io import (
    LoadResult,
    read_deals_csv,
    read_deals_jsonl,
    read_events_csv,
    read_hubspot_deals,
    read_leads_csv,
    read_salesforce_history,
    salesforce_pipeline,
    write_events_csv,
)
from salesflow.io._cells import escape_cell, unescape_cell
from salesflow.io._common import FIELD_LIMIT


def text(rows: list[list[str]]) -> str:
    """The CSV text of *rows*."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def summary(result: LoadResult) -> tuple[object, ...]:
    """Everything a load gives, offsets included."""
    return (
        [
            (d.id, d.history, [c.at.utcoffset() for c in d.history], d.value, d.owner, d.source)
            for d in result
        ],
        result.rows_read,
        result.rows_rejected,
        [str(e) for e in result.rejects],
    )


def three_lanes(path: Path, pipeline: sf.Pipeline, **options: Any) -> LoadResult:
    """*path* read by the Arrow lane (when installed), the column-wise lane and the exact lane,
    which must agree; the exact lane's result."""
    found = [read_events_csv(path, pipeline, **options)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(events_module, "arrow_deals", lambda *args, **kwargs: None)
        found.append(read_events_csv(path, pipeline, **options))
        patch.setattr(events_module, "bulk_deals", lambda *args: None)
        found.append(read_events_csv(path, pipeline, **options))
    assert summary(found[0]) == summary(found[1]) == summary(found[2])
    return found[2]


def lane_errors(path: Path, pipeline: sf.Pipeline, **options: Any) -> list[str]:
    """The LoadError each of the three lanes raises on *path* (they must all raise)."""
    messages = []
    with pytest.MonkeyPatch.context() as patch:
        for name, stub in (
            (None, None),
            ("arrow_deals", lambda *args, **kwargs: None),
            ("bulk_deals", lambda *args: None),
        ):
            if name is not None:
                patch.setattr(events_module, name, stub)
            with pytest.raises(LoadError) as info:
                read_events_csv(path, pipeline, **options)
            messages.append(str(info.value))
    return messages


@pytest.fixture
def pipe() -> sf.Pipeline:
    """A small linear pipeline: New -> Won / Lost."""
    return sf.Pipeline.linear("P", ["New", "Talk"], won="Won", lost="Lost")


def at(day: int) -> datetime:
    return datetime(2026, 1, day, 9, tzinfo=UTC)


def written(deals: list[sf.Deal]) -> str:
    buffer = io.StringIO()
    write_events_csv(deals, buffer)
    return buffer.getvalue()


class TestFinding2LineBreaksInCells:
    def test_bare_carriage_return_is_quoted(self, pipe: sf.Pipeline) -> None:
        """A note holding a bare carriage return is written inside quotes, so the row stays one row."""
        deal = pipe.open_deal("A", at=at(1), note="ok\r=2+5")
        out = written([deal])
        assert '"ok\r\'=2+5"' in out
        rows = list(csv.reader(io.StringIO(out, newline="")))
        assert len(rows) == 2
        assert rows[1][-1] == "ok\r'=2+5"

    def test_formula_after_a_line_break_is_escaped(self, pipe: sf.Pipeline) -> None:
        """A formula at the start of any line of a cell is guarded, not only at its start."""
        for note in ("ok\r=2+5", "ok\n=2+5", "ok\r\n@SUM(A1)", "x\n-1\r+1"):
            guarded = escape_cell(note)
            lines = guarded.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            assert not any(line[:1] in ("=", "+", "-", "@") for line in lines), guarded
            assert unescape_cell(guarded) == note

    @pytest.mark.parametrize(
        "note", ["ok\r=2+5", "a\rb", "a\nb", "line\r\n=1+1", "a\r\rb", "=x\r-y\n@z", "a\r\n\r\n+b"]
    )
    def test_round_trip_with_line_breaks(
        self, pipe: sf.Pipeline, tmp_path: Path, note: str
    ) -> None:
        """Notes and owners with line breaks read back exactly, the same in every lane."""
        deals = [
            pipe.open_deal("A", at=at(1), owner="o\r=1", note=note).advance(at=at(2), note=note),
            pipe.open_deal("B", at=at(1)),
        ]
        path = tmp_path / "events.csv"
        path.write_text(written(deals), encoding="utf-8", newline="")
        back = three_lanes(path, pipe)
        assert [(d.id, d.history, d.owner) for d in back] == [
            (d.id, d.history, d.owner) for d in deals
        ]
        assert written(list(back)) == written(deals)


LONG = "x" * (FIELD_LIMIT + 1)


def _events_file(cell: str) -> str:
    return f"deal_id,stage,at,note\nA,New,2026-01-01T00:00:00+00:00,ok\nB,New,2026-01-01T00:00:00+00:00,{cell}\n"


CSV_LOADERS: dict[str, tuple[Callable[..., Any], str, dict[str, Any]]] = {
    "events": (
        read_events_csv,
        "deal_id,stage,at,note\nA,New,2026-01-01T00:00:00+00:00,{x}\n",
        {},
    ),
    "deals": (read_deals_csv, "deal_id,stage,owner\nA,New,{x}\n", {}),
    "leads": (
        read_leads_csv,
        "lead_id,created_at,source\nL1,2026-01-01T00:00:00+00:00,{x}\n",
        {},
    ),
    "hubspot": (
        read_hubspot_deals,
        "hs_object_id,dealstage,dealname,hs_v2_date_entered_appointmentscheduled\n"
        "1,appointmentscheduled,{x},2024-01-02T00:00:00Z\n",
        {},
    ),
    "salesforce": (
        read_salesforce_history,
        "OpportunityId,CreatedDate,StageName,CreatedById\nO1,2026-01-01T00:00:00+00:00,New,{x}\n",
        {},
    ),
}


def _load(kind: str, body: str, pipe: sf.Pipeline, **options: Any) -> Any:
    loader, _, extra = CSV_LOADERS[kind]
    source = io.StringIO(body)
    if kind == "leads":
        return loader(source, **extra, **options)
    if kind == "hubspot":
        return loader(source, templates.hubspot_default(allow_skip=True), **extra, **options)
    return loader(source, pipe, **extra, **options)


class TestFinding3NoBuiltinEscapes:
    @pytest.mark.parametrize("kind", list(CSV_LOADERS))
    @pytest.mark.parametrize("errors", ["raise", "collect"])
    def test_long_cell_is_a_load_error(self, kind: str, errors: str, pipe: sf.Pipeline) -> None:
        """A cell over 131,072 characters is a LoadError at its line, never a bare csv.Error."""
        body = CSV_LOADERS[kind][1].format(x=LONG)
        with pytest.raises(LoadError, match="longer than 131,072 characters") as info:
            _load(kind, body, pipe, errors=errors)
        assert (info.value.file, info.value.line) == ("<stream>", 2)

    def test_long_cell_at_the_limit_is_read(self, pipe: sf.Pipeline) -> None:
        """A cell of exactly 131,072 characters is still read."""
        body = CSV_LOADERS["events"][1].format(x="y" * FIELD_LIMIT)
        assert _load("events", body, pipe)[0].history[0].note == "y" * FIELD_LIMIT

    def test_long_header_cell(self, pipe: sf.Pipeline) -> None:
        """A header cell over the limit is a LoadError at line 1."""
        with pytest.raises(LoadError, match="longer than") as info:
            read_events_csv(io.StringIO(f"deal_id,stage,at,{LONG}\n"), pipe)
        assert info.value.line == 1

    def test_long_cell_in_every_lane(self, pipe: sf.Pipeline, tmp_path: Path) -> None:
        """Every lane of the events loader refuses a long cell, even one it does not read."""
        path = tmp_path / "long.csv"
        path.write_text(_events_file(LONG), encoding="utf-8")
        messages = lane_errors(path, pipe, errors="collect", columns={"note": None})
        assert len(set(messages)) == 1
        assert "line 3" in messages[0]
        quoted = tmp_path / "quoted.csv"
        quoted.write_text(_events_file(f'"{LONG[:70_000]},\n{LONG[:70_000]}"'), encoding="utf-8")
        assert len(set(lane_errors(quoted, pipe, errors="collect"))) == 1

    def test_long_cell_in_stage_export(self) -> None:
        """salesforce_pipeline reports a long cell with its file and line."""
        body = f"ApiName,IsClosed,IsWon\nA,false,false\n{LONG},false,false\n"
        with pytest.raises(LoadError, match="longer than") as info:
            salesforce_pipeline(io.StringIO(body))
        assert info.value.line == 3

    @pytest.mark.parametrize("digits", [16, 4_301, 100_000])
    @pytest.mark.parametrize("errors", ["raise", "collect"])
    def test_hubspot_epoch_with_many_digits(self, digits: int, errors: str) -> None:
        """Epoch milliseconds of thousands of digits are a row error, not a ValueError."""
        body = (
            "hs_object_id,dealstage,hs_v2_date_entered_appointmentscheduled\n"
            f"1,appointmentscheduled,{'9' * digits}\n"
            "2,appointmentscheduled,2024-01-02T00:00:00Z\n"
        )
        pipeline = templates.hubspot_default(allow_skip=True)
        if errors == "raise":
            with pytest.raises(LoadError, match="epoch milliseconds out of range") as info:
                read_hubspot_deals(io.StringIO(body), pipeline)
            assert (info.value.line, info.value.column) == (
                2,
                "hs_v2_date_entered_appointmentscheduled",
            )
            return
        result = read_hubspot_deals(io.StringIO(body), pipeline, errors="collect")
        assert [d.id for d in result] == ["2"]
        assert [e.line for e in result.rejects] == [2]

    def test_hubspot_epoch_on_the_last_day_of_year_9999(self) -> None:
        """Milliseconds that Python can hold but that leave the supported range are a row error."""
        last_day = "253402300000000"  # 9999-12-31T23:46:40Z, past 9999-12-30 (UTC)
        body = (
            "hs_object_id,dealstage,hs_v2_date_entered_appointmentscheduled\n"
            f"1,appointmentscheduled,{last_day}\n"
        )
        pipeline = templates.hubspot_default(allow_skip=True)
        with pytest.raises(LoadError, match="epoch milliseconds out of range") as info:
            read_hubspot_deals(io.StringIO(body), pipeline)
        assert info.value.line == 2

    @pytest.mark.parametrize("depth", [1_000, 100_000])
    def test_jsonl_deeply_nested_record(self, pipe: sf.Pipeline, depth: int) -> None:
        """A JSON Lines record nested thousands deep is a LoadError at its line; the rest loads."""
        good = json.dumps(pipe.open_deal("A", at=at(1)).to_dict())
        deep = "[" * depth + "]" * depth
        record = json.dumps(pipe.open_deal("B", at=at(1)).to_dict())
        nested = record.replace('"attributes": {}', '"attributes": {"x": ' + deep + "}")
        body = f"{good}\n{deep}\n{nested}\n"
        result = read_deals_jsonl(io.StringIO(body), pipe, errors="collect")
        assert [d.id for d in result] == ["A"]
        assert [e.line for e in result.rejects] == [2, 3]
        assert all(e.file == "<stream>" for e in result.rejects)
        with pytest.raises(LoadError, match="nested too deeply"):
            read_deals_jsonl(io.StringIO(body), pipe)

    @pytest.mark.parametrize("order", ["1e999999999", "1e1000000", "-1e19", "1" * 5000])
    def test_salesforce_sort_order_out_of_range(self, order: str) -> None:
        """A huge SortOrder is a LoadError at its line and column, at once (it used to hang)."""
        rows = [
            {"ApiName": "A", "IsClosed": False, "IsWon": False, "SortOrder": 1},
            {"ApiName": "B", "IsClosed": False, "IsWon": False, "SortOrder": order},
        ]
        with pytest.raises(LoadError, match="more than 18 digits") as info:
            salesforce_pipeline(rows)
        assert (info.value.line, info.value.column) == (2, "SortOrder")
        body = f"ApiName,IsClosed,IsWon,SortOrder\nA,false,false,1\nB,false,false,{order}\n"
        with pytest.raises(LoadError, match="more than 18 digits") as info:
            salesforce_pipeline(io.StringIO(body))
        assert info.value.line == 3

    def test_salesforce_sort_order_in_range(self) -> None:
        """An 18-digit SortOrder (and 1e3) is still a sort order."""
        rows = [
            {"ApiName": "A", "IsClosed": True, "IsWon": True, "SortOrder": "9" * 18},
            {"ApiName": "B", "IsClosed": False, "IsWon": False, "SortOrder": "1e3"},
        ]
        assert [s.key for s in salesforce_pipeline(rows).stages] == ["B", "A"]

    @pytest.mark.parametrize("kind", [*CSV_LOADERS, "jsonl"])
    def test_invalid_utf8_is_a_load_error_when_collecting(
        self, kind: str, pipe: sf.Pipeline, tmp_path: Path
    ) -> None:
        """Invalid UTF-8 is a LoadError naming the file in collect mode too, for every loader."""
        path = tmp_path / f"{kind}.bin"
        if kind == "jsonl":
            path.write_bytes(b'{"id": "caf\xe9"}\n')
            with pytest.raises(LoadError) as info:
                read_deals_jsonl(path, pipe, errors="collect")
        else:
            loader, body, extra = CSV_LOADERS[kind]
            path.write_bytes(body.format(x="caf\xe9").encode("cp1252"))
            first = pipe if kind != "hubspot" else templates.hubspot_default(allow_skip=True)
            args = (path,) if kind == "leads" else (path, first)
            with pytest.raises(LoadError) as info:
                loader(*args, errors="collect", **extra)
        assert info.value.file == str(path)
        assert info.value.line == (1 if kind == "jsonl" else 2)


class TestFinding5RaggedRows:
    EVENTS = (
        "deal_id,stage,at\n"
        "A,New,2026-01-01T00:00:00+00:00\n"
        "B,New,2026-01-01T00:00:00+00:00\n"
        "A,Talk,2026-01-02T00:00:00+00:00,extra\n"
        "A,Won,2026-01-03T00:00:00+00:00\n"
        "C\n"
        "B,Talk,2026-01-02T00:00:00+00:00\n"
    )

    def test_events_ragged_row_leaves_its_deal_out(self, pipe: sf.Pipeline, tmp_path: Path) -> None:
        """A ragged row whose id can be read leaves out its whole deal, in every lane."""
        path = tmp_path / "ragged.csv"
        path.write_text(self.EVENTS, encoding="utf-8")
        result = three_lanes(path, pipe, errors="collect")
        assert [(d.id, d.stage.key) for d in result] == [("B", "Talk")]
        assert [e.line for e in result.rejects] == [4, 6]
        assert (result.rows_read, result.rows_rejected) == (6, 4)
        assert result.rows_read == sum(len(d.history) for d in result) + result.rows_rejected

    def test_events_ragged_row_raises(self, pipe: sf.Pipeline) -> None:
        """With errors='raise' the ragged row stops the load at its line."""
        with pytest.raises(LoadError, match="expected 3 cells, got 4") as info:
            read_events_csv(io.StringIO(self.EVENTS), pipe)
        assert info.value.line == 4

    def test_salesforce_ragged_row_leaves_its_opportunity_out(self, pipe: sf.Pipeline) -> None:
        """A ragged OpportunityHistory row leaves out its whole opportunity."""
        body = (
            "OpportunityId,CreatedDate,StageName\n"
            "O1,2026-01-01T00:00:00+00:00,New\n"
            "O2,2026-01-01T00:00:00+00:00,New\n"
            "O1,2026-01-02T00:00:00+00:00,Talk,x\n"
            "O1,2026-01-03T00:00:00+00:00,Won\n"
        )
        result = read_salesforce_history(io.StringIO(body), pipe, errors="collect")
        assert [d.id for d in result] == ["O2"]
        assert [e.line for e in result.rejects] == [4]
        assert (result.rows_read, result.rows_rejected) == (4, 3)

    def test_hubspot_ragged_row_with_a_repeated_id(self) -> None:
        """A ragged HubSpot row repeating an id leaves out both rows, as a repeated id does."""
        body = (
            "hs_object_id,dealstage,hs_v2_date_entered_appointmentscheduled\n"
            "1,appointmentscheduled,2024-01-02T00:00:00Z\n"
            "1,appointmentscheduled,2024-01-02T00:00:00Z,extra\n"
            "2,appointmentscheduled,2024-01-02T00:00:00Z\n"
            "2,appointmentscheduled\n"
            "2,appointmentscheduled,2024-01-02T00:00:00Z\n"
        )
        pipeline = templates.hubspot_default(allow_skip=True)
        result = read_hubspot_deals(io.StringIO(body), pipeline, errors="collect")
        assert list(result) == []
        assert (result.rows_read, result.rows_rejected) == (5, 5)

    def test_deals_ragged_row_with_a_repeated_id(self, pipe: sf.Pipeline) -> None:
        """A ragged snapshot row and a good row with the same id: the deal is left out whole."""
        body = (
            "deal_id,stage,created_at\n"
            "A,New,2026-01-01\nA,Talk,2026-01-01,x\n"
            "B,New,2026-01-01\nB\nB,Talk,2026-01-01\n"
            "C,New,2026-01-01\n"
            "D,New,not a date\nD,New,2026-01-01\n"
        )
        result = read_deals_csv(io.StringIO(body), pipe, errors="collect", timezone="UTC")
        assert [d.id for d in result] == ["C"]
        assert [e.line for e in result.rejects] == [3, 5, 6, 8, 9]
        assert (result.rows_read, result.rows_rejected) == (8, 7)


class TestFinding10DuplicateHeaders:
    @pytest.mark.parametrize(
        ("kind", "head", "column", "positions"),
        [
            ("events", "deal_id,stage,at,stage", "stage", (2, 4)),
            ("deals", "stage,deal_id,stage", "stage", (1, 3)),
            ("leads", "lead_id,created_at,lead_id", "lead_id", (1, 3)),
            ("hubspot", "hs_object_id,dealstage,amount,amount", "amount", (3, 4)),
            (
                "salesforce",
                "OpportunityId,CreatedDate,StageName,CreatedDate",
                "CreatedDate",
                (2, 4),
            ),
        ],
    )
    def test_a_read_column_twice_is_a_load_error(
        self, kind: str, head: str, column: str, positions: tuple[int, int], pipe: sf.Pipeline
    ) -> None:
        """A column the loader reads, named twice, is a LoadError at line 1 naming both positions."""
        for errors in ("raise", "collect"):
            with pytest.raises(LoadError, match="twice") as info:
                _load(kind, head + "\n", pipe, errors=errors)
            error = info.value
            assert (error.line, error.column) == (1, column)
            assert f"columns {positions[0]} and {positions[1]}" in error.reason

    def test_a_repeated_column_only_after_the_header_strip(self, pipe: sf.Pipeline) -> None:
        """Names are compared stripped: ' at' and 'at' are the same column."""
        with pytest.raises(LoadError, match="twice"):
            read_events_csv(io.StringIO("deal_id,stage,at, at\n"), pipe)

    def test_a_repeated_unread_column_is_allowed(self, pipe: sf.Pipeline) -> None:
        """Columns the loader does not read (or unnamed ones) may repeat."""
        body = "deal_id,stage,at,x,x,,\nA,New,2026-01-01T00:00:00+00:00,1,2,,\n"
        assert [d.id for d in read_events_csv(io.StringIO(body), pipe)] == ["A"]

    def test_every_lane_refuses_it(self, pipe: sf.Pipeline, tmp_path: Path) -> None:
        """The events loader refuses a repeated column whichever lane would read the file."""
        path = tmp_path / "dup.csv"
        path.write_text(
            "deal_id,stage,at,note,note\nA,New,2026-01-01T00:00:00+00:00,a,b\n", encoding="utf-8"
        )
        assert len(set(lane_errors(path, pipe))) == 1

    def test_stage_export(self) -> None:
        """salesforce_pipeline refuses a repeated column it reads."""
        body = "ApiName,IsClosed,IsWon,IsWon\nA,false,false,true\n"
        with pytest.raises(LoadError, match="columns 3 and 4") as info:
            salesforce_pipeline(io.StringIO(body))
        assert (info.value.line, info.value.column) == (1, "IsWon")


class TestHeaderWithAnOpenQuote:
    """Found by the fuzz suite: a header whose quote is not closed on its line."""

    @pytest.mark.parametrize("text", ['"0\n0', '"a,b\nc",d\n', 'deal_id,"stage\n'])
    def test_is_a_load_error(self, text: str) -> None:
        """An unclosed or multi-line quoted header cell gives a LoadError, never a csv.Error."""
        with pytest.raises(LoadError):
            read_events_csv(io.StringIO(text), sf.templates.b2b())


class TestFinding13EmptySources:
    """Issue 10, finding 13: a header-only file loaded as "0 deals" without a word."""

    @pytest.mark.parametrize(
        ("header", "read"),
        [
            ("deal_id,stage,at\n", lambda s: read_events_csv(s, templates.b2b())),
            ("deal_id,stage,value,currency\n", lambda s: read_deals_csv(s, templates.b2b())),
            (
                "hs_object_id,dealstage,hs_v2_date_entered_appointmentscheduled\n",
                lambda s: read_hubspot_deals(s, templates.hubspot_default()),
            ),
            (
                "OpportunityId,StageName,CreatedDate\n",
                lambda s: read_salesforce_history(s, templates.b2b()),
            ),
            ("lead_id,created_at\n", lambda s: read_leads_csv(s)),
            ("\n\n", lambda s: read_deals_jsonl(s, templates.b2b())),
        ],
        ids=["events", "deals", "hubspot", "salesforce", "leads", "jsonl"],
    )
    def test_every_loader_warns_on_a_source_without_rows(
        self, header: str, read: Callable[[Any], Any], tmp_path: Path
    ) -> None:
        """Each loader returns the empty result and warns, naming the source."""
        path = tmp_path / "empty.csv"
        path.write_text(header, encoding="utf-8")
        with pytest.warns(sf.EmptySourceWarning, match=r"empty\.csv has no data rows"):
            result = read(path)
        assert (len(result), result.rows_read) == (0, 0)

    def test_a_source_with_rows_does_not_warn(self) -> None:
        """One data row is enough: no warning (the suite turns warnings into errors)."""
        text = "deal_id,stage,at\nA,Prospecting,2026-01-01T00:00:00+00:00\n"
        assert len(read_events_csv(io.StringIO(text), templates.b2b())) == 1


class TestRepeatedIdsLeaveTheItemOut:
    """A deal (lead) whose id is on two rows of a one-row-per-item source is left out whole."""

    def test_jsonl_repeated_deal_id(self) -> None:
        """Neither record of a repeated id is kept; the other deals are; counts add up."""
        pipeline = templates.b2b()
        first = pipeline.open_deal("A", at=datetime(2026, 1, 1, tzinfo=UTC))
        other = pipeline.open_deal("B", at=datetime(2026, 1, 1, tzinfo=UTC))
        lines = [
            json.dumps(d.to_dict()) for d in (first, other, first.advance(at=first.created_at))
        ]
        result = read_deals_jsonl(io.StringIO("\n".join(lines) + "\n"), pipeline, errors="collect")
        assert [d.id for d in result] == ["B"]
        assert (result.rows_read, result.rows_rejected) == (3, 2)
        assert result.rows_read == len(result) + result.rows_rejected
        assert result.rejects[0].line == 3
        with pytest.raises(LoadError, match="already on line 1"):
            read_deals_jsonl(io.StringIO("\n".join(lines) + "\n"), pipeline)

    def test_leads_repeated_id_after_a_bad_first_row(self) -> None:
        """A repeated lead id is caught even when its first row was refused for another reason."""
        text = (
            "lead_id,created_at\nL1,not a date\nL1,2026-01-02T00:00:00+00:00\n"
            "L2,2026-01-02T00:00:00+00:00\n"
        )
        result = read_leads_csv(io.StringIO(text), errors="collect")
        assert [lead.id for lead in result.leads] == ["L2"]
        assert (result.rows_read, result.rows_rejected) == (3, 2)
