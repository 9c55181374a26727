"""What each metric result shows: its header facts and its rows.

The drawing (HTML for notebooks, text for terminals) is
:mod:`salesflow._table_render`'s; this module only says, per result type,
which facts head it and which rows and columns its table has, so that every
result reads the same way: what, as of when, how many, by which method, then
numbers in their own right-aligned columns.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._money import Money
from .._table_render import MISSING, Bar, Col, Sheet, Table, count, days, money, pct, when
from ._rate import Rate
from ._summary import DurationSummary

if TYPE_CHECKING:
    from ._common import Breakdown
    from ._funnel import Funnel
    from ._report import Report
    from ._velocity import Velocity

__all__ = [
    "breakdown_sheet",
    "duration_sheet",
    "funnel_sheet",
    "order_key",
    "rate_sheet",
    "report_sheet",
    "velocity_sheet",
]

_METHODS = {
    "wilson": "Wilson",
    "jeffreys": "Jeffreys",
    "percentile-bootstrap": "percentile bootstrap",
}
_DURATIONS = {
    "km": "Kaplan-Meier, open spells censored",
    "completed": "ended spells only",
    "current": "ages of open spells",
}


def _interval_facts(rate: Rate) -> list[tuple[str, str]]:
    if rate.method is None:
        return [("interval", "none (amount-based)")] if rate.value is not None else []
    return [
        ("interval", _METHODS.get(rate.method, rate.method)),
        ("confidence", pct(rate.confidence, 0)),
    ]


def _level(rate: Rate) -> str:
    return pct(rate.confidence, 0)


def rate_cells(rate: Rate) -> list[str]:
    """Rate, numerator, denominator, interval low and high."""
    low, high = rate.interval if rate.interval is not None else (None, None)
    return [pct(rate.value), count(rate.numerator), count(rate.denominator), pct(low), pct(high)]


def rate_sheet(rate: Rate, title: str = "Rate") -> Sheet:
    """A rate: value, counts and interval in columns."""
    level = _level(rate)
    columns = [
        Col("rate"),
        Col("numerator"),
        Col("denominator"),
        Col(f"{level} low"),
        Col(f"{level} high"),
    ]
    return Sheet(title, _interval_facts(rate), [Table(columns, [rate_cells(rate)])])


def _duration_columns(first: str) -> list[Col]:
    return [
        Col(first, numeric=False),
        Col("n"),
        Col("open"),
        Col("median (days)"),
        Col("median low"),
        Col("median high"),
        Col("mean (days)"),
        Col("p90 (days)"),
    ]


def duration_cells(summary: DurationSummary) -> list[str]:
    """n, open, median with its interval, mean and 90th percentile in days."""
    low, high = summary.median_interval
    return [
        count(summary.n),
        count(summary.censored),
        days(summary.median),
        days(low),
        days(high),
        days(summary.mean),
        days(summary.percentile(0.9)),
    ]


def duration_sheet(summary: DurationSummary, title: str = "Durations") -> Sheet:
    """A duration summary: counts and percentiles in days."""
    facts = [
        ("method", _DURATIONS.get(summary.method, summary.method)),
        ("median interval", f"{summary.confidence:.0%}, Brookmeyer-Crowley"),
    ]
    rows = [["all", *duration_cells(summary)]]
    return Sheet(title, facts, [Table(_duration_columns(""), rows)])


def funnel_table(funnel: Funnel, caption: str | None = None) -> Table:
    """One row per step: counts, step conversion with interval, reached, cumulative."""
    level = _level(funnel.rows[0].cumulative) if funnel.rows else "95%"
    columns = [
        Col("stage", numeric=False),
        Col("entered"),
        Col("advanced"),
        Col("lost"),
        Col("open"),
        Col("step conversion"),
        Col(f"{level} low"),
        Col(f"{level} high"),
        Col("reached"),
        Col("cumulative"),
    ]
    rows = []
    for r in funnel.rows:
        step = r.conversion
        low, high = (None, None) if step is None or step.interval is None else step.interval
        rows.append(
            [
                r.stage.name,
                count(r.entered),
                count(r.advanced),
                count(r.lost),
                count(r.still_open),
                MISSING if step is None else pct(step.value),
                pct(low),
                pct(high),
                count(r.cumulative.numerator),
                pct(r.cumulative.value),
            ]
        )
    return Table(columns, rows, caption)


def funnel_notes(funnel: Funnel) -> list[str]:
    """Say where a step's own conversion covers only some of the deals that got that far."""
    notes = []
    for row in funnel.rows:
        reached = int(row.cumulative.numerator)
        if not row.stage.is_won and row.entered < reached:
            notes.append(
                f"{reached - row.entered:,} of the {reached:,} deals that reached {row.stage.name} "
                f"or later were never recorded in it; its step conversion covers the "
                f"{row.entered:,} that were."
            )
    return notes


