"""pandas DataFrames of deals and stage changes, and deals from an event frame.

Needs the ``pandas`` extra (``pip install 'salesflow[pandas]'``); pandas is
imported inside each function.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from numbers import Integral
from typing import Any

from .._deal import Deal, metas_of
from .._frames import (
    DecimalMode,
    check_decimal,
    decimal_series,
    int_series,
    iter_amounts,
    text_series,
    time_series,
)
from .._optional import pandas
from .._pipeline import Pipeline
from ..exceptions import LoadError
from ._cells import Amounts, RowProblem
from ._common import LoadResult, check_errors, resolve_zone
from ._event_rows import Conflicts, EventRows, check_conflicts
from ._events import EVENT_COLUMNS

__all__ = ["DEAL_FRAME_COLUMNS", "EVENT_FRAME_COLUMNS", "events_frame", "from_frame", "to_frame"]

#: The columns of :func:`to_frame`, before the ``attr_*`` columns.
DEAL_FRAME_COLUMNS = (
    "deal_id",
    "pipeline",
    "stage",
    "outcome",
    "is_open",
    "created_at",
    "closed_at",
    "value",
    "currency",
    "owner",
    "source",
    "lead_id",
    "lost_reason",
    "n_changes",
)
#: The columns of :func:`events_frame`.
EVENT_FRAME_COLUMNS = (
    "deal_id",
    "seq",
    "stage",
    "outcome",
    "at",
    "exited_at",
    "actor",
    "reason",
    "note",
    "value",
    "currency",
    "owner",
    "source",
)
_FRAME = "<DataFrame>"


def to_frame(
    deals: Iterable[Deal], *, decimal: DecimalMode = "object", attributes: bool = True
) -> Any:
    """A pandas DataFrame with one row per deal.

    Columns, in order (see :data:`DEAL_FRAME_COLUMNS`):

    * ``deal_id``, ``pipeline`` (its name), ``stage`` (the current stage's
      key) and ``outcome`` (``"open"``, ``"won"`` or ``"lost"``): text;
    * ``is_open``: ``bool``;
    * ``created_at`` (the first stage change) and ``closed_at`` (entering the
      won or lost stage; ``NaT`` while open): ``datetime64[us, UTC]``;
    * ``value``: the amount (see *decimal*), missing when the deal has none,
      and ``currency``, its ISO 4217 code;
    * ``owner``, ``source``, ``lead_id``, ``lost_reason``: text, missing when unset;
    * ``n_changes``: stage changes in the history, the opening one included
      (``int64``);
    * ``attr_<name>``: one column per key of ``deal.attributes``, in
      first-seen order, with the dtype pandas infers; the prefix keeps an
      attribute called ``"stage"`` from clashing with a fixed column.

    Text is the dtype pandas gives text (``str`` in pandas 3). Timestamps are
    converted to UTC, since a column of datetimes in several zones would
    otherwise be ``object``.

    Args:
        deals: The deals (any iterable, e.g. a :class:`LoadResult`).
        decimal: How amounts are stored. ``"object"`` (default) keeps the
            exact :class:`~decimal.Decimal` of each deal in an ``object``
            column, so ``df.groupby("currency")["value"].sum()`` is exact;
            ``"float"`` gives ``float64`` (fast, plottable, inexact);
            ``"arrow"`` gives ``pd.ArrowDtype(pa.decimal128(38, s))`` with
            ``s`` the most decimal places of any amount (at least 2): exact
            and vectorised, and needs pyarrow.
        attributes: Add the ``attr_*`` columns.

    Returns:
        A ``pandas.DataFrame`` with a 0..n-1 index.

    Raises:
        MissingDependencyError: pandas (or, for ``"arrow"``, pyarrow) is not
            installed; it is also an ``ImportError``.
        ValueError: An unknown *decimal* mode.

    Examples:
        >>> from salesflow.datasets import synthetic
        >>> from salesflow.io import to_frame
        >>> df = to_frame(synthetic(50, seed=1), attributes=False)
        >>> len(df), str(df["created_at"].dtype)
        (50, 'datetime64[us, UTC]')
    """
    mode = check_decimal(decimal)
    pd = pandas("salesflow.io.to_frame()")
    deals = list(deals)
    amounts, currencies = iter_amounts(d.value for d in deals)
    stages = [d.stage for d in deals]
    columns: dict[str, Any] = {
        "deal_id": text_series(pd, [d.id for d in deals]),
        "pipeline": text_series(pd, [d.pipeline.name for d in deals]),
        "stage": text_series(pd, [s.key for s in stages]),
        "outcome": text_series(pd, [s.outcome.value for s in stages]),
        "is_open": pd.Series([s.is_open for s in stages], dtype=bool),
        "created_at": time_series(pd, [d.created_at for d in deals]),
        "closed_at": time_series(pd, [d.closed_at for d in deals]),
        "value": decimal_series(pd, amounts, mode),
        "currency": text_series(pd, currencies),
        "owner": text_series(pd, [d.owner for d in deals]),
        "source": text_series(pd, [d.source for d in deals]),
        "lead_id": text_series(pd, [d.lead_id for d in deals]),
        "lost_reason": text_series(pd, [d.lost_reason for d in deals]),
        "n_changes": int_series(pd, [len(d.stage_keys) for d in deals]),
    }
    if attributes:
        names = list(dict.fromkeys(name for d in deals for name in d.attributes))
        for name in names:
            columns[f"attr_{name}"] = pd.Series([d.attributes.get(name) for d in deals])
    return pd.DataFrame(columns)


def events_frame(deals: Iterable[Deal], *, decimal: DecimalMode = "object") -> Any:
    """A pandas DataFrame with one row per stage change, deal by deal, oldest first.

    Columns (see :data:`EVENT_FRAME_COLUMNS`): ``deal_id``; ``seq``, the
    change's 0-based position in the deal's history (``int64``); ``stage``
    (key) and its ``outcome``; ``at``, when the deal entered the stage, and
    ``exited_at``, the next change (``NaT`` for the last), both
    ``datetime64[us, UTC]``; ``actor``, ``reason`` and ``note``. Like
    :func:`write_events_csv`, each row repeats the deal's ``value``,
    ``currency``, ``owner`` and ``source``, so that :func:`from_frame` (and
    :func:`read_events_csv` on ``df.to_csv()``) rebuild the deals. Touchpoints,
    attributes and lead links are not part of an event log.

    Args:
        deals: The deals.
        decimal: How amounts are stored, as for :func:`to_frame`.

    Raises:
        MissingDependencyError: pandas (or pyarrow for ``"arrow"``) is not installed.
        ValueError: An unknown *decimal* mode.

    Examples:
        >>> from salesflow.datasets import synthetic
        >>> from salesflow.io import events_frame
        >>> deals = synthetic(20, seed=1)
        >>> len(events_frame(deals)) == sum(len(d.stage_keys) for d in deals)
        True
    """
    mode = check_decimal(decimal)
    pd = pandas("salesflow.io.events_frame()")
    ids: list[str] = []
    seqs: list[int] = []
    stages: list[str] = []
    outcomes: list[str] = []
    entered: list[datetime] = []
    exited: list[datetime | None] = []
    metas: list[tuple[str | None, str | None, str | None]] = []
    values: list[Deal] = []
    none = (None, None, None)
    for deal in deals:
        keys, times, meta = deal.stage_keys, deal.stage_times, metas_of(deal)
        by_key = deal.pipeline.table.by_key
        n = len(keys)
        for i in range(n):
            ids.append(deal.id)
            seqs.append(i)
            stages.append(keys[i])
            outcomes.append(by_key[keys[i]].outcome.value)
            entered.append(times[i])
            exited.append(times[i + 1] if i + 1 < n else None)
            found = None if meta is None else meta[i]
            metas.append(none if found is None else found)
            values.append(deal)
    amounts, currencies = iter_amounts(d.value for d in values)
    return pd.DataFrame(
        {
            "deal_id": text_series(pd, ids),
            "seq": int_series(pd, seqs),
            "stage": text_series(pd, stages),
            "outcome": text_series(pd, outcomes),
            "at": time_series(pd, entered),
            "exited_at": time_series(pd, exited),
            "actor": text_series(pd, [m[0] for m in metas]),
            "reason": text_series(pd, [m[1] for m in metas]),
            "note": text_series(pd, [m[2] for m in metas]),
            "value": decimal_series(pd, amounts, mode),
            "currency": text_series(pd, currencies),
            "owner": text_series(pd, [d.owner for d in values]),
            "source": text_series(pd, [d.source for d in values]),
        }
    )


def _missing(cell: object) -> bool:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return True
    # pandas' NA and NaT are singletons of their own types.
    return type(cell).__name__ in ("NAType", "NaTType")


def _text(cell: object) -> str:
    """A cell as the text a CSV loader would see (missing -> '')."""
    if _missing(cell):
        return ""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, Integral) and not isinstance(cell, bool):
        return str(int(cell))
    if isinstance(cell, float):
        return repr(float(cell))  # the shortest text that reads back as this float
    if isinstance(cell, Decimal):
        return str(cell)
    return str(cell).strip()


def _texts(pd: Any, column: Any) -> list[str]:
    """A column's cells as the texts a CSV loader would see."""
    if column.dtype != object and pd.api.types.is_string_dtype(column.dtype):
        texts: list[str] = column.fillna("").str.strip().tolist()
        return texts
    return [_text(cell) for cell in column.tolist()]


