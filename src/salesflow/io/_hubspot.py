"""HubSpot deal exports: the CRM's labelled CSV and the API's property columns."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import attrs

from .._checks import in_range
from .._deal import Deal
from .._deal_info import DealInfo, EventMeta
from .._field_change import FieldChange
from .._pipeline import Pipeline
from .._stage import Outcome, Stage
from .._time import EPOCH
from ..exceptions import LoadError, SchemaError
from ._cells import Amounts, RowProblem, parse_time, unescape_cell
from ._common import (
    DataRows,
    LoadResult,
    Source,
    check_errors,
    header,
    merge_columns,
    open_source,
    read_header,
    resolve_zone,
)
from ._intake import Event, Refused, StageLabels, build_deal

__all__ = ["HUBSPOT_API_COLUMNS", "HUBSPOT_UI_COLUMNS", "hubspot_pipeline", "read_hubspot_deals"]

Shape = Literal["ui", "api"]
OtherPipelines = Literal["reject", "skip"]

# Logical field: (label in a CSV exported from HubSpot's deal view, internal name in the API).
_FIELDS = {
    "deal_id": ("Record ID", "hs_object_id"),
    "name": ("Deal Name", "dealname"),
    "stage": ("Deal Stage", "dealstage"),
    "pipeline": ("Pipeline", "pipeline"),
    "amount": ("Amount", "amount"),
    "currency": ("Currency", "deal_currency_code"),
    "created": ("Create Date", "createdate"),
    "closed": ("Close Date", "closedate"),
    "owner": ("Deal owner", "hubspot_owner_id"),
    "source": ("Original Source Type", "hs_analytics_source"),
    "lost_reason": ("Closed Lost Reason", "closed_lost_reason"),
    "forecast_category": ("Forecast category", "hs_manual_forecast_category"),
}
HUBSPOT_UI_COLUMNS: Mapping[str, str] = {f: ui for f, (ui, _) in _FIELDS.items()}
"""Logical field -> column of a CSV exported from HubSpot's deal view (property labels)."""
HUBSPOT_API_COLUMNS: Mapping[str, str] = {f: api for f, (_, api) in _FIELDS.items()}
"""Logical field -> column of an API property dump (HubSpot's internal property names)."""
_REQUIRED = ("deal_id", "stage")
# v2 labels quote the stage with double quotes, legacy labels with single quotes.
_UI_ENTERED = re.compile(r"""Date entered (["'])(.+)\1""")
_API_ENTERED = re.compile(r"hs_(v2_)?date_entered_(.+)")


def _time(text: str, column: str, fmt: str | None, zone: tzinfo | None) -> datetime:
    """ISO 8601, epoch milliseconds (12 or more digits, the v1 API's form), or *fmt*."""
    if fmt is None and len(text) >= 12 and text.isascii() and text.isdigit():
        # Year 9999 is 15 digits of milliseconds: a longer number is out of range unparsed.
        if len(text) > 15:
            shown = text if len(text) <= 40 else f"{text[:20]}... ({len(text):,} digits)"
            raise RowProblem("epoch milliseconds out of range", column, shown)
        try:
            at = EPOCH + timedelta(milliseconds=int(text))
        except OverflowError:
            raise RowProblem("epoch milliseconds out of range", column, text) from None
        if not in_range(at):
            raise RowProblem("epoch milliseconds out of range", column, text)
        return at
    return parse_time(text, column, fmt=fmt, zone=zone)


def _detect(names: Sequence[str], file: str) -> Shape:
    api = any(n in ("dealstage", "hs_object_id") or _API_ENTERED.fullmatch(n) for n in names)
    ui = any(n in ("Deal Stage", "Record ID") or _UI_ENTERED.fullmatch(n) for n in names)
    if api != ui:
        return "api" if api else "ui"
    reason = (
        "cannot tell a HubSpot UI export (labels such as 'Deal Stage') from an API export "
        "(names such as 'dealstage'); pass shape='ui' or shape='api'"
    )
    raise LoadError(reason, file=file, line=1)


