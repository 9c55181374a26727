"""One table style for every result: a header block, then numeric columns.

Each result type says what its header facts and rows are (a :class:`Sheet`);
this module draws them, as notebook HTML and as terminal text, the same way
for all of them. A sheet is a title, a few facts (as of, source, rows,
method, confidence), short notes (warnings collected while computing), and
one or more tables whose numeric columns are right-aligned with thousands
separators and whose units are in the column heading, so that nothing needs
to be read out of a phrase.

The HTML uses inline styles only: notebook front ends and documentation
sites strip ``<style>`` blocks from untrusted output but keep attributes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from ._money import Money
from ._time import DAY

__all__ = [
    "Bar",
    "Col",
    "Sheet",
    "Table",
    "count",
    "days",
    "money",
    "number",
    "pct",
    "when",
]

#: What a cell shows where a value is undefined (a rate over nothing, no median).
MISSING = "–"


# ------------------------------------------------------------------ cell formats


def count(n: int | Decimal | None) -> str:
    """A count with thousands separators (``8,800``)."""
    if n is None:
        return MISSING
    if isinstance(n, Decimal):
        return f"{n:,.2f}"
    return f"{n:,}"


def number(x: float | None, digits: int = 1) -> str:
    """A plain number with thousands separators (``1,234.5``)."""
    return MISSING if x is None else f"{x:,.{digits}f}"


def pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage (``63.2%``)."""
    return MISSING if x is None else f"{x:.{digits}%}"


def days(d: timedelta | None, digits: int = 1) -> str:
    """A duration in days, the unit left to the column heading (``57.0``)."""
    return MISSING if d is None else f"{d / DAY:,.{digits}f}"


def money(m: Money | None) -> str:
    """An amount to the cent with separators, the currency left to the heading."""
    return MISSING if m is None else f"{m.amount:,.2f}"


def when(at: datetime | None) -> str:
    """A cut-off: the date alone at midnight UTC, else the full ISO time."""
    if at is None:
        return "n/a"
    if (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0):
        return at.date().isoformat()
    return at.isoformat(timespec="seconds")


# ------------------------------------------------------------------ the model


@attrs.frozen
class Bar:
    """An inline interval bar: a dot at *value* on a line from *low* to *high*.

    The scale runs from *start* to *end* (shared by every row of a column, so
    that overlapping intervals are visible at a glance); *reference* draws a
    thin vertical line (an overall rate).
    """

    value: float | None
    low: float | None
    high: float | None
    start: float = 0.0
    end: float = 1.0
    reference: float | None = None


Cell = str | Bar


@attrs.frozen
class Col:
    """A column: its heading and whether it holds numbers (right-aligned)."""

    name: str
    numeric: bool = True


@attrs.frozen
class Table:
    """One table of a sheet: an optional caption, columns, formatted rows."""

    columns: Sequence[Col]
    rows: Sequence[Sequence[Cell]]
    caption: str | None = None


@attrs.frozen
class Sheet:
    """A result to show: a title, header facts, notes and its tables."""

    title: str
    facts: Sequence[tuple[str, str]] = ()
    tables: Sequence[Table] = ()
    notes: Sequence[str] = ()
    extra_html: str = ""

    def html(self) -> str:
        """The sheet as a notebook HTML fragment."""
        return _html(self)

    def text(self) -> str:
        """The sheet as plain text for a terminal."""
        return _text(self)


# ------------------------------------------------------------------ HTML

_FONT = "font-variant-numeric: tabular-nums;"
_CELL = "padding: 2px 8px; border-bottom: 1px solid #ddd;"
_BAR_W, _BAR_H = 120, 12
_INK = "#0072B2"  # Okabe-Ito blue, the palette of salesflow.plot
_REF = "#D55E00"


