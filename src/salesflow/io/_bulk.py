"""The events loader's fast lane: a clean file converted column by column.

Most files are clean. For them the rows are transposed into columns and each
column is converted in one pass: distinct stage labels and amounts once each,
timestamps with ``map``, then the rows grouped by deal. The checks are the
exact lane's; what differs is only that the fast lane does not say *where* a
problem is. So anything unusual (a ragged row, an empty id, an unknown stage,
a bad cell, a disagreement, an escaped cell, a history the pipeline refuses)
makes :func:`bulk_deals` return ``None``, and the loader reads the same rows
again the exact way, row by row, which finds and words every problem. Both
lanes build identical deals; the tests compare them.

The Arrow lane (:mod:`._arrow`) shares this lane's pieces, so that its checks
are these: :func:`deal_times` (timestamps), :func:`deal_moneys` (amounts),
:func:`deal_cells` (a deal-level field's agreement) and
:func:`assemble_deals` (the per-deal assembly through the one builder).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime, timezone, tzinfo
from itertools import repeat
from operator import attrgetter, eq, gt
from typing import TYPE_CHECKING, Any

from .._checks import EDGE_YEARS
from .._deal import Deal
from .._deal_info import EventMeta, Metas, trusted_info
from .._money import Money
from .._time import DAY
from ._cells import RowProblem, day_start, skipped_midnight, zone_doubt
from ._intake import Refused, build_bulk

if TYPE_CHECKING:
    from ._event_rows import EventRows

__all__ = ["assemble_deals", "bulk_deals", "deal_cells", "deal_moneys", "deal_times"]

_TZINFO = attrgetter("tzinfo")
_YEAR = attrgetter("year")


def _column(
    columns: Sequence[tuple[str, ...]], pos: Mapping[str, int], field: str
) -> tuple[str, ...] | None:
    at = pos.get(field)
    return None if at is None else tuple(map(str.strip, columns[at]))


def _escaped(texts: Iterable[str] | None) -> bool:
    # A cell (or a line in a cell) the writer guarded against formulas starts with a
    # quote: the exact lane unescapes it.
    if texts is None:
        return False
    joined = "\n" + "\n".join(texts)
    return "\n'" in joined or "\r'" in joined


def deal_times(column: Sequence[str], rows: EventRows) -> list[datetime] | None:
    """Each stripped timestamp cell as an aware datetime, or ``None`` if any needs the exact lane."""
    if "" in column:
        return None
    try:
        if rows.fmt is None:
            times = list(map(datetime.fromisoformat, column))
        else:
            fmt = rows.fmt
            times = [datetime.strptime(t, fmt) for t in column]  # noqa: DTZ007 - zone below
    except ValueError:
        return None
    if not EDGE_YEARS.isdisjoint(map(_YEAR, times)):
        return None  # maybe out of range: the exact lane says so, line by line
    if None in set(map(_TZINFO, times)):
        zone = rows.zone
        if zone is None:
            return None
        fold = 1 if rows.ambiguous == "later" else 0
        times = [t if t.tzinfo is not None else t.replace(tzinfo=zone, fold=fold) for t in times]
        if type(zone) is not timezone:
            return _settled(times, zone, rows.ambiguous == "error")
    return times


def _settled(times: list[datetime], zone: tzinfo, refuse_ambiguous: bool) -> list[datetime] | None:
    """*times*, with the rule of :func:`parse_time` for wall times *zone* skips or repeats.

    Only days on which the zone's offset changes are looked at time by time.
    Returns ``None`` for a time in a DST gap (or, if refused, a repeated
    hour): the exact lane then says which line is at fault.
    """
    days = {t.date() for t in times if t.tzinfo is zone}
    shifting = set()
    for day in days:
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        if start.utcoffset() != (start + DAY).utcoffset():
            shifting.add(day)
    if not shifting:
        return times
    settled = list(times)
    for i, t in enumerate(times):
        if t.tzinfo is zone and t.date() in shifting:
            if zone_doubt(t, refuse_ambiguous=refuse_ambiguous) is None:
                continue
            if not skipped_midnight(t):
                return None
            settled[i] = day_start(t)
    return settled


def deal_moneys(
    pairs: Iterable[tuple[str, str]], rows: EventRows
) -> dict[tuple[str, str], Money | None] | None:
    """Each distinct (amount, currency) cell pair as Money (``None`` for an empty amount).

    Returns ``None`` when a pair does not parse and the exact lane must say why.
    """
    found: dict[tuple[str, str], Money | None] = {}
    column = rows.cols["value"] or "value"
    for amount, cell in pairs:
        if not amount:
            found[amount, cell] = None
            continue
        cur = cell or rows.currency
        if not cur:
            return None
        try:
            found[amount, cell] = rows.amounts.money(amount, column, cur)
        except RowProblem:
            return None
    return found


def deal_cells(
    ids: tuple[str, ...],
    column: tuple[Hashable, ...],
    groups: Mapping[str, list[int]],
    latest: bool,
    runs: list[bool] | None,
) -> dict[str, Any] | None:
    """Each deal's one non-empty cell of a deal-level column (an empty one when it has none).

    *runs* (when every deal's rows are adjacent) says, per row after the
    first, whether it belongs to the deal of the row before.

    Returns ``None`` when two rows of a deal disagree and the exact lane must
    say so (with ``latest``, the deal's latest non-empty cell is taken).
    Texts are compared, not parsed values: ``100`` and ``100.00`` disagree
    here, and the exact lane then finds them equal.
    """
    if runs is not None and not any(map(gt, runs, map(eq, column[1:], column[:-1]))):
        # Each deal's rows are adjacent and repeat one cell: the usual case.
        return {deal_id: column[idx[0]] for deal_id, idx in groups.items()}
    chosen: dict[str, Any] = {}
    clash: set[str] = set()
    for deal_id, cell in set(zip(ids, column, strict=True)):
        if _empty(cell):
            chosen.setdefault(deal_id, cell)
        elif _empty(chosen.get(deal_id)) or chosen[deal_id] == cell:
            chosen[deal_id] = cell
        else:
            clash.add(deal_id)
    if clash and not latest:
        return None
    for deal_id in clash:
        chosen[deal_id] = [column[i] for i in groups[deal_id] if not _empty(column[i])][-1]
    return chosen


def _empty(cell: object) -> bool:
    # A text cell, or an (amount, currency) pair whose amount is empty.
    return not cell or (type(cell) is tuple and not cell[0])


def bulk_deals(
    rows: Sequence[list[str]],
    width: int,
    pos: Mapping[str, int],
    config: EventRows,
) -> list[Deal] | None:
    """The deals of clean event rows, or ``None`` when any row needs the exact lane.

    Args:
        rows: The cells of every data row.
        width: The header's number of cells.
        pos: Logical field -> cell index, for the fields the file has.
        config: The exact lane's row reader, whose options this lane shares.
    """
    if not rows:
        return []
    if set(map(len, rows)) != {width} or "expected_close" in pos:
        return None  # expected close dates are a history: the exact lane records it
    columns = list(zip(*rows, strict=True))
    ids = _column(columns, pos, "deal_id")
    stage_texts = _column(columns, pos, "stage")
    at_texts = _column(columns, pos, "at")
    if ids is None or stage_texts is None or at_texts is None:
        return None
    text = {f: _column(columns, pos, f) for f in ("value", "currency", "owner", "source")}
    notes = {f: _column(columns, pos, f) for f in ("actor", "reason", "note")}
    del columns
    groups = _groups(ids)
    distinct_stages = set(stage_texts)
    texts = (text["owner"], text["source"], *notes.values())
    if "" in groups or _escaped(groups) or _escaped(distinct_stages) or any(map(_escaped, texts)):
        return None
    labels: dict[str, str] = {}
    for label in distinct_stages:
        key = config.labels(label)
        if key is None:
            return None
        labels[label] = key
    keys = list(map(labels.__getitem__, stage_texts))
    times = deal_times(at_texts, config)
    if times is None:
        return None
    by_time: Callable[[int], datetime] = times.__getitem__
    for idx in groups.values():
        if len(idx) > 1:
            idx.sort(key=by_time)  # stable: equal times keep file order
    latest = config.conflicts == "latest"
    same = list(map(eq, ids[1:], ids[:-1]))
    runs = same if same.count(False) + 1 == len(groups) else None
    values: dict[str, Money | None] = {}
    if text["value"] is not None:
        amounts = text["value"]
        currencies = text["currency"] or ("",) * len(ids)
        money = deal_moneys(set(zip(amounts, currencies, strict=True)), config)
        # Rows that disagree on the value are a history of it: the exact lane records it.
        chosen = (
            None
            if money is None
            else deal_cells(ids, tuple(zip(amounts, currencies, strict=True)), groups, False, runs)
        )
        if money is None or chosen is None:
            return None
        values = {d: money[pair] for d, pair in chosen.items()}
    owners = sources = None
    if (
        text["owner"] is not None
        and (owners := deal_cells(ids, text["owner"], groups, latest, runs)) is None
    ):
        return None
    if (
        text["source"] is not None
        and (sources := deal_cells(ids, text["source"], groups, latest, runs)) is None
    ):
        return None
    metas = _metas(notes, len(ids))
    return _build(
        groups,
        keys,
        times,
        values=values,
        owners=owners,
        sources=sources,
        metas=metas,
        config=config,
    )


def _groups(ids: Sequence[str]) -> dict[str, list[int]]:
    """Row indexes per deal id, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, deal_id in enumerate(ids):
        group = groups.get(deal_id)
        if group is None:
            groups[deal_id] = [i]
        else:
            group.append(i)
    return groups


def _metas(notes: Mapping[str, tuple[str, ...] | None], n: int) -> list[EventMeta | None] | None:
    actor, reason, note = (notes[f] or ("",) * n for f in ("actor", "reason", "note"))
    if not (any(actor) or any(reason) or any(note)):
        return None
    return [
        EventMeta(a or None, r or None, t or None) if a or r or t else None
        for a, r, t in zip(actor, reason, note, strict=True)
    ]


def _build(
    groups: Mapping[str, list[int]],
    keys: list[str],
    times: list[datetime],
    *,
    values: Mapping[str, Money | None],
    owners: Mapping[str, str] | None,
    sources: Mapping[str, str] | None,
    metas: list[EventMeta | None] | None,
    config: EventRows,
) -> list[Deal] | None:
    key_of, time_of = keys.__getitem__, times.__getitem__
    per_deal_metas = None
    if metas is not None:
        meta_of = metas.__getitem__
        found = [tuple(map(meta_of, idx)) for idx in groups.values()]
        per_deal_metas = [f if any(f) else None for f in found]
    return assemble_deals(
        config,
        list(groups),
        [tuple(map(key_of, idx)) for idx in groups.values()],
        [tuple(map(time_of, idx)) for idx in groups.values()],
        metas=per_deal_metas,
        values=list(map(values.get, groups)) if values else None,
        owners=None if owners is None else list(map(owners.__getitem__, groups)),
        sources=None if sources is None else list(map(sources.__getitem__, groups)),
    )


def assemble_deals(
    config: EventRows,
    ids: Sequence[str],
    stages: Iterable[tuple[str, ...]],
    times: Iterable[tuple[datetime, ...]],
    *,
    metas: Iterable[Metas] | None,
    values: Iterable[Money | None] | None,
    owners: Iterable[str] | None,
    sources: Iterable[str] | None,
) -> list[Deal] | None:
    """Build each deal through the one builder, from per-deal sequences in deal order.

    Args:
        config: The row reader whose pipeline the deals belong to.
        ids: The deal ids.
        stages: Per deal, its stage keys in order (time, then file order).
        times: Per deal, the matching timestamps.
        metas: Per deal, its events' metadata (``None`` for a deal with
            none); ``None`` when no deal has any.
        values: Per deal, its value; ``None`` when the file has no values.
        owners: Per deal, its owner text (empty for none); ``None`` when absent.
        sources: Per deal, its source text, the same way.

    Returns:
        The deals, or ``None`` when the pipeline refuses a history and the
        exact lane must say where.
    """
    pipeline = config.pipeline
    paths: dict[tuple[str, ...], bool] = {}
    none = repeat(None)
    deals: list[Deal] = []
    append = deals.append
    for deal_id, keys, stamps, meta, value, owner, source in zip(
        ids,
        stages,
        times,
        none if metas is None else metas,
        none if values is None else values,
        none if owners is None else owners,
        none if sources is None else sources,
        strict=False,  # the absent fields repeat None
    ):
        info = trusted_info(
            value=value, owner=owner or None, source=source or None, attributes=None
        )
        try:
            append(build_bulk(pipeline, deal_id, keys, stamps, meta, info, paths=paths))
        except Refused:
            return None
    return deals