def _stage_columns(
    names: Sequence[str], shape: Shape, label: str, stages: StageLabels, file: str
) -> list[tuple[str, list[int]]]:
    """(stage key, [v2 column index, legacy column index]) for each stage with a column."""
    found: dict[str, list[int | None]] = {}
    others: set[str] = set()
    for i, name in enumerate(names):
        if shape == "ui":
            match = _UI_ENTERED.fullmatch(name)
            if match is None:
                continue
            body, legacy = match[2], match[1] == "'"
            if not body.endswith(f" ({label})"):
                others.add(body[body.rfind(" (") + 2 : -1] if body.endswith(")") else body)
                continue
            text = body[: -len(label) - 3]
            key = stages(text)
            if key is None:
                reason = f"no stage of pipeline {stages.pipeline.name!r} matches this stage label; map it with stage_map={{label: stage key}}"
                raise LoadError(reason, file=file, line=1, column=name, value=text)
        else:
            match = _API_ENTERED.fullmatch(name)
            if match is None or match[2] == "current_stage":
                continue
            # Stage ids of other pipelines are expected in an API dump: they are left out.
            legacy, key = match[1] is None, stages(match[2])
            if key is None:
                continue
        pair = found.setdefault(key, [None, None])
        previous = pair[legacy]
        if previous is not None:
            reason = f"two columns give the entry date of stage {key!r}: {names[previous]!r} and this one"
            raise LoadError(reason, file=file, line=1, column=name)
        pair[legacy] = i
    if not found:
        what = f'Date entered "<stage> ({label})"' if shape == "ui" else "hs_v2_date_entered_<id>"
        hint = (
            f"; the export has columns for pipeline(s) {sorted(others)!r}: pass pipeline_label="
            if others
            else ""
        )
        reason = f"no {what} column names a stage of pipeline {stages.pipeline.name!r}{hint}"
        raise LoadError(reason, file=file, line=1)
    order = {s.key: i for i, s in enumerate(stages.pipeline.stages)}
    return [
        (k, [i for i in pair if i is not None])
        for k, pair in sorted(found.items(), key=lambda kv: order[kv[0]])
    ]


_Event = tuple[datetime, int, str, str | None, str]  # time, rank, stage key, column, cell


