"""What the table loaders (deals, leads, conversions) share: columns, the row loop, timestamps."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, tzinfo

from ..exceptions import LoadError
from ._cells import RowProblem, parse_time
from ._common import DataRows, Source, check_errors, header, merge_columns, open_source, read_header

__all__ = ["TimeCells", "columns_for", "extra_map", "paused_gc", "read_rows"]

CACHE_LIMIT = 200_000

#: Called with a row (its cells) and its line number; raises ``RowProblem`` for a bad row.
RowHandler = Callable[[list[str], int], None]
#: Called once the header is read, with the column map, column name -> index and the width.
Setup = Callable[[dict[str, str | None], dict[str, int], int], RowHandler]


def columns_for(
    defaults: Mapping[str, str], columns: Mapping[str, str | None] | None
) -> tuple[dict[str, str | None], list[str]]:
    """The merged column map, and the optional fields the caller named (they must exist)."""
    merged = merge_columns(defaults, columns)
    return merged, [f for f, c in (columns or {}).items() if c is not None]


def extra_map(extra_columns: Sequence[str] | Mapping[str, str]) -> list[tuple[str, str]]:
    """``extra_columns=`` as (attribute name, column) pairs."""
    if isinstance(extra_columns, str):
        msg = f"extra_columns must be a sequence of column names, got the string {extra_columns!r}; write ({extra_columns!r},)."
        raise TypeError(msg)
    if isinstance(extra_columns, Mapping):
        return [(str(k), str(v)) for k, v in extra_columns.items()]
    return [(str(c), str(c)) for c in extra_columns]


class TimeCells:
    """Parse timestamp cells, remembering recent texts (CRM exports repeat dates a lot).

    ``latest`` is the latest timestamp parsed so far.
    """

    __slots__ = ("cache", "fmt", "latest", "zone")

    def __init__(self, fmt: str | None, zone: tzinfo | None) -> None:
        self.fmt = fmt
        self.zone = zone
        self.cache: dict[str, datetime] = {}
        self.latest: datetime | None = None

    def __call__(self, text: str, column: str) -> datetime:
        at = self.cache.get(text)
        if at is None:
            at = parse_time(text, column, fmt=self.fmt, zone=self.zone)
            if len(self.cache) < CACHE_LIMIT:
                self.cache[text] = at
            if self.latest is None or at > self.latest:
                self.latest = at
        return at


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a loader builds many objects.

    A bulk load creates no reference cycles, yet the collector would scan the
    growing heap again and again; pausing it cuts load times by about a third.
    It is switched back on (only if it was on) however the block ends, with
    the new objects already counted as old.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Move what the load built to the oldest generation without scanning
            # it: re-enabling would otherwise start with a young collection over
            # every new object (a second per million events). Full collections
            # still visit them, so nothing is exempt from collection.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def read_rows(
    source: Source,
    defaults: Mapping[str, str],
    columns: Mapping[str, str | None] | None,
    required: Sequence[str],
    extra: Sequence[tuple[str, str]],
    *,
    errors: str,
    delimiter: str | None,
    encoding: str,
    progress: Callable[[int], None] | None,
    setup: Setup,
    check_width: bool = True,
) -> tuple[tuple[LoadError, ...], int, int, str]:
    """The row loop of a table loader: header, blank and ragged lines, rejects, progress.

    Args:
        source: A path or an open text file.
        defaults: Logical field -> default column name.
        columns: The caller's ``columns=``.
        required: The fields that must have a column.
        extra: (label, column) pairs of other columns that must exist, e.g.
            ``extra_columns``; the label names them in the error.
        errors: ``"raise"`` or ``"collect"``.
        delimiter: The CSV separator; ``None`` (the default) detects ``,``
            ``;``, tab or ``|`` from the header.
        encoding: The file's encoding.
        progress: Called with the number of rows read, every 10,000 rows.
        setup: Builds the row handler once the header is known.
        check_width: Refuse a row with more or fewer cells than the header
            here; ``False`` leaves it to the row handler (which may read the
            row's id first, to leave out the rest of its entity).

    Returns:
        The rejects, the rows read, the rows rejected and the file's name.
    """
    mode = check_errors(errors)
    cols, named = columns_for(defaults, columns)
    rejects: list[LoadError] = []
    rows_rejected = 0
    with paused_gc(), open_source(source, encoding=encoding) as (handle, name):
        reader, stripped, used = read_header(handle, name, delimiter)
        checked = {**cols, **dict(extra)}
        need = [*required, *named, *(label for label, _ in extra)]
        header(stripped, checked, need, name, delimiter=used)
        index = {n: i for i, n in reversed(list(enumerate(stripped)))}
        width = len(stripped)
        handle_row = setup(cols, index, width)
        data = DataRows(reader, progress)
        for line, row in data:
            try:
                if check_width and len(row) != width:
                    raise RowProblem(f"expected {width} cells, got {len(row)}")
                handle_row(row, line)
            except RowProblem as problem:
                error = problem.at(name, line)
                if mode == "raise":
                    raise error from None
                rejects.append(error)
                rows_rejected += 1
    return tuple(rejects), data.read, rows_rejected, name
