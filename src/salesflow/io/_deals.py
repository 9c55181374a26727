"""Deal snapshot tables: one row per deal with its current stage and a few dates."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Literal, NamedTuple

from .._checks import aware
from .._deal import Deal
from .._deal_info import DealInfo, EventMeta, trusted_info
from .._money import Money
from .._pipeline import Pipeline
from ..exceptions import LoadError
from ._cells import Amounts, RowProblem, unescape_cell
from ._common import LoadResult, Source, resolve_zone
from ._intake import Event, Refused, StageLabels, build_deal
from ._tables import CACHE_LIMIT, RowHandler, TimeCells, extra_map, read_rows

__all__ = ["DEAL_COLUMNS", "UNDATED_NOTE", "read_deals_csv"]

DEAL_COLUMNS: Mapping[str, str] = {
    "deal_id": "deal_id",
    "stage": "stage",
    "created_at": "created_at",
    "engaged_at": "engaged_at",
    "closed_at": "closed_at",
    "value": "value",
    "currency": "currency",
    "owner": "owner",
    "source": "source",
    "lost_reason": "lost_reason",
}
"""Logical field -> default column name of a deal snapshot table."""
_REQUIRED = ("deal_id", "stage")
UNDATED_NOTE = "the file records no date for this deal; opened at the undated= time"
"""The note on the first stage change of a deal placed in time by ``undated=``."""

Undated = Literal["error", "latest"] | datetime


class _Later(NamedTuple):
    """An undated deal waiting for the file's latest date (``undated="latest"``)."""

    deal_id: str
    stage: str
    info: DealInfo


