"""``salesflow inspect FILE``: what an unknown export holds, and the command that loads it.

The file is read once (up to :data:`ROW_LIMIT` rows): its encoding, its
separator, each column's type with a sample value, the date formats seen and
the column that looks like a stage with the count of each label. The
suggested ``salesflow report`` command comes from ``_cli_suggest``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import attrs

from ._cli_messages import shell_value
from .io._common import guess_encoding, sniff_delimiter

__all__ = ["ROW_LIMIT", "Column", "Profile", "inspect_file", "profile"]

#: Rows read at most; a larger file is described from its first rows.
ROW_LIMIT = 200_000
#: Distinct values counted per column (enough for any stage column).
_COUNTED = 50

_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL = {
    ".": re.compile(r"[+-]?(?:\d+\.\d+|\d{1,3}(?:([, '\u00a0])\d{3})(?:\1\d{3})*(?:\.\d+)?)"),
    ",": re.compile(r"[+-]?(?:\d+,\d+|\d{1,3}(?:([. '\u00a0])\d{3})(?:\1\d{3})*(?:,\d+)?)"),
}
#: Non-ISO date formats tried, most common first.
_FORMATS = tuple(
    date + time
    for date in ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y")
    for time in ("", " %H:%M", " %H:%M:%S")
)
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@attrs.define
class Column:
    """What one column holds: its type, emptiness, distinct values and date formats."""

    name: str
    kinds: Counter[str] = attrs.field(factory=Counter)
    empty: int = 0
    sample: str = ""
    values: Counter[str] = attrs.field(factory=Counter)
    distinct: set[str] = attrs.field(factory=set)
    negative: int = 0
    marks: set[str] = attrs.field(factory=lambda: {".", ","})
    formats: set[str] | None = None  # strptime formats that read every non-ISO date
    iso: set[str] = attrs.field(factory=set)  # ISO shapes seen

    @property
    def kind(self) -> str:
        """``text``, ``integer``, ``decimal``, ``date``, ``datetime``, ``datetime with offset`` or ``empty``."""
        kinds = set(self.kinds)
        if not kinds:
            return "empty"
        if kinds <= {"integer", "decimal"}:
            return "decimal" if "decimal" in kinds else "integer"
        if kinds <= {"date", "datetime", "datetime with offset"}:
            if "datetime with offset" in kinds:
                return "datetime with offset" if len(kinds) == 1 else "datetime (some with offset)"
            return "datetime" if "datetime" in kinds else "date"
        return "text"

    @property
    def is_date(self) -> bool:
        """Every non-empty cell reads as a date or date-time."""
        return self.kind.startswith(("date", "datetime")) and self.kind != "empty"

    @property
    def is_number(self) -> bool:
        """Every non-empty cell reads as a number."""
        return self.kind in ("integer", "decimal")

    @property
    def naive(self) -> bool:
        """Some date has no UTC offset."""
        return bool(self.kinds.keys() & {"date", "datetime"})

    @property
    def decimal_mark(self) -> str:
        """``","`` when only a decimal comma reads the numbers, else ``"."``."""
        return "," if self.marks == {","} else "."

    @property
    def format(self) -> str | None:
        """The ``strptime`` format to pass, or ``None`` for ISO 8601 (or no unique format)."""
        if not self.formats:
            return None
        return min(self.formats, key=_FORMATS.index)

    def add(self, value: str) -> None:
        """Account for one cell."""
        if not value:
            self.empty += 1
            return
        if not self.sample:
            self.sample = value
        self.distinct.add(value)
        if len(self.distinct) <= _COUNTED:
            self.values[value] += 1
        if "text" in self.kinds:
            self.kinds["text"] += 1  # one text cell makes a text column: no need to look further
            return
        self.kinds[self._kind(value)] += 1

    def _kind(self, value: str) -> str:
        if _INTEGER.fullmatch(value):
            self.negative += value.startswith("-")
            return "integer"
        marks = {m for m, pattern in _DECIMAL.items() if pattern.fullmatch(value)}
        if marks:
            self.marks &= marks
            self.negative += value.startswith("-")
            return "decimal"
        return self._date(value)

    def _date(self, value: str) -> str:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if len(value) == 10:
                self.iso.add("YYYY-MM-DD")
                return "date"
            self.iso.add("ISO 8601 date-time" + (" with offset" if at.tzinfo else ""))
            return "datetime with offset" if at.tzinfo else "datetime"
        if not value[:1].isdigit():
            return "text"
        fits = self.formats if self.formats is not None else set(_FORMATS)
        fits = {f for f in fits if _parses(value, f)}
        if not fits:
            return "text"
        self.formats = fits
        return "datetime" if any("%H" in f for f in fits) else "date"


def _parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)  # noqa: DTZ007 (only the shape matters)
    except ValueError:
        return False
    return True


@attrs.frozen
class Profile:
    """What ``inspect`` found in a file."""

    path: Path
    encoding: str
    encoding_note: str
    delimiter: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    truncated: bool

    def column(self, name: str | None) -> Column | None:
        """The column called *name*, or ``None``."""
        return next((c for c in self.columns if c.name == name), None)

    def index(self, name: str) -> int:
        """The position of column *name*."""
        return [c.name for c in self.columns].index(name)


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str, str]:
    """The text, the encoding to pass (``utf-8`` for the default) and a note on it."""
    if encoding is not None:
        return raw.decode(encoding, errors="replace"), encoding, "as given"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = guess_encoding(raw)
        note = (
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start:,}); "
            f"it looks like {guess}: check the accented letters below"
        )
        return raw.decode(guess, errors="replace"), guess, note
    bom = "with a byte order mark, " if raw.startswith(codecs.BOM_UTF8) else ""
    note = f"{bom}ASCII only" if text.isascii() else f"{bom}valid UTF-8"
    return text, "utf-8", note


def profile(path: Path, *, encoding: str | None = None) -> Profile:
    """Read *path* and describe it."""
    raw = path.read_bytes()
    text, used, note = _decode(raw, encoding)
    first = text.split("\n", 1)[0]
    if not first.strip():
        msg = f"{path}: the file is empty or its first line is blank; it needs a header row"
        raise ValueError(msg)
    delimiter = sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = [n.strip() for n in next(reader)]
    columns = tuple(Column(n) for n in names)
    rows: list[tuple[str, ...]] = []
    truncated = False
    for row in reader:
        if not row:
            continue
        if len(rows) == ROW_LIMIT:
            truncated = True
            break
        cells = tuple(c.strip() for c in row)
        rows.append(cells)
        for column, value in zip(columns, cells, strict=False):
            column.add(value)
    return Profile(path, used, note, delimiter, columns, tuple(rows), truncated)


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()
) -> list[str]:
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return ["  " + line(head), *("  " + line(r) for r in rows)]


def _dates(found: Profile) -> list[str]:
    lines = []
    for column in found.columns:
        if not column.is_date:
            continue
        shapes = sorted(column.iso)
        if column.formats:
            shown = " or ".join(sorted(column.formats, key=_FORMATS.index))
            shapes.append(
                f"{shown}"
                + (" (ambiguous: day or month first?)" if len(column.formats) > 1 else "")
            )
        zone = "no offset" if column.naive else "with UTC offset"
        lines.append(f"  {column.name}: {', '.join(shapes)}; {zone}")
    return lines or ["  none found"]


def render(found: Profile, shown: str, conversions: Profile | None = None) -> str:
    """The report of ``inspect``, with the suggested command for the file called *shown*."""
    from ._cli_suggest import suggest

    count = f"{len(found.rows):,}" + (" (the first; the file has more)" if found.truncated else "")
    lines = [
        f"{shown}: {count} rows, {len(found.columns)} columns",
        f"  encoding   {found.encoding} ({found.encoding_note})",
        f"  separator  {shell_value(found.delimiter)} ({_SEPARATORS[found.delimiter]})",
        "",
        "Columns",
    ]
    head = ("column", "type", "empty", "distinct", "sample")
    rows = [
        (c.name, c.kind, f"{c.empty:,}", f"{len(c.distinct):,}", c.sample[:40])
        for c in found.columns
    ]
    lines += _table(head, rows, right=(2, 3))
    lines += ["", "Date formats", *_dates(found)]
    advice = suggest(found, shown, conversions)
    if advice.stage_column is not None:
        column = found.column(advice.stage_column)
        assert column is not None
        lines += ["", f"Stages (column {column.name!r}, most frequent first)"]
        counts = column.values.most_common()
        lines += _table(("label", "rows"), [(v, f"{n:,}") for v, n in counts], right=(1,))
    lines += ["", advice.shape, "", "Suggested command (check the notes below, then run it):", ""]
    lines += ["  " + advice.command, ""]
    if advice.notes:
        lines += ["Notes", *(f"  * {note}" for note in advice.notes)]
    return "\n".join(lines) + "\n"


def inspect_file(
    path: Path, *, encoding: str | None = None, conversions: Path | None = None
) -> str:
    """``salesflow inspect``'s output for *path* (and the won deals of a lead table, *conversions*)."""
    for given in (path, conversions):
        if given is not None and not given.is_file():
            msg = f"{given}: no such file"
            raise ValueError(msg)
    other = None if conversions is None else profile(conversions, encoding=encoding)
    return render(profile(path, encoding=encoding), str(path), other)
