"""Deals' event logs in SQLite: save, append new events transactionally, rebuild.

Five tables hold what a deal is made of: ``pipelines`` (the definition as
JSON), ``deals`` (one row per deal), ``stage_changes``, ``touchpoints`` and
``field_changes`` (one row per event, numbered by ``seq`` within the deal).
A file written before ``field_changes`` and ``deals.expected_close`` existed
is upgraded in place when a store opens it. Amounts are exact
decimal strings with their currency; timestamps are ISO 8601 text with their
UTC offset (and ``[zone]`` for an IANA zone, as ``Deal.to_dict`` writes them)
next to an integer UTC key in microseconds for sorting and range queries.
Every write runs in one transaction: it is stored whole or not at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo

from .._checks import aware, unicode
from .._deal import Deal, metas_of
from .._field_change import FieldChange
from .._money import Money
from .._pipeline import Pipeline
from .._serde import field_value_to_json
from .._stage_change import StageChange
from .._time import stamp
from .._touchpoint import Touchpoint
from ..exceptions import NotSerializableError, SalesflowError, SchemaError
from ..typing import Guard

__all__ = ["NotStoredError", "SQLiteStore", "StoreConflictError"]

_FIELD_CHANGES = """CREATE TABLE IF NOT EXISTS field_changes (
    deal_id TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,         -- 0, 1, 2 ... in time order
    field   TEXT NOT NULL,            -- value, expected_close, owner, forecast_category, probability
    old     TEXT NOT NULL,            -- JSON, as FieldChange.to_dict() writes it
    new     TEXT NOT NULL,            -- JSON
    at      TEXT NOT NULL,            -- ISO 8601 with offset [and zone]
    at_utc  INTEGER NOT NULL,         -- microseconds since 1970-01-01 UTC
    actor   TEXT,
    note    TEXT,
    PRIMARY KEY (deal_id, seq)
) WITHOUT ROWID"""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS pipelines (
    name           TEXT PRIMARY KEY,
    schema_version INTEGER NOT NULL,  -- version of the definition record
    definition     TEXT NOT NULL      -- JSON: Pipeline.to_dict()
)""",
    """CREATE TABLE IF NOT EXISTS deals (
    id              TEXT PRIMARY KEY,
    pipeline        TEXT NOT NULL REFERENCES pipelines (name),
    value_amount    TEXT,             -- exact decimal string, e.g. '48000.00'
    value_currency  TEXT,             -- ISO 4217 code, e.g. 'EUR'
    owner           TEXT,
    source          TEXT,
    lead_id         TEXT,
    lead_created_at TEXT,             -- ISO 8601 with offset [and zone]
    attributes      TEXT NOT NULL DEFAULT '{}',  -- JSON object
    expected_close  TEXT,             -- ISO 8601 date, e.g. '2026-06-30'
    CHECK ((value_amount IS NULL) = (value_currency IS NULL))
)""",
    """CREATE TABLE IF NOT EXISTS stage_changes (
    deal_id TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,         -- 0, 1, 2 ... in history order
    stage   TEXT NOT NULL,            -- the stage key
    at      TEXT NOT NULL,            -- ISO 8601 with offset [and zone]
    at_utc  INTEGER NOT NULL,         -- microseconds since 1970-01-01 UTC
    actor   TEXT,
    reason  TEXT,
    note    TEXT,
    PRIMARY KEY (deal_id, seq)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS touchpoints (
    deal_id       TEXT NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,   -- 0, 1, 2 ... in the order stored
    at            TEXT NOT NULL,      -- ISO 8601 with offset [and zone]
    at_utc        INTEGER NOT NULL,   -- microseconds since 1970-01-01 UTC
    channel       TEXT NOT NULL,
    direction     TEXT CHECK (direction IN ('inbound', 'outbound')),
    campaign      TEXT,
    cost_amount   TEXT,               -- exact decimal string
    cost_currency TEXT,
    note          TEXT,
    PRIMARY KEY (deal_id, seq),
    CHECK ((cost_amount IS NULL) = (cost_currency IS NULL))
) WITHOUT ROWID""",
    _FIELD_CHANGES,
    "CREATE INDEX IF NOT EXISTS deals_pipeline ON deals (pipeline)",
    "CREATE INDEX IF NOT EXISTS stage_changes_stage_at ON stage_changes (stage, at_utc)",
    "CREATE INDEX IF NOT EXISTS stage_changes_at ON stage_changes (at_utc)",
    "CREATE INDEX IF NOT EXISTS touchpoints_channel_at ON touchpoints (channel, at_utc)",
)

