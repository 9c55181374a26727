"""JSON Lines for deals: round trips, and a clean LoadError for every bad line."""

from __future__ import annotations

import io
import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesflow as sf
from salesflow.datasets import synthetic
from salesflow.exceptions import LoadError, NotSerializableError
from salesflow.io._jsonl import read_deals_jsonl, write_deals_jsonl

DAY = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated() -> list[sf.Deal]:
    """300 generated deals on the B2B pipeline (seed 4), with touchpoints."""
    return synthetic(300, seed=4)


def lines(deals: list[sf.Deal]) -> list[str]:
    """The JSON Lines text of *deals*, split into lines."""
    buffer = io.StringIO()
    write_deals_jsonl(deals, buffer)
    return buffer.getvalue().splitlines()


def record(deal: sf.Deal, **changes: Any) -> str:
    """One JSON line: *deal*'s record with *changes* applied."""
    data = deal.to_dict()
    data.update(changes)
    return json.dumps(data)


def outcome(text: str, pipeline: sf.Pipeline) -> LoadError | None:
    """The LoadError that reading *text* raises, or None if it reads; any other error escapes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sf.EmptySourceWarning)  # blank lines only
            read_deals_jsonl(io.StringIO(text), pipeline)
    except LoadError as error:
        return error
    return None


@pytest.fixture
def one(sales: sf.Pipeline) -> sf.Deal:
    """Deal 'A' in the Sales pipeline, opened on 1 January 2026 and moved to Demo a day later."""
    return sales.open_deal("A", at=DAY, owner="Zoë").advance(at=DAY.replace(day=2))


class TestRoundTrip:
    def test_generated_deals_are_equal(self, generated: list[sf.Deal]) -> None:
        """300 generated deals read back equal, touchpoints included."""
        buffer = io.StringIO()
        assert write_deals_jsonl(generated, buffer) == 300
        buffer.seek(0)
        result = read_deals_jsonl(buffer, generated[0].pipeline)
        assert list(result) == generated
        assert (result.rows_read, result.rows_rejected, result.rejects) == (300, 0, ())

    def test_one_record_per_line(self, generated: list[sf.Deal]) -> None:
        """Each line is one deal's to_dict() as JSON."""
        text = lines(generated[:5])
        assert [json.loads(line) for line in text] == [d.to_dict() for d in generated[:5]]

    def test_path(self, generated: list[sf.Deal], tmp_path: Path) -> None:
        """A path works as target and source."""
        path = tmp_path / "deals.jsonl"
        write_deals_jsonl(generated[:10], path)
        result = read_deals_jsonl(path, generated[0].pipeline)
        assert list(result) == generated[:10]
        assert result.source == str(path)

    def test_text_written_as_is(self, one: sf.Deal) -> None:
        """Non-ASCII text is written as UTF-8, not as \\u escapes."""
        assert '"Zoë"' in lines([one])[0]

    def test_open_file_left_open(self, one: sf.Deal) -> None:
        """An open file given as target is not closed."""
        buffer = io.StringIO()
        write_deals_jsonl([one], buffer)
        assert not buffer.closed

    def test_nan_refused(self, sales: sf.Pipeline) -> None:
        """A NaN in the attributes cannot be written as JSON."""
        deal = sales.open_deal("A", at=DAY, attributes={"score": float("nan")})
        with pytest.raises(NotSerializableError, match="'A'"):
            write_deals_jsonl([deal], io.StringIO())

    def test_blank_lines_skipped(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """Blank lines are not rows; line numbers still count them."""
        text = "\n" + record(one) + "\n\n" + record(one, id="B") + "\n"
        result = read_deals_jsonl(io.StringIO(text), sales)
        assert [d.id for d in result] == ["A", "B"]
        assert result.rows_read == 2


class TestBadLines:
    def read(self, pipeline: sf.Pipeline, *text: str) -> LoadError:
        """The LoadError that reading *text* lines raises."""
        with pytest.raises(LoadError) as info:
            read_deals_jsonl(io.StringIO("\n".join(text) + "\n"), pipeline)
        return info.value

    def test_not_json(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """A line that is not JSON is refused with its line number."""
        error = self.read(sales, record(one), "{not json")
        assert error.line == 2
        assert "not valid JSON" in error.reason

    def test_nan_constant(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """NaN is not JSON, even though Python's json module accepts it."""
        error = self.read(sales, record(one, attributes={"x": 1}).replace("1}", "NaN}"))
        assert "NaN" in error.reason

    def test_missing_field(self, sales: sf.Pipeline) -> None:
        """A record without a history names the path of the problem as its column."""
        error = self.read(sales, json.dumps({"id": "A"}))
        assert (error.line, error.column) == (1, "$.history")

    def test_not_an_object(self, sales: sf.Pipeline) -> None:
        """A line holding a JSON list is refused."""
        assert "mapping" in self.read(sales, "[1, 2]").reason

    def test_bad_timestamp(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """A malformed time in the history is refused with its path."""
        history = [{"stage": "Lead", "at": "soon"}]
        error = self.read(sales, record(one, history=history))
        assert error.column is not None
        assert error.column.startswith("$.history[0]")

    def test_unknown_stage(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """A stage the pipeline lacks is refused and named."""
        history = [{"stage": "Pitch", "at": DAY.isoformat()}]
        error = self.read(sales, record(one, history=history))
        assert error.value == "Pitch"

    def test_illegal_history(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """A history that skips a stage is refused and points at the event."""
        history = [
            {"stage": "Lead", "at": DAY.isoformat()},
            {"stage": "Proposal", "at": DAY.isoformat()},
        ]
        error = self.read(sales, record(one), record(one, id="B", history=history))
        assert (error.line, error.column, error.value) == (2, "$.history[1]", "Proposal")
        assert "skip" in error.reason

    def test_other_pipeline(self, one: sf.Deal, b2b: sf.Pipeline) -> None:
        """A deal of another pipeline is refused."""
        error = self.read(b2b, record(one))
        assert error.column == "$.pipeline"

    def test_duplicate_id(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """A second record for one deal id is refused, naming the first line."""
        error = self.read(sales, record(one), record(one))
        assert (error.line, error.column) == (2, "$.id")
        assert "line 1" in error.reason

    def test_collect(self, one: sf.Deal, sales: sf.Pipeline) -> None:
        """errors='collect' keeps the good lines and reports the bad ones."""
        text = "\n".join([record(one), "oops", record(one, id="B"), "{}"])
        result = read_deals_jsonl(io.StringIO(text), sales, errors="collect")
        assert [d.id for d in result] == ["A", "B"]
        assert (result.rows_read, result.rows_rejected, result.built) == (4, 2, 2)
        assert [e.line for e in result.rejects] == [2, 4]

    def test_empty_file(self, sales: sf.Pipeline) -> None:
        """An empty file holds no deals, and the loader says so."""
        with pytest.warns(sf.EmptySourceWarning, match="no data rows"):
            result = read_deals_jsonl(io.StringIO(""), sales)
        assert (len(result), result.rows_read) == (0, 0)

    def test_progress(self, sales: sf.Pipeline, one: sf.Deal) -> None:
        """progress is called every 10,000 lines."""
        text = "\n".join(record(one, id=f"D{i}") for i in range(10_000))
        calls: list[int] = []
        read_deals_jsonl(io.StringIO(text), sales, progress=calls.append)
        assert calls == [10_000]

    @given(st.lists(st.text(alphabet=st.characters(exclude_characters="\r\n")), max_size=4))
    def test_any_text_fails_cleanly(self, text: list[str]) -> None:
        """Any text either reads or raises a LoadError naming a line, never another error."""
        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])
        error = outcome("\n".join(text), pipeline)
        if error is not None:
            assert error.line is not None
            assert 1 <= error.line <= len(text)

    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        )
    )
    def test_any_json_fails_cleanly(self, value: Any) -> None:
        """Any JSON value on a line either reads as a deal or raises a LoadError."""
        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])
        error = outcome(json.dumps(value), pipeline)
        assert error is None or error.line == 1

    @given(
        st.sampled_from(
            [
                "id",
                "pipeline",
                "value",
                "owner",
                "history",
                "touchpoints",
                "attributes",
                "lead_created_at",
                "schema",
            ]
        ),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False)
            | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["stage", "at", "amount", "currency", "x"]), inner, max_size=3
                )
            ),
            max_leaves=8,
        ),
    )
    def test_mutated_record_fails_cleanly(self, field: str, value: Any) -> None:
        """A valid record with one field replaced by any JSON either reads or raises a LoadError."""
        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal"])
        deal = pipeline.open_deal("A", at=DAY, value=sf.Money(5, "USD"))
        error = outcome(record(deal, **{field: value}), pipeline)
        assert error is None or error.line == 1
