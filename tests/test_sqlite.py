"""The SQLite store: deals saved to a real database file come back identical,
new events are appended in one transaction, and a failure leaves the file unchanged."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesflow as sf
from salesflow.datasets import synthetic
from salesflow.io._sqlite import NotStoredError, SQLiteStore, StoreConflictError
from tests.strategies import SMALL, deals, sample_deals

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = timezone(timedelta(hours=5, minutes=30))


def day(n: int, hour: int = 9, tz: Any = UTC) -> datetime:
    """Day *n* of March 2026 at *hour*, wall time in *tz*."""
    return datetime(2026, 3, n, hour, tzinfo=tz)


def exact(deal: sf.Deal) -> list[Any]:
    """What ``==`` does not compare: amounts' digits, timestamps' offsets and zones."""

    def when(at: datetime | None) -> Any:
        return None if at is None else (at.isoformat(), getattr(at.tzinfo, "key", None))

    def money(m: sf.Money | None) -> Any:
        return None if m is None else (str(m.amount), m.currency)

    return [
        money(deal.value),
        when(deal.lead_created_at),
        [when(c.at) for c in deal.history],
        [(when(t.at), money(t.cost)) for t in deal.touchpoints],
        {k: (type(v).__name__, v) for k, v in deal.attributes.items()},
    ]


def count(store: SQLiteStore, table: str) -> int:
    """Rows in *table*."""
    return int(store.connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def counts(store: SQLiteStore) -> tuple[int, ...]:
    """Rows in every table."""
    return tuple(count(store, t) for t in ("pipelines", "deals", "stage_changes", "touchpoints"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A database file that does not exist yet."""
    return tmp_path / "deals.db"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteStore]:
    """A store on a fresh database file, with the schema created."""
    with SQLiteStore(path) as store:
        store.create_schema()
        yield store


@pytest.fixture
def pipeline() -> sf.Pipeline:
    """A small pipeline whose Proposal stage needs a demo within 30 days."""
    return sf.Pipeline.linear(
        "Sales",
        ["Lead", "Demo", "Proposal"],
        probabilities=[0.1, 0.4, 0.7],
        guards=[sf.RequireTouchpoint("Proposal", "demo", within=timedelta(days=30))],
    )


@pytest.fixture
def rich(pipeline: sf.Pipeline) -> sf.Deal:
    """A deal with every field set, timestamps in three zones, and a guarded move."""
    lead = sf.Lead("L-7", created_at=day(1, tz=NEW_YORK), source="webinar")
    deal = lead.convert(
        pipeline,
        at=day(2, tz=NEW_YORK),
        deal_id="D-7",
        value=sf.Money("12000.50", "EUR"),
        owner="ana",
        attributes={"tier": "gold", "seats": 40, "ratio": 0.1, "tags": ["a", "b"], "x": None},
    )
    deal = deal.log(
        sf.Touchpoint(
            day(3, tz=KOLKATA),
            "demo",
            direction="outbound",
            campaign="Q1",
            cost=sf.Money("12.30", "EUR"),
            note="went well",
        )
    )
    deal = deal.advance(at=day(3, 12, KOLKATA), actor="ana", note="qualified")
    deal = deal.advance(at=day(4))
    return deal.lose(at=day(9, tz=NEW_YORK), reason="budget", actor="bo")