def _time(cell: object, column: str, fmt: str | None) -> tuple[str, str | None]:
    """A timestamp cell as (text, format) for the event loader."""
    if _missing(cell):  # before datetime: pandas' NaT is a datetime
        return "", fmt
    if isinstance(cell, datetime):
        if getattr(cell, "nanosecond", 0):
            raise RowProblem(
                "the timestamp has nanoseconds; deals keep microseconds (floor the column with .dt.floor('us'))",
                column,
                cell,
            )
        return cell.isoformat(), None
    if isinstance(cell, date):
        return cell.isoformat(), None
    if isinstance(cell, str):
        return cell.strip(), fmt
    raise RowProblem("not a timestamp", column, cell)


def _frame_columns(
    frame_columns: Iterable[object], named: Mapping[str, str | None]
) -> dict[str, str | None]:
    present = {str(c) for c in frame_columns}
    cols: dict[str, str | None] = {}
    missing: list[str] = []
    for field, name in named.items():
        if name is None:
            cols[field] = None
        elif name in present:
            cols[field] = name
        elif field in ("deal_id", "stage", "at") or name != EVENT_COLUMNS[field]:
            missing.append(name)
        else:
            cols[field] = None  # an optional column left at its default name and absent
    if missing:
        found = ", ".join(repr(c) for c in present) or "none"
        reason = f"missing column(s) {', '.join(map(repr, missing))}; the frame has {found}"
        raise LoadError(reason, file=_FRAME)
    return cols


