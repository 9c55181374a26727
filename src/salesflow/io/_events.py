"""Stage-event logs: one row per stage change."""

from __future__ import annotations

import csv
import io
import operator
import os
from collections.abc import Callable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any

from .._pipeline import Pipeline
from ..exceptions import NotSerializableError
from ._arrow import arrow_deals
from ._bulk import bulk_deals
from ._cells import Ambiguous, Amounts, RowProblem, check_ambiguous, escape_cell, unescape_cell
from ._common import (
    DataRows,
    DealGroups,
    LoadResult,
    Source,
    check_errors,
    header,
    merge_columns,
    open_source,
    read_all,
    read_header,
    resolve_zone,
)
from ._event_rows import Conflicts, EventRows, PendingDeal, check_conflicts
from ._tables import paused_gc

__all__ = ["EVENT_COLUMNS", "read_events_csv", "write_events_csv"]

EVENT_COLUMNS: Mapping[str, str] = {
    "deal_id": "deal_id",
    "stage": "stage",
    "at": "at",
    "value": "value",
    "currency": "currency",
    "owner": "owner",
    "source": "source",
    "reason": "reason",
    "actor": "actor",
    "note": "note",
    "expected_close": "expected_close",
}
"""Logical field -> default column name of an event log."""
_REQUIRED = ("deal_id", "stage", "at")


def _picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    # operator.itemgetter returns a bare item for one index; keep it a tuple.
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*indexes)


