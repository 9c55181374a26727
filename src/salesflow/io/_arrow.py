"""The events loader's Arrow lane: pyarrow parses the file, the fast lane's checks build the deals.

When pyarrow is installed (the ``salesflow[fast]`` extra) and the source is a
path, :func:`arrow_deals` reads the file with ``pyarrow.csv``, every column
as text (nothing is guessed), and does the work that is per row in Arrow:
dictionary-encoding the columns (so that each distinct stage label, amount,
owner … is stripped and converted once, in Python, with the same code as the
other lanes), grouping the rows by deal (stable sort on the deal's order of
first appearance) and checking that a deal's rows agree on its value, owner
and source. Timestamps are parsed in Python (``datetime.fromisoformat`` keeps
each one's UTC offset, which Arrow's timestamps would not). The deals are
then built by :func:`~salesflow.io._bulk.assemble_deals`, as the column-wise
lane builds them.

Like that lane it does not say *where* a problem is: anything unusual (a
ragged row, an empty id, an unknown stage, a bad cell, a disagreement, an
escaped cell, a refused history, text that is not valid in the encoding)
makes it return ``None``, and the loader reads the file the other ways, which
give the same deals and word every problem. It reports progress once, at the
end.
"""

from __future__ import annotations

import codecs
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import compress, islice
from operator import gt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._deal_info import EventMeta, Metas
from .._optional import require
from ..exceptions import MissingDependencyError
from ._bulk import assemble_deals, deal_cells, deal_moneys, deal_times
from ._common import FIELD_LIMIT

if TYPE_CHECKING:
    from .._deal import Deal
    from .._money import Money
    from ._event_rows import EventRows

__all__ = ["arrow_deals"]

_FEATURE = "read_events_csv's Arrow lane"
_DEAL_LEVEL = ("owner", "source")
_META = ("actor", "reason", "note")


def _modules() -> tuple[Any, Any, Any] | None:
    """``pyarrow``, ``pyarrow.csv`` and ``pyarrow.compute``, or ``None`` when not installed."""
    try:
        pa = require("pyarrow", "salesflow[fast]", _FEATURE)
        csv = require("pyarrow.csv", "salesflow[fast]", _FEATURE)
        compute = require("pyarrow.compute", "salesflow[fast]", _FEATURE)
    except MissingDependencyError:
        return None
    return pa, csv, compute


