"""Events CSV -> :class:`~salesflow.EventTable`, straight to columns when the file is clean.

:func:`read_events_table` reads the file with the Arrow lane's reader and
its checks (:mod:`._arrow`: the same text cells, the same stripping and
formula-quote rule, the same value parsing and agreement of deal-level
fields, the same metadata), orders the rows by deal (first appearance) and
time with NumPy, and judges each distinct stage path once by the pipeline's
rules, replaying a path that is not plainly legal through the one builder
(:func:`~salesflow.io._intake.build_columns`). It builds no ``Deal``.

Like the Arrow lane it does not word problems: anything unusual makes it
give up, and the file is read by :func:`~salesflow.io.read_events_csv`, whose
deals become the table, so every refusal is the same :class:`LoadError` at
the same line.

Timestamps in the strict ISO 8601 shape that both parsers read alike
(``2026-03-01T09:30:00+01:00``, ``…Z``, with 3 or 6 decimals) are parsed by
Arrow; any other text by Python, as the Arrow lane parses it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any

from .._deal_info import trusted_info
from .._pipeline import Pipeline
from .._table import EventTable, _codes, _scaled, fast_modules
from .._time import EPOCH, MICROSECOND
from ._arrow import _GiveUp, _Lane, _modules, _read
from ._cells import Amounts, check_ambiguous
from ._common import (
    Source,
    check_errors,
    header,
    merge_columns,
    open_source,
    read_header,
    resolve_zone,
)
from ._event_rows import Conflicts, EventRows, check_conflicts
from ._events import EVENT_COLUMNS, read_events_csv
from ._intake import Refused, build_columns

__all__ = ["read_events_table"]

_REQUIRED = ("deal_id", "stage", "at")

# The ISO 8601 texts datetime.fromisoformat and Arrow read as the same instant.
_ISO = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{3}|\.\d{6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


def read_events_table(
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
    ambiguous: str = "earlier",
) -> EventTable:
    """Read a stage-event log into an :class:`~salesflow.EventTable` (extra ``salesflow[fast]``).

    The options and the rules are those of :func:`read_events_csv`: the
    table holds exactly the deals it would return, and a bad row raises the
    same :class:`~salesflow.LoadError` (file, line, column, value). A clean
    file goes straight to columns, without building a ``Deal``.

    Args:
        source: A path or an open text file.
        pipeline: The pipeline the stages belong to.
        columns: Logical field -> your column name (see :func:`read_events_csv`).
        timestamp_format: A ``strptime`` format; default ISO 8601.
        timezone: Zone for timestamps without an offset.
        currency: Currency of values when the file has no currency column.
        errors: ``"raise"``, or ``"collect"``: the deals with a bad row are
            left out and their errors are in the table's ``rejects``.
        delimiter: The CSV separator; default: sniffed from the header.
        encoding: The file's encoding.
        decimal: The decimal mark of amounts.
        allow_negative: Accept negative amounts.
        case_insensitive: Match stage labels regardless of case.
        conflicts: ``"error"`` or ``"latest"`` for disagreeing deal-level cells.
        progress: Called with the number of rows read (once, at the end, on
            a file that goes straight to columns).
        ambiguous: ``"earlier"``, ``"later"`` or ``"error"`` for repeated wall times.

    Raises:
        LoadError: A missing column, or a bad row with ``errors="raise"``.
        MissingDependencyError: NumPy or pyarrow is not installed.
    """
    fast_modules("read_events_table()")
    options: dict[str, Any] = {
        "columns": columns,
        "timestamp_format": timestamp_format,
        "timezone": timezone,
        "currency": currency,
        "errors": errors,
        "delimiter": delimiter,
        "encoding": encoding,
        "decimal": decimal,
        "allow_negative": allow_negative,
        "case_insensitive": case_insensitive,
        "conflicts": conflicts,
        "ambiguous": ambiguous,
    }
    check_errors(errors)
    if isinstance(source, str | os.PathLike):
        table = _straight(Path(source), pipeline, options)
        if table is not None:
            if progress is not None:
                progress(table.events)
            return table
    loaded = read_events_csv(source, pipeline, progress=progress, **options)
    table = EventTable.from_deals(loaded.deals, pipeline=pipeline)
    return _with_rejects(table, loaded.rejects)


def _with_rejects(table: EventTable, rejects: tuple[Any, ...]) -> EventTable:
    import attrs

    return attrs.evolve(table, rejects=tuple(rejects)) if rejects else table


def _straight(path: Path, pipeline: Pipeline, options: dict[str, Any]) -> EventTable | None:
    """The table of a clean file, read column-wise; ``None`` when it needs the other lanes."""
    modules = _modules()
    if modules is None:
        return None
    cols = merge_columns(EVENT_COLUMNS, options["columns"])
    with open_source(path, encoding=options["encoding"]) as (handle, name):
        _, names, used = read_header(handle, name, options["delimiter"])
    if any("\n" in n or "\r" in n for n in names):
        return None
    index = {n: i for i, n in enumerate(names)}
    header(names, cols, _REQUIRED, name, delimiter=used)
    pos = {f: index.get(c) for f, c in cols.items() if c is not None}
    present = {f: i for f, i in pos.items() if i is not None}
    config = EventRows(
        pipeline,
        cols,
        options["timestamp_format"],
        resolve_zone(options["timezone"]),
        options["currency"],
        Amounts(options["decimal"], options["allow_negative"]),
        options["case_insensitive"],
        check_conflicts(options["conflicts"]),
        check_ambiguous(options["ambiguous"]),
    )
    read = _read(modules, path, options["encoding"], used, len(names), list(present.values()))
    if read is None:
        return None
    columns = {field: read.column(f"c{i}") for field, i in present.items()}
    try:
        return _Columns(modules, columns, config).table()
    except _GiveUp:
        return None


class _Columns(_Lane):
    """The Arrow lane's checks, ending in columns instead of deals."""

    def table(self) -> EventTable | None:
        import numpy as np

        pa = self.pa
        pipeline = self.config.pipeline
        if self.n == 0:
            return EventTable.from_deals([], pipeline=pipeline)
        id_codes, self.ids = self.encode(self.columns["deal_id"])
        stage_codes, labels = self.encode(self.columns["stage"])
        keys = [self.config.labels(label) for label in labels]
        if "" in self.ids or None in keys:
            return None
        code_of = {s.key: i for i, s in enumerate(pipeline.stages)}
        to_stage = np.array([code_of[k] for k in keys if k is not None], np.int8)
        micros = self._micros()
        if micros is None:
            return None
        # Rows by deal (first appearance), then time, equal times in file order.
        deal_of_row = np.asarray(id_codes.to_numpy(zero_copy_only=False), np.int64)
        order = np.lexsort((micros, deal_of_row))
        self.order = pa.array(order, pa.int64())
        grouped = deal_of_row[order]
        same = grouped[1:] == grouped[:-1]
        self.same = pa.array(same)
        starts = np.flatnonzero(~same) + 1
        self.starts = [0, *starts.tolist()]
        offsets = np.array([*self.starts, self.n], np.int64)
        stages = to_stage[np.asarray(stage_codes.to_numpy(zero_copy_only=False))[order]]
        times = micros[order]
        if not self._legal(stages, times, offsets):
            return None
        plain = self._plain_values(np)
        values = None if plain is not None else self._values()
        owners = self._texts("owner") if "owner" in self.columns else None
        sources = self._texts("source") if "source" in self.columns else None
        metas = self._metas()
        n = len(self.ids)
        if plain is not None:
            scaled, exponents, scale, currency, currencies = plain
        else:
            scaled, exponents, scale = _scaled(values if values is not None else [None] * n, np)
            codes, currencies = _codes(None if v is None else v.currency for v in values or ())
            currency = np.array(codes or np.full(n, -1), np.int16)
        owner, owner_names = _codes((o or None) for o in owners or ())
        source, source_names = _codes((s or None) for s in sources or ())
        none = np.full(n, -1)
        return EventTable(
            pipeline,
            pa.array(self.ids, pa.string()),
            offsets,
            stages,
            times,
            scaled,
            exponents,
            scale,
            currency,
            currencies,
            np.array(owner or none, np.int32),
            owner_names,
            np.array(source or none, np.int32),
            source_names,
            metas or {},
            {},
        )

    def _plain_values(self, np: Any) -> tuple[Any, Any, int, Any, tuple[str, ...]] | None:
        """Per deal its value as table columns, when every amount is plain digits; else ``None``.

        Plain digits (``1234`` or ``1234.50``, up to 15 and 6 of them) are the
        amounts :class:`~salesflow.io._common.Amounts` reads as ``Decimal(text)``
        once their currency is known to Money; each distinct currency is
        checked by it once here, so a bad one gives up and is worded there.
        """
        pa, pc = self.pa, self.pc
        if "value" not in self.columns or self.config.amounts.decimal != ".":
            return None
        codes, amounts = self.encode(self.columns["value"])
        texts = pa.array(amounts, pa.string())
        empty = pc.equal(texts, "")
        plain = pc.match_substring_regex(texts, r"^\d{1,15}(\.\d{1,6})?$")
        if not pc.all(pc.or_(plain, empty)).as_py():
            return None
        currencies = [""]
        width = 1
        if "currency" in self.columns:
            currency_codes, currencies = self.encode(self.columns["currency"])
            width = len(currencies)
            codes = pc.add(
                pc.multiply(codes.cast(pa.int64()), width), currency_codes.cast(pa.int64())
            )
        cells = self._agreed(codes)
        if cells is None:
            return None  # disagreeing rows (or conflicts="latest"): the Arrow lane's way
        per_deal = np.asarray(cells, np.int64)
        amount_of, currency_of = per_deal // width, per_deal % width
        valued = ~np.asarray(empty.to_numpy(zero_copy_only=False))[amount_of]
        names: list[str] = []
        for cell in {currencies[c] for c in currency_of[valued].tolist()}:
            found = cell or self.config.currency
            if not found:
                return None
            try:
                self.config.amounts.money("0", self.config.cols["value"] or "value", found)
            except Exception:
                return None
            names.append(cell)
        # "1234.50" -> parts "1234" and "50": the whole, the fraction and its digits.
        split = pc.split_pattern(pc.if_else(empty, "0", texts), ".")
        bounds = np.asarray(split.offsets)
        parts = split.flatten()
        numbers = np.asarray(pc.cast(parts, pa.int64()).to_numpy(), np.int64)
        sizes = np.asarray(pc.utf8_length(parts).to_numpy(), np.int64)
        has_fraction = bounds[1:] - bounds[:-1] == 2
        at = np.where(has_fraction, bounds[:-1] + 1, bounds[:-1])
        whole = numbers[bounds[:-1]]
        fraction = np.where(has_fraction, numbers[at], 0)
        digits = np.where(has_fraction, sizes[at], 0)
        used = amount_of[valued]
        scale = int(digits[used].max()) if len(used) else 0
        if len(used) and int(whole[used].max()) >= 10 ** (18 - scale):
            return None  # past int64: the object route says what fits
        units = whole * 10**scale + fraction * 10 ** (scale - digits)
        scaled = np.where(valued, units[amount_of], -1).astype(np.int64)
        exponents = np.where(valued, -digits[amount_of], 0).astype(np.int8)
        order = {cell: i for i, cell in enumerate(sorted(set(names), key=names.index))}
        resolved = [cell or str(self.config.currency) for cell in order]
        lookup = np.full(width, -1, np.int16)
        for cell, i in order.items():
            lookup[currencies.index(cell)] = i
        currency = np.where(valued, lookup[currency_of], -1).astype(np.int16)
        return scaled, exponents, scale, currency, tuple(resolved)

    def _micros(self) -> Any:
        """Each row's time in microseconds (file order), or ``None`` when a text needs the exact lane."""
        import numpy as np

        pa, pc = self.pa, self.pc
        texts = self.columns["at"]
        if self.config.fmt is None and pc.all(pc.match_substring_regex(texts, _ISO)).as_py():
            try:
                stamps = pc.cast(
                    pc.replace_substring_regex(texts, r"Z$", "+00:00"), pa.timestamp("us", "UTC")
                )
            except (pa.ArrowException, ValueError):
                stamps = None
            if stamps is not None:
                return np.asarray(stamps.cast(pa.int64()).to_numpy(zero_copy_only=False))
        times = self._times()
        if times is None:
            return None
        return np.fromiter(((t - EPOCH) // MICROSECOND for t in times), np.int64, len(times))

    def _legal(self, stages: Any, times: Any, offsets: Any) -> bool:
        """Whether every history replays: each distinct stage path judged once, as bulk loads do."""
        import numpy as np

        pipeline = self.config.pipeline
        table = pipeline.table
        keys = [s.key for s in pipeline.stages]
        free = table.free
        open_codes = {i for i, s in enumerate(pipeline.stages) if s.is_open}
        # A history is plainly legal when it opens in an open stage and every move is free.
        moves = stages[:-1].astype(np.int64) * 256 + stages[1:]
        within = np.ones(len(moves), dtype=bool)
        within[offsets[1:-1] - 1] = False
        allowed = np.zeros(256 * 256, dtype=bool)
        for a, b in free:
            allowed[keys.index(a) * 256 + keys.index(b)] = True
        first_open = np.isin(stages[offsets[:-1]], list(open_codes))
        bad_move = within & ~allowed[moves]
        if first_open.all() and not bad_move.any():
            return True
        doubtful = set(np.flatnonzero(~first_open).tolist())
        if bad_move.any():
            deal_of_move = np.searchsorted(offsets, np.flatnonzero(bad_move), side="right") - 1
            doubtful.update(deal_of_move.tolist())
        judged: set[tuple[int, ...]] = set()
        info = trusted_info(value=None, owner=None, source=None, attributes=None)
        for row in sorted(doubtful):
            path = tuple(stages[offsets[row] : offsets[row + 1]].tolist())
            if path in judged:
                continue
            judged.add(path)
            at = [EPOCH + t * MICROSECOND for t in times[offsets[row] : offsets[row + 1]].tolist()]
            try:
                build_columns(
                    pipeline, self.ids[row], tuple(keys[c] for c in path), tuple(at), None, info
                )
            except Refused:
                return False
        return True
