"""What every loader shares: opening files, columns, parsing cells, collecting rejects."""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import itertools
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import IO, Any, Generic, Literal, TypeVar, cast, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import attrs

from .._deal import Deal
from .._table_render import Col, Sheet, Table, count
from .._warn import warn
from ..exceptions import EmptySourceWarning, LoadError, UnknownZoneError
from ._cells import RowProblem

__all__ = ["Errors", "LoadResult", "Source"]

#: A path, or a text file opened by the caller.
Source = str | os.PathLike[str] | IO[str]
Errors = Literal["raise", "collect"]


T = TypeVar("T")
_SHOWN_REJECTS = 10


class _Tally(Sequence[T]):
    """The sequence behaviour and counts shared by every loader's result.

    Subclasses are attrs classes with the fields below and say which field
    holds the items built and what to call them.
    """

    __slots__ = ()
    _NOUN = "items"
    rejects: tuple[LoadError, ...]
    rows_read: int
    rows_rejected: int
    source: str

    def _items(self) -> tuple[T, ...]:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._items()[index]

    def __len__(self) -> int:
        return len(self._items())

    @property
    def built(self) -> int:
        """Items built."""
        return len(self._items())

    @property
    def rejected(self) -> int:
        """Rows rejected (same as ``rows_rejected``)."""
        return self.rows_rejected

    def summary(self) -> str:
        """One line: rows read, items built, rows rejected."""
        problems = "" if not self.rejects else f" ({len(self.rejects)} problem(s))"
        return (
            f"{self.source}: read {self.rows_read:,} rows, built {self.built:,} {self._NOUN}, "
            f"rejected {self.rows_rejected:,} rows{problems}"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.summary()}>"

    def __attrs_post_init__(self) -> None:
        if self.rows_read == 0:
            warn(
                f"{self.source} has no data rows (only a header, or nothing): "
                f"no {self._NOUN} were loaded; check the file and any filter that made it.",
                EmptySourceWarning,
            )

    def _sheet(self) -> Sheet:
        facts = [
            ("source", self.source),
            ("rows read", count(self.rows_read)),
            (f"{self._NOUN} built", count(self.built)),
            ("rows rejected", count(self.rows_rejected)),
        ]
        tables = []
        if self.rejects:
            # The first problems are enough to see what is wrong with a file.
            shown = self.rejects[:_SHOWN_REJECTS]
            caption = f"Problems ({len(shown):,} of {len(self.rejects):,} shown)"
            tables.append(
                Table(
                    [
                        Col("line"),
                        Col("column", numeric=False),
                        Col("value", numeric=False),
                        Col("reason", numeric=False),
                    ],
                    [
                        [
                            "" if e.line is None else count(e.line),
                            e.column or "",
                            "" if e.value is None else str(e.value)[:40],
                            e.reason,
                        ]
                        for e in shown
                    ],
                    caption,
                )
            )
        return Sheet(f"Loaded {self.built:,} {self._NOUN}", facts, tables)

    def __str__(self) -> str:
        return self._sheet().text()

    def _repr_html_(self) -> str:
        return self._sheet().html()


@attrs.frozen(repr=False)
class LoadResult(_Tally[Deal]):
    """What a loader built, and what it refused: a sequence of the good deals.

    Attributes:
        deals: The deals built, in order of first appearance in the file.
        rejects: One :class:`~salesflow.LoadError` per problem (file, line,
            column, value, reason); empty unless ``errors="collect"``.
        rows_read: Data rows read (the header excluded).
        rows_rejected: Rows not used because of a problem.
        source: The file's name.
    """

    _NOUN = "deals"
    deals: tuple[Deal, ...]
    rejects: tuple[LoadError, ...]
    rows_read: int
    rows_rejected: int
    source: str

    def _items(self) -> tuple[Deal, ...]:
        return self.deals


PROGRESS_EVERY = 10_000


class DataRows:
    """The data rows of a CSV reader as ``(line, cells)``.

    Blank lines are skipped, *progress* is called with the count every
    10,000 rows, and ``read`` counts them.
    """

    def __init__(self, reader: Any, progress: Callable[[int], None] | None) -> None:
        self.reader = reader
        self.progress = progress
        self.read = 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader, progress = self.reader, self.progress
        with csv_failures(reader):
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line is not a row
                self.read += 1
                if progress is not None and self.read % PROGRESS_EVERY == 0:
                    progress(self.read)
                yield reader.line_num, row


#: The longest cell the CSV loaders read, in characters (``csv.field_size_limit``'s
#: default, left as it is: the limit is global to the process).
FIELD_LIMIT = 131_072


