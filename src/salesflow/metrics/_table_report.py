"""The report and the common metrics of an :class:`~salesflow.EventTable`.

:func:`table_state` runs the columnar accumulators over chunks of whole
deals and merges their partial states in a tree; the report and the single
metrics read their result from it, as the object lane's functions read
theirs from the same accumulators. A metric's variant that the report's
state does not hold (``mode="direct"``, an amount-based win rate, a median
…) and a grouping by anything but the owner, source or currency is computed
on ``table.to_deals()`` by the object lane: slower, never different.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._time import EPOCH
from ._columnar import accumulate, reduce_tree
from ._common import Breakdown, By, Window, check_window
from ._grouping import _order, group
from ._report import Report, ReportAccumulator
from ._value import stage_weights
from ._velocity import Velocity, velocity_value

if TYPE_CHECKING:
    from .._table import EventTable

__all__ = ["on_table", "table_report", "table_state"]

# Fields whose group codes the table holds: grouped without building deals.
_CODED = {"owner": ("owner", "owners"), "source": ("source", "sources")}


def table_state(
    table: EventTable,
    *,
    as_of: datetime | None,
    between: Window | None,
    weights: dict[str, Decimal] | None = None,
) -> ReportAccumulator:
    """The report's accumulated state of every deal of *table* (chunks merged in a tree)."""
    parts = [
        accumulate(table, first, stop, as_of=as_of, between=between, weights=weights)
        for first, stop in table.chunks()
    ]
    if not parts:
        parts = [accumulate(table, 0, 0, as_of=as_of, between=between, weights=weights)]
    return reduce_tree(parts)


def report_weights(table: EventTable) -> dict[str, Decimal] | None:
    """The stage probabilities of the weighted pipeline, or ``None`` when a stage has none."""
    try:
        return stage_weights([table.pipeline], "stage")
    except ValueError:
        return None


def _latest(table: EventTable) -> datetime | None:
    if not table.events:
        return None
    return EPOCH + timedelta(microseconds=int(table.times.max()))


def _groups(table: EventTable, by: By, as_of: datetime | None) -> Breakdown[EventTable]:
    """The table's deals grouped by *by*, as tables (built-in codes read directly)."""
    import numpy as np

    field = by if isinstance(by, str) else None
    if field in _CODED or field == "currency":
        column, names = _CODED.get(field or "", ("currency", "currencies"))
        codes = getattr(table, column)
        texts: tuple[str, ...] = getattr(table, names)
        found = {}
        for code in np.unique(codes).tolist():
            key = None if code < 0 else texts[code]
            found[key] = table.take(np.flatnonzero(codes == code))
        ordered = {k: found[k] for k in sorted(found, key=_order)}
        return Breakdown("table", str(field), dict(ordered), 0, (str(field),))
    deals = table.to_deals()
    row_of = {id(d): i for i, d in enumerate(deals)}
    grouped = group(deals, by, as_of)
    tables: dict[Hashable, EventTable] = {
        key: table.take([row_of[id(d)] for d in members]) for key, members in grouped.groups.items()
    }
    return Breakdown("table", ", ".join(grouped.fields), tables, grouped.missing, grouped.fields)


def table_report(
    table: EventTable,
    *,
    as_of: datetime | None,
    between: Window | None,
    by: By | None,
) -> Report | Breakdown[Report]:
    """:func:`salesflow.report` of a table: the same Report, computed on columns."""
    if table.has_field_changes:
        from ._report import report

        return report(table.to_deals(), as_of=as_of, between=between, by=by)
    as_of, between = check_window(as_of, between)
    weights = report_weights(table)

    def compute(part: EventTable, cut: datetime | None) -> Report:
        return table_state(part, as_of=cut, between=between, weights=weights).result()

    if by is None:
        return compute(table, as_of)
    # One cut-off for every group: the latest event in all the data.
    cut = as_of if as_of is not None else _latest(table)
    groups = _groups(table, by, cut)
    results = {key: compute(part, cut) for key, part in groups.items()}
    return Breakdown("report", groups.by, results, groups.missing, groups.fields)


def _fallback(metric: Callable[..., Any], table: EventTable, options: dict[str, Any]) -> Any:
    """The object lane's answer, on the table's deals."""
    return metric(table.to_deals(), **options)


def on_table(
    name: str, metric: Callable[..., Any], table: EventTable, options: dict[str, Any]
) -> Any:
    """*metric* (one of the functions the report is made of) of *table*, with *options*.

    Args:
        name: The metric's function name.
        metric: The object lane's function, for the variants the state lacks.
        table: The table.
        options: The keyword arguments the caller gave, with their defaults.
    """
    if options.get("by") is not None or table.has_field_changes:
        return _fallback(metric, table, options)
    given = options.get("pipeline")
    if given is not None and given is not table.pipeline and given != table.pipeline:
        msg = f"The table's deals are in pipeline {table.pipeline.name!r}, not {given.name!r}."
        raise ValueError(msg)
    as_of, between = check_window(options.get("as_of"), options.get("between"))

    def state() -> ReportAccumulator:
        return table_state(table, as_of=as_of, between=between)

    if name == "funnel" and options["mode"] == "reached":
        return state().funnel.result(
            exclude_open=options["exclude_open"],
            interval=options["interval"],
            confidence=options["confidence"],
        )
    if name == "win_rate" and options["basis"] == "count":
        wins = state().wins
        wins.interval, wins.confidence = options["interval"], options["confidence"]
        return wins.result()
    if name == "time_in_stage" and options["per"] == "spell":
        if options["method"] not in ("km", "completed", "current"):
            return _fallback(metric, table, options)
        return state().stages.result(options["method"])
    if name == "sales_cycle" and (options["status"], options["method"], options["start"]) == (
        "won",
        "completed",
        "deal",
    ):
        return state().cycles.result()
    if name == "average_deal_size" and options["statistic"] == "mean":
        if options["status"] == "won":
            return state().won.mean()
        if options["status"] == "open":
            return state().open.mean()
    if name == "pipeline_value":
        found = state()
        currency = options["currency"] or _any_currency(table)
        return found.open.sum(currency)
    if name == "sales_velocity" and between is None:
        found = state()
        rate, size, cycle = found.wins.result(), found.won.mean(), found.cycles.result()
        return Velocity(
            velocity_value(found.opportunities, rate, size, cycle),
            found.opportunities,
            rate,
            size,
            cycle,
        )
    return _fallback(metric, table, options)


def _any_currency(table: EventTable) -> str | None:
    import numpy as np

    valued = np.flatnonzero(table.values >= 0)
    return None if not len(valued) else table.currencies[int(table.currency[valued[0]])]
