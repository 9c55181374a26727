"""Salesforce exports: ``OpportunityHistory`` rows and ``OpportunityStage`` definitions."""

from __future__ import annotations

import csv
import itertools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast

from .._deal import Deal
from .._deal_info import DealInfo, EventMeta
from .._field_change import FieldChange
from .._money import Money
from .._pipeline import Pipeline
from .._stage import Outcome, Stage
from ..exceptions import LoadError
from ._cells import Amounts, RowProblem, parse_time, unescape_cell
from ._common import (
    CsvReader,
    DataRows,
    DealGroups,
    LoadResult,
    Source,
    check_errors,
    csv_failures,
    header,
    merge_columns,
    open_source,
    read_header,
    resolve_zone,
    sniff_delimiter,
    unique_names,
)
from ._intake import Event, Refused, StageLabels, build_deal, ordered

__all__ = ["SALESFORCE_HISTORY_COLUMNS", "read_salesforce_history", "salesforce_pipeline"]

Deleted = Literal["reject", "skip"]

SALESFORCE_HISTORY_COLUMNS: Mapping[str, str] = {
    "deal_id": "OpportunityId",
    "at": "CreatedDate",
    "stage": "StageName",
    "amount": "Amount",
    "currency": "CurrencyIsoCode",
    "deleted": "IsDeleted",
    "actor": "CreatedById",
    "close_date": "CloseDate",
    "probability": "Probability",
    "forecast_category": "ForecastCategoryName",
}
"""Logical field -> column of an ``OpportunityHistory`` export (API names, as Data Loader and the
Bulk API write them).
"""
_REQUIRED = ("deal_id", "at", "stage")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE, _FALSE = ("true", "1"), ("false", "0")

# One saved row: (time, line, stage key, stage cell, value, actor, close date,
# probability, forecast category).
_Save = tuple[
    datetime, int, str, str, Money | None, str | None, date | None, float | None, str | None
]
#: The recorded fields of a save, by their place in ``_Save``.
_TRACKED = (("value", 4), ("expected_close", 6), ("probability", 7), ("forecast_category", 8))


def _flag(text: str, column: str | None, *, default: bool | None = None) -> bool:
    """A Salesforce checkbox: ``true``/``false`` (any case) or ``1``/``0``."""
    low = text.strip().lower()
    if low in _TRUE or low in _FALSE:
        return low in _TRUE
    if not low and default is not None:
        return default
    raise RowProblem("not a checkbox value (true/false)", column, text)