def _read(
    modules: tuple[Any, Any, Any],
    path: Path,
    encoding: str,
    delimiter: str,
    width: int,
    wanted: list[int],
) -> Any:
    """The table of the data rows' *wanted* cells as text, or ``None`` when Arrow refuses the file.

    ``None`` too when a cell (read or not) is longer than the other lanes'
    CSV parser takes: they refuse the file, and say where.
    """
    pa, pacsv, pc = modules
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    data = path.read_bytes()
    names = [f"c{i}" for i in range(width)]
    picked = [names[i] for i in wanted]
    # A cell longer than the limit needs that many bytes: only a larger file is checked.
    checked = len(data) > FIELD_LIMIT
    if checked:
        picked = names
    try:
        # The header was read (and checked) by the loader: skip it, a BOM with it.
        read = pacsv.ReadOptions(
            column_names=names, skip_rows=1, encoding="utf8" if utf8 else encoding
        )
        # A newline can sit inside a value only between quotes; without quotes, skip the slow scan.
        parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=not utf8 or b'"' in data)
        convert = pacsv.ConvertOptions(
            include_columns=picked,
            column_types=dict.fromkeys(picked, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        table = pacsv.read_csv(pa.py_buffer(data), read, parse, convert)
    except (pa.ArrowException, ValueError, LookupError):
        return None  # ragged rows, bad text: the other lanes say where
    if checked:
        if table.num_rows and any(
            (pc.max(pc.utf8_length(column)).as_py() or 0) > FIELD_LIMIT for column in table.columns
        ):
            return None
        table = table.select([names[i] for i in wanted])
    return table


def arrow_deals(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    width: int,
    pos: Mapping[str, int],
    config: EventRows,
) -> tuple[list[Deal], int] | None:
    """The deals of a clean events file and its number of data rows, or ``None``.

    ``None`` also when pyarrow is not installed: this lane is an accelerator.

    Args:
        path: The file.
        encoding: Its encoding.
        delimiter: Its separator (given or sniffed from the header).
        width: The header's number of cells.
        pos: Logical field -> cell index, for the fields the file has.
        config: The exact lane's row reader, whose options this lane shares.
    """
    modules = _modules()
    if modules is None or "expected_close" in pos:
        return None  # expected close dates are a history: the exact lane records it
    table = _read(modules, path, encoding, delimiter, width, list(pos.values()))
    if table is None:
        return None
    if table.num_rows == 0:
        return [], 0
    columns = {field: table.column(f"c{i}") for field, i in pos.items()}
    del table
    deals = _Lane(modules, columns, config).deals()
    return None if deals is None else (deals, len(columns["deal_id"]))


class _GiveUp(Exception):
    """Something in the file needs another lane (which words it, or unescapes it)."""


class _Lane:
    """One file's columns on their way to deals; every method returns ``None`` to give up."""

    def __init__(
        self, modules: tuple[Any, Any, Any], columns: Mapping[str, Any], config: EventRows
    ):
        self.pa, _, self.pc = modules
        self.columns = columns
        self.config = config
        self.n = len(columns["deal_id"])
        self.order: Any = None  # row order: by deal (first appearance), then time, then file
        self.starts: list[int] = []  # where each deal's rows begin, in that order
        self.same: Any = None  # per pair of adjacent rows in that order: one deal?
        self.ids: list[str] = []

    def encode(self, column: Any) -> tuple[Any, list[str]]:
        """Dictionary codes of *column* and its distinct stripped texts, in order of first appearance.

        Raises:
            _GiveUp: A text starts with the quote that guards a formula.
        """
        encoded = self.pc.dictionary_encode(column.combine_chunks())
        raw: list[str] = encoded.dictionary.to_pylist()
        texts = [t.strip() for t in raw]
        codes = encoded.indices
        if texts != raw:
            dense: dict[str, int] = {}
            remap = [dense.setdefault(t, len(dense)) for t in texts]
            if len(dense) != len(texts):  # " A" and "A" are one text
                codes = self.pc.take(self.pa.array(remap, self.pa.int32()), codes)
                texts = list(dense)
        joined = "\n" + "\n".join(texts)
        if "\n'" in joined or "\r'" in joined:  # (a quote after a line break inside a cell too)
            raise _GiveUp
        return codes, texts

    def ordered(self, array: Any) -> Any:
        """*array* (one item per row) in deal order."""
        return array if self.order is None else self.pc.take(array, self.order)

    def deals(self) -> list[Deal] | None:
        """The deals, or ``None`` when the file needs another lane."""
        try:
            return self._deals()
        except _GiveUp:
            return None

    def _deals(self) -> list[Deal] | None:
        ids, self.ids = self.encode(self.columns["deal_id"])
        stage_codes, labels = self.encode(self.columns["stage"])
        keys = [k for k in map(self.config.labels, labels) if k is not None]
        times = self._times()
        if "" in self.ids or len(keys) != len(labels) or times is None:
            return None
        self._group(ids)
        stamps = self._sort_within_deals(times)
        values = self._values()
        fields = {f: self._texts(f) for f in _DEAL_LEVEL if f in self.columns}
        metas = self._metas()
        stages = list(map(keys.__getitem__, self.ordered(stage_codes).to_pylist()))
        spans = [slice(s, e) for s, e in zip(self.starts, [*self.starts[1:], self.n], strict=True)]
        return assemble_deals(
            self.config,
            self.ids,
            [tuple(stages[s]) for s in spans],
            [tuple(stamps[s]) for s in spans],
            metas=None if metas is None else self._per_deal_metas(metas, spans),
            values=values,
            owners=fields.get("owner"),
            sources=fields.get("source"),
        )

    def _times(self) -> list[datetime] | None:
        """Each row's timestamp (in file order), parsed as the other lanes parse it."""
        texts: list[str] = self.columns["at"].to_pylist()
        if self.config.fmt is None:
            # fromisoformat refuses surrounding blanks: what it reads needs no strip.
            times = deal_times(texts, self.config)
            if times is not None:
                return times
        return deal_times([t.strip() for t in texts], self.config)

    def _group(self, ids: Any) -> None:
        """Order the rows by deal, keeping file order within a deal, and find each deal's start."""
        pc, n = self.pc, self.n
        if n > 1 and not pc.all(pc.less_equal(ids.slice(0, n - 1), ids.slice(1))).as_py():
            self.order = pc.sort_indices(ids)  # a stable sort
        grouped = self.ordered(ids)
        self.same = pc.equal(grouped.slice(0, n - 1), grouped.slice(1))
        self.starts = [0, *pc.add(pc.indices_nonzero(pc.invert(self.same)), 1).to_pylist()]

    def _sort_within_deals(self, times: list[datetime]) -> list[datetime]:
        """Sort each deal's rows by time (equal times in file order); the times in that order."""
        order = None if self.order is None else self.order.to_pylist()
        stamps = times if order is None else list(map(times.__getitem__, order))
        starts = set(self.starts)
        later = compress(range(1, self.n), map(gt, stamps, islice(stamps, 1, None)))
        unsorted = {bisect_right(self.starts, i) - 1 for i in later if i not in starts}
        if not unsorted:
            return stamps
        order = list(range(self.n)) if order is None else order
        ends = [*self.starts[1:], self.n]
        for deal in unsorted:
            span = slice(self.starts[deal], ends[deal])
            order[span] = sorted(order[span], key=times.__getitem__)
        self.order = self.pa.array(order, self.pa.int64())
        return list(map(times.__getitem__, order))

    def _agreed(self, codes: Any) -> list[int] | None:
        """Per deal, the code of the one cell all its rows share, or ``None`` if some deal's differ."""
        pc, n = self.pc, self.n
        cells = self.ordered(codes)
        differs = pc.not_equal(cells.slice(0, n - 1), cells.slice(1))
        if pc.any(pc.and_(differs, self.same)).as_py():
            return None
        found: list[int] = pc.take(cells, self.pa.array(self.starts, self.pa.int64())).to_pylist()
        return found

    def _chosen(self, cells: Sequence[Any], *, history: bool = False) -> list[Any]:
        """Per deal, its cell among *cells* (one per row, in deal order) by the fast lane's rules.

        With *history* (the value), a disagreement is a change the exact lane records.
        """
        ends = [*self.starts[1:], self.n]
        groups = {d: list(range(s, e)) for d, s, e in zip(self.ids, self.starts, ends, strict=True)}
        ids = [d for d, s, e in zip(self.ids, self.starts, ends, strict=True) for _ in range(s, e)]
        latest = self.config.conflicts == "latest" and not history
        chosen = deal_cells(tuple(ids), tuple(cells), groups, latest, None)
        if chosen is None:
            raise _GiveUp  # a disagreement: the exact lane names both lines
        return list(map(chosen.__getitem__, self.ids))

    def _texts(self, field: str) -> list[str]:
        """Per deal, its owner or source text ('' for none)."""
        codes, texts = self.encode(self.columns[field])
        agreed = self._agreed(codes)
        if agreed is not None:
            return list(map(texts.__getitem__, agreed))
        return self._chosen(list(map(texts.__getitem__, self.ordered(codes).to_pylist())))

    def _values(self) -> list[Money | None] | None:
        """Per deal, its value; ``None`` without a value column."""
        if "value" not in self.columns:
            return None
        pa, pc = self.pa, self.pc
        codes, amounts = self.encode(self.columns["value"])
        currencies = [""]
        if "currency" in self.columns:
            currency_codes, currencies = self.encode(self.columns["currency"])
            wide = pc.multiply(codes.cast(pa.int64()), len(currencies))
            codes = pc.add(wide, currency_codes.cast(pa.int64()))
        width = len(currencies)
        pairs = {
            c: (amounts[c // width], currencies[c % width]) for c in pc.unique(codes).to_pylist()
        }
        money = deal_moneys(pairs.values(), self.config)
        if money is None:
            raise _GiveUp
        agreed = self._agreed(codes)
        if agreed is not None:
            return [money[pairs[c]] for c in agreed]
        cells = list(map(pairs.__getitem__, self.ordered(codes).to_pylist()))
        chosen = self._chosen(cells, history=True)
        return list(map(money.__getitem__, chosen))

    def _metas(self) -> dict[int, EventMeta] | None:
        """The metadata of the rows (by position in deal order) that have any; ``None`` if none do."""
        pc = self.pc
        cells: dict[str, tuple[Any, list[str]]] = {}
        for field in _META:
            if field in self.columns:
                codes, texts = self.encode(self.columns[field])
                if any(texts):
                    cells[field] = (self.ordered(codes), texts)
        if not cells:
            return None
        masks = [
            pc.not_equal(codes, texts.index("")) if "" in texts else pc.not_equal(codes, -1)
            for codes, texts in cells.values()
        ]
        mask = masks[0]
        for other in masks[1:]:
            mask = pc.or_(mask, other)
        rows = pc.indices_nonzero(mask)
        blank = [""] * len(rows)
        found = {
            f: list(map(cells[f][1].__getitem__, pc.take(cells[f][0], rows).to_pylist()))
            if f in cells
            else blank
            for f in _META
        }
        return {
            row: EventMeta(actor or None, reason or None, note or None)
            for row, actor, reason, note in zip(
                rows.to_pylist(), found["actor"], found["reason"], found["note"], strict=True
            )
        }

    def _per_deal_metas(self, metas: Mapping[int, EventMeta], spans: list[slice]) -> list[Metas]:
        """Per deal, its events' metadata, or ``None`` for a deal whose events have none."""
        deals = {bisect_right(self.starts, row) - 1 for row in metas}
        every: list[EventMeta | None] = [None] * self.n
        for row, meta in metas.items():
            every[row] = meta
        return [tuple(every[span]) if deal in deals else None for deal, span in enumerate(spans)]