class CsvReader:
    """A ``csv.reader`` that knows its file's name, so that its failures can say where.

    Iterating it iterates the ``csv.reader`` itself, at C speed.
    """

    __slots__ = ("file", "reader")

    def __init__(self, reader: Any, file: str) -> None:
        self.reader = reader
        self.file = file

    def __iter__(self) -> Any:
        return self.reader

    def __next__(self) -> list[str]:
        row: list[str] = next(self.reader)
        return row

    @property
    def line_num(self) -> int:
        """The number of lines read so far."""
        number: int = self.reader.line_num
        return number


@contextlib.contextmanager
def csv_failures(reader: Any) -> Iterator[None]:
    """Turn a ``csv.Error`` of *reader* into a :class:`LoadError` at the file and line it stopped on."""
    try:
        yield
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            reason = (
                f"a cell longer than {FIELD_LIMIT:,} characters, the most a CSV cell may hold; "
                "check the file's quotes, or shorten the cell"
            )
        else:
            reason = f"the CSV cannot be read: {exc}"
        file = getattr(reader, "file", "<stream>")
        raise LoadError(reason, file=file, line=getattr(reader, "line_num", None) or 1) from None


def read_all(reader: Any, progress: Callable[[int], None] | None) -> list[list[str]]:
    """Every data row of a CSV reader, blank lines dropped, read in C-speed chunks.

    Unlike :class:`DataRows` it does not keep line numbers: a loader that
    needs to say where a problem is reads the rows again with ``DataRows``.
    *progress* is called with the count every 10,000 rows.
    """
    rows: list[list[str]] = []
    with csv_failures(reader):
        while chunk := list(itertools.islice(reader, PROGRESS_EVERY)):
            rows += chunk
            if progress is not None and len(chunk) == PROGRESS_EVERY:
                progress(len(rows))
    if [] in rows:
        rows = [row for row in rows if row]
    return rows


G = TypeVar("G")


class DealGroups(Generic[G]):
    """Rows gathered per deal, for loaders whose deals span several rows.

    A bad row stops the load (``errors="raise"``) or leaves out its whole
    deal, earlier and later rows included, and keeps the problem; ``build``
    then turns each remaining group into a deal, locating refusals in the file.
    """

    def __init__(self, mode: Errors, file: str, size: Callable[[G], int]) -> None:
        self.mode = mode
        self.file = file
        self.size = size
        self.pending: dict[str, G] = {}
        self.rejects: list[LoadError] = []
        self.rows_rejected = 0
        self._bad: dict[str, int] = {}

    def skip(self, deal_id: str) -> bool:
        """True (and the row counted as rejected) if *deal_id*'s deal was already left out."""
        if deal_id in self._bad:
            self._bad[deal_id] += 1
            return True
        return False

    def reject(self, problem: RowProblem, line: int, deal_id: str) -> None:
        """Record a bad row: raise, or leave out its deal."""
        error = problem.at(self.file, line)
        if self.mode == "raise":
            raise error from None
        self.rejects.append(error)
        self.rows_rejected += 1
        if deal_id:
            dropped = self.pending.pop(deal_id, None)
            self.rows_rejected += 0 if dropped is None else self.size(dropped)
            self._bad.setdefault(deal_id, 0)

    def build(self, build: Callable[[str, G], Deal], column: str | None) -> list[Deal]:
        """Every remaining group as a deal; a refused history is a reject at its row."""
        self.rows_rejected += sum(self._bad.values())
        self._bad.clear()
        deals: list[Deal] = []
        for deal_id, group in self.pending.items():
            try:
                deals.append(build(deal_id, group))
            except LoadError as refused:
                error = LoadError(
                    refused.reason,
                    file=self.file,
                    line=refused.line,
                    column=column,
                    value=refused.value,
                )
                if self.mode == "raise":
                    raise error from None
                self.rejects.append(error)
                self.rows_rejected += self.size(group)
        return deals


#: The longest line a loader reads, in characters. A longer one (endless
#: input such as ``/dev/zero``, a binary file) is a :class:`LoadError`, found
#: in bounded memory.
MAX_LINE = 1_048_576


