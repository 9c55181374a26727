"""Generators of malformed loader input, and the example budget of the fuzz suite.

The default run tries a few examples per test; ``--hypothesis-profile=fuzz``
(registered in ``tests/conftest.py``) tries many more.

Besides odd cells, the files have what real exports have: rows with too few
or too many cells, a header naming a column twice, repeated ids in loaders of
one row per item, cells longer than the field limit, naive times in a zone
with daylight saving time (read with ``timezone="America/New_York"`` by one
loader), amounts outside ``Money``'s range, and (from a path) bytes that are
not valid UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Examples per test in the default run (the fuzz profile uses its own, larger count).
DEFAULT_EXAMPLES = 25


def budget() -> settings:
    """The settings of a fuzz test: few examples by default, the profile's under ``fuzz``."""
    loaded = settings.default
    count = loaded.max_examples if loaded.max_examples > 100 else DEFAULT_EXAMPLES
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


#: Characters that CSV readers and cell parsers stumble on.
CELL_ALPHABET = st.sampled_from(
    [*"abcXYZ019 -+.:/'\"=", ",", ";", "\t", "|", "\ufeff", "é", "€", "\u00a0", "T", "Z", "e", "§"]
)
IDS = st.sampled_from(["D-1", "D-2", "D-3", "42", "x"])

_DATES = st.sampled_from(
    [
        "2024-01-02T10:00:00+00:00",
        "2024-01-03T10:00:00+01:00",
        "2024-02-29T00:00:00Z",
        "2024-01-02",
        "2023-02-29T00:00:00+00:00",
        "2024-13-01T00:00:00+00:00",
        "24-01-02",
        "02/01/2024",
        "2024-01-02T25:00:00+00:00",
        "",
        "now",
        "2024-01-02T10:00:00+99:00",
        "1700000000000",
        "-1",
        "2024-03-10T02:30:00",  # naive, in New York's spring-forward gap
        "2024-11-03T01:30:00",  # naive, in New York's repeated hour
        "2024-03-10",  # a date: midnight, which exists there
        "0001-01-01T00:00:00+01:00",  # before the supported range
        "9999-12-31T23:59:59-01:00",  # after it
    ]
)


def amount() -> st.SearchStrategy[str]:
    """An amount cell: plain, signed, with separators, broken, or out of range."""
    plain = st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False)
    return st.one_of(
        plain.map(str),
        st.sampled_from(
            ["", "-", "1,234.50", "1.234,50", "1 234", "NaN", "inf", "--1", "1.2.3", "$5"]
        ),
        # Outside Money's range or precision.
        st.sampled_from(["1e999999999", "9" * 30, "1E+21", "0." + "1" * 50, "1" * 5_000]),
    )


#: Well-formed values, by the kind of column; a cell is one of them four times in five.
GOOD = {
    "date": ["2024-01-02T10:00:00+00:00", "2024-01-05T09:30:00+00:00", "2024-02-01T00:00:00Z"],
    "amount": ["100", "2500.50", "0", "12"],
    "currency": ["EUR"],
    "text": ["Ana", "web", "note"],
}


#: One more than the longest cell the loaders accept (the csv module's default limit).
LONG_CELL = "x" * (131_072 + 1)


def cell(good: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """A cell: mostly a well-formed value, else a doubtful date, amount, random or over-long text."""
    bad = st.one_of(_DATES, amount(), st.text(CELL_ALPHABET, max_size=12), st.just(LONG_CELL))
    if not good:
        return bad
    return st.sampled_from([True, True, True, True, False]).flatmap(
        lambda ok: st.sampled_from(list(good)) if ok else bad
    )


@st.composite
def csv_text(
    draw: Any,
    columns: Sequence[str],
    id_column: str,
    typical: dict[str, Sequence[str]],
    unique_ids: bool = False,
) -> tuple[str, str]:
    """A CSV file (text, separator) with the loader's columns, shuffled, some left out.

    The id column is always there and holds ids of a small pool, or nothing;
    every other cell is drawn by :func:`cell`. Rows all have the header's width.
    With *unique_ids* (loaders of one row per deal) no two rows share an id.
    """
    others = [c for c in columns if c != id_column]
    # Each column is kept five times in six, so that most files get past the header check.
    kept = [c for c in others if draw(st.sampled_from([True] * 5 + [False]))]
    header = draw(st.permutations([id_column, *kept]))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    name: (
                        st.one_of(IDS, st.just(""))
                        if name == id_column
                        else cell(typical.get(name, ()))
                    )
                    for name in header
                }
            ),
            max_size=8,
        )
    )
    if unique_ids:
        for number, row in enumerate(rows):
            # Mostly unique; sometimes an id is repeated, which such loaders must refuse.
            if row[id_column] and draw(st.sampled_from([True] * 5 + [False])):
                row[id_column] = f"{row[id_column]}-{number}"
    if header and draw(st.sampled_from([False] * 9 + [True])):
        header = [*header, draw(st.sampled_from(header))]  # a column named twice
        for row in rows:
            row[header[-1] + " (again)"] = row[header[-1]]
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerow(header)
    names = header if len(set(header)) == len(header) else [*header[:-1], header[-1] + " (again)"]
    for row in rows:
        cells = [row[name] for name in names]
        ragged = draw(st.sampled_from([0] * 9 + [-1, 1]))  # a cell missing or one too many
        cells = cells[:-1] if ragged < 0 else [*cells, "extra"] if ragged > 0 else cells
        writer.writerow(cells)
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return bom + out.getvalue(), delimiter


def rows_by_line(text: str, delimiter: str, id_column: str) -> dict[int, str]:
    """The id cell of every data row, by the row's last line number, as a loader reads it."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter)
    header = [n.strip() for n in next(reader)]
    at = header.index(id_column)
    found: dict[int, str] = {}
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        found[reader.line_num] = row[at].strip() if at < len(row) else ""
    return found