@attrs.define
class _Rows:
    """Turns one row of an export into a deal; set up once per file."""

    pipeline: Pipeline
    stages: StageLabels
    cols: Mapping[str, str | None]
    names: Sequence[str]
    slots: list[tuple[str, list[int]]]
    want: str | None
    skip: bool
    fmt: str | None
    zone: tzinfo | None
    currency: str | None
    amounts: Amounts
    pos: dict[str, int] = attrs.field(init=False)
    rank: dict[str, int] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        index = {n: i for i, n in enumerate(self.names)}
        self.pos = {f: index[c] for f, c in self.cols.items() if c is not None and c in index}
        self.rank = {s.key: i for i, s in enumerate(self.pipeline.stages)}

    def get(self, row: Sequence[str], field: str) -> str:
        i = self.pos.get(field)
        return "" if i is None else unescape_cell(row[i].strip())

    def time(self, row: Sequence[str], field: str) -> datetime | None:
        text = self.get(row, field)
        return _time(text, self.cols[field] or field, self.fmt, self.zone) if text else None

    def deal(self, row: Sequence[str], deal_id: str) -> Deal | None:
        get, cols, last = self.get, self.cols, len(self.rank)
        in_pipeline = get(row, "pipeline")
        if self.want is not None and in_pipeline and in_pipeline != self.want:
            if self.skip:
                return None
            reason = f"the deal is in pipeline {in_pipeline!r}, not {self.want!r}; load that pipeline separately, or pass other_pipelines='skip' to leave its rows out"
            raise RowProblem(reason, cols["pipeline"], in_pipeline)
        stage_text = get(row, "stage")
        if not stage_text:
            raise RowProblem("the deal stage is empty", cols["stage"], "")
        current = self.stages(stage_text)
        if current is None:
            raise RowProblem(self.stages.unknown(stage_text), cols["stage"], stage_text)
        events: list[_Event] = []
        for key, indexes in self.slots:
            for i in indexes:  # the v2 column first, then the legacy one
                text = row[i].strip()
                if text:
                    at = _time(text, self.names[i], self.fmt, self.zone)
                    # The current stage ranks last, so that it comes last on equal times.
                    events.append(
                        (at, last if key == current else self.rank[key], key, self.names[i], text)
                    )
                    break
        events.sort(key=lambda e: (e[0], e[1]))
        if not events or events[-1][2] != current:
            events.append(self._current(row, current, events, stage_text))
        return self._build(row, deal_id, current, events)

    def _current(self, row: Sequence[str], current: str, events: list[_Event], text: str) -> _Event:
        """The entry of the current stage when its date is missing or not the latest."""
        latest, last = (events[-1][0] if events else None), len(self.rank)
        closed = self.time(row, "closed") if self.pipeline.stage(current).is_terminal else None
        if closed is not None:
            at = closed if latest is None else max(closed, latest)
            return (at, last, current, self.cols["closed"], self.get(row, "closed"))
        latest = latest or self.time(row, "created")
        if latest is None:
            reason = "no date for the current stage: no stage-entry date, close date or create date"
            raise RowProblem(reason, self.cols["stage"], text)
        return (latest, last, current, self.cols["stage"], text)

    def _build(self, row: Sequence[str], deal_id: str, current: str, events: list[_Event]) -> Deal:
        get, value = self.get, None
        amount = get(row, "amount")
        if amount:
            cur = get(row, "currency") or self.currency
            if not cur:
                reason = "an amount needs a currency: add a currency column or pass currency='USD'"
                raise RowProblem(reason, self.cols["amount"], amount)
            value = self.amounts.money(amount, self.cols["amount"] or "amount", cur)
        reason = get(row, "lost_reason")
        lost = (
            EventMeta(None, reason, None)
            if reason and self.pipeline.stage(current).is_lost
            else None
        )
        name, owner, source = get(row, "name"), get(row, "owner"), get(row, "source")
        attributes = {"name": name} if name else None
        # HubSpot's closedate is the expected close date while the deal is open (and
        # the close date after): a date, taken in the zone the time is written in.
        close = self.time(row, "closed")
        # A snapshot has no history of the forecast category: its value is a change
        # from nothing when the deal was created, as the Salesforce loader records it.
        category = get(row, "forecast_category")
        changes = (
            (FieldChange("forecast_category", None, category, events[0][0]),) if category else ()
        )
        info = DealInfo(
            value=value,
            owner=owner or None,
            source=source or None,
            attributes=attributes,
            expected_close=None if close is None else close.date(),
            changes=changes,
        )
        last = len(events) - 1
        # One row holds the whole history: the "line" of an event is its place in the row.
        history = [Event(e[0], i, e[2], lost if i == last else None) for i, e in enumerate(events)]
        try:
            return build_deal(self.pipeline, deal_id, history, info)
        except Refused as refused:
            bad = events[refused.event]
            raise RowProblem(f"deal {deal_id!r}: {refused.why}", bad[3], bad[4]) from None