def _svg(bar: Bar) -> str:
    span = (bar.end - bar.start) or 1.0

    def x(v: float) -> float:
        return round(2 + (_BAR_W - 4) * (min(max(v, bar.start), bar.end) - bar.start) / span, 1)

    label = pct(bar.value)
    if bar.low is not None and bar.high is not None:
        label += f", interval {pct(bar.low)} to {pct(bar.high)}"
    if bar.reference is not None:
        label += f"; overall {pct(bar.reference)}"
    parts = [
        f'<svg width="{_BAR_W}" height="{_BAR_H}" role="img" aria-label="{html.escape(label)}" '
        'style="vertical-align: middle;">'
    ]
    if bar.reference is not None:
        r = x(bar.reference)
        parts.append(
            f'<line x1="{r}" x2="{r}" y1="0" y2="{_BAR_H}" stroke="{_REF}" stroke-width="1"/>'
        )
    if bar.low is not None and bar.high is not None:
        parts.append(
            f'<line x1="{x(bar.low)}" x2="{x(bar.high)}" y1="{_BAR_H / 2}" y2="{_BAR_H / 2}" '
            f'stroke="{_INK}" stroke-width="2"/>'
        )
    if bar.value is not None:
        parts.append(f'<circle cx="{x(bar.value)}" cy="{_BAR_H / 2}" r="3" fill="{_INK}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _td(cell: Cell, numeric: bool) -> str:
    align = "right" if numeric else "left"
    body = _svg(cell) if isinstance(cell, Bar) else html.escape(cell)
    return f'<td style="text-align: {align}; {_CELL} {_FONT}">{body}</td>'


def _table_html(table: Table) -> str:
    esc = html.escape
    caption = (
        ""
        if table.caption is None
        else f'<caption style="text-align: left; font-weight: bold; padding: 4px 0;">{esc(table.caption)}</caption>'
    )
    heads = "".join(
        f'<th style="text-align: {"right" if c.numeric else "left"}; {_CELL}">{esc(c.name)}</th>'
        for c in table.columns
    )
    body = "".join(
        "<tr>"
        + "".join(_td(cell, col.numeric) for cell, col in zip(row, table.columns, strict=True))
        + "</tr>"
        for row in table.rows
    )
    return (
        f'<table style="border-collapse: collapse; margin: 4px 0 12px 0;">{caption}'
        f"<thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>"
    )


def _html(sheet: Sheet) -> str:
    esc = html.escape
    facts = " · ".join(f"{esc(k)} <b>{esc(v)}</b>" if k else esc(v) for k, v in sheet.facts)
    parts = [
        '<div class="salesflow">',
        f'<div style="font-size: 1.1em; font-weight: bold;">{esc(sheet.title)}</div>',
    ]
    if facts:
        parts.append(f'<div style="color: #444;">{facts}</div>')
    parts.extend(
        f'<div style="color: #6a4a00; font-size: 0.9em;">Note: {esc(note)}</div>'
        for note in sheet.notes
    )
    parts.extend(_table_html(t) for t in sheet.tables)
    parts.append(sheet.extra_html)
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------ text


def _ascii(bar: Bar, width: int = 21) -> str:
    span = (bar.end - bar.start) or 1.0

    def x(v: float) -> int:
        return round((width - 1) * (min(max(v, bar.start), bar.end) - bar.start) / span)

    chars = [" "] * width
    if bar.reference is not None:
        chars[x(bar.reference)] = "¦"
    if bar.low is not None and bar.high is not None:
        for i in range(x(bar.low), x(bar.high) + 1):
            chars[i] = "─"
    if bar.value is not None:
        chars[x(bar.value)] = "●"
    return "".join(chars)


def _table_text(table: Table) -> list[str]:
    cells = [[_ascii(c) if isinstance(c, Bar) else c for c in row] for row in table.rows]
    widths = [
        max([len(col.name), *(len(row[i]) for row in cells)]) for i, col in enumerate(table.columns)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if col.numeric else v.ljust(w)
            for v, w, col in zip(values, widths, table.columns, strict=True)
        ).rstrip()

    head = line([c.name for c in table.columns])
    out = [] if table.caption is None else [table.caption]
    out += [head, "-" * len(head)]
    out += [line(row) for row in cells]
    return out


def _text(sheet: Sheet) -> str:
    lines = [sheet.title]
    if sheet.facts:
        lines.append(" · ".join(f"{k} {v}" if k else v for k, v in sheet.facts))
    lines += [f"Note: {note}" for note in sheet.notes]
    for table in sheet.tables:
        lines.append("")
        lines += _table_text(table)
    return "\n".join(lines)
