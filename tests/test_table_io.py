"""read_events_table: the deals read_events_csv gives, as a table, and the same LoadErrors."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesflow as sf
import salesflow.io._table_lane as lane_module
from salesflow.datasets import synthetic
from salesflow.io import read_events_csv, read_events_table
from tests.test_io_arrow import shifted, write
from tests.test_io_bulk import shuffled, text_of

pytest.importorskip("numpy", reason="the columnar lane needs salesflow[fast]")
pytest.importorskip("pyarrow", reason="the columnar lane needs salesflow[fast]")

FILES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def straight(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each load went straight to columns (``True``) or through the deals (``False``)."""
    calls: list[bool] = []
    real = lane_module._straight

    def spy(*args: Any) -> Any:
        found = real(*args)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(lane_module, "_straight", spy)
    return calls


def assert_same(path: Path, pipeline: sf.Pipeline, **options: Any) -> sf.EventTable:
    """The table holds the deals read_events_csv gives (and its rejects); the table."""
    table = read_events_table(path, pipeline, **options)
    loaded = read_events_csv(path, pipeline, **options)
    assert table.to_deals() == list(loaded.deals)
    back = table.to_deals()
    assert [str(d.value.amount) if d.value else None for d in back] == [
        str(d.value.amount) if d.value else None for d in loaded.deals
    ]
    assert [d.history for d in back] == [d.history for d in loaded.deals]
    assert [str(e) for e in table.rejects] == [str(e) for e in loaded.rejects]
    return table


class TestSameDeals:
    @FILES
    @given(n=st.integers(1, 40), seed=st.integers(0, 10_000), shuffle=st.booleans())
    def test_generated_files(self, tmp_path: Path, n: int, seed: int, shuffle: bool) -> None:
        deals = synthetic(n, seed=seed)
        text = text_of(deals)
        if shuffle:
            text = shifted(shuffled(text, seed), seed)
        path = write(tmp_path, text, name=f"g{n}-{seed}-{shuffle}.csv")
        assert_same(path, deals[0].pipeline)

    def test_a_clean_file_goes_straight_to_columns(
        self, tmp_path: Path, straight: list[bool]
    ) -> None:
        deals = synthetic(200, seed=5)
        table = assert_same(write(tmp_path, shuffled(text_of(deals), 5)), deals[0].pipeline)
        assert straight[0] is True
        assert sf.report(table) == sf.report(deals)

    @FILES
    @given(seed=st.integers(0, 10_000), drop=st.integers(1, 5), latest=st.booleans())
    def test_damaged_files(self, tmp_path: Path, seed: int, drop: int, latest: bool) -> None:
        """Bad cells: the same deals and the same rejects as read_events_csv."""
        deals = synthetic(20, seed=seed)
        head, *rows = text_of(deals).splitlines()
        rng = random.Random(seed)
        for _ in range(drop):
            i = rng.randrange(len(rows))
            cells = rows[i].split(",")
            what = rng.choice(["value", "owner", "stage", "id", "at", "blank", "money"])
            if what == "value":
                cells[3] = "" if rng.random() < 0.5 else "12.5"
            elif what == "owner":
                cells[5] = "" if rng.random() < 0.5 else "Someone else"
            elif what == "stage":
                cells[1] = "Nowhere"
            elif what == "id":
                cells[0] = ""
            elif what == "at":
                cells[2] = "2025-13-01T00:00:00+00:00"
            elif what == "money":
                cells[3] = "1,234.5"
            else:
                cells[2] = "2024-01-01T00:00:00+00:00"
            rows[i] = ",".join(cells)
        path = write(tmp_path, "\n".join([head, *rows]) + "\n", name=f"d{seed}-{drop}.csv")
        options = {"errors": "collect", "conflicts": "latest" if latest else "error"}
        assert_same(path, deals[0].pipeline, **options)

    def test_a_bad_row_raises_the_same_load_error(self, tmp_path: Path) -> None:
        deals = synthetic(10, seed=1)
        text = text_of(deals).replace(",Prospecting,", ",Nowhere,", 1)
        path = write(tmp_path, text)
        with pytest.raises(sf.LoadError) as expected:
            read_events_csv(path, deals[0].pipeline)
        with pytest.raises(sf.LoadError) as got:
            read_events_table(path, deals[0].pipeline)
        assert str(got.value) == str(expected.value)
        assert got.value.line == expected.value.line == 2

    def test_a_refused_history_raises_the_same_load_error(self, tmp_path: Path) -> None:
        p = sf.Pipeline.linear("S", ["A", "B", "C"])
        text = "deal_id,stage,at\nx,A,2026-01-01T00:00:00Z\nx,C,2026-01-02T00:00:00Z\n"
        path = write(tmp_path, text)
        with pytest.raises(sf.LoadError) as expected:
            read_events_csv(path, p)
        with pytest.raises(sf.LoadError) as got:
            read_events_table(path, p)
        assert str(got.value) == str(expected.value)

    def test_reopened_and_odd_cells(self, tmp_path: Path, straight: list[bool]) -> None:
        """A reopen, a naive time with a zone, an amount without decimals, a stream."""
        p = sf.Pipeline.linear("S", ["A", "B"], allow_reopen=True)
        text = (
            "deal_id,stage,at,value,currency\n"
            "x,A,2026-01-01T00:00:00.250Z,100,EUR\n"
            "x,Closed won,2026-01-02T00:00:00+01:00,100,EUR\n"
            "x,B,2026-01-03T00:00:00+00:00,100,EUR\n"
            "y,A,2026-01-01 08:00:00,,\n"
        )
        path = write(tmp_path, text)
        table = assert_same(path, p, timezone="Europe/Paris")
        assert len(table) == 2
        with path.open(encoding="utf-8") as handle:
            streamed = read_events_table(handle, p, timezone="Europe/Paris")
        assert streamed.to_deals() == table.to_deals()

    def test_options(self, tmp_path: Path) -> None:
        deals = synthetic(30, seed=3)
        head, *rows = text_of(deals).splitlines()
        out = [head.replace(",", ";")]
        for row in rows:
            cells = row.split(",")
            cells[3] = cells[3].replace(".", ",")
            out.append(";".join(cells))
        path = write(tmp_path, "\n".join(out) + "\n")
        table = assert_same(path, deals[0].pipeline, decimal=",")
        assert len(table) == 30

    def test_header_only(self, tmp_path: Path) -> None:
        path = write(tmp_path, "deal_id,stage,at\n")
        assert len(read_events_table(path, sf.templates.b2b())) == 0

    def test_progress_once_at_the_end(self, tmp_path: Path) -> None:
        deals = synthetic(30, seed=2)
        seen: list[int] = []
        table = read_events_table(
            write(tmp_path, text_of(deals)), deals[0].pipeline, progress=seen.append
        )
        assert seen == [table.events]