def read_hubspot_deals(
    source: Source,
    pipeline: Pipeline,
    *,
    shape: Shape | None = None,
    columns: Mapping[str, str | None] | None = None,
    pipeline_label: str | None = None,
    pipeline_id: str | None = None,
    other_pipelines: OtherPipelines = "reject",
    stage_map: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timezone: tzinfo | str | None = None,
    currency: str | None = None,
    errors: str = "raise",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    decimal: str = ".",
    allow_negative: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Read a HubSpot deal export (one row per deal) and rebuild each deal's history.

    Shapes: a CSV exported from HubSpot's deal view has property labels as
    headers (:data:`HUBSPOT_UI_COLUMNS`), stage labels in ``Deal Stage`` and
    one ``Date entered "<stage label> (<pipeline label>)"`` column per stage.
    A dump of API properties has internal names (:data:`HUBSPOT_API_COLUMNS`),
    stage ids in ``dealstage`` (keys of *pipeline*, as in
    :func:`~salesflow.templates.hubspot_default` or :func:`hubspot_pipeline`)
    and ``hs_v2_date_entered_<stage id>`` columns. Unless *shape* is given,
    the header decides: ``dealstage``, ``hs_object_id`` or
    ``hs_*date_entered_*`` mean ``"api"``; ``Deal Stage``, ``Record ID`` or
    ``Date entered ...`` mean ``"ui"``; both or neither is an error.

    Both generations of entry dates are read: v2 (``hs_v2_date_entered_<id>``,
    labels quoting the stage in ``"``) and legacy (``hs_date_entered_<id>``,
    labels quoting it in ``'``). When a stage has both, v2 wins even if they
    disagree; legacy is used only where v2 is empty. ``Date exited`` and
    time-in-stage columns are ignored (durations come from entry times), as
    are API entry columns of stage ids that *pipeline* lacks.

    Inferred, and lossy:

    * The history is the stages that have an entry date, sorted by it
      (equal times in pipeline order). HubSpot keeps one entry time per
      stage, so a stage entered twice appears once and earlier visits are
      lost; only the ``dealstage`` property history has the full sequence.
    * The current stage is the last event. If its entry date is missing or
      earlier than another stage's (a re-entry), it is entered at the
      latest known entry time, or for a closed deal at the close date if
      later. With no entry date at all, the create date (or for a closed
      deal the close date) is used. Create and close dates are read only
      for these fallbacks.
    * The value is ``Amount`` in the row's currency (or *currency*); owner,
      source and lost reason (on the lost event) are copied; the deal name
      goes to ``attributes["name"]``. Probabilities come from *pipeline*.
    * ``Close Date`` (``closedate``) is the deal's expected close date, and
      ``Forecast category`` (``hs_manual_forecast_category``), when present,
      is recorded as a ``forecast_category`` change at the deal's creation
      (a snapshot has no history of it), which
      :func:`salesflow.metrics.category_of` reads.

    The history is replayed against *pipeline*'s rules; HubSpot allows any
    move, so a pipeline that refuses skips rejects deals that skipped a
    stage (:func:`hubspot_pipeline` allows skips).

    Args:
        source: A path or an open text file.
        pipeline: The pipeline the deals belong to.
        shape: ``"ui"`` or ``"api"``; detected from the header when ``None``.
        columns: Logical field -> your column name, for the fields of the
            shape's default map (``None`` ignores a field); ``deal_id`` and
            ``stage`` are required.
        pipeline_label: UI exports: the pipeline label whose ``Date entered``
            columns are read and that the ``Pipeline`` column must hold;
            default ``pipeline.name``.
        pipeline_id: API exports: the id the ``pipeline`` column must hold
            (e.g. ``"default"``); by default it is not checked.
        other_pipelines: A row of another pipeline is a reject (``"reject"``)
            or left out (``"skip"``: neither built nor rejected, so
            ``data.read - rows_rejected - built`` rows were skipped).
            ``"skip"`` needs *pipeline_id* with an API export.
        stage_map: Stage label or id in the file -> stage key, for stages
            that are neither a key, a name, nor a name in another case.
        timestamp_format: A ``strptime`` format; default ISO 8601, or epoch
            milliseconds (12 or more digits, the old v1 API's form).
        timezone: Zone for timestamps without an offset; without it, such a
            timestamp is an error.
        currency: Currency of amounts when the row has none.
        errors: ``"raise"`` stops at the first bad row; ``"collect"`` leaves
            bad rows out and returns their problems in ``result.rejects``
            (a repeated id leaves out both rows).
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding (a BOM is skipped).
        decimal: The decimal mark of amounts (``"."`` or ``","``); thousands
            separators in groups of three are read either way.
        allow_negative: Accept negative amounts (refused by default).
        progress: Called with the number of rows read, every 10,000 rows.

    Returns:
        A :class:`LoadResult`: one deal per row kept, in file order.

    Raises:
        LoadError: A header problem, or with ``errors="raise"`` a bad row: an
            empty or repeated id, an unknown stage, a bad timestamp or
            amount, another pipeline's row, no date for the current stage,
            or a history the pipeline's rules refuse.
        ValueError: An unknown option or column field.
    """
    mode = check_errors(errors)
    zone = resolve_zone(timezone)
    if shape not in (None, "ui", "api") or other_pipelines not in ("reject", "skip"):
        msg = f"shape must be 'ui', 'api' or None and other_pipelines 'reject' or 'skip', got {shape!r} and {other_pipelines!r}."
        raise ValueError(msg)
    stages = StageLabels(pipeline, stage_map)
    deals: dict[str, Deal] = {}
    seen: dict[str, int] = {}
    rejects: list[LoadError] = []
    rows_rejected = 0
    with open_source(source, encoding=encoding) as (handle, name):
        reader, names, used = read_header(handle, name, delimiter)
        kind = shape or _detect(names, name)
        cols = merge_columns(HUBSPOT_UI_COLUMNS if kind == "ui" else HUBSPOT_API_COLUMNS, columns)
        header(names, cols, _REQUIRED, name, delimiter=used)
        skip = other_pipelines == "skip"
        if (kind == "ui" and pipeline_id) or (
            kind == "api" and (pipeline_label or (skip and not pipeline_id))
        ):
            msg = f"With a HubSpot {kind.upper()} export, use {'pipeline_label' if kind == 'ui' else 'pipeline_id'}= to choose the pipeline (UI exports name it by label, API exports by id; other_pipelines='skip' needs it)."
            raise ValueError(msg)
        label = pipeline_label or pipeline.name
        slots = _stage_columns(names, kind, label, stages, name)
        want = label if kind == "ui" else pipeline_id
        amounts = Amounts(decimal, allow_negative)
        rows = _Rows(
            pipeline,
            stages,
            cols,
            names,
            slots,
            want,
            skip,
            timestamp_format,
            zone,
            currency,
            amounts,
        )
        width = len(names)
        data = DataRows(reader, progress)
        for line, row in data:
            deal_id = ""
            try:
                if len(row) != width:
                    # Read the id if the row has it: a repeated id leaves out the earlier row too.
                    at = rows.pos.get("deal_id")
                    deal_id = "" if at is None or at >= len(row) else rows.get(row, "deal_id")
                    if deal_id:
                        seen.setdefault(deal_id, line)
                    raise RowProblem(f"expected {width} cells, got {len(row)}")
                deal_id = rows.get(row, "deal_id")
                if not deal_id:
                    raise RowProblem("the deal id is empty", cols["deal_id"], "")
                if deal_id in seen:
                    reason = (
                        f"the deal id is repeated (first on line {seen[deal_id]}); one row per deal"
                    )
                    raise RowProblem(reason, cols["deal_id"], deal_id)
                seen[deal_id] = line
                deal = rows.deal(row, deal_id)
                if deal is not None:
                    deals[deal_id] = deal
            except RowProblem as problem:
                error = problem.at(name, line)
                if mode == "raise":
                    raise error from None
                rejects.append(error)
                rows_rejected += 1
                # A repeated id makes the first row doubtful too: its deal is left out.
                if seen.get(deal_id, line) != line and deals.pop(deal_id, None) is not None:
                    rows_rejected += 1
    return LoadResult(tuple(deals.values()), tuple(rejects), data.read, rows_rejected, name)


def _need(value: Any, kind: type[Any], path: str, what: str) -> Any:
    """*value* if it is a non-empty *kind* (never a bool for int); else a ``SchemaError`` at *path*."""
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool) or value == "":
        raise SchemaError(f"Expected {what} at {path}, got {value!r}.", path=path, value=value)
    return value


def _flag(value: object, path: str) -> bool:
    text = str(value).lower() if isinstance(value, bool | str) else ""
    if text.strip() not in ("true", "false"):
        raise SchemaError(
            f"Expected true or false at {path}, got {value!r}.", path=path, value=value
        )
    return text.strip() == "true"


def _fraction(value: object, path: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        prob = Decimal(str(value)) if not isinstance(value, bool) else Decimal("NaN")
    except InvalidOperation:
        prob = Decimal("NaN")
    if not prob.is_finite() or not 0 <= prob <= 1:
        msg = f"Expected a probability between 0 and 1 at {path} (HubSpot gives fractions), got {value!r}."
        raise SchemaError(msg, path=path, value=value)
    return float(prob)


def hubspot_pipeline(
    data: Mapping[str, Any],
    *,
    label: str | None = None,
    won: Iterable[str] = (),
    lost: Iterable[str] = (),
    include_archived: bool = False,
    **rules: Any,
) -> Pipeline:
    """Build a pipeline from HubSpot's pipelines API JSON (already parsed).

    Each stage's ``id`` becomes the key (it is what ``dealstage`` and the
    ``hs_v2_date_entered_<id>`` columns hold), its ``label`` the name, and
    ``metadata.probability`` (a fraction 0–1, often a string such as
    ``"0.2"``) its probability. Stages are ordered by ``displayOrder``.
    A stage with ``metadata.isClosed`` true is won when its probability is
    1.0 and lost when it is 0.0; any other closed stage must be named in
    *won* or *lost*, which also override the rule for any stage. Archived
    stages are left out unless *include_archived*.

    Args:
        data: One pipeline object (``{"label", "stages": [...]}``), or the
            whole response (``{"results": [...]}``) with *label* choosing one.
        label: The label or id of the pipeline to take from ``results``;
            needed when there is more than one.
        won: Ids (or labels) of stages to treat as won.
        lost: Ids (or labels) of stages to treat as lost.
        include_archived: Keep stages with ``"archived": true``.
        **rules: Pipeline rules (``allow_backward=``, ``guards=`` ...).
            ``allow_skip`` defaults to ``True``, since HubSpot lets a deal
            move to any stage.

    Returns:
        The pipeline, named after the HubSpot pipeline's label.

    Raises:
        SchemaError: Malformed data; ``.path`` says where, e.g.
            ``$.stages[2].metadata.probability``.
        ValueError: A stage in both *won* and *lost*, or a name in them
            that is not a stage; no pipeline matching *label*.
        InvalidPipelineError: The stages do not make a valid pipeline.

    Examples:
        >>> p = hubspot_pipeline({"label": "Sales Pipeline", "stages": [
        ...     {"id": "qualifiedtobuy", "label": "Qualified To Buy", "displayOrder": 0,
        ...      "metadata": {"probability": "0.4", "isClosed": "false"}},
        ...     {"id": "closedwon", "label": "Closed Won", "displayOrder": 1,
        ...      "metadata": {"probability": "1.0", "isClosed": "true"}}]})
        >>> [(s.key, s.outcome.value, s.probability) for s in p.stages]
        [('qualifiedtobuy', 'open', 0.4), ('closedwon', 'won', 1.0)]
    """
    if not isinstance(data, Mapping):
        msg = f"Expected the pipeline JSON as a dict, got {data!r}."
        raise TypeError(msg)
    path = "$"
    if "results" in data:
        results = _need(data["results"], list, "$.results", "a list")
        picks = [
            (i, r)
            for i, r in enumerate(results)
            if isinstance(r, Mapping) and (label is None or label in (r.get("label"), r.get("id")))
        ]
        if len(picks) != 1:
            labels = [r.get("label") for r in results if isinstance(r, Mapping)]
            msg = f"Expected one pipeline {'' if label is None else f'labelled {label!r} '}in the response, found {len(picks)}; the pipelines are {labels!r} (choose one with label=)."
            raise ValueError(msg)
        path, data = f"$.results[{picks[0][0]}]", picks[0][1]
    name = _need(data.get("label"), str, f"{path}.label", "the pipeline's label")
    raw = _need(data.get("stages"), list, f"{path}.stages", "a list")
    won_ids, lost_ids = set(won), set(lost)
    if won_ids & lost_ids:
        msg = f"Stages {sorted(won_ids & lost_ids)!r} are in both won= and lost=."
        raise ValueError(msg)
    items: list[tuple[int, int, Stage]] = []
    known: set[str] = set()
    for i, item in enumerate(raw):
        at = f"{path}.stages[{i}]"
        sid = _need(_need(item, Mapping, at, "an object").get("id"), str, f"{at}.id", "a stage id")
        slabel = item.get("label") if isinstance(item.get("label"), str) and item["label"] else sid
        known |= {sid, slabel}
        if _flag(item.get("archived", False), f"{at}.archived") and not include_archived:
            continue
        meta = _need(item.get("metadata") or {}, Mapping, f"{at}.metadata", "an object")
        prob = _fraction(meta.get("probability"), f"{at}.metadata.probability")
        closed = _flag(meta.get("isClosed", False), f"{at}.metadata.isClosed")
        order = _need(item.get("displayOrder", i), int, f"{at}.displayOrder", "an integer")
        if {sid, slabel} & (won_ids | lost_ids):
            outcome = Outcome.WON if {sid, slabel} & won_ids else Outcome.LOST
        elif not closed:
            outcome = Outcome.OPEN
        elif prob in (0.0, 1.0):
            outcome = Outcome.WON if prob == 1.0 else Outcome.LOST
        else:
            msg = f"Closed stage {sid!r} at {at} has probability {meta.get('probability')!r}, so it is neither won (1.0) nor lost (0.0); name it in won= or lost=."
            raise SchemaError(msg, path=f"{at}.metadata.probability", value=meta.get("probability"))
        items.append((order, i, Stage(sid, slabel, outcome=outcome, probability=prob)))
    unknown = sorted((won_ids | lost_ids) - known)
    if unknown:
        msg = f"won=/lost= name {unknown!r}, which are not stages of pipeline {name!r}."
        raise ValueError(msg)
    rules.setdefault("allow_skip", True)
    return Pipeline(name, [s for _, _, s in sorted(items, key=lambda t: t[:2])], **rules)