class TestSchema:
    def test_create_schema_is_idempotent(self, store: SQLiteStore) -> None:
        """Creating the schema again changes nothing and loses no rows."""
        store.save_deals(synthetic(5, seed=1))
        before = counts(store)
        store.create_schema()
        store.create_schema()
        assert counts(store) == before

    def test_tables_and_indexes(self, store: SQLiteStore) -> None:
        """The four tables exist, with indexes for stage and time queries."""
        names = {
            row[0]
            for row in store.connection.execute(
                "SELECT name FROM sqlite_master WHERE sql IS NOT NULL"
            )
        }
        assert {"pipelines", "deals", "stage_changes", "touchpoints"} <= names
        assert {"stage_changes_stage_at", "stage_changes_at", "touchpoints_channel_at"} <= names

    def test_query_by_stage_and_time_uses_the_index(self, store: SQLiteStore) -> None:
        """A count of entries into a stage in a period is answered from the index."""
        plan = store.connection.execute(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM stage_changes WHERE stage = ? AND at_utc >= ?",
            ("Closed won", 0),
        ).fetchall()
        assert any("stage_changes_stage_at" in row[-1] for row in plan)

    def test_foreign_keys_are_enforced(self, store: SQLiteStore) -> None:
        """A stage change for a deal that is not stored is refused by the database."""
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.connection.execute(
                "INSERT INTO stage_changes VALUES ('nobody', 0, 'Lead', '', 0, NULL, NULL, NULL)"
            )

    def test_amount_without_currency_is_refused(self, store: SQLiteStore) -> None:
        """The schema refuses an amount without its currency."""
        store.save_deals(synthetic(1, seed=1))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            store.connection.execute("UPDATE deals SET value_currency = NULL")

    def test_bad_database_argument(self) -> None:
        """Anything but a path or a connection is refused."""
        with pytest.raises(TypeError, match=r"path or a sqlite3\.Connection"):
            SQLiteStore(42)  # type: ignore[arg-type]