def funnel_sheet(funnel: Funnel) -> Sheet:
    """A funnel: the header, then one row per step."""
    facts = [
        ("pipeline", funnel.pipeline.name),
        ("deals", count(funnel.total)),
        ("mode", funnel.mode),
    ]
    if funnel.exclude_open:
        facts.append(("", "open deals left out of step conversion"))
    if funnel.rows:
        facts += _interval_facts(funnel.rows[0].cumulative)
    return Sheet("Funnel", facts, [funnel_table(funnel)], funnel_notes(funnel))


def velocity_rows(velocity: Velocity) -> list[list[str]]:
    """Component rows: name, value, unit, n."""
    currency = "" if velocity.value is None else velocity.value.currency
    size = velocity.average_deal_size
    cycle = velocity.cycle
    return [
        ["Sales velocity", money(velocity.value), f"{currency} per day".strip(), MISSING],
        ["Open deals", count(velocity.opportunities), "deals", MISSING],
        ["Win rate", pct(velocity.win_rate.value), "", count(velocity.win_rate.denominator)],
        [
            "Average deal size (won)",
            money(size),
            "" if size is None else size.currency,
            MISSING,
        ],
        ["Sales cycle (won), mean", days(cycle.mean), "days", count(cycle.n)],
    ]


_HEADLINE = [Col("metric", numeric=False), Col("value"), Col("unit", numeric=False), Col("n")]


def velocity_sheet(velocity: Velocity) -> Sheet:
    """Velocity = open deals × win rate × average deal size / cycle, one row each."""
    facts = [("formula", "open deals × win rate × average deal size / mean cycle")]
    return Sheet("Sales velocity", facts, [Table(_HEADLINE, velocity_rows(velocity))])


def report_sheet(report: Report) -> Sheet:
    """The report: header facts, headline metrics, the funnel, time in stage."""
    rate = report.win_rate
    level = _level(rate)
    low, high = rate.interval if rate.interval is not None else (None, None)
    cycle = report.sales_cycle
    velocity = report.velocity
    currency = next(
        (
            m.currency
            for m in (report.average_deal_size, report.pipeline_value, velocity.value)
            if m is not None
        ),
        "",
    )
    head = [*_HEADLINE, Col(f"{level} low"), Col(f"{level} high")]
    no = [MISSING, MISSING]
    headlines = [
        [
            "Win rate (closed deals)",
            pct(rate.value),
            "",
            count(rate.denominator),
            pct(low),
            pct(high),
        ],
        ["Average deal size (won)", money(report.average_deal_size), currency, MISSING, *no],
        ["Sales cycle (won), median", days(cycle.median), "days", count(cycle.n), *no],
        ["Sales cycle (won), mean", days(cycle.mean), "days", count(cycle.n), *no],
        ["Sales velocity", money(velocity.value), f"{currency} per day".strip(), MISSING, *no],
        ["Open deals", count(velocity.opportunities), "deals", MISSING, *no],
        ["Open pipeline", money(report.pipeline_value), currency, MISSING, *no],
        ["Weighted pipeline", money(report.weighted_pipeline), currency, MISSING, *no],
    ]
    stages = [
        [report.pipeline.stage(key).name, *duration_cells(summary)]
        for key, summary in report.time_in_stage.items()
    ]
    facts = [
        ("pipeline", report.pipeline.name),
        ("as of", when(report.as_of)),
        ("deals", count(report.deals)),
        *_interval_facts(rate),
        ("time in stage", "Kaplan-Meier"),
    ]
    return Sheet(
        f"Sales report: {report.pipeline.name}",
        facts,
        [
            Table(head, headlines, "Headline metrics"),
            funnel_table(report.funnel, f"Funnel ({report.funnel.mode})"),
            Table(
                _duration_columns("stage"),
                stages,
                "Time in stage (Kaplan-Meier, open spells censored at the cut-off)",
            ),
        ],
        [*report.warnings, *funnel_notes(report.funnel)],
    )


# ------------------------------------------------------------------ breakdowns


def _size(value: object) -> float | None:
    """How many deals a group's result rests on, for ranking (``None`` if unknown)."""
    from ._funnel import Funnel
    from ._report import Report
    from ._velocity import Velocity

    if isinstance(value, Rate):
        return float(value.denominator)
    if isinstance(value, DurationSummary):
        return float(value.n)
    if isinstance(value, Report):
        return float(value.deals)
    if isinstance(value, Funnel):
        return float(value.total)
    if isinstance(value, Velocity):
        return float(value.opportunities)
    return None


def _value(value: object) -> float | None:
    """A group's headline number, for ranking (``None`` if it has none)."""
    from ._report import Report

    if isinstance(value, Rate):
        return value.value
    if isinstance(value, DurationSummary):
        median = value.median
        return None if median is None else median.total_seconds()
    if isinstance(value, Report):
        return value.win_rate.value
    if isinstance(value, Money):
        return float(value.amount)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    amount = getattr(value, "value", None)
    if isinstance(amount, Money):
        return float(amount.amount)
    return None