_DEAL_COLUMNS = "id, pipeline, value_amount, value_currency, owner, source, lead_id, lead_created_at, attributes, expected_close"
_COLUMNS = {
    "stage_changes": "seq, stage, at, at_utc, actor, reason, note",
    "touchpoints": "seq, at, at_utc, channel, direction, campaign, cost_amount, cost_currency, note",
    "field_changes": "seq, field, old, new, at, at_utc, actor, note",
}

Row = tuple[Any, ...]


def _upgrade(db: sqlite3.Connection) -> None:
    """Add what the first schema lacks: ``deals.expected_close`` and ``field_changes``.

    Both are additions, so rows written before read back as deals without an
    expected close date or field changes; nothing else changes.
    """
    columns = {r[1] for r in db.execute("PRAGMA table_info(deals)")}
    if columns and "expected_close" not in columns:
        db.execute("ALTER TABLE deals ADD COLUMN expected_close TEXT")
    if columns:
        db.execute(_FIELD_CHANGES)


class StoreConflictError(SalesflowError, ValueError):
    """The database holds another version of a deal or pipeline than the one written.

    Attributes:
        deal_id: The deal, or ``None`` for a pipeline conflict.
        pipeline: The name of the pipeline concerned.
        seq: The ``seq`` of the first stored row that disagrees, when one does.
    """

    def __init__(
        self, msg: str, *, deal_id: str | None, pipeline: str, seq: int | None = None
    ) -> None:
        super().__init__(msg)
        self.deal_id = deal_id
        self.pipeline = pipeline
        self.seq = seq


class NotStoredError(SalesflowError, KeyError):
    """No deal or pipeline with this key is stored.

    Attributes:
        kind: ``"deal"`` or ``"pipeline"``.
        key: The deal id or pipeline name asked for.
    """

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"No {kind} {key!r} is stored in this database; save it first.")

    def __str__(self) -> str:
        return str(self.args[0])


# ------------------------------------------------------------- values <-> cells


def _when(at: datetime) -> tuple[str, int]:
    """The ``at`` and ``at_utc`` cells: ISO 8601 with offset (and ``[zone]``), UTC microseconds."""
    zone, key = at.tzinfo, stamp(at)
    if isinstance(zone, ZoneInfo) and zone.key is not None:
        return f"{at.isoformat()}[{zone.key}]", key
    return at.isoformat(), key


def _parse_time(text: str) -> datetime:
    stamp, _, zone = text.partition("[")
    at = datetime.fromisoformat(stamp)
    if at.utcoffset() is None:
        msg = f"timestamp {text!r} has no UTC offset"
        raise ValueError(msg)
    # The offset fixes the instant; the zone gives back its wall time.
    return at.astimezone(ZoneInfo(zone.removesuffix("]"))) if zone else at


def _cells(money: Money | None) -> tuple[str | None, str | None]:
    return (None, None) if money is None else (str(money.amount), money.currency)


def _money(amount: str | None, currency: str | None) -> Money | None:
    return None if amount is None or currency is None else Money(amount, currency)