class TestRoundTrip:
    def test_synthetic_deals_after_reconnect(self, path: Path) -> None:
        """200 generated deals saved and loaded through a new connection are equal, exactly."""
        originals = synthetic(200, seed=42)
        with SQLiteStore(path) as store:
            store.create_schema()
            assert store.save_deals(originals) == 200
        with SQLiteStore(path) as store:
            loaded = store.load_deals()
        assert loaded == originals
        assert [exact(d) for d in loaded] == [exact(d) for d in originals]
        assert sum(len(d.touchpoints) for d in loaded) > 0

    def test_every_field_and_zone(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Amounts keep their digits, timestamps their offset and zone; lead fields, touchpoints,
        actors, reasons, notes and attributes all come back."""
        store.save_deal(rich)
        loaded = store.load_deal("D-7")
        assert loaded == rich
        assert exact(loaded) == exact(rich)
        assert loaded.value is not None
        assert str(loaded.value.amount) == "12000.50"
        assert loaded.history[1].at.utcoffset() == timedelta(hours=5, minutes=30)
        assert loaded.created_at.tzinfo is NEW_YORK
        assert (loaded.lead_id, loaded.lost_reason) == ("L-7", "budget")

    def test_stored_cells(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Amounts are exact decimal text; times are ISO 8601 with offset and a UTC key."""
        store.save_deal(rich)
        assert store.connection.execute(
            "SELECT value_amount, value_currency FROM deals"
        ).fetchone() == ("12000.50", "EUR")
        at, at_utc = store.connection.execute(
            "SELECT at, at_utc FROM stage_changes WHERE seq = 1 AND deal_id = 'D-7'"
        ).fetchone()
        assert at == "2026-03-03T12:00:00+05:30"
        assert at_utc == SQLiteStore.utc_key(day(3, 12, KOLKATA))
        assert at_utc == (
            datetime(2026, 3, 3, 6, 30, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
        ) // timedelta(microseconds=1)

    def test_save_again_replaces(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Saving a deal again replaces its rows rather than adding to them."""
        store.save_deal(rich)
        reopened = rich.reopen(at=day(12)).replace(owner="cy")
        store.save_deal(reopened)
        assert store.load_deal("D-7") == reopened
        assert count(store, "stage_changes") == len(reopened.history)
        assert count(store, "deals") == 1

    def test_load_in_a_given_pipeline(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A deal can be rebuilt in a pipeline object of the caller's."""
        store.save_deal(rich)
        assert store.load_deal("D-7", rich.pipeline).pipeline is rich.pipeline

    def test_load_in_another_pipeline_is_refused(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Rebuilding a deal in a pipeline of another name is a conflict."""
        store.save_deal(rich)
        with pytest.raises(StoreConflictError, match="stored in pipeline 'Sales'"):
            store.load_deal("D-7", SMALL)

    def test_missing_deal(self, store: SQLiteStore) -> None:
        """Loading an unknown id raises a KeyError that names it."""
        with pytest.raises(KeyError, match="No deal 'D-0' is stored") as info:
            store.load_deal("D-0")
        assert isinstance(info.value, NotStoredError)
        assert (info.value.kind, info.value.key) == ("deal", "D-0")

    def test_filters(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Deals can be loaded by pipeline and by an SQL condition with parameters."""
        generated = synthetic(30, seed=3)
        store.save_deals([*generated, rich])
        assert store.load_deals("Sales") == [rich]
        assert store.load_deals(rich.pipeline) == [rich]
        avery = store.load_deals(where="d.owner = ?", params=["Avery"])
        assert avery == [d for d in generated if d.owner == "Avery"]
        won = store.load_deals(
            where="d.id IN (SELECT deal_id FROM stage_changes WHERE stage = ?)",
            params=["Closed won"],
        )
        assert won == [d for d in generated if d.is_won]

    def test_delete(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Deleting a deal removes its rows; deleting it again reports that it was not there."""
        store.save_deal(rich)
        assert store.delete_deal("D-7") is True
        assert store.delete_deal("D-7") is False
        assert counts(store) == (1, 0, 0, 0)

    def test_attributes_must_be_json(self, store: SQLiteStore, pipeline: sf.Pipeline) -> None:
        """An attribute that is not a JSON value is refused with the deal's id."""
        deal = pipeline.open_deal("D-9", at=day(1), attributes={"when": day(1)})
        with pytest.raises(sf.NotSerializableError, match="Cannot store deal 'D-9'"):
            store.save_deal(deal)


class TestAppend:
    def test_only_new_rows_are_added(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """After moves and a logged touchpoint, only the new events are inserted."""
        store.save_deal(rich)
        before = count(store, "stage_changes"), count(store, "touchpoints")
        moved = rich.reopen(at=day(12)).log(sf.Touchpoint(day(12, 15), "call"))
        moved = moved.advance(at=day(13))
        assert store.append_changes(moved) == (2, 1)
        assert (count(store, "stage_changes"), count(store, "touchpoints")) == (
            before[0] + 2,
            before[1] + 1,
        )
        assert store.load_deal("D-7") == moved
        assert store.append_changes(moved) == (0, 0)

    def test_stored_rows_are_not_rewritten(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Appending leaves the stored rows as they were (seq 0..n-1 keep their values)."""
        store.save_deal(rich)
        query = "SELECT * FROM stage_changes ORDER BY seq"
        old = store.connection.execute(query).fetchall()
        store.append_changes(rich.reopen(at=day(12)))
        assert store.connection.execute(query).fetchall()[: len(old)] == old

    def test_touchpoint_logged_late(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A touchpoint dated before the stored ones is appended and sorted back in place."""
        store.save_deal(rich)
        late = rich.log(sf.Touchpoint(day(2, 10), "email", direction="inbound"))
        assert store.append_changes(late) == (0, 1)
        assert store.load_deal("D-7") == late
        assert [t.channel for t in store.load_deal("D-7").touchpoints] == ["email", "demo"]

    def test_touchpoints_at_the_same_time_keep_their_order(
        self, store: SQLiteStore, rich: sf.Deal
    ) -> None:
        """A new touchpoint at the time of a stored one still comes back where the deal has it."""
        store.save_deal(rich)
        tied = rich.replace(
            touchpoints=[sf.Touchpoint(day(3, tz=KOLKATA), "email"), *rich.touchpoints]
        )
        assert store.append_changes(tied) == (0, 1)
        assert store.load_deal("D-7").touchpoints == tied.touchpoints

    def test_new_deal_is_stored_whole(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Appending a deal that is not stored stores all of it."""
        assert store.append_changes(rich) == (len(rich.history), 1)
        assert store.load_deal("D-7") == rich

    def test_fields_are_updated(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """The deal's own fields (value, owner, attributes) are brought up to date."""
        store.save_deal(rich)
        changed = rich.replace(value=sf.Money("9000", "EUR"), attributes={"tier": "silver"})
        assert store.append_changes(changed) == (0, 0)
        assert exact(store.load_deal("D-7")) == exact(changed)

    def test_stale_deal_is_a_conflict(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A deal older than the stored version cannot be appended: events would be lost."""
        stale = rich.as_of(day(5))
        assert stale is not None
        store.save_deal(rich)
        before = counts(store)
        with pytest.raises(
            StoreConflictError, match=r"4 stored stage changes \(this deal has 3\)"
        ) as info:
            store.append_changes(stale)
        assert (info.value.deal_id, info.value.seq) == ("D-7", 3)
        assert counts(store) == before
        assert store.load_deal("D-7") == rich

    def test_diverging_histories_are_a_conflict(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Two versions that moved differently from the same start conflict at the first difference."""
        base = rich.as_of(day(5))
        assert base is not None
        store.save_deal(base.win(at=day(6)))
        with pytest.raises(StoreConflictError, match="stage change 3 differs") as info:
            store.append_changes(base.lose(at=day(6), reason="timing").reopen(at=day(7)))
        assert info.value.seq == 3
        assert store.load_deal("D-7").is_won

    def test_removed_touchpoint_is_a_conflict(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A stored touchpoint missing from the deal is a conflict, and nothing is written."""
        store.save_deal(rich)
        before = counts(store)
        edited = rich.reopen(at=day(12)).replace(touchpoints=[])
        with pytest.raises(StoreConflictError, match="stored touchpoint 0") as info:
            store.append_changes(edited)
        assert info.value.seq == 0
        assert counts(store) == before

    def test_other_pipeline_is_a_conflict(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A deal id stored in another pipeline cannot be appended to."""
        store.save_deal(rich)
        other = SMALL.open_deal("D-7", at=day(1))
        with pytest.raises(StoreConflictError, match="stored in pipeline 'Sales', not 'Small'"):
            store.append_changes(other)


class TestTransactions:
    def test_failed_batch_stores_nothing(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A batch that fails on its last deal leaves the database as it was."""
        store.save_deal(rich)
        before = counts(store)
        bad = rich.pipeline.open_deal("D-bad", at=day(1), attributes={"nan": float("nan")})
        with pytest.raises(sf.NotSerializableError):
            store.save_deals([*synthetic(20, seed=5), rich.reopen(at=day(12)), bad])
        assert counts(store) == before
        assert store.load_deal("D-7") == rich

    def test_database_error_midway_rolls_back(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """When the database refuses a row after others were written, none of them stay."""
        store.connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON touchpoints WHEN NEW.channel = 'fax' "
            "BEGIN SELECT RAISE(ABORT, 'no faxes'); END"
        )
        store.save_deal(rich)
        before = counts(store)
        moved = rich.reopen(at=day(12)).advance(at=day(13))
        moved = moved.log(sf.Touchpoint(day(13), "fax"))
        with pytest.raises(sqlite3.IntegrityError, match="no faxes"):
            store.append_changes(moved)
        assert counts(store) == before
        assert store.load_deal("D-7") == rich
        store.connection.execute("DROP TRIGGER refuse")
        assert store.append_changes(moved) == (2, 1)

    def test_illegal_stored_history(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A history edited into an illegal one by hand is refused when loaded."""
        store.save_deal(rich)
        with store.connection:
            store.connection.execute(
                "UPDATE stage_changes SET at = '2026-03-01T00:00:00+00:00' WHERE seq = 3"
            )
        with pytest.raises(sf.TransitionError, match="replay event 3 of deal 'D-7'") as info:
            store.load_deal("D-7")
        assert info.value.event == 3

    def test_malformed_cell(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """A malformed stored value raises a SchemaError naming the deal."""
        store.save_deal(rich)
        with store.connection:
            store.connection.execute("UPDATE deals SET value_currency = 'euro'")
        with pytest.raises(sf.SchemaError, match=r"Cannot rebuild deal 'D-7'.*'euro'"):
            store.load_deal("D-7")

    def test_inside_the_callers_transaction(self, store: SQLiteStore, rich: sf.Deal) -> None:
        """Inside a transaction of the caller's, writes are theirs to commit or roll back."""
        db = store.connection
        db.execute("BEGIN")
        store.save_deal(rich)
        db.rollback()
        assert counts(store) == (0, 0, 0, 0)
        db.execute("BEGIN")
        store.save_deal(rich)
        with pytest.raises(StoreConflictError):
            store.append_changes(rich.as_of(day(3)))  # type: ignore[arg-type]
        assert db.in_transaction
        db.commit()
        assert store.load_deal("D-7") == rich

    def test_autocommit_connection_is_refused(self) -> None:
        """A connection in autocommit mode (Python 3.12+) would never commit: refused."""
        db = sqlite3.connect(":memory:")
        if not hasattr(db, "autocommit"):
            pytest.skip("sqlite3 autocommit= is Python 3.12+")
        db.close()
        with pytest.raises(ValueError, match="autocommit=True"):
            SQLiteStore(sqlite3.connect(":memory:", autocommit=True))  # type: ignore[call-arg]

    def test_given_connection_stays_open(self, path: Path) -> None:
        """A store on the caller's connection does not close it."""
        db = sqlite3.connect(path)
        with SQLiteStore(db) as store:
            store.create_schema()
        assert db.execute("SELECT COUNT(*) FROM deals").fetchone() == (0,)
        db.close()


class TestPipelines:
    def test_round_trip_with_guard(self, store: SQLiteStore, pipeline: sf.Pipeline) -> None:
        """A pipeline with a RequireTouchpoint guard comes back equal, and the guard works."""
        store.save_pipeline(pipeline)
        loaded = store.load_pipeline("Sales")
        assert loaded == pipeline
        assert loaded.guards == (
            sf.RequireTouchpoint("Proposal", "demo", within=timedelta(days=30)),
        )
        deal = loaded.open_deal("D-1", at=day(1)).advance(at=day(2))
        with pytest.raises(sf.TransitionError, match="demo"):
            deal.advance(at=day(3))

    def test_stored_as_versioned_json(self, store: SQLiteStore, pipeline: sf.Pipeline) -> None:
        """The definition is Pipeline.to_dict() as JSON, with its schema version."""
        import json

        store.save_pipeline(pipeline)
        version, definition = store.connection.execute(
            "SELECT schema_version, definition FROM pipelines"
        ).fetchone()
        assert json.loads(definition) == pipeline.to_dict()
        assert version == pipeline.to_dict()["schema"]

    def test_plain_guard_is_refused_like_to_dict(self, store: SQLiteStore) -> None:
        """A plain-callable guard stops save_pipeline and save_deal, as it stops to_dict."""

        def no_fridays(deal: sf.Deal, target: sf.Stage, at: datetime) -> str | None:
            return "not on a Friday" if at.weekday() == 4 else None

        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo"], guards=[no_fridays])
        with pytest.raises(sf.NotSerializableError, match="plain_guards='omit'"):
            store.save_pipeline(pipeline)
        with pytest.raises(sf.NotSerializableError, match="plain callable"):
            store.save_deal(pipeline.open_deal("D", at=datetime(2026, 1, 1, tzinfo=UTC)))
        with pytest.raises(NotStoredError):
            store.load_pipeline("Sales")  # nothing was written

    def test_plain_guard_omitted_on_request_and_passed_again(self, tmp_path: Path) -> None:
        """plain_guards='omit' stores the pipeline without it; loading takes it back."""

        def no_fridays(deal: sf.Deal, target: sf.Stage, at: datetime) -> str | None:
            return "not on a Friday" if at.weekday() == 4 else None

        pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo"], guards=[no_fridays])
        with SQLiteStore(tmp_path / "omit.db", plain_guards="omit") as store:
            store.create_schema()
            store.save_pipeline(pipeline)
            assert store.load_pipeline("Sales", guards=[no_fridays]) == pipeline
            assert store.load_pipeline("Sales").guards == ()
        assert pipeline.to_dict(plain_guards="omit")["guards"] == []
        with pytest.raises(ValueError, match="'error' or 'omit'"):
            SQLiteStore(tmp_path / "x.db", plain_guards="drop")  # type: ignore[arg-type]

    def test_missing_pipeline(self, store: SQLiteStore) -> None:
        """Loading an unknown pipeline raises NotStoredError."""
        with pytest.raises(NotStoredError, match="No pipeline 'Nope'"):
            store.load_pipeline("Nope")

    def test_deal_with_another_definition_is_refused(
        self, store: SQLiteStore, pipeline: sf.Pipeline
    ) -> None:
        """A deal whose pipeline differs from the stored one of that name is refused."""
        store.save_pipeline(pipeline)
        other = sf.Pipeline.linear("Sales", ["Lead", "Proposal"])
        with pytest.raises(StoreConflictError, match="another definition") as info:
            store.save_deal(other.open_deal("D-1", at=day(1)))
        assert (info.value.pipeline, info.value.deal_id) == ("Sales", None)
        assert count(store, "deals") == 0

    def test_save_pipeline_replaces(self, store: SQLiteStore, pipeline: sf.Pipeline) -> None:
        """save_pipeline() replaces a stored definition; its deals then use the new one."""
        store.save_deal(pipeline.open_deal("D-1", at=day(1)))
        wider = sf.Pipeline.linear("Sales", ["Lead", "Demo", "Proposal", "Legal"])
        store.save_pipeline(wider)
        assert store.load_deal("D-1").pipeline == wider


class TestQueries:
    @pytest.fixture
    def sample(self, store: SQLiteStore) -> list[sf.Deal]:
        """300 generated deals, saved."""
        generated = synthetic(300, seed=9)
        store.save_deals(generated)
        return generated

    def test_deals_per_current_stage(self, store: SQLiteStore, sample: list[sf.Deal]) -> None:
        """Counting deals by their last stage change in SQL matches the objects."""
        rows = store.connection.execute(
            "SELECT stage, COUNT(*) FROM stage_changes AS s "
            "WHERE seq = (SELECT MAX(seq) FROM stage_changes WHERE deal_id = s.deal_id) "
            "GROUP BY stage"
        ).fetchall()
        assert dict(rows) == Counter(d.stage.key for d in sample)

    def test_deals_that_reached_each_stage(self, store: SQLiteStore, sample: list[sf.Deal]) -> None:
        """Counting distinct deals per stage entered matches the objects."""
        rows = store.connection.execute(
            "SELECT stage, COUNT(DISTINCT deal_id) FROM stage_changes GROUP BY stage"
        ).fetchall()
        assert dict(rows) == Counter(k for d in sample for k in set(d.stage_keys))

    def test_wins_in_a_quarter(self, store: SQLiteStore, sample: list[sf.Deal]) -> None:
        """Wins in a period, by the UTC key, match the objects; so does their exact total."""
        start, end = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
        rows = store.connection.execute(
            "SELECT d.value_amount, d.value_currency FROM stage_changes AS s "
            "JOIN deals AS d ON d.id = s.deal_id "
            "WHERE s.stage = 'Closed won' AND s.at_utc >= ? AND s.at_utc < ?",
            (SQLiteStore.utc_key(start), SQLiteStore.utc_key(end)),
        ).fetchall()
        expected = [
            d for d in sample for c in d.history if c.stage == "Closed won" and start <= c.at < end
        ]
        assert len(rows) == len(expected) > 0
        total = sum(Decimal(amount) for amount, _ in rows)
        assert sf.Money(total, "USD") == sf.Money.total(d.value for d in expected if d.value)


# Hypothesis runs many examples per test; each gets its own database file.
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestProperties:
    @PROPERTY
    @given(deal=deals())
    def test_any_deal_round_trips(
        self, deal: sf.Deal, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Any deal (random pipeline, zones, fields) is rebuilt equal and exact from a file."""
        path = tmp_path_factory.mktemp("prop") / "deals.db"
        with SQLiteStore(path) as store:
            store.create_schema()
            store.save_deal(deal)
        with SQLiteStore(path) as store:
            loaded = store.load_deal(deal.id, deal.pipeline)
        assert loaded == deal
        assert exact(loaded) == exact(deal)

    @PROPERTY
    @given(sample=sample_deals(max_size=8), cut=st.integers(0, 30 * 24 + 500))
    def test_appending_equals_saving_whole(
        self, sample: list[sf.Deal], cut: int, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Saving deals as they were at some time, then appending the rest, stores what
        saving them whole would, one row per event."""
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=cut)
        path = tmp_path_factory.mktemp("prop") / "deals.db"
        with SQLiteStore(path) as store:
            store.create_schema()
            store.save_deals(d for d in (x.as_of(at) for x in sample) if d is not None)
            for deal in sample:
                store.append_changes(deal)
            loaded = {d.id: d for d in store.load_deals(SMALL)}
            assert loaded == {d.id: d for d in sample}
            assert count(store, "stage_changes") == sum(len(d.history) for d in sample)