def order_key(sort: str, key: Hashable, value: object) -> tuple[Any, ...]:
    """The sort key of one group: largest first for ``"n"`` and ``"value"``, then by key."""
    text = str(key)
    if sort == "key":
        return (key is None, text)
    number = _size(value) if sort == "n" else _value(value)
    return (number is None, -(number or 0.0), text)


def _keys(breakdown: Breakdown[Any], key: Hashable) -> list[str]:
    if len(breakdown.fields) > 1 and isinstance(key, tuple):
        return ["(none)" if k is None else str(k) for k in key]
    return ["(none)" if key is None else str(key)]


def breakdown_sheet(breakdown: Breakdown[Any], order: Sequence[Hashable]) -> Sheet:
    """A ranked comparison: one row per group in *order*, numbers in columns."""
    from ._report import Report

    keys = [Col(f, numeric=False) for f in breakdown.fields]
    values = [breakdown.results[k] for k in order]
    whole = breakdown.complete if breakdown.complete is not None else breakdown.results
    facts = [("groups", count(len(whole))), ("sorted by", breakdown.order)]
    if len(order) < len(whole):
        facts.append(("shown", count(len(order))))
    notes = []
    if breakdown.missing:
        notes.append(
            f"{breakdown.missing:,} deal(s) lack {breakdown.by} and are grouped under (none)."
        )
    title = f"{breakdown.metric.capitalize()} by {breakdown.by}"
    rows: list[list[str | Bar]]
    if values and all(isinstance(v, Rate) for v in values):
        rates: list[Rate] = values
        every = [v for v in whole.values() if isinstance(v, Rate)]
        overall = sum(every[1:], every[0]) if every else None
        level = _level(rates[0])
        # The bars share one scale, zoomed to the intervals (in steps of 5 %),
        # so that overlaps are visible; the heading states the scale.
        lows = [r.interval[0] if r.interval is not None else r.value for r in rates]
        highs = [r.interval[1] if r.interval is not None else r.value for r in rates]
        start = max(0.0, math.floor(min([1.0, *(x for x in lows if x is not None)]) * 20) / 20)
        end = min(1.0, math.ceil(max([0.0, *(x for x in highs if x is not None)]) * 20) / 20)
        if end <= start:
            start, end = 0.0, 1.0
        columns = [
            *keys,
            Col("n"),
            Col("numerator"),
            Col("rate"),
            Col(f"{level} low"),
            Col(f"{level} high"),
            Col(f"interval ({start:.0%}–{end:.0%})", numeric=False),
        ]
        rows = []
        for key, rate in zip(order, rates, strict=True):
            low, high = rate.interval if rate.interval is not None else (None, None)
            rows.append(
                [
                    *_keys(breakdown, key),
                    count(rate.denominator),
                    count(rate.numerator),
                    pct(rate.value),
                    pct(low),
                    pct(high),
                    Bar(
                        rate.value, low, high, 0.0, end, None if overall is None else overall.value
                    ),
                ]
            )
        if overall is not None:
            facts.append(("overall", f"{pct(overall.value)} of {count(overall.denominator)}"))
            facts += _interval_facts(overall)
        return Sheet(title, facts, [Table(columns, rows)], notes)
    if values and all(isinstance(v, DurationSummary) for v in values):
        facts.append(("method", _DURATIONS.get(values[0].method, values[0].method)))
        rows = [
            [*_keys(breakdown, k), *duration_cells(v)] for k, v in zip(order, values, strict=True)
        ]
        columns = [*keys, *_duration_columns("")[1:]]
        return Sheet(title, facts, [Table(columns, rows)], notes)
    if values and all(isinstance(v, Report) for v in values):
        columns = [
            *keys,
            Col("deals"),
            Col("win rate"),
            Col("closed"),
            Col("avg deal size (won)"),
            Col("cycle median (days)"),
            Col("open deals"),
            Col("open pipeline"),
        ]
        rows = [
            [
                *_keys(breakdown, k),
                count(r.deals),
                pct(r.win_rate.value),
                count(r.win_rate.denominator),
                money(r.average_deal_size),
                days(r.sales_cycle.median),
                count(r.velocity.opportunities),
                money(r.pipeline_value),
            ]
            for k, r in zip(order, values, strict=True)
        ]
        return Sheet(title, facts, [Table(columns, rows)], notes)
    rows = []
    numeric = True
    for key, value in zip(order, values, strict=True):
        if value is None:
            cell = MISSING
        elif isinstance(value, Money):
            cell = f"{money(value)} {value.currency}"
        elif isinstance(value, int) and not isinstance(value, bool):
            cell = count(value)
        elif isinstance(value, float | Decimal):
            cell = f"{value:,.4g}"
        else:
            cell, numeric = str(value), False
        rows.append([*_keys(breakdown, key), cell])
    columns = [*keys, Col(breakdown.metric, numeric=numeric)]
    return Sheet(title, facts, [Table(columns, rows)], notes)