def read_events_csv(
    source: Source,
    pipeline: Pipeline,
    *,
    columns: Mapping[str, str | None] | None = None,
    timestamp_format: str | None = None,
    timezone: tzinfo | str | None = None,
    currency: str | None = None,
    errors: str = "raise",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    decimal: str = ".",
    allow_negative: bool = False,
    case_insensitive: bool = False,
    conflicts: Conflicts = "error",
    progress: Callable[[int], None] | None = None,
    ambiguous: Ambiguous = "earlier",
) -> LoadResult:
    """Read a stage-event log: one row per stage change, rows in any order.

    Each deal's events are sorted by time (equal times keep their file order)
    and replayed against *pipeline*'s structural rules. A deal's owner and
    source are deal-level: its rows may leave them empty but must not
    disagree (unless ``conflicts="latest"``). Its value and expected close
    date (an optional ``expected_close`` column of ISO dates) are a history:
    the first stated is the deal's from its creation, and a row that states
    another records a :class:`~salesflow.FieldChange` at its time; an empty
    cell states nothing. A row with an empty stage that states a value or a
    date records field changes only. ``reason``, ``actor`` and ``note``
    belong to each event (the reason of a lost event is the deal's lost
    reason).

    Args:
        source: A path or an open text file.
        pipeline: The pipeline the stages belong to (keys or names).
        columns: Logical field -> your column name, for the fields in
            :data:`EVENT_COLUMNS`; map a field to ``None`` to ignore it.
            ``deal_id``, ``stage`` and ``at`` are required.
        timestamp_format: A ``strptime`` format; default ISO 8601.
        timezone: Zone for timestamps without an offset (a name such as
            ``"UTC"`` or a ``tzinfo``); without it, such a timestamp is an error.
            A naive time the zone skips (``02:30`` when New York springs
            forward) is a bad row: it names no instant.
        currency: Currency of values when the file has no currency column.
        errors: ``"raise"`` stops at the first bad row with a
            :class:`~salesflow.LoadError` (file, line, column, value);
            ``"collect"`` leaves out every deal with a bad row and returns the
            problems in ``result.rejects``.
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding (a BOM is skipped); text that is not
            valid in it is a ``LoadError`` at its line that suggests one.
        decimal: The decimal mark of amounts, ``"."`` or ``","``; thousands
            separators in groups of three are read either way
            (``1,234.50``, ``1.234,50``, ``1 234,50``).
        allow_negative: Accept negative deal values (refused by default: a
            deal's value is what it is worth; ``Money`` itself stays signed).
        case_insensitive: Match stage labels to keys and names ignoring case.
        conflicts: When a deal's rows disagree on its owner or source:
            ``"error"`` (the default) rejects the deal naming both lines;
            ``"latest"`` reads the rows as a history of the field and keeps
            the latest (by time, then file order).
        progress: Called with the number of rows read, every 10,000 rows
            (once, at the end, when pyarrow reads the file).
        ambiguous: How to read a naive time that *timezone* shows twice
            (``01:30`` when New York falls back): ``"earlier"`` (the
            default) takes the first pass (``fold=0``), ``"later"`` the
            second (``fold=1``), ``"error"`` makes it a bad row.

    Returns:
        A :class:`LoadResult`: a sequence of the deals, with counts and rejects.

    Raises:
        LoadError: A missing column (always), or a bad row with ``errors="raise"``.
    """
    mode = check_errors(errors)
    zone = resolve_zone(timezone)
    cols = merge_columns(EVENT_COLUMNS, columns)
    with paused_gc(), open_source(source, encoding=encoding) as (handle, name):
        if not handle.seekable():
            handle = io.StringIO(handle.read())  # the exact lane may read it twice
        start = handle.tell()
        reader, names, used = read_header(handle, name, delimiter)
        index = {n: i for i, n in enumerate(names)}
        header(names, cols, _REQUIRED, name, delimiter=used)
        pos = {f: index.get(c) for f, c in cols.items() if c is not None}
        present = [(f, i) for f, i in pos.items() if i is not None]
        fields = [f for f, _ in present]
        pick = _picker([i for _, i in present])
        rows = EventRows(
            pipeline,
            cols,
            timestamp_format,
            zone,
            currency,
            Amounts(decimal, allow_negative),
            case_insensitive,
            check_conflicts(conflicts),
            check_ambiguous(ambiguous),
        )
        width = len(names)
        if isinstance(source, str | os.PathLike) and not any("\n" in n or "\r" in n for n in names):
            arrow = arrow_deals(
                Path(source),
                encoding=encoding,
                delimiter=used,
                width=len(names),
                pos=dict(present),
                config=rows,
            )
            if arrow is not None:
                if progress is not None:
                    progress(arrow[1])
                return LoadResult(tuple(arrow[0]), (), arrow[1], 0, name)
        groups: DealGroups[PendingDeal] = DealGroups(mode, name, lambda rows: len(rows.lines))
        rows.pending = groups.pending
        everything = read_all(reader, progress)
        fast = bulk_deals(everything, width, dict(present), rows)
        if fast is not None:
            return LoadResult(tuple(fast), (), len(everything), 0, name)
        # Something needs saying: read the rows again, one by one, with their lines.
        del everything
        handle.seek(start)
        reader, _, _ = read_header(handle, name, used)
        data = DataRows(reader, None)
        for line, row in data:
            deal_id = ""
            try:
                if len(row) != width:
                    # Read the id if the row has it: the whole deal is left out.
                    at = pos["deal_id"]
                    deal_id = "" if at is None or at >= len(row) else unescape_cell(row[at].strip())
                    raise RowProblem(f"expected {width} cells, got {len(row)}")
                values = dict(zip(fields, map(str.strip, pick(row)), strict=True))
                if "'" in "".join(values.values()):
                    values = {f: unescape_cell(v) for f, v in values.items()}
                deal_id = values.get("deal_id", "")
                if not deal_id:
                    raise RowProblem("the deal id is empty", cols["deal_id"], "")
                if groups.skip(deal_id):
                    continue
                rows.add(values, line)
            except RowProblem as problem:
                groups.reject(problem, line, deal_id)
        deals = groups.build(rows.build, cols["stage"])
    return LoadResult(tuple(deals), tuple(groups.rejects), data.read, groups.rows_rejected, name)


def _text_cell(text: str | None) -> str:
    """A free-text cell: stripped first (the readers strip cells), then guarded.

    Stripping before guarding keeps a guard quote from standing alone when
    the text after it is only blanks (a note of ``"\\r"`` would read back as
    ``"'"``).
    """
    return escape_cell(text.strip()) if text else ""


def _refuse_blanks(deal_id: str | None, stages: list[str]) -> None:
    """Refuse what a CSV cannot keep: blanks around a deal id or a stage key."""
    what, text = ("deal id", deal_id) if deal_id is not None else ("stage key", stages[0])
    assert text is not None
    msg = (
        f"write_events_csv cannot keep the blanks around {what} {text!r}: every CSV "
        f"loader strips cells, so it would read back as {text.strip()!r} (and be taken "
        f"for the {what} of that name). Strip it, or write JSON Lines "
        "(write_deals_jsonl), which keeps text exactly."
    )
    raise NotSerializableError(msg)