def from_frame(
    df: Any,
    pipeline: Pipeline,
    *,
    deal_id: str = "deal_id",
    stage: str = "stage",
    at: str = "at",
    value: str | None = "value",
    currency: str | None = "currency",
    owner: str | None = "owner",
    source: str | None = "source",
    reason: str | None = "reason",
    actor: str | None = "actor",
    note: str | None = "note",
    timezone: tzinfo | str | None = None,
    timestamp_format: str | None = None,
    default_currency: str | None = None,
    errors: str = "raise",
    decimal: str = ".",
    allow_negative: bool = False,
    case_insensitive: bool = False,
    conflicts: Conflicts = "error",
) -> LoadResult:
    """Build deals from an event-shaped DataFrame: one row per stage change.

    The frame is read exactly as :func:`read_events_csv` reads a file, by the
    same code: rows in any order, each deal's events sorted by time (equal
    times keep their row order) and checked against *pipeline*; a deal's
    owner and source must agree across its rows (or, with
    ``conflicts="latest"``, the latest non-empty one wins), and values that
    differ between its rows are recorded as field changes. So
    ``from_frame(pd.read_csv(path, dtype=str), p)`` gives the deals
    ``read_events_csv(path, p)`` gives, and ``from_frame(events_frame(deals), p)``
    rebuilds *deals* (without touchpoints, attributes and lead links).
    The frame is not modified.

    Cells may be text or typed: timestamps as ``datetime64`` (naive ones are
    in *timezone*), ``datetime`` objects or text (ISO 8601, or
    *timestamp_format*); amounts as ``Decimal`` objects (exact), Arrow
    decimals, integers, text, or floats (read as their shortest repr:
    ``0.1`` is ``Decimal("0.1")``; read CSVs with ``dtype=str`` to keep every
    digit). ``NaN``, ``None``, ``NA`` and ``NaT`` are empty cells.

    Args:
        df: A pandas DataFrame (it is only read).
        pipeline: The pipeline the stages belong to (keys or names).
        deal_id: The column of deal ids (required).
        stage: The column of stage keys or names (required).
        at: The column of timestamps (required).
        value: The column of amounts; ``None`` to ignore it.
        currency: The column of currency codes; ``None`` to ignore it.
        owner: The column of owners; ``None`` to ignore it.
        source: The column of sources; ``None`` to ignore it.
        reason: The column of reasons (a lost event's reason is the deal's
            lost reason); ``None`` to ignore it.
        actor: The column of who made each change; ``None`` to ignore it.
        note: The column of notes; ``None`` to ignore it.
        timezone: Zone of naive timestamps (a name or a ``tzinfo``); without
            it a naive timestamp is an error.
        timestamp_format: A ``strptime`` format for text timestamps; default ISO 8601.
        default_currency: Currency of amounts when there is no currency column.
        errors: ``"raise"`` or ``"collect"``, as for :func:`read_events_csv`.
            Errors name the file as ``<DataFrame>`` and, as ``line``, the
            row's position (``df.iloc[line]``).
        decimal: As for :func:`read_events_csv` (for amounts given as text).
        allow_negative: As for :func:`read_events_csv`.
        case_insensitive: As for :func:`read_events_csv`.
        conflicts: As for :func:`read_events_csv`.

    Returns:
        A :class:`LoadResult` of the deals, with counts and rejects.

    Raises:
        LoadError: A required column is missing, an optional column named
            explicitly is missing, or (with ``errors="raise"``) a bad row.
        MissingDependencyError: pandas is not installed.

    Examples:
        >>> import salesflow as sf
        >>> from salesflow.datasets import synthetic
        >>> from salesflow.io import events_frame, from_frame
        >>> deals = [d.replace(touchpoints=()) for d in synthetic(30, seed=2)]
        >>> list(from_frame(events_frame(deals), sf.templates.b2b())) == deals
        True
    """
    pd = pandas("salesflow.io.from_frame()")
    mode = check_errors(errors)
    zone = resolve_zone(timezone)
    named = {
        "deal_id": deal_id,
        "stage": stage,
        "at": at,
        "value": value,
        "currency": currency,
        "owner": owner,
        "source": source,
        "reason": reason,
        "actor": actor,
        "note": note,
    }
    cols = _frame_columns(df.columns, named)
    data = {
        field: _texts(pd, df[name])
        for field, name in cols.items()
        if name is not None and field != "at"
    }
    times = df[at].tolist()
    rows = len(times)
    events = EventRows(
        pipeline,
        cols,
        None,
        zone,
        default_currency,
        Amounts(decimal, allow_negative),
        case_insensitive,
        check_conflicts(conflicts),
    )
    pending = events.pending
    rejects: list[LoadError] = []
    bad: dict[str, int] = {}
    rows_rejected = 0
    for line in range(rows):
        key = ""
        try:
            values = {field: column[line] for field, column in data.items()}
            key = values["deal_id"]
            if not key:
                raise RowProblem("the deal id is empty", cols["deal_id"], "")
            if key in bad:
                bad[key] += 1
                continue
            values["at"], events.fmt = _time(times[line], at, timestamp_format)
            events.add(values, line)
        except RowProblem as problem:
            error = problem.at(_FRAME, line)
            if mode == "raise":
                raise error from None
            rejects.append(error)
            rows_rejected += 1
            if key:
                dropped = pending.pop(key, None)
                rows_rejected += 0 if dropped is None else len(dropped.lines)
                bad[key] = bad.get(key, 0)
    rows_rejected += sum(bad.values())
    deals: list[Deal] = []
    for key, found in pending.items():
        try:
            deals.append(events.build(key, found))
        except LoadError as error:
            error = LoadError(
                error.reason, file=_FRAME, line=error.line, column=stage, value=error.value
            )
            if mode == "raise":
                raise error from None
            rejects.append(error)
            rows_rejected += len(found.lines)
    return LoadResult(tuple(deals), tuple(rejects), rows, rows_rejected, _FRAME)
