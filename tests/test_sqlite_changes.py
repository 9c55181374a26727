"""SQLite persists expected close dates and field changes, and upgrades first-schema files."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import salesflow as sf
from salesflow.datasets import synthetic
from salesflow.io import SQLiteStore

FIXTURE = Path(__file__).parent / "fixtures" / "store-schema-1.sqlite"


def day(d: int) -> datetime:
    return datetime(2026, 3, d, tzinfo=UTC)


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)
    return path


class TestUpgrade:
    def test_a_first_schema_file_reads_back(self, old_file: Path) -> None:
        """The deals written before the upgrade load as they were (fixture README), without changes."""
        with SQLiteStore(old_file) as store:
            deals = {d.id: d for d in store.load_deals()}
        a, b = deals["A"], deals["B"]
        assert (a.value, a.owner, a.stage.key, a.history[1].actor) == (
            sf.Money("1200.50", "USD"),
            "ana",
            "Demo",
            "ana",
        )
        assert (b.lost_reason, b.closed_at) == ("price", day(9))
        assert (a.expected_close, a.changes, b.changes) == (None, (), ())

    def test_the_file_gains_the_new_column_and_table(self, old_file: Path) -> None:
        """Opening it adds deals.expected_close and field_changes; the old rows stay."""
        before = sqlite3.connect(old_file)
        assert "expected_close" not in {r[1] for r in before.execute("PRAGMA table_info(deals)")}
        before.close()
        SQLiteStore(old_file).close()
        after = sqlite3.connect(old_file)
        assert "expected_close" in {r[1] for r in after.execute("PRAGMA table_info(deals)")}
        tables = {r[0] for r in after.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "field_changes" in tables
        assert after.execute("SELECT count(*) FROM stage_changes").fetchone() == (4,)  # A 2, B 2
        after.close()

    def test_an_upgraded_file_takes_updates(self, old_file: Path) -> None:
        """An old deal updated and appended keeps its changes."""
        with SQLiteStore(old_file) as store:
            a = store.load_deal("A")
            moved = a.update(
                at=day(10), value=sf.Money(1500, "USD"), expected_close=date(2026, 4, 30)
            )
            assert store.append_changes(moved) == (0, 0)
            assert store.load_deal("A") == moved


class TestRoundTrip:
    def test_generated_movement_round_trips(self, tmp_path: Path) -> None:
        """save_deals -> load_deals keeps expected_close and every change."""
        deals = synthetic(80, seed=12, movement=True)
        with SQLiteStore(tmp_path / "s.sqlite") as store:
            store.create_schema()
            store.save_deals(deals)
            back = store.load_deals()
        assert back == deals
        assert [d.changes for d in back] == [d.changes for d in deals]

    def test_append_refuses_a_rewritten_change_log(self, tmp_path: Path) -> None:
        """A deal whose field changes do not continue the stored ones is a conflict."""
        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo"])
        deal = pipeline.open_deal("D", at=day(1), owner="ana")
        with SQLiteStore(tmp_path / "s.sqlite") as store:
            store.create_schema()
            store.save_deal(deal.update(at=day(2), owner="bo"))
            with pytest.raises(sf.io.StoreConflictError, match="field changes"):
                store.append_changes(deal.update(at=day(2), owner="cy"))
