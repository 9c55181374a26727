"""Lead tables and the conversions that turn leads into won deals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import tzinfo
from typing import Any, Literal

import attrs

from .._deal import Deal
from .._lead import Lead
from .._pipeline import Pipeline
from ..exceptions import LoadError, TransitionError
from ._cells import Amounts, RowProblem, unescape_cell
from ._common import LoadResult, Source, _Tally, resolve_zone
from ._tables import RowHandler, TimeCells, extra_map, read_rows

__all__ = [
    "CONVERSION_COLUMNS",
    "LEAD_COLUMNS",
    "ConversionResult",
    "LeadLoadResult",
    "read_conversions_csv",
    "read_leads_csv",
]

LEAD_COLUMNS: Mapping[str, str] = {
    "lead_id": "lead_id",
    "created_at": "created_at",
    "source": "source",
    "owner": "owner",
}
"""Logical field -> default column name of a lead table."""
CONVERSION_COLUMNS: Mapping[str, str] = {
    "lead_id": "lead_id",
    "deal_id": "deal_id",
    "opened_at": "opened_at",
    "won_at": "won_at",
    "value": "value",
    "currency": "currency",
    "owner": "owner",
}
"""Logical field -> default column name of a conversions (won deals) table."""

Early = Literal["error", "clamp"]


@attrs.frozen(repr=False)
class LeadLoadResult(_Tally[Lead]):
    """What :func:`read_leads_csv` built, and what it refused: a sequence of the good leads.

    Attributes:
        leads: The leads built, in file order.
        rejects: One :class:`~salesflow.LoadError` per problem; empty unless
            ``errors="collect"``.
        rows_read: Data rows read (the header excluded).
        rows_rejected: Rows not used because of a problem.
        source: The file's name.
    """

    _NOUN = "leads"
    leads: tuple[Lead, ...]
    rejects: tuple[LoadError, ...]
    rows_read: int
    rows_rejected: int
    source: str

    def _items(self) -> tuple[Lead, ...]:
        return self.leads


@attrs.frozen(repr=False)
class ConversionResult(LoadResult):
    """What :func:`read_conversions_csv` built: a sequence of the won deals, plus the leads.

    Attributes:
        leads: Every lead given, in the order given, the converted ones
            marked ``CONVERTED`` at their deal's creation.
    """

    leads: tuple[Lead, ...]

    def __repr__(self) -> str:
        converted = sum(1 for lead in self.leads if lead.is_converted)
        return f"<ConversionResult {self.summary()}; {converted:,} of {len(self.leads):,} leads converted>"


def _cells(pos: Mapping[str, int], row: Sequence[str]) -> dict[str, str]:
    return {f: unescape_cell(row[i].strip()) for f, i in pos.items()}


def _attributes(extras: list[tuple[str, int]], row: Sequence[str]) -> dict[str, Any] | None:
    if not extras:
        return None
    return {n: unescape_cell(row[i].strip()) or None for n, i in extras}


def read_leads_csv(
    source: Source,
    *,
    columns: Mapping[str, str | None] | None = None,
    extra_columns: Sequence[str] | Mapping[str, str] = (),
    timestamp_format: str | None = None,
    timezone: tzinfo | str | None = None,
    errors: str = "raise",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    progress: Callable[[int], None] | None = None,
) -> LeadLoadResult:
    """Read a lead table: one row per lead, with its id, creation time and source.

    Each lead is ``NEW`` at its creation time. An empty ``source`` cell gives
    ``source=None``, which is not the same as a literal value such as
    ``"unknown"``. A second row with the same lead id is rejected; the first
    one is kept.

    Args:
        source: A path or an open text file.
        columns: Logical field -> your column name, for the fields in
            :data:`LEAD_COLUMNS`; ``lead_id`` and ``created_at`` are required.
        extra_columns: Columns copied into ``lead.attributes`` (empty cells
            as ``None``); a mapping gives attribute name -> column.
        timestamp_format: A ``strptime`` format; default ISO 8601 (a bare
            date such as ``2018-02-01`` is midnight).
        timezone: Zone for timestamps without an offset.
        errors: ``"raise"`` or ``"collect"``, as for :func:`read_events_csv`.
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding (a BOM is skipped).
        progress: Called with the number of rows read, every 10,000 rows.

    Returns:
        A :class:`LeadLoadResult`: a sequence of the leads, with counts and rejects.

    Raises:
        LoadError: A missing column (always), or a bad row with ``errors="raise"``.

    Examples:
        >>> import io
        >>> from salesflow.io._leads import read_leads_csv
        >>> text = "lead_id,created_at,source\\nL1,2018-02-01,social\\nL2,2018-02-03,\\n"
        >>> leads = read_leads_csv(io.StringIO(text), timezone="UTC")
        >>> [(lead.id, lead.source) for lead in leads]
        [('L1', 'social'), ('L2', None)]
    """
    times = TimeCells(timestamp_format, resolve_zone(timezone))
    extra = extra_map(extra_columns)
    leads: list[Lead] = []
    seen: dict[str, int] = {}
    dropped: set[str] = set()  # built leads whose id a later row repeated

    def setup(cols: dict[str, str | None], index: dict[str, int], width: int) -> RowHandler:
        pos = {f: index[c] for f, c in cols.items() if c is not None and c in index}
        extras = [(n, index[c]) for n, c in extra]

        def handle(row: list[str], line: int) -> None:
            cells = _cells(pos, row)
            lead_id = cells.get("lead_id", "")
            if not lead_id:
                raise RowProblem("the lead id is empty", cols["lead_id"], "")
            if lead_id in seen:
                # Neither row can be trusted to be the lead: both are left out, as
                # the deal loaders leave out a deal whose id repeats.
                dropped.add(lead_id)
                msg = f"the lead id was already on line {seen[lead_id]}; one row per lead"
                raise RowProblem(msg, cols["lead_id"], lead_id)
            seen[lead_id] = line  # before the other cells: a bad first row still counts
            text = cells.get("created_at", "")
            if not text:
                raise RowProblem("the creation time is empty", cols["created_at"], "")
            created = times(text, cols["created_at"] or "")
            lead = Lead(
                lead_id,
                created_at=created,
                source=cells.get("source") or None,
                owner=cells.get("owner") or None,
                attributes=_attributes(extras, row),
            )
            leads.append(lead)

        return handle

    rejects, read, rejected, name = read_rows(
        source,
        LEAD_COLUMNS,
        columns,
        ("lead_id", "created_at"),
        [(f"extra_columns[{n!r}]", c) for n, c in extra],
        errors=errors,
        delimiter=delimiter,
        encoding=encoding,
        progress=progress,
        setup=setup,
    )
    if dropped:
        kept = [lead for lead in leads if lead.id not in dropped]
        rejected += len(leads) - len(kept)  # the built first row of each repeated id
        leads = kept
    return LeadLoadResult(tuple(leads), rejects, read, rejected, name)


def read_conversions_csv(  # noqa: C901, PLR0915 - links each row to its lead; split, it would pass a dozen locals around
    source: Source,
    leads: Iterable[Lead],
    pipeline: Pipeline,
    *,
    columns: Mapping[str, str | None] | None = None,
    extra_columns: Sequence[str] | Mapping[str, str] = (),
    early: Early = "error",
    timestamp_format: str | None = None,
    timezone: tzinfo | str | None = None,
    currency: str | None = None,
    errors: str = "raise",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    decimal: str = ".",
    allow_negative: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ConversionResult:
    """Read a table of won deals converted from *leads*: one row per conversion.

    For each row the lead is converted (:meth:`Lead.convert`) into a deal in
    *pipeline*'s first open stage at ``opened_at``, and the deal is won in the
    first won stage at ``won_at``. Without an ``opened_at`` cell the deal
    opens when it is won: the lead converts and wins at the same instant, so
    the deal's own cycle is zero and the lead's time to conversion is the
    measure (``deal.lead_created_at`` to ``deal.closed_at``). The deal keeps
    the lead's source, and its owner unless the row names one; its id is the
    lead's unless ``deal_id`` is mapped. ``result.leads`` holds every given
    lead, the converted ones marked ``CONVERTED`` when their deal opened.

    A row is rejected when its lead id is not among *leads* (it is never
    dropped silently), when the lead was already converted by an earlier row,
    or when the lead cannot convert (e.g. disqualified). A deal that opens
    before its lead was created is rejected too, unless ``early="clamp"``:
    then the opening (and the win, if it is also earlier) moves to the lead's
    creation time and the won stage change carries a note giving the recorded
    time.

    Args:
        source: A path or an open text file.
        leads: The leads, e.g. the result of :func:`read_leads_csv`.
        pipeline: The pipeline the deals are opened in.
        columns: Logical field -> your column name, for the fields in
            :data:`CONVERSION_COLUMNS`; ``lead_id`` and ``won_at`` are required.
        extra_columns: Columns copied into ``deal.attributes``.
        early: ``"error"`` or ``"clamp"``, for deals that open before their lead.
        timestamp_format: A ``strptime`` format; default ISO 8601.
        timezone: Zone for timestamps without an offset.
        currency: Currency of values when the file has no currency column.
        errors: ``"raise"`` or ``"collect"``, as for :func:`read_events_csv`.
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding (a BOM is skipped).
        decimal: The decimal mark of values (``"."`` or ``","``); thousands
            separators in groups of three are read either way.
        allow_negative: Accept negative deal values (refused by default).
        progress: Called with the number of rows read, every 10,000 rows.

    Returns:
        A :class:`ConversionResult`: a sequence of the won deals, with the
        leads, counts and rejects.

    Raises:
        LoadError: A missing column (always), or a bad row with ``errors="raise"``.
        ValueError: Two leads share an id, or *early* is not a known option.
    """
    if early not in ("error", "clamp"):
        msg = f"early must be 'error' or 'clamp', got {early!r}."
        raise ValueError(msg)
    given = list(leads)
    by_id: dict[str, Lead] = {}
    for lead in given:
        if lead.id in by_id:
            msg = f"Two leads share the id {lead.id!r}; lead ids must be unique."
            raise ValueError(msg)
        by_id[lead.id] = lead
    times = TimeCells(timestamp_format, resolve_zone(timezone))
    amounts = Amounts(decimal, allow_negative)
    extra = extra_map(extra_columns)
    deals: list[Deal] = []
    converted: dict[str, tuple[Lead, int]] = {}
    deal_lines: dict[str, int] = {}

    def setup(cols: dict[str, str | None], index: dict[str, int], width: int) -> RowHandler:
        pos = {f: index[c] for f, c in cols.items() if c is not None and c in index}
        extras = [(n, index[c]) for n, c in extra]

        def handle(row: list[str], line: int) -> None:
            cells = _cells(pos, row)
            lead_id = cells.get("lead_id", "")
            if not lead_id:
                raise RowProblem("the lead id is empty", cols["lead_id"], "")
            lead = by_id.get(lead_id)
            if lead is None:
                raise RowProblem("no lead has this id in the lead table", cols["lead_id"], lead_id)
            if lead_id in converted:
                msg = f"the lead was already converted on line {converted[lead_id][1]}"
                raise RowProblem(msg, cols["lead_id"], lead_id)
            won_text = cells.get("won_at", "")
            if not won_text:
                raise RowProblem("the won time is empty", cols["won_at"], "")
            won = times(won_text, cols["won_at"] or "")
            open_text = cells.get("opened_at", "")
            opened = times(open_text, cols["opened_at"] or "") if open_text else won
            value = None
            if cells.get("value"):
                cur = cells.get("currency") or currency
                if not cur:
                    msg = "a value needs a currency: add a currency column or pass currency='USD'"
                    raise RowProblem(msg, cols["value"], cells["value"])
                value = amounts.money(cells["value"], cols["value"] or "value", cur)
            deal_id = cells.get("deal_id") or lead_id
            if deal_id in deal_lines:
                msg = f"the deal id was already on line {deal_lines[deal_id]}"
                raise RowProblem(msg, cols["deal_id"] or cols["lead_id"], deal_id)
            floor = lead.history[-1].at
            note = None
            if opened < floor:
                field, text = ("opened_at", open_text) if open_text else ("won_at", won_text)
                event = "was created" if len(lead.history) == 1 else "last changed status"
                if early == "error":
                    msg = f"the deal opens before its lead {event} at {floor.isoformat()}; pass early='clamp' to move it there"
                    raise RowProblem(msg, cols[field], text)
                note = f"recorded {cols[field]} {text!r} is before the lead {event}; moved to {floor.isoformat()}"
                opened, won = floor, max(won, floor)
            try:
                deal = lead.convert(
                    pipeline,
                    at=opened,
                    deal_id=deal_id,
                    value=value,
                    owner=cells.get("owner") or None,
                    attributes=_attributes(extras, row),
                ).win(at=won, note=note)
                marked = lead.mark_converted(deal)
            except TransitionError as exc:
                reason = "; ".join(exc.reasons)
                raise RowProblem(
                    f"the conversion is not allowed: {reason}", cols["won_at"], won_text
                ) from None
            converted[lead_id] = (marked, line)
            deal_lines[deal_id] = line
            deals.append(deal)

        return handle

    rejects, read, rejected, name = read_rows(
        source,
        CONVERSION_COLUMNS,
        columns,
        ("lead_id", "won_at"),
        [(f"extra_columns[{n!r}]", c) for n, c in extra],
        errors=errors,
        delimiter=delimiter,
        encoding=encoding,
        progress=progress,
        setup=setup,
    )
    marked = tuple(converted[lead.id][0] if lead.id in converted else lead for lead in given)
    return ConversionResult(tuple(deals), rejects, read, rejected, name, marked)