def read_salesforce_history(
    source: Source,
    pipeline: Pipeline,
    *,
    columns: Mapping[str, str | None] | None = None,
    stage_map: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timezone: tzinfo | str | None = None,
    currency: str | None = None,
    deleted: Deleted = "reject",
    errors: str = "raise",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    decimal: str = ".",
    allow_negative: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Read a Salesforce ``OpportunityHistory`` export and rebuild each opportunity's history.

    Salesforce writes a history row, a snapshot of the opportunity, on every
    save that changes its amount, probability, stage or close date; a row
    is not a stage change. So the rows of each opportunity are sorted by
    ``CreatedDate`` (equal times keep file order) and consecutive rows with
    the same ``StageName`` are collapsed into one stage entry, at the time
    of the first of them: five saves Prospecting, Prospecting,
    Qualification, Qualification, Closed Won make three stage changes.

    Each row also says what the amount, close date, probability and
    forecast category were after that save. A change in one of them from
    the row before is recorded as a :class:`~salesflow.FieldChange` at the
    row's time (``deal.changes``), so ``deal.as_of(t)`` and the movement
    metrics see amounts and close dates as they were.

    Inferred, and lossy:

    * The deal's value is the ``Amount`` of the latest row, in that row's
      ``CurrencyIsoCode`` (or *currency*); an empty amount means the amount
      was cleared (no value from then on). Likewise ``CloseDate`` (an ISO
      date, ``2024-03-31``) is the deal's ``expected_close``.
    * ``Probability`` (a percentage 0–100) and ``ForecastCategoryName`` are
      recorded as field changes (``probability``, ``forecast_category``);
      stage probabilities still come from *pipeline*
      (see :func:`salesforce_pipeline`). ``ExpectedRevenue`` is not read.
    * ``CreatedById`` of the row that entered a stage is that change's actor,
      and of a row that changed a field, that change's actor.
    * Only stage changes recorded in the history are known: an opportunity
      created before history tracking starts at its first row.

    ``StageName`` holds the stage's API name, matched to *pipeline*'s keys
    (then names, then names in another case, or through *stage_map*). The
    history is replayed against *pipeline*'s rules. Report exports (labels
    as headers, user-locale dates) load with *columns* and
    *timestamp_format*.

    Args:
        source: A path or an open text file.
        pipeline: The pipeline the opportunities belong to.
        columns: Logical field -> your column name, for the fields of
            :data:`SALESFORCE_HISTORY_COLUMNS` (``None`` ignores a field);
            ``deal_id``, ``at`` and ``stage`` are required.
        stage_map: ``StageName`` value -> stage key of *pipeline*.
        timestamp_format: A ``strptime`` format; default ISO 8601
            (``2024-01-15T10:23:45.000Z`` and ``+0000`` offsets both work).
        timezone: Zone for timestamps without an offset; without it, such a
            timestamp is an error.
        currency: Currency of amounts when the row has none (single-currency
            orgs have no ``CurrencyIsoCode``).
        deleted: A row with ``IsDeleted`` true is a problem (``"reject"``,
            which leaves its opportunity out like any bad row) or is left out
            on its own (``"skip"``; it then counts as neither built nor
            rejected).
        errors: ``"raise"`` stops at the first bad row; ``"collect"`` leaves
            out every opportunity with a bad row and returns the problems in
            ``result.rejects``.
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding (a BOM is skipped).
        decimal: The decimal mark of amounts (``"."`` or ``","``); thousands
            separators in groups of three are read either way.
        allow_negative: Accept negative amounts (refused by default).
        progress: Called with the number of rows read, every 10,000 rows.

    Returns:
        A :class:`LoadResult`: one deal per opportunity, in order of first
        appearance.

    Raises:
        LoadError: A missing column (always), or with ``errors="raise"`` a
            bad row: an empty id, an unknown stage, a bad timestamp, amount
            or checkbox, a deleted row, or a history the rules refuse.
        ValueError: An unknown option or column field.
    """
    mode = check_errors(errors)
    zone = resolve_zone(timezone)
    if deleted not in ("reject", "skip"):
        msg = f"deleted must be 'reject' or 'skip', got {deleted!r}."
        raise ValueError(msg)
    cols = merge_columns(SALESFORCE_HISTORY_COLUMNS, columns)
    stages = StageLabels(pipeline, stage_map)
    amounts = Amounts(decimal, allow_negative)
    with open_source(source, encoding=encoding) as (handle, name):
        reader, names, used = read_header(handle, name, delimiter)
        header(names, cols, _REQUIRED, name, delimiter=used)
        index = {n: i for i, n in enumerate(names)}
        pos = {f: index[c] for f, c in cols.items() if c is not None and c in index}
        width = len(names)
        groups: DealGroups[list[_Save]] = DealGroups(mode, name, len)
        pending = groups.pending
        data = DataRows(reader, progress)
        for line, row in data:
            deal_id = ""
            try:
                if len(row) != width:
                    # Read the id if the row has it: the whole opportunity is left out.
                    at = pos["deal_id"]
                    deal_id = unescape_cell(row[at].strip()) if at < len(row) else ""
                    raise RowProblem(f"expected {width} cells, got {len(row)}")
                values = {f: unescape_cell(row[i].strip()) for f, i in pos.items()}
                deal_id = values["deal_id"]
                if not deal_id:
                    raise RowProblem("the opportunity id is empty", cols["deal_id"], "")
                if groups.skip(deal_id):
                    continue
                if _flag(values.get("deleted", ""), cols["deleted"], default=False):
                    if deleted == "skip":
                        continue
                    reason = "the row is deleted (IsDeleted is true); pass deleted='skip' to leave deleted rows out"
                    raise RowProblem(reason, cols["deleted"], values["deleted"])
                save = _save(
                    values,
                    cols,
                    line,
                    stages,
                    fmt=timestamp_format,
                    zone=zone,
                    currency=currency,
                    amounts=amounts,
                )
                pending.setdefault(deal_id, []).append(save)
            except RowProblem as problem:
                groups.reject(problem, line, deal_id)
        deals = groups.build(lambda deal_id, saves: _build(pipeline, deal_id, saves), cols["stage"])
    return LoadResult(tuple(deals), tuple(groups.rejects), data.read, groups.rows_rejected, name)


def _save(
    values: Mapping[str, str],
    cols: Mapping[str, str | None],
    line: int,
    stages: StageLabels,
    *,
    fmt: str | None,
    zone: tzinfo | None,
    currency: str | None,
    amounts: Amounts,
) -> _Save:
    stage_text = values["stage"]
    if not stage_text:
        raise RowProblem("the stage is empty", cols["stage"], "")
    key = stages(stage_text)
    if key is None:
        raise RowProblem(stages.unknown(stage_text), cols["stage"], stage_text)
    at_text = values["at"]
    if not at_text:
        raise RowProblem("the timestamp is empty", cols["at"], "")
    at = parse_time(at_text, cols["at"] or "at", fmt=fmt, zone=zone)
    money = None
    amount = values.get("amount", "")
    if amount:
        cur = values.get("currency", "") or currency
        if not cur:
            reason = (
                "an amount needs a currency: add a CurrencyIsoCode column or pass currency='USD'"
            )
            raise RowProblem(reason, cols["amount"], amount)
        money = amounts.money(amount, cols["amount"] or "amount", cur)
    close = None
    close_text = values.get("close_date", "")
    if close_text:
        try:
            close = date.fromisoformat(close_text) if _ISO_DATE.fullmatch(close_text) else None
        except ValueError:
            close = None  # 2024-02-30
        if close is None:
            raise RowProblem("not an ISO date (2024-03-31)", cols["close_date"], close_text)
    probability = None
    percent_text = values.get("probability", "")
    if percent_text:
        try:
            percent = Decimal(percent_text)
        except InvalidOperation:
            percent = Decimal("NaN")
        if not (percent.is_finite() and 0 <= percent <= 100):
            raise RowProblem("not a percentage from 0 to 100", cols["probability"], percent_text)
        probability = float(percent / 100)
    forecast = values.get("forecast_category") or None
    return (
        at, line, key, stage_text, money, values.get("actor") or None, close, probability, forecast
    )  # fmt: skip


def _build(pipeline: Pipeline, deal_id: str, saves: list[_Save]) -> Deal:
    saves.sort(key=lambda s: (s[0], s[1]))
    events = ordered(
        [
            Event(at, line, key, EventMeta(actor, None, None) if actor else None)
            for at, line, key, _, _, actor, *_ in saves
        ],
        collapse=True,
    )
    # Probability and forecast category are no fields of the deal: their first
    # value is a change from nothing at creation, so as_of(t) still knows it.
    first = saves[0]
    changes = [
        FieldChange(field, None, first[i], first[0], actor=first[5])
        for field, i in _TRACKED[2:]
        if first[i] is not None
    ]
    for before, after in itertools.pairwise(saves):
        for field, i in _TRACKED:
            if after[i] != before[i]:
                change = FieldChange(field, before[i], after[i], after[0], actor=after[5])
                changes.append(change)
    info = DealInfo(value=saves[-1][4], expected_close=saves[-1][6], changes=changes)
    try:
        return build_deal(pipeline, deal_id, events, info)
    except Refused as refused:
        raise refused.at(events, what="opportunity") from None


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def salesforce_pipeline(
    source_or_rows: Source | Iterable[Mapping[str, Any]],
    *,
    name: str = "Salesforce",
    include_inactive: bool = False,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    **rules: Any,
) -> Pipeline:
    """Build a pipeline from Salesforce ``OpportunityStage`` definitions.

    Each row is a stage: ``ApiName`` is the key (``MasterLabel`` when there
    is no ``ApiName``) and ``MasterLabel`` the name. ``IsClosed`` and
    ``IsWon`` give the outcome: open, won (closed and won) or lost (closed,
    not won). ``DefaultProbability`` is a percentage 0–100 and becomes a
    fraction 0–1. Stages are ordered by ``SortOrder`` (rows without one
    come last, in input order). Inactive stages (``IsActive`` false) are
    left out unless *include_inactive*; a missing ``IsActive`` means active.

    Args:
        source_or_rows: A CSV export (a path or an open text file) or rows
            as mappings, e.g. the records of a SOQL query (checkboxes may be
            booleans, numbers may be numbers).
        name: The pipeline's name.
        include_inactive: Keep inactive stages, e.g. to load old history.
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding (a BOM is skipped).
        **rules: Pipeline rules (``allow_backward=``, ``guards=`` ...).
            ``allow_skip`` defaults to ``True``, since Salesforce lets an
            opportunity move to any stage.

    Returns:
        The pipeline.

    Raises:
        LoadError: A bad row, naming the file (``"<rows>"`` for mappings),
            the line (the row's position for mappings), column and value.
        InvalidPipelineError: The stages do not make a valid pipeline.

    Examples:
        >>> p = salesforce_pipeline([
        ...     {"ApiName": "Prospecting", "IsActive": True, "IsClosed": False,
        ...      "IsWon": False, "DefaultProbability": 10, "SortOrder": 1},
        ...     {"ApiName": "Closed Won", "IsActive": True, "IsClosed": True,
        ...      "IsWon": True, "DefaultProbability": 100, "SortOrder": 2}])
        >>> [(s.key, s.outcome.value, s.probability) for s in p.stages]
        [('Prospecting', 'open', 0.1), ('Closed Won', 'won', 1.0)]
    """
    items: list[tuple[bool, int, int, Stage]] = []
    if isinstance(source_or_rows, str | os.PathLike) or hasattr(source_or_rows, "read"):
        with open_source(cast("Source", source_or_rows), encoding=encoding) as (handle, file):
            first = handle.readline()
            lines = itertools.chain([first], handle)
            with csv_failures(CsvReader(None, file)):
                chosen = delimiter or sniff_delimiter(first)
            reader = csv.DictReader(lines, delimiter=chosen)
            with csv_failures(CsvReader(reader.reader, file)):
                names = [f.strip() for f in reader.fieldnames or ()]
                unique_names(names, file, _STAGE_FIELDS)
                for column in ("IsClosed", "IsWon"):
                    if column not in names:
                        reason = f"missing column {column!r}; OpportunityStage exports need IsClosed and IsWon"
                        raise LoadError(reason, file=file, line=1)
                for row in reader:
                    clean = {k.strip(): v for k, v in row.items() if k is not None}
                    _stage_row(clean, file, reader.line_num, include_inactive, items)
    else:
        for i, record in enumerate(source_or_rows, 1):
            _stage_row(record, "<rows>", i, include_inactive, items)
    rules.setdefault("allow_skip", True)
    return Pipeline(name, [s for *_, s in sorted(items, key=lambda t: t[:3])], **rules)


#: The columns of an ``OpportunityStage`` export that are read.
_STAGE_FIELDS = (
    "ApiName",
    "MasterLabel",
    "IsActive",
    "IsClosed",
    "IsWon",
    "DefaultProbability",
    "SortOrder",
)
#: The most digits a ``SortOrder`` may have.
_ORDER_DIGITS = 18


def _stage_row(
    row: Mapping[str, Any],
    file: str,
    line: int,
    include_inactive: bool,
    items: list[tuple[bool, int, int, Stage]],
) -> None:
    try:
        if not isinstance(row, Mapping):
            raise RowProblem("expected a mapping of OpportunityStage fields", None, row)
        key = _cell(row, "ApiName") or _cell(row, "MasterLabel")
        if not key:
            raise RowProblem("the stage has no ApiName or MasterLabel", "ApiName", "")
        for column in ("IsClosed", "IsWon"):
            if column not in row:
                raise RowProblem(f"the stage has no {column}", column)
        closed, won = _flag(_cell(row, "IsClosed"), "IsClosed"), _flag(_cell(row, "IsWon"), "IsWon")
        if not (include_inactive or _flag(_cell(row, "IsActive"), "IsActive", default=True)):
            return
        if won and not closed:
            raise RowProblem(
                "IsWon is true but IsClosed is false", "IsClosed", _cell(row, "IsClosed")
            )
        text = _cell(row, "DefaultProbability")
        try:
            percent = Decimal(text) if text else None
        except InvalidOperation:
            percent = Decimal("NaN")
        if percent is not None and not (percent.is_finite() and 0 <= percent <= 100):
            raise RowProblem("not a percentage from 0 to 100", "DefaultProbability", text)
        order_text = _cell(row, "SortOrder")
        try:
            number = Decimal(order_text or "0")
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number != number.to_integral_value():
            raise RowProblem("not a whole number", "SortOrder", order_text)
        if number.adjusted() >= _ORDER_DIGITS:  # int("1e999999999") would take hours
            reason = f"a sort order of more than {_ORDER_DIGITS} digits"
            raise RowProblem(reason, "SortOrder", order_text)
        order = int(number)
        outcome = Outcome.OPEN if not closed else Outcome.WON if won else Outcome.LOST
        prob = None if percent is None else float(percent / 100)
        stage = Stage(key, _cell(row, "MasterLabel") or key, outcome=outcome, probability=prob)
    except RowProblem as problem:
        raise problem.at(file, line) from None
    items.append((not order_text, order, line, stage))