def _deal_row(deal: Deal) -> Row:
    try:
        attributes = json.dumps(dict(deal.attributes), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        msg = (
            f"Cannot store deal {deal.id!r}: its attributes must hold JSON values "
            f"(str, int, float, bool, None, list, dict) only; {exc}."
        )
        raise NotSerializableError(msg) from None
    try:
        unicode(f"Deal {deal.id!r} attributes", attributes)
    except ValueError as exc:
        raise NotSerializableError(f"Cannot store deal {deal.id!r}: {exc}") from None
    lead_at = deal.lead_created_at
    return (
        *(deal.id, deal.pipeline.name, *_cells(deal.value), deal.owner, deal.source),
        *(deal.lead_id, None if lead_at is None else _when(lead_at)[0], attributes),
        None if deal.expected_close is None else deal.expected_close.isoformat(),
    )


def _change_rows(deal: Deal, start: int = 0, stop: int | None = None) -> list[Row]:
    """Stage changes ``start:stop`` as ``stage_changes`` rows, without ``deal_id`` and ``seq``.

    Built from the deal's columns, so a slice costs its own length, not the history's.
    """
    keys, times, metas = deal.stage_keys, deal.stage_times, metas_of(deal)
    stop = len(keys) if stop is None else stop
    rows: list[Row] = []
    for i in range(start, stop):
        meta = None if metas is None else metas[i]
        who = (None, None, None) if meta is None else (meta.actor, meta.reason, meta.note)
        rows.append((keys[i], *_when(times[i]), *who))
    return rows


def _field_rows(deal: Deal) -> list[Row]:
    """The deal's field changes as ``field_changes`` rows, without ``deal_id`` and ``seq``."""
    return [
        (
            c.field,
            json.dumps(field_value_to_json(c.old), ensure_ascii=False),
            json.dumps(field_value_to_json(c.new), ensure_ascii=False),
            *_when(c.at),
            c.actor,
            c.note,
        )
        for c in deal.changes
    ]


def _field_change(row: Row) -> FieldChange:
    _, field, old, new, at, _, actor, note = row
    record = {"field": field, "old": json.loads(old), "new": json.loads(new), "at": at}
    record.update({k: v for k, v in (("actor", actor), ("note", note)) if v is not None})
    return FieldChange.from_dict(record)


def _touch_rows(deal: Deal) -> list[Row]:
    """The deal's touchpoints as ``touchpoints`` rows, without ``deal_id`` and ``seq``."""
    return [
        (*_when(t.at), t.channel, t.direction, t.campaign, *_cells(t.cost), t.note)
        for t in deal.touchpoints
    ]


def _build(
    pipeline: Pipeline, row: Row, changes: list[Row], touches: list[Row], fields: list[Row]
) -> Deal:
    """Rebuild one deal from its rows; ``Deal.from_history`` checks the history."""
    deal_id, _, amount, currency, owner, source, lead_id, lead_at, attributes, close = row
    try:
        history = [
            StageChange(stage, _parse_time(at), actor=actor, reason=reason, note=note)
            for _, stage, at, _, actor, reason, note in changes
        ]
        touchpoints = [
            Touchpoint(
                _parse_time(at),
                channel,
                direction=direction,
                campaign=campaign,
                cost=_money(cost, cost_currency),
                note=note,
            )
            for _, at, _, channel, direction, campaign, cost, cost_currency, note in touches
        ]
        return Deal.from_history(
            pipeline,
            deal_id,
            history,
            value=_money(amount, currency),
            owner=owner,
            source=source,
            touchpoints=touchpoints,
            attributes=json.loads(attributes) or None,
            lead_id=lead_id,
            lead_created_at=None if lead_at is None else _parse_time(lead_at),
            expected_close=None if close is None else date.fromisoformat(close),
            changes=[_field_change(r) for r in fields],
            # The store reads back what it saved: a negative value got in by an opt-in.
            allow_negative=True,
        )
    except SalesflowError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        msg = f"Cannot rebuild deal {deal_id!r} from the database: {exc}"
        raise SchemaError(msg.rstrip(".") + ".", path=f"deals[{deal_id!r}]") from exc


# ------------------------------------------------------------------- the store


class SQLiteStore:
    """Deals and pipelines persisted in a SQLite database (standard-library ``sqlite3``).

    Args:
        database: A path to the database file (created if missing), or an open
            ``sqlite3.Connection``. A connection opened here is closed by
            :meth:`close` or at the end of a ``with`` block; one passed in is
            left open for its owner.
        plain_guards: What writing a pipeline does with a guard that is a
            plain callable (it cannot be written down): ``"error"`` (the
            default) raises ``NotSerializableError``, ``"omit"`` stores the
            pipeline without it, to be passed again when loading — the rule
            of :meth:`Pipeline.to_dict <salesflow.Pipeline.to_dict>`.

    Each write method is one transaction: it is stored whole, or, if anything
    fails, not at all. Inside a transaction the caller already opened on the
    connection, a write is a savepoint of it, and the caller commits.

    Examples:
        >>> import salesflow as sf
        >>> from datetime import datetime, timezone
        >>> pipeline = sf.Pipeline.linear("Sales", ["Lead", "Demo"])
        >>> deal = pipeline.open_deal("D-1", at=datetime(2026, 3, 2, tzinfo=timezone.utc))
        >>> with SQLiteStore(":memory:") as store:
        ...     store.create_schema()
        ...     store.save_deal(deal)
        ...     store.load_deal("D-1") == deal
        True
    """

    def __init__(
        self,
        database: str | os.PathLike[str] | sqlite3.Connection,
        *,
        plain_guards: Literal["error", "omit"] = "error",
    ) -> None:
        if plain_guards not in ("error", "omit"):
            msg = f"plain_guards must be 'error' or 'omit', got {plain_guards!r}."
            raise ValueError(msg)
        self._plain_guards = plain_guards
        if isinstance(database, sqlite3.Connection):
            self._connection, self._owned = database, False
        elif isinstance(database, str | os.PathLike):
            self._connection, self._owned = sqlite3.connect(database), True
        else:
            msg = f"SQLiteStore() takes a path or a sqlite3.Connection, got {database!r}."
            raise TypeError(msg)
        if getattr(self._connection, "autocommit", False) is True:
            msg = (
                "SQLiteStore() cannot use a connection opened with autocommit=True: its "
                "transactions would never be committed; open it with autocommit=False or the default."
            )
            raise ValueError(msg)
        # Per connection; a no-op inside an open transaction, so deletes do not rely on it.
        self._connection.execute("PRAGMA foreign_keys = ON")
        # Pipeline records by id(pipeline); and those checked against the database in
        # the current transaction (only: a rollback, even the caller's, may undo a row).
        self._records: dict[int, tuple[Pipeline, dict[str, Any]]] = {}
        self._checked: dict[str, dict[str, Any]] = {}
        self._upgrade()

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection, for queries of your own."""
        return self._connection

    def close(self) -> None:
        """Close the connection if this store opened it."""
        if self._owned:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def utc_key(at: datetime) -> int:
        """The ``at_utc`` column's value for *at*: whole microseconds since 1970-01-01 UTC.

        Examples:
            >>> from datetime import datetime, timedelta, timezone
            >>> SQLiteStore.utc_key(datetime(1970, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
            0
        """
        return _when(aware("at", at))[1]

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        connection, self._checked = self._connection, {}
        if connection.in_transaction:
            connection.execute("SAVEPOINT salesflow")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK TO salesflow")
                connection.execute("RELEASE salesflow")
                raise
            connection.execute("RELEASE salesflow")
            return
        # `with connection` commits on success and rolls back on any error.
        with connection:
            # IMMEDIATE takes the write lock now, so no writer slips in
            # between a check and the rows it allows.
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield connection

    # ---------------------------------------------------------------- schema

    def create_schema(self) -> None:
        """Create the tables and indexes that are missing (safe to call every time)."""
        with self._transaction() as db:
            _upgrade(db)
            for statement in _SCHEMA:
                db.execute(statement)

    def _upgrade(self) -> None:
        """Bring a file of the first schema up to date (see :func:`_upgrade`)."""
        db = self._connection
        columns = {r[1] for r in db.execute("PRAGMA table_info(deals)")}
        if columns and "expected_close" not in columns:
            with self._transaction() as tx:
                _upgrade(tx)

    # ------------------------------------------------------------- pipelines

    def _definition(self, pipeline: Pipeline) -> dict[str, Any]:
        cached = self._records.get(id(pipeline))
        if cached is not None and cached[0] is pipeline:
            return cached[1]
        try:
            record = pipeline.to_dict(plain_guards=self._plain_guards)
        except NotSerializableError as exc:
            msg = (
                f"{exc} To store the pipeline without it, open the store with "
                "SQLiteStore(..., plain_guards='omit') and pass the guard again to "
                "load_pipeline(name, guards=[...]) or load_deals(pipeline=...)."
            )
            raise NotSerializableError(msg) from None
        self._records[id(pipeline)] = (pipeline, record)
        return record

    def _write_pipeline(self, db: sqlite3.Connection, pipeline: Pipeline, *, replace: bool) -> None:
        record, name = self._definition(pipeline), pipeline.name
        stored = self._checked.get(name)
        if stored is record and not replace:
            return
        if stored is None:
            row = db.execute("SELECT definition FROM pipelines WHERE name = ?", (name,)).fetchone()
            stored = None if row is None else json.loads(row[0])
        if stored is not None and stored != record and not replace:
            msg = (
                f"Pipeline {name!r} is stored with another definition than this deal's; "
                "save_pipeline() the new definition first, or load the stored one."
            )
            raise StoreConflictError(msg, deal_id=None, pipeline=name)
        if stored is None or replace:
            db.execute(
                "INSERT INTO pipelines (name, schema_version, definition) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET "
                "schema_version = excluded.schema_version, definition = excluded.definition",
                (name, record["schema"], json.dumps(record, ensure_ascii=False)),
            )
        self._checked[name] = record

    def save_pipeline(self, pipeline: Pipeline) -> None:
        """Insert or replace a pipeline's definition (deals are checked against it when loaded).

        Raises:
            NotSerializableError: A guard cannot be written down: a plain
                callable, unless the store was opened with ``plain_guards="omit"``
                (then it is left out; pass it again when loading).
        """
        with self._transaction() as db:
            self._write_pipeline(db, pipeline, replace=True)

    def load_pipeline(self, name: str, *, guards: Iterable[Guard] = ()) -> Pipeline:
        """Rebuild a stored pipeline, adding *guards* (plain callables) to its own.

        Raises:
            NotStoredError: No pipeline of that name is stored.
            SchemaError: The stored definition is malformed.
        """
        row = self._connection.execute(
            "SELECT definition FROM pipelines WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise NotStoredError("pipeline", name)
        return Pipeline.from_dict(json.loads(row[0]), guards=guards)

    # ------------------------------------------------------------- writing deals

    def _insert(self, db: sqlite3.Connection, deal: Deal) -> None:
        self._write_pipeline(db, deal.pipeline, replace=False)
        row = _deal_row(deal)
        db.execute(
            f"INSERT INTO deals ({_DEAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET pipeline = excluded.pipeline, "
            "value_amount = excluded.value_amount, value_currency = excluded.value_currency, "
            "owner = excluded.owner, source = excluded.source, lead_id = excluded.lead_id, "
            "lead_created_at = excluded.lead_created_at, attributes = excluded.attributes, "
            "expected_close = excluded.expected_close",
            row,
        )

    def _add(
        self, db: sqlite3.Connection, table: str, deal_id: str, rows: Sequence[Row], start: int = 0
    ) -> None:
        columns = _COLUMNS[table]
        marks = ", ".join("?" * (2 + columns.count(",")))
        db.executemany(
            f"INSERT INTO {table} (deal_id, {columns}) VALUES ({marks})",
            [(deal_id, start + i, *row) for i, row in enumerate(rows)],
        )

    def _replace(self, db: sqlite3.Connection, deal: Deal) -> None:
        self._insert(db, deal)
        db.execute("DELETE FROM stage_changes WHERE deal_id = ?", (deal.id,))
        db.execute("DELETE FROM touchpoints WHERE deal_id = ?", (deal.id,))
        self._add(db, "stage_changes", deal.id, _change_rows(deal))
        self._add(db, "touchpoints", deal.id, _touch_rows(deal))
        db.execute("DELETE FROM field_changes WHERE deal_id = ?", (deal.id,))
        self._add(db, "field_changes", deal.id, _field_rows(deal))

    def save_deal(self, deal: Deal) -> None:
        """Insert a deal, or replace the stored version of it, with its history and touchpoints.

        Its pipeline is stored too if it is not yet.

        Raises:
            StoreConflictError: The deal's pipeline is stored with another definition.
            NotSerializableError: An attribute is not a JSON value.
        """
        self.save_deals([deal])

    def save_deals(self, deals: Iterable[Deal]) -> int:
        """Save many deals as :meth:`save_deal` does, in one transaction; return how many.

        Raises:
            StoreConflictError: A deal's pipeline is stored with another definition.
            NotSerializableError: An attribute is not a JSON value.
        """
        count = 0
        with self._transaction() as db:
            for deal in deals:
                if not isinstance(deal, Deal):
                    msg = f"save_deals() takes Deal values, got {deal!r}."
                    raise TypeError(msg)
                self._replace(db, deal)
                count += 1
        return count

    def append_changes(self, deal: Deal) -> tuple[int, int]:
        """Store the stage changes and touchpoints of *deal* that are not stored yet.

        The stored stage changes must be the start of the deal's history, and
        every stored touchpoint one of the deal's; the new rows are appended,
        and the deal's own fields (value, owner, attributes …) updated, in one
        transaction. A deal that is not stored yet is stored whole.

        The stored history is compared by its length and its first and last
        stage change, so an append costs the same however long the history
        is (a history only grows, so a version saved meanwhile shows there).

        Returns:
            How many stage changes and how many touchpoints were added.

        Raises:
            StoreConflictError: The stored rows are not a part of this deal:
                another version was saved since it was loaded. ``.seq`` is the
                first stored row that disagrees.
        """
        if not isinstance(deal, Deal):
            msg = f"append_changes() takes a Deal, got {deal!r}."
            raise TypeError(msg)
        with self._transaction() as db:
            found = db.execute("SELECT pipeline FROM deals WHERE id = ?", (deal.id,)).fetchone()
            if found is None:
                self._replace(db, deal)
                return len(deal.history), len(deal.touchpoints)
            name = deal.pipeline.name
            if found[0] != name:
                msg = f"Deal {deal.id!r} is stored in pipeline {found[0]!r}, not {name!r}; use save_deal() to replace it."
                raise StoreConflictError(msg, deal_id=deal.id, pipeline=name)
            self._insert(db, deal)
            stored = self._check_prefix(db, deal)
            rows = _change_rows(deal, stored)
            self._add(db, "stage_changes", deal.id, rows, stored)
            self._append_fields(db, deal)
            return len(rows), self._append_touches(db, deal)

    def _check_prefix(self, db: sqlite3.Connection, deal: Deal) -> int:
        """How many stage changes are stored for *deal*, once they look like its history's start.

        The count and the first and last stored rows are compared, which costs
        the same however long the history is: a history only grows by moves,
        so another version saved meanwhile shows as a different length or a
        different last change (the first guards against a replaced deal).
        """
        (last,) = db.execute(
            "SELECT MAX(seq) FROM stage_changes WHERE deal_id = ?", (deal.id,)
        ).fetchone()
        stored = 0 if last is None else last + 1
        ends = sorted({0, stored - 1}) if stored else []
        query = (
            f"SELECT {_COLUMNS['stage_changes']} FROM stage_changes "
            f"WHERE deal_id = ? AND seq IN ({', '.join('?' * len(ends))}) ORDER BY seq"
        )
        length = len(deal.stage_keys)
        for row in db.execute(query, (deal.id, *ends)).fetchall() if ends else ():
            seq = row[0]
            if seq >= length or row != (seq, *_change_rows(deal, seq, seq + 1)[0]):
                short = seq >= length
                why = f"this deal has {length}" if short else f"stage change {seq} differs"
                msg = (
                    f"Cannot append to deal {deal.id!r}: its history does not continue the "
                    f"{stored} stored stage changes ({why}); load_deal() it again and "
                    "repeat the change, or save_deal() to replace the stored version."
                )
                raise StoreConflictError(
                    msg, deal_id=deal.id, pipeline=deal.pipeline.name, seq=min(seq, length)
                )
        return stored

    def _append_fields(self, db: sqlite3.Connection, deal: Deal) -> None:
        # Field changes are a log like the stage changes: the stored ones must start it.
        rows, stored = _field_rows(deal), self._stored_rows(db, "field_changes", deal.id)
        for seq, row in enumerate(stored):
            if seq >= len(rows) or row != (seq, *rows[seq]):
                msg = (
                    f"Cannot append to deal {deal.id!r}: its field changes do not continue the "
                    f"{len(stored)} stored ones; load_deal() it again and repeat the change, or "
                    "save_deal() to replace the stored version."
                )
                raise StoreConflictError(msg, deal_id=deal.id, pipeline=deal.pipeline.name, seq=seq)
        self._add(db, "field_changes", deal.id, rows[len(stored) :], len(stored))

    def _stored_rows(self, db: sqlite3.Connection, table: str, deal_id: str) -> list[Row]:
        query = f"SELECT {_COLUMNS[table]} FROM {table} WHERE deal_id = ? ORDER BY seq"
        return db.execute(query, (deal_id,)).fetchall()

    def _append_touches(self, db: sqlite3.Connection, deal: Deal) -> int:
        # Touchpoints are a set kept in time order, not a log: one logged late
        # lands before others. Rows are matched as a multiset, and new ones appended.
        stored, mine = self._stored_rows(db, "touchpoints", deal.id), _touch_rows(deal)
        extra = Counter(r[1:] for r in stored) - Counter(mine)
        if extra:
            seq = next(r[0] for r in stored if r[1:] in extra)
            msg = (
                f"Cannot append to deal {deal.id!r}: stored touchpoint {seq} is not one of this "
                "deal's touchpoints; load_deal() it again, or save_deal() to replace it."
            )
            raise StoreConflictError(msg, deal_id=deal.id, pipeline=deal.pipeline.name, seq=seq)
        new, left = [], Counter(r[1:] for r in stored)
        for row in mine:
            if left[row]:
                left[row] -= 1
            else:
                new.append(row)
        # A rebuilt deal sorts its touchpoints by time, stably: ties must come back in order.
        if sorted([r[1:] for r in stored] + new, key=lambda r: r[1]) != mine:
            db.execute("DELETE FROM touchpoints WHERE deal_id = ?", (deal.id,))
            self._add(db, "touchpoints", deal.id, mine)
        else:
            self._add(db, "touchpoints", deal.id, new, 1 + max((r[0] for r in stored), default=-1))
        return len(new)

    def delete_deal(self, id: str) -> bool:
        """Delete a deal with its history and touchpoints; return whether it was stored."""
        with self._transaction() as db:
            db.execute("DELETE FROM stage_changes WHERE deal_id = ?", (id,))
            db.execute("DELETE FROM touchpoints WHERE deal_id = ?", (id,))
            db.execute("DELETE FROM field_changes WHERE deal_id = ?", (id,))
            return db.execute("DELETE FROM deals WHERE id = ?", (id,)).rowcount > 0

    # ------------------------------------------------------------- reading deals

    def load_deal(self, id: str, pipeline: Pipeline | None = None) -> Deal:
        """Rebuild a stored deal, checking its history as ``Deal.from_history`` does.

        Args:
            id: The deal's id.
            pipeline: The pipeline to rebuild it in (it must have the stored
                pipeline's name); by default the stored definition.

        Raises:
            NotStoredError: No deal with this id is stored.
            StoreConflictError: *pipeline* is not the deal's pipeline.
            SchemaError: A stored value is malformed.
            TransitionError: The stored history breaks the pipeline's rules.
        """
        found = self._connection.execute(
            "SELECT pipeline FROM deals WHERE id = ?", (id,)
        ).fetchone()
        if found is None:
            raise NotStoredError("deal", id)
        if pipeline is not None and pipeline.name != found[0]:
            msg = f"Deal {id!r} is stored in pipeline {found[0]!r}, not {pipeline.name!r}; pass that pipeline or none."
            raise StoreConflictError(msg, deal_id=id, pipeline=pipeline.name)
        deals = self.load_deals(pipeline or found[0], where="d.id = ?", params=[id])
        if not deals:  # deleted in the meantime
            raise NotStoredError("deal", id)
        return deals[0]

    def load_deals(
        self,
        pipeline: Pipeline | str | None = None,
        *,
        where: str | None = None,
        params: Sequence[object] = (),
    ) -> list[Deal]:
        """Rebuild stored deals, in the order they were first saved.

        Args:
            pipeline: Only the deals of this pipeline: a ``Pipeline`` to rebuild
                them in, or a name to use the stored definition. ``None`` loads
                every deal, each in its stored pipeline.
            where: An SQL condition on the ``deals`` table, aliased ``d``, e.g.
                ``"d.owner = ?"`` or ``"d.id IN (SELECT deal_id FROM
                stage_changes WHERE stage = ?)"``. It is SQL: pass values in
                *params*, never inside the text.
            params: The values of the ``?`` placeholders in *where*.

        Raises:
            SchemaError: A stored value is malformed.
            TransitionError: A stored history breaks its pipeline's rules.
        """
        clauses: list[str] = []
        args: list[object] = []
        pipelines: dict[str, Pipeline] = {}
        if pipeline is not None:
            name = pipeline if isinstance(pipeline, str) else pipeline.name
            clauses.append("d.pipeline = ?")
            args.append(name)
            if isinstance(pipeline, Pipeline):
                pipelines[name] = pipeline
        if where:
            clauses.append(f"({where})")
            args.extend(params)
        condition = " AND ".join(clauses) or "1"
        children: dict[str, defaultdict[str, list[Row]]] = {}
        # One read transaction: the three queries see the same snapshot.
        with self._transaction(write=False) as db:
            for table, columns in _COLUMNS.items():
                rows: defaultdict[str, list[Row]] = defaultdict(list)
                children[table] = rows
                for deal_id, *row in db.execute(
                    f"SELECT deal_id, {columns} FROM {table} WHERE deal_id IN "
                    f"(SELECT d.id FROM deals AS d WHERE {condition}) ORDER BY deal_id, seq",
                    args,
                ):
                    rows[deal_id].append(tuple(row))
            query = f"SELECT {_DEAL_COLUMNS} FROM deals AS d WHERE {condition} ORDER BY d.rowid"
            found = db.execute(query, args).fetchall()
        deals = []
        for row in found:
            name = row[1]
            if name not in pipelines:
                pipelines[name] = self.load_pipeline(name)
            changes, touches, fields = (children[t][row[0]] for t in _COLUMNS)
            deals.append(_build(pipelines[name], row, changes, touches, fields))
        return deals