def write_events_csv(
    deals: Any,
    target: Any,
    *,
    columns: Mapping[str, str | None] | None = None,
    delimiter: str = ",",
) -> int:
    """Write *deals* as a stage-event log that :func:`read_events_csv` reads back.

    One row per stage change; the deal's value (as of the row's time),
    currency, owner and source are repeated on each row. When a deal has an
    expected close date or recorded value / close-date changes, an
    ``expected_close`` column is written too, and a change between stage
    changes gets a row of its own with an empty stage, so the changes read
    back as they were. Text cells that start with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return are prefixed with ``'`` so that a
    spreadsheet does not run them as formulas, and so is each line inside a
    cell that starts so; the reader strips that prefix (text that already
    starts with such a quote gets one more, so it too comes back as it was).
    A cell holding a line feed or a carriage return is quoted.

    Reading the file back with :func:`read_events_csv` gives the same deals,
    with these deliberate normalisations, because a CSV cell has no way to
    say them (write JSON Lines to keep everything):

    * text fields (owner, source, reason, actor, note) lose surrounding
      blanks, and an empty text reads back as missing (``None``);
    * times keep their instant and UTC offset, not their zone's name
      (``2026-03-01T09:00:00+01:00``, not ``Europe/Paris``);
    * attributes, touchpoints and the lead a deal came from are not written.

    A deal id or stage key with surrounding blanks is refused
    (``NotSerializableError``) rather than written: it would read back as
    another id or stage.

    Args:
        deals: The deals.
        target: A path or an open text file.
        columns: Logical field -> column name, as for :func:`read_events_csv`.
        delimiter: The CSV separator.

    Returns:
        The number of rows written.
    """
    import contextlib
    from pathlib import Path

    cols = merge_columns(EVENT_COLUMNS, columns)
    deals = list(deals)
    moving = any(_moves(d) for d in deals)
    fields = [f for f in EVENT_COLUMNS if cols.get(f) and (f != "expected_close" or moving)]
    count = 0
    with contextlib.ExitStack() as stack:
        if isinstance(target, str | Path):
            handle = stack.enter_context(Path(target).open("w", newline="", encoding="utf-8"))
        else:
            handle = target
        plain = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        # The minimal quoting quotes "\n" (the line terminator) but not a bare "\r",
        # which readers take as a line break: a row with one is quoted whole.
        quoted = csv.writer(handle, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)

        def write(cells: list[str]) -> None:
            (quoted if "\r" in "".join(cells) else plain).writerow(cells)

        write([str(cols[f]) for f in fields])
        padded_stages: dict[int, list[str]] = {}  # per pipeline, looked at once
        for deal in deals:
            pipeline = deal.pipeline
            padded = padded_stages.get(id(pipeline))
            if padded is None:
                padded = [s.key for s in pipeline.stages if s.key != s.key.strip()]
                padded_stages[id(pipeline)] = padded
            if deal.id != deal.id.strip() or padded:
                _refuse_blanks(deal.id if deal.id != deal.id.strip() else None, padded)
            value = deal.value
            for change, (value, close) in _with_fields(deal):
                row = {
                    "deal_id": escape_cell(deal.id),
                    "stage": escape_cell(change.stage),
                    "at": change.at.isoformat(),
                    "expected_close": "" if close is None else close.isoformat(),
                    "value": "" if value is None else str(value.amount),
                    "currency": "" if value is None else value.currency,
                    "owner": _text_cell(deal.owner),
                    "source": _text_cell(deal.source),
                    "reason": _text_cell(change.reason),
                    "actor": _text_cell(change.actor),
                    "note": _text_cell(change.note),
                }
                write([row[f] for f in fields])
                count += 1
    return count


_FIELDS = ("value", "expected_close")


def _moves(deal: Any) -> bool:
    return deal.expected_close is not None or any(c.field in _FIELDS for c in deal.changes)


def _with_fields(deal: Any) -> list[tuple[Any, tuple[Any, Any]]]:
    """Per row to write: a stage change, or a stage-less row, with the fields as of its time.

    A field change between stage changes gets a stage-less row of its own.
    """
    if not _moves(deal):
        return [(c, (deal.value, None)) for c in deal.history]
    rows: list[tuple[Any, tuple[Any, Any]]] = []
    history = deal.history
    stage_times = {c.at for c in history}
    extra = sorted({c.at for c in deal.changes if c.field in _FIELDS} - stage_times)
    # A field change between stage changes gets a row of its own, without a stage.
    events = sorted([*history, *(_FieldRow(at) for at in extra)], key=lambda e: e.at)
    for event in events:
        then = deal.as_of(event.at)
        rows.append((event, (then.value, then.expected_close)))
    return rows


class _FieldRow:
    """A row that states fields only: no stage, no who / why / note."""

    __slots__ = ("at",)
    stage = ""
    reason = actor = note = None

    def __init__(self, at: Any) -> None:
        self.at = at