class _BoundedLines:
    """A text handle whose lines are refused beyond :data:`MAX_LINE` characters.

    ``readline``, iteration and ``read()`` are checked; everything else is the
    wrapped handle's. ``line`` counts the lines read, for the error (``None``
    after a seek to anywhere but the start).
    """

    __slots__ = ("_handle", "_name", "_readline", "_seen", "line")

    def __init__(self, handle: IO[str], name: str) -> None:
        self._handle = handle
        self._name = name
        self._readline = handle.readline
        self._seen = 0  # lines read since the start (or the last seek to it)
        self.line: int | None = 0

    def _too_long(self, lines: int) -> LoadError:
        reason = (
            f"a line is longer than {MAX_LINE:,} characters, the most salesflow reads; "
            "check that this is a text export"
        )
        return LoadError(reason, file=self._name, line=None if self.line is None else lines)

    def readline(self, size: int = -1) -> str:
        line = self._readline(MAX_LINE + 1)
        self._seen += 1
        if len(line) > MAX_LINE and line[-1] not in "\r\n":
            raise self._too_long(self._seen)
        return line

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self._readline(MAX_LINE + 1)
        self._seen += 1
        if len(line) > MAX_LINE and line[-1] not in "\r\n":
            raise self._too_long(self._seen)
        if not line:
            raise StopIteration
        return line

    def read(self, size: int = -1) -> str:
        if size is not None and size >= 0:
            return self._handle.read(size)
        parts: list[str] = []
        run = 0  # characters since the last line break
        while chunk := self._handle.read(MAX_LINE):
            breaks = [i for i in (chunk.find("\n"), chunk.find("\r")) if i >= 0]
            if not breaks:
                run += len(chunk)
            else:
                run += min(breaks)
                if run <= MAX_LINE:
                    run = len(chunk) - max(chunk.rfind("\n"), chunk.rfind("\r")) - 1
            if run > MAX_LINE:
                seen = self._seen + sum(p.count("\n") for p in parts) + 1
                raise self._too_long(seen)
            parts.append(chunk)
        return "".join(parts)

    def seek(self, offset: int, whence: int = 0) -> int:
        self.line = 0 if (offset, whence) == (0, 0) else None
        self._seen = 0
        return self._handle.seek(offset, whence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


@contextlib.contextmanager
def open_source(source: Source, *, encoding: str = "utf-8-sig") -> Iterator[tuple[IO[str], str]]:
    """Yield a text handle and a display name; close it only if we opened it.

    Text that is not valid in *encoding* raises a :class:`LoadError` naming
    the file, the first bad line and an encoding that would read it, never a
    bare ``UnicodeDecodeError``. A line longer than :data:`MAX_LINE`
    characters is a :class:`LoadError` too, so that endless input stops.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            handle = path.open(newline="", encoding=encoding)
        except OSError as exc:
            raise LoadError(
                f"cannot open the file: {exc.strerror or exc}", file=str(path)
            ) from None
        except LookupError:
            raise LoadError(f"unknown encoding {encoding!r}", file=str(path)) from None
        with handle:
            try:
                yield cast("IO[str]", _BoundedLines(handle, str(path))), str(path)
            except UnicodeDecodeError as exc:
                raise _decode_error(path, encoding, exc) from None
        return
    if isinstance(source, io.TextIOBase) or hasattr(source, "read"):
        name = str(getattr(source, "name", "<stream>"))
        try:
            yield cast("IO[str]", _BoundedLines(source, name)), name
        except UnicodeDecodeError as exc:
            reason = f"the text is not valid {exc.encoding} ({exc.reason}); open the file with the encoding it is in"
            raise LoadError(reason, file=name) from None
        return
    msg = f"Expected a path or an open text file, got {source!r}."
    raise TypeError(msg)


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> LoadError:
    """A LoadError at the first line of *path* that *encoding* cannot read, with a suggestion."""
    raw = path.read_bytes()
    line, bad = 1, b""
    for number, chunk in enumerate(raw.split(b"\n"), 1):
        try:
            chunk.decode(encoding if number == 1 else encoding.replace("-sig", ""))
        except UnicodeDecodeError:
            line, bad = number, chunk
            break
    guess = guess_encoding(raw)
    reason = (
        f"the file is not valid {encoding} text ({exc.reason} at byte 0x{exc.object[exc.start]:02x}); "
        f"it looks like {guess}: pass encoding={guess!r} (on the command line, --encoding {guess})"
    )
    shown = bad.decode(guess, errors="replace").strip()[:60] if bad else None
    return LoadError(reason, file=str(path), line=line, value=shown)


def guess_encoding(raw: bytes) -> str:
    """The likeliest encoding of text that is not UTF-8: UTF-16 by its BOM, else a Windows code page."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # Cyrillic words are runs of high bytes; Western text has lone accented letters.
    high = [i for i, b in enumerate(raw) if b > 127]
    runs = sum(
        1 for i in high if (i + 1 < len(raw) and raw[i + 1] > 127) or (i and raw[i - 1] > 127)
    )
    if high and runs > len(high) / 2:
        return "cp1251"
    return "cp1252"


#: The separators ``delimiter=None`` chooses from, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")


def _cells(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0  # e.g. a quoted header cell that goes on past this line


def sniff_delimiter(first_line: str) -> str:
    """The separator of a CSV header line: the candidate that splits it most (',' on a tie)."""
    counts = {d: _cells(first_line, d) for d in DELIMITERS}
    best = max(counts.values())
    return next(d for d in DELIMITERS if counts[d] == best)


def read_header(handle: IO[str], name: str, delimiter: str | None) -> tuple[Any, list[str], str]:
    """Start reading a CSV: the ``csv.reader`` after the header, the header's cells, the separator.

    With *delimiter* ``None`` the separator is sniffed from the header line
    (see :data:`DELIMITERS`).

    Raises:
        LoadError: The file is empty, or a header cell is too long.
    """
    first = handle.readline()
    if not first:
        raise LoadError("the file is empty; it needs a header row", file=name, line=1)
    reader = CsvReader(None, name)
    with csv_failures(reader):
        if delimiter is None:
            delimiter = sniff_delimiter(first)
        reader.reader = csv.reader(itertools.chain([first], handle), delimiter=delimiter)
        names = [n.strip() for n in next(reader)]
    return reader, names, delimiter


def unique_names(names: Sequence[str], file: str, used: Collection[str]) -> None:
    """Refuse a header that names a column the loader reads twice: no copy is guessed.

    Columns the loader does not read may repeat (exports often repeat an
    unused or unnamed column).

    Raises:
        LoadError: At line 1, naming the column and both of its positions (1-based).
    """
    first: dict[str, int] = {}
    for position, column in enumerate(names, 1):
        if column not in used:
            continue
        if column not in first:
            first[column] = position
            continue
        reason = (
            f"the header has the column {column!r} twice (columns {first[column]} and "
            f"{position}), and which copy counts cannot be told; rename or remove one"
        )
        raise LoadError(reason, file=file, line=1, column=column)


def check_errors(errors: str) -> Errors:
    """Validate the ``errors=`` option."""
    if errors not in ("raise", "collect"):
        msg = f"errors must be 'raise' or 'collect', got {errors!r}."
        raise ValueError(msg)
    return errors  # type: ignore[return-value]


def resolve_zone(timezone: tzinfo | str | None) -> tzinfo | None:
    """A ``tzinfo`` from a zone name (``"Europe/Paris"``, ``"UTC"``) or an object.

    Raises:
        UnknownZoneError: A name that is not in the IANA database, with the
            closest names that are.
    """
    if timezone is None or isinstance(timezone, tzinfo):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        names = {n.casefold(): n for n in available_timezones()}
        close = difflib.get_close_matches(str(timezone).casefold(), names, n=3, cutoff=0.6)
        raise UnknownZoneError(str(timezone), suggestions=[names[c] for c in close]) from None


def header(
    names: Sequence[str],
    columns: Mapping[str, str | None],
    required: Sequence[str],
    file: str,
    *,
    delimiter: str = ",",
) -> None:
    """Check that the file has every required column; raise a ``LoadError`` naming the missing ones.

    When another separator would have given the missing columns, the error says so.
    A column the loader reads may not appear twice (see :func:`unique_names`).
    """
    unique_names(names, file, {c for c in columns.values() if c})
    present = set(names)
    missing = [columns[k] for k in required if columns.get(k) and columns[k] not in present]
    if not missing:
        return
    line = delimiter.join(names)
    for other in DELIMITERS:
        try:
            cells = {c.strip() for c in next(csv.reader([line], delimiter=other), [])}
        except csv.Error:
            continue  # a header cell holding a line break: no other reading to suggest
        if other != delimiter and all(m in cells for m in missing):
            reason = (
                f"the header is not separated by {delimiter!r} but by {other!r}; "
                f"pass delimiter={other!r} or delimiter=None to detect it"
            )
            raise LoadError(reason, file=file, line=1)
    found = ", ".join(repr(c) for c in names) or "none"
    wanted = ", ".join(map(repr, dict.fromkeys(missing)))
    reason = f"missing column(s) {wanted}; the header has {found} (map yours with columns={{...}})"
    raise LoadError(reason, file=file, line=1)


def merge_columns(
    defaults: Mapping[str, str], columns: Mapping[str, str | None] | None
) -> dict[str, str | None]:
    """A loader's column map: its defaults, overridden by the caller's ``columns=``.

    Raises:
        ValueError: ``columns=`` names a field the loader does not have (the
            error lists the fields and suggests the closest).
    """
    merged: dict[str, str | None] = dict(defaults)
    if columns:
        unknown = sorted(set(columns) - set(defaults))
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(defaults), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "."
            msg = f"Unknown column field(s) {unknown!r}; the fields are {sorted(defaults)!r}{hint}"
            raise ValueError(msg)
        merged.update(columns)
    return merged