class _Rows:
    """Everything needed to turn one snapshot row into a deal."""

    def __init__(
        self,
        pipeline: Pipeline,
        cols: Mapping[str, str | None],
        index: Mapping[str, int],
        width: int,
        *,
        dated: list[tuple[str, str]],
        extras: list[tuple[str, str]],
        labels: StageLabels,
        times: TimeCells,
        currency: str | None,
        undated: Undated,
        amounts: Amounts,
    ) -> None:
        self.pipeline = pipeline
        self.cols = cols
        # Absent fields point one past the last cell, where build() puts an empty one.
        pos = {f: index.get(c, width) if c is not None else width for f, c in cols.items()}
        self.i_stage, self.i_created, self.i_closed = (
            pos["stage"],
            pos["created_at"],
            pos["closed_at"],
        )
        self.i_value, self.i_currency = pos["value"], pos["currency"]
        self.i_owner, self.i_source, self.i_reason = pos["owner"], pos["source"], pos["lost_reason"]
        by_key = pipeline.table.by_key
        self.dated = [
            (key, pipeline.table.rank[key] or 0, index[c], c, by_key[key].is_open)
            for key, c in dated
        ]
        self.extras = [(name, index[c]) for name, c in extras]
        self.labels = labels
        self.times = times
        self.currency = currency
        self.undated = undated
        self.first_open = pipeline.open_stages[0].key
        self.open_keys = frozenset(s.key for s in pipeline.open_stages)
        self.money: dict[tuple[str, str], Money] = {}
        self.amounts = amounts

    def stage(self, text: str) -> str:
        key = self.labels(text)
        if key is None:
            raise RowProblem(self.labels.unknown(text), self.cols["stage"], text)
        return key

    def build(self, row: list[str], deal_id: str) -> Deal | _Later:  # noqa: C901, PLR0912, PLR0915 - one row's history rules, read in the order they apply
        """The deal, or what is needed to finish it once the file's latest date is known.

        *row* gets one empty cell appended, the one that absent fields read.
        """
        row.append("")
        cols, times = self.cols, self.times
        stage_text = row[self.i_stage].strip()
        if stage_text[:1] == "'":
            stage_text = unescape_cell(stage_text)
        current = self.stage(stage_text)
        by_key = self.pipeline.table.by_key
        is_open = current in self.open_keys
        text = row[self.i_created].strip()
        created = times(text, cols["created_at"] or "") if text else None
        entries: list[tuple[datetime, int, str, str, str]] = []
        dated_close: tuple[datetime, str, str] | None = None
        for key, rank, i, column, stage_open in self.dated:
            text = row[i].strip()
            if not text:
                continue
            at = times(text, column)
            if stage_open:
                entries.append((at, rank, key, column, text))
            elif key == current:
                dated_close = (at, column, text)
            else:
                msg = f"the deal is in {current!r} but has a date for the closed stage {key!r}; a snapshot cannot show a reopened deal"
                raise RowProblem(msg, column, text)
        closed: tuple[datetime, str, str] | None = None
        if not is_open:
            text = row[self.i_closed].strip()
            if text:
                closed = (times(text, cols["closed_at"] or ""), cols["closed_at"] or "", text)
                if dated_close is not None and dated_close[0] != closed[0]:
                    msg = f"the close date disagrees with the date of {current!r} ({dated_close[2]!r})"
                    raise RowProblem(msg, closed[1], text)
            else:
                closed = dated_close
            if closed is None:
                outcome = "won" if by_key[current].is_won else "lost"
                msg = f"a {outcome} deal needs a close date"
                raise RowProblem(msg, cols["closed_at"], "")
        if entries:
            entries.sort()
        value = self.value(row)
        owner = row[self.i_owner].strip()
        source = row[self.i_source].strip()
        attributes = None
        if self.extras:
            attributes = {n: unescape_cell(row[i].strip()) or None for n, i in self.extras}
        info = trusted_info(
            value=value,
            owner=(unescape_cell(owner) if owner[:1] == "'" else owner) or None,
            source=(unescape_cell(source) if source[:1] == "'" else source) or None,
            attributes=attributes,
        )
        # The opening event: creation, else the earliest date the row has.
        first_meta: EventMeta | None = None
        if created is not None:
            if entries and entries[0][0] < created:
                msg = f"the deal entered {entries[0][2]!r} on {entries[0][4]!r}, before it was created"
                raise RowProblem(msg, cols["created_at"], row[self.i_created].strip())
            if entries:
                start = self.first_open
                entries = [e for e in entries if e[2] != start]
            else:
                start = current if is_open else self.first_open
            stages, stamps = [start], [created]
        elif entries:
            first = entries.pop(0)
            stages, stamps = [first[2]], [first[0]]
        elif closed is not None:
            stages, stamps = [self.first_open], [closed[0]]
        elif self.undated == "latest":
            return _Later(deal_id, current, info)
        elif isinstance(self.undated, datetime):
            stages, stamps = [current], [self.undated]
            first_meta = EventMeta(None, None, UNDATED_NOTE)
        else:
            msg = "the row has no date at all; pass undated='latest' or a datetime to place such deals in time"
            raise RowProblem(msg, cols["created_at"])
        for at, _, key, _, _ in entries:
            stages.append(key)
            stamps.append(at)
        reason = ""
        if is_open:
            if stages[-1] != current:
                if current in stages:
                    msg = f"the row dates {stages[-1]!r}, a later stage than its current stage {current!r}; a snapshot cannot say when it moved back"
                else:
                    msg = f"the row has no date for its current stage {current!r}; map that stage's date column with stage_dates={{...}}"
                raise RowProblem(msg, cols["stage"], stage_text)
        else:
            assert closed is not None
            stages.append(current)
            stamps.append(closed[0])
            if by_key[current].is_lost:
                reason = unescape_cell(row[self.i_reason].strip())
        history = [
            Event(at, i, key) for i, (key, at) in enumerate(zip(stages, stamps, strict=True))
        ]
        if first_meta is not None:
            history[0] = history[0]._replace(meta=first_meta)
        if reason:
            history[-1] = history[-1]._replace(meta=EventMeta(None, reason, None))
        try:
            return build_deal(self.pipeline, deal_id, history, info)
        except Refused as refused:
            bad = history[refused.event]
            raise RowProblem(
                f"the history rebuilt from the row is not allowed: {refused.why}",
                self.cols["stage"],
                f"{bad.stage} at {bad.at.isoformat()}",
            ) from None

    def value(self, row: Sequence[str]) -> Money | None:
        amount = row[self.i_value].strip()
        if not amount:
            return None
        cur = row[self.i_currency].strip() or self.currency
        if not cur:
            msg = "a value needs a currency: add a currency column or pass currency='USD'"
            raise RowProblem(msg, self.cols["value"], amount)
        money = self.money.get((amount, cur))
        if money is None:
            money = self.amounts.money(amount, self.cols["value"] or "value", cur)
            if len(self.money) < CACHE_LIMIT:
                self.money[amount, cur] = money
        return money


