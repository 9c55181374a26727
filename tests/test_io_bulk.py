"""The events loader's two lanes: the column-wise fast lane and the exact row-by-row lane agree."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesflow as sf
import salesflow.io._events as events_module
from salesflow.datasets import synthetic
from salesflow.io import LoadResult, read_events_csv, write_events_csv


def text_of(deals: list[sf.Deal]) -> str:
    buffer = io.StringIO()
    write_events_csv(deals, buffer)
    return buffer.getvalue()


def shuffled(text: str, seed: int) -> str:
    head, *rows = text.splitlines()
    random.Random(seed).shuffle(rows)
    return "\n".join([head, *rows]) + "\n"


@pytest.fixture
def exact_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every load takes the exact lane."""
    monkeypatch.setattr(events_module, "bulk_deals", lambda *args: None)


def both(text: str, pipeline: sf.Pipeline, **options: object) -> tuple[LoadResult, LoadResult]:
    """The same text read by the fast lane (if it takes it) and by the exact lane."""
    fast = read_events_csv(io.StringIO(text), pipeline, **options)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(events_module, "bulk_deals", lambda *args: None)
        exact = read_events_csv(io.StringIO(text), pipeline, **options)  # type: ignore[arg-type]
    return fast, exact


def summary(result: LoadResult) -> tuple[object, ...]:
    return (
        [(d.id, d.history, d.value, d.owner, d.source) for d in result],
        result.rows_read,
        result.rows_rejected,
        [str(e) for e in result.rejects],
    )


class TestLanesAgree:
    @settings(max_examples=25, deadline=None)
    @given(n=st.integers(1, 60), seed=st.integers(0, 10_000), shuffle=st.booleans())
    def test_generated_files(self, n: int, seed: int, shuffle: bool) -> None:
        """Any generated event log, in file order or shuffled, loads the same either way."""
        deals = synthetic(n, seed=seed)
        text = text_of(deals)
        if shuffle:
            text = shuffled(text, seed)
        fast, exact = both(text, deals[0].pipeline)
        assert summary(fast) == summary(exact)
        assert sorted(d.id for d in fast) == sorted(d.id for d in deals)

    @settings(max_examples=25, deadline=None)
    @given(seed=st.integers(0, 10_000), drop=st.integers(0, 5), latest=st.booleans())
    def test_damaged_files(self, seed: int, drop: int, latest: bool) -> None:
        """Emptied values, changed owners and bad stages give the same deals and rejects either way."""
        deals = synthetic(20, seed=seed)
        head, *rows = text_of(deals).splitlines()
        rng = random.Random(seed)
        for _ in range(drop):
            i = rng.randrange(len(rows))
            cells = rows[i].split(",")
            what = rng.choice(["value", "owner", "stage", "id"])
            if what == "value":
                cells[3] = "" if rng.random() < 0.5 else "12.5"
            elif what == "owner":
                cells[5] = "Someone else"
            elif what == "stage":
                cells[1] = "Nowhere"
            else:
                cells[0] = ""
            rows[i] = ",".join(cells)
        text = "\n".join([head, *rows]) + "\n"
        options = {"errors": "collect", "conflicts": "latest" if latest else "error"}
        fast, exact = both(text, deals[0].pipeline, **options)
        assert summary(fast) == summary(exact)
        assert fast.rows_read == len(rows)

    def test_escaped_cells_take_the_exact_lane(self) -> None:
        """A formula-guarded owner ('=SUM…) reads back unescaped whichever lane runs."""
        pipeline = sf.templates.b2b()
        deal = synthetic(1, seed=1)[0].replace(owner="=cmd")
        fast, exact = both(text_of([deal]), pipeline)
        assert fast[0].owner == exact[0].owner == "=cmd"

    def test_the_fast_lane_is_taken_on_a_clean_file(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A clean generated file is read by the fast lane (so the comparisons above test it)."""
        calls: list[bool] = []
        real = events_module.bulk_deals

        def spy(*args: object) -> object:
            result = real(*args)  # type: ignore[arg-type]
            calls.append(result is not None)
            return result

        monkeypatch.setattr(events_module, "bulk_deals", spy)
        deals = synthetic(50, seed=4)
        read_events_csv(io.StringIO(text_of(deals)), deals[0].pipeline)
        assert calls == [True]

    def test_non_seekable_stream(self, exact_only: None) -> None:
        """A stream that cannot seek is buffered, so the exact lane can read it."""

        class Pipe(io.StringIO):
            def seekable(self) -> bool:
                return False

        deals = synthetic(5, seed=2)
        result = read_events_csv(Pipe(text_of(deals)), deals[0].pipeline)
        assert [d.id for d in result] == [d.id for d in deals]


class TestHardenedInputs:
    """Issue 10's inputs give the same result in the column-wise and the exact lane."""

    def test_line_breaks_in_cells(self) -> None:
        """Cells with a bare CR, a LF, or a formula after either round-trip the same either way."""
        deals = synthetic(9, seed=3)
        edited = [
            d.replace(source="s\r-1") if i % 2 else d.replace(source="t\n=2")
            for i, d in enumerate(deals)
        ]
        fast, exact = both(text_of(edited), deals[0].pipeline)
        assert summary(fast) == summary(exact)
        assert [d.source for d in fast] == [d.source for d in edited]

    def test_ragged_row_with_a_readable_id(self) -> None:
        """A ragged row leaves out its whole deal either way; rows read = built + rejected."""
        deals = synthetic(10, seed=6)
        head, *rows = text_of(deals).splitlines()
        rows[0] = rows[0].rsplit(",", 1)[0]  # one cell short
        fast, exact = both("\n".join([head, *rows]) + "\n", deals[0].pipeline, errors="collect")
        assert summary(fast) == summary(exact)
        assert deals[0].id not in {d.id for d in exact}
        assert exact.rows_read == sum(len(d.history) for d in exact) + exact.rows_rejected

    def test_a_cell_over_the_limit(self) -> None:
        """A cell over 131,072 characters is the same LoadError either way."""
        deals = synthetic(3, seed=6)
        head, *rows = text_of(deals).splitlines()
        rows[1] = rows[1][:-1] + "y" * 131_073
        messages = set()
        for lane in ("fast", "exact"):
            with pytest.MonkeyPatch.context() as patch:
                if lane == "exact":
                    patch.setattr(events_module, "bulk_deals", lambda *args: None)
                with pytest.raises(sf.LoadError, match="131,072") as info:
                    read_events_csv(io.StringIO("\n".join([head, *rows]) + "\n"), deals[0].pipeline)
                messages.add(str(info.value))
        assert len(messages) == 1
        assert "line 3" in messages.pop()

    def test_a_repeated_column(self) -> None:
        """A repeated column the loader reads is refused before either lane runs."""
        deals = synthetic(3, seed=6)
        head, *rows = text_of(deals).splitlines()
        with pytest.raises(sf.LoadError, match="columns 1 and 11"):
            read_events_csv(
                io.StringIO("\n".join([head + ",deal_id", *(r + ",x" for r in rows)])),
                deals[0].pipeline,
            )
