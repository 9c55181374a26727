"""The ``--by`` comparison table: one row per group, the headline metrics side by side."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import timedelta

from ._money import Money
from .metrics import Breakdown, Rate, Report

__all__ = ["comparison", "lead_comparison", "ordered"]

_DAY = timedelta(days=1)
HEADINGS = ("deals", "win rate (95% CI)", "avg won value", "median cycle", "velocity")


def _money(value: Money | None, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value.quantize(2)}{suffix}"


def _days(value: timedelta | None) -> str:
    return "n/a" if value is None else f"{value / _DAY:.1f} d"


def _row(report: Report) -> list[str]:
    return [
        f"{report.deals:,}",
        report.win_rate.format(),
        _money(report.average_deal_size),
        _days(report.sales_cycle.median),
        _money(report.velocity.value, "/d"),
    ]


def _labels(key: Hashable, width: int) -> list[str]:
    parts = key if width > 1 and isinstance(key, tuple) else (key,)
    return ["(none)" if part is None else str(part) for part in parts]


def _size(result: Report | Rate) -> int:
    return result.deals if isinstance(result, Report) else int(result.denominator)


def ordered(results: Breakdown[Report] | Breakdown[Rate]) -> list[Hashable]:
    """The group keys, the largest group first (ties by key, groups of ``None`` last)."""

    def order(key: Hashable) -> tuple[int, bool, str]:
        return (-_size(results[key]), key is None, str(key))

    return sorted(results, key=order)


def _render(head: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> list[str]:
    """Columns padded to their widest cell; the first *left* columns left-aligned."""
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        out = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(head), rule, *(line(row) for row in rows)]


def _missing(results: Breakdown[Report] | Breakdown[Rate], noun: str) -> list[str]:
    if not results.missing:
        return []
    return [
        "",
        f"{results.missing:,} {noun} have no value for {results.by}; they are counted under (none).",
    ]


def comparison(results: Breakdown[Report], total: Report) -> str:
    """The groups of a ``report(..., by=...)`` as one table, with a row for all deals."""
    fields = list(results.fields)
    head = [*fields, *HEADINGS]
    rows = [_labels(key, len(fields)) + _row(results[key]) for key in ordered(results)]
    rows.append(["(all)", *[""] * (len(fields) - 1), *_row(total)])
    when = "n/a" if total.as_of is None else total.as_of.isoformat()
    lines = [
        f"salesflow report: {total.pipeline.name}, {total.deals:,} deals by {results.by}, as of {when}",
        "",
        *_render(head, rows, len(fields)),
        *_missing(results, "deals"),
        "",
        "win rate: won / closed; avg won value: mean value of won deals; median cycle: "
        "creation to win; velocity: open × win rate × avg won value / mean cycle.",
    ]
    return "\n".join(lines) + "\n"


def lead_comparison(results: Breakdown[Rate], total: Rate) -> str:
    """Lead conversion per group (``--format leads --by FIELD``), largest group first."""
    head = [results.by, "leads", "lead conversion (95% CI)"]
    rows = [
        [*_labels(key, 1), f"{int(results[key].denominator):,}", results[key].format()]
        for key in ordered(results)
    ]
    rows.append(["(all)", f"{int(total.denominator):,}", total.format()])
    return "\n".join([*_render(head, rows, 1), *_missing(results, "leads")]) + "\n"