def read_deals_csv(
    source: Source,
    pipeline: Pipeline,
    *,
    columns: Mapping[str, str | None] | None = None,
    stage_dates: Mapping[str, str] | None = None,
    extra_columns: Sequence[str] | Mapping[str, str] = (),
    undated: Undated = "error",
    timestamp_format: str | None = None,
    timezone: tzinfo | str | None = None,
    currency: str | None = None,
    stage_map: Mapping[str, str] | None = None,
    errors: str = "raise",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    decimal: str = ".",
    allow_negative: bool = False,
    case_insensitive: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Read a deal snapshot table: one row per deal, its current stage and a few dates.

    A snapshot records where each deal is now, not how it got there, so the
    loader rebuilds the most honest history the row supports and invents no
    time. The history of a deal is:

    * an opening event at ``created_at`` in the first open stage; without a
      ``created_at`` cell, at the earliest date of the row, in the stage
      entered then (the first open stage when that date is the close date).
      An open deal whose row dates no stage opens in its current stage;
    * one event per stage whose entry date is recorded (``stage_dates``, and
      ``engaged_at`` for the second open stage), in time order;
    * for a won or lost deal, the close at ``closed_at`` (required; the date
      of the current stage in ``stage_dates`` serves too), with
      ``lost_reason`` as the reason of a lost deal.

    Stages whose entry was not recorded are absent from the history, so the
    time spent in them cannot be measured: it counts towards the last recorded
    stage before them. A deal that opens past the first open stage has not
    *entered* the stages before it, though :func:`salesflow.metrics.funnel`
    counts it as having *reached* them (its cumulative column). Nothing is
    placed in time unless the row dates it. ``closed_at`` of an open deal
    (often an expected close date) and ``lost_reason`` of a deal that is not
    lost are not used. A row is rejected when its dates contradict each other
    (a stage entered before creation, a date for a later stage than the
    current one, an open current stage with no date while later stage dates
    are recorded) or when the rebuilt history breaks the pipeline's rules
    (e.g. a skip the pipeline forbids). A second row for the same deal id is
    rejected and, as with any bad row, the deal is left out whole: its
    first row too.

    Args:
        source: A path or an open text file.
        pipeline: The pipeline the stages belong to.
        columns: Logical field -> your column name, for the fields in
            :data:`DEAL_COLUMNS`; ``None`` ignores a field. ``deal_id`` and
            ``stage`` are required; an optional column you name must exist,
            a default one that is absent is ignored.
        stage_dates: Stage (key or name) -> column holding the date the deal
            entered it, for exports with one date column per stage.
        extra_columns: Columns copied into ``deal.attributes`` (empty cells as
            ``None``); a mapping gives attribute name -> column.
        undated: What to do with a row that has no date at all (an open deal
            whose export records none): ``"error"`` rejects it; a datetime
            opens it in its current stage at that time; ``"latest"`` uses the
            latest date found in the file (the snapshot's date, as near as the
            file tells). Such a deal's first stage change carries the note
            :data:`UNDATED_NOTE`, so it can be told apart.
        timestamp_format: A ``strptime`` format; default ISO 8601.
        timezone: Zone for timestamps without an offset; without it, such a
            timestamp is an error.
        currency: Currency of values when the file has no currency column.
        stage_map: The file's stage label -> pipeline stage key or name, for
            labels that differ (e.g. ``{"Won": "Closed won"}``).
        errors: ``"raise"`` stops at the first bad row with a
            :class:`~salesflow.LoadError`; ``"collect"`` leaves bad rows out
            and returns their problems in ``result.rejects``.
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding (a BOM is skipped).
        decimal: The decimal mark of amounts, as for :func:`read_events_csv`.
        allow_negative: Accept negative deal values (refused by default).
        case_insensitive: Match stage labels ignoring case.
        progress: Called with the number of rows read, every 10,000 rows.

    Returns:
        A :class:`LoadResult`: a sequence of the deals, with counts and rejects.

    Raises:
        LoadError: A missing column (always), or a bad row with ``errors="raise"``.
        ValueError: An unknown field, stage or option value.

    Examples:
        >>> import io
        >>> import salesflow as sf
        >>> from salesflow.io._deals import read_deals_csv
        >>> p = sf.Pipeline.linear("Maven", ["Prospecting", "Engaging"], won="Won", lost="Lost")
        >>> text = "id,stage,engaged,closed,amount\\nA,Won,2017-01-02,2017-02-03,900\\n"
        >>> cols = {"deal_id": "id", "engaged_at": "engaged", "closed_at": "closed", "value": "amount"}
        >>> deal = read_deals_csv(io.StringIO(text), p, columns=cols, currency="USD", timezone="UTC")[0]
        >>> deal.stage_keys, str(deal.created_at.date()), str(deal.value)
        (('Engaging', 'Won'), '2017-01-02', '900 USD')
    """
    zone = resolve_zone(timezone)
    if not (undated in ("error", "latest") or isinstance(undated, datetime)):
        msg = f"undated must be 'error', 'latest' or a timezone-aware datetime, got {undated!r}."
        raise ValueError(msg)
    if isinstance(undated, datetime):
        aware("undated", undated)
    labels = StageLabels(
        pipeline, {str(k): v for k, v in (stage_map or {}).items()}, fold=case_insensitive
    )
    amounts = Amounts(decimal, allow_negative)
    extras = extra_map(extra_columns)
    dated = [(pipeline.key(k), c) for k, c in (stage_dates or {}).items()]
    times = TimeCells(timestamp_format, zone)
    deals: list[Deal | _Later] = []
    seen: dict[str, int] = {}  # deal id -> its line, negative while its row is not built
    dropped: set[str] = set()  # built deals whose id a later row repeated

    def setup(cols: dict[str, str | None], index: dict[str, int], width: int) -> RowHandler:
        engaged = cols["engaged_at"]
        if engaged is not None and engaged in index:
            if len(pipeline.open_stages) < 2:
                msg = f"engaged_at needs a pipeline with two open stages; {pipeline.name!r} has one (map engaged_at to None)."
                raise ValueError(msg)
            second = pipeline.open_stages[1].key
            if any(k == second for k, _ in dated):
                msg = f"engaged_at and stage_dates both give the date of {second!r}; keep one."
                raise ValueError(msg)
            dated.append((second, engaged))
        rows = _Rows(
            pipeline,
            cols,
            index,
            width,
            dated=dated,
            extras=extras,
            labels=labels,
            times=times,
            currency=currency,
            undated=undated,
            amounts=amounts,
        )
        id_at, id_column = index[cols["deal_id"] or ""], cols["deal_id"]

        def handle(row: list[str], line: int) -> None:
            # A deal with a bad row is left out whole: the id of a ragged or
            # refused row is remembered, and a row repeating it drops both.
            deal_id = unescape_cell(row[id_at].strip()) if id_at < len(row) else ""
            if deal_id in seen:
                if seen[deal_id] > 0:
                    dropped.add(deal_id)
                msg = f"the deal id was already on line {abs(seen[deal_id])}; a snapshot has one row per deal"
                raise RowProblem(msg, id_column, deal_id)
            if deal_id:
                seen[deal_id] = -line  # negative until the deal is built
            if len(row) != width:
                raise RowProblem(f"expected {width} cells, got {len(row)}")
            if not deal_id:
                raise RowProblem("the deal id is empty", id_column, "")
            deals.append(rows.build(row, deal_id))
            seen[deal_id] = line

        return handle

    extra = [(f"stage_dates[{k!r}]", c) for k, c in dated]
    extra += [(f"extra_columns[{n!r}]", c) for n, c in extras]
    rejects, read, rejected, name = read_rows(
        source,
        DEAL_COLUMNS,
        columns,
        _REQUIRED,
        extra,
        errors=errors,
        delimiter=delimiter,
        encoding=encoding,
        progress=progress,
        setup=setup,
        check_width=False,
    )
    if dropped:
        deals = [d for d in deals if (d.deal_id if isinstance(d, _Later) else d.id) not in dropped]
    built = _place_undated(deals, pipeline, times.latest, name)
    return LoadResult(tuple(built), rejects, read, rejected + len(dropped), name)


def _place_undated(
    deals: list[Deal | _Later], pipeline: Pipeline, latest: datetime | None, name: str
) -> list[Deal]:
    """Finish the deals left undated for ``undated="latest"``."""
    if not any(isinstance(d, _Later) for d in deals):
        return deals  # type: ignore[return-value]
    if latest is None:
        msg = "undated='latest' needs at least one date in the file, and it has none"
        raise LoadError(msg, file=name)
    undated = EventMeta(None, None, UNDATED_NOTE)
    # A snapshot row with no date at all may sit in a closed stage: its one
    # event is a placement, not a move, so the rules are not replayed on it.
    return [
        build_deal(pipeline, d.deal_id, [Event(latest, 0, d.stage, undated)], d.info, check=False)
        if isinstance(d, _Later)
        else d
        for d in deals
    ]
