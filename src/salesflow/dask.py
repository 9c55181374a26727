"""The report of more deals than one machine holds: Dask partitions, columnar accumulators, a tree.

:func:`report` turns each partition of a ``dask.dataframe`` of stage events
into an :class:`~salesflow.EventTable` (checked by the same rules as a file),
computes the report's partial state on it with the columnar accumulators,
and merges the states pairwise in a tree of Dask tasks; the last merge gives
the same :class:`~salesflow.Report` the single-machine report gives on the
same events. Every deal's events must be in one partition: partition the
events by deal id first (``set_index("deal_id")`` or
``shuffle("deal_id")``). A deal found in two partitions is an error, never a
silent double count.

Needs the ``salesflow[dask]`` extra (``dask[dataframe]`` and
``distributed``) and ``salesflow[fast]``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from ._optional import require
from ._pipeline import Pipeline
from ._table import EventTable, fast_modules
from ._time import EPOCH
from .exceptions import SalesflowError
from .metrics._columnar import SpellCounts
from .metrics._common import Breakdown, By, check_window
from .metrics._grouping import _order, _order_tuple
from .metrics._report import Report, ReportAccumulator
from .metrics._table_report import _groups, report_weights, table_state

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = ["SplitDealError", "combine", "partial_report", "report"]

_EXTRA = "salesflow[dask]"


class SplitDealError(SalesflowError, ValueError):
    """A deal's events are in more than one partition, so no partition sees the whole deal.

    Attributes:
        deal_ids: Some of the deals found in two partitions.
    """

    def __init__(self, msg: str, *, deal_ids: tuple[str, ...] = ()) -> None:
        super().__init__(msg)
        self.deal_ids = deal_ids


def _table(
    frame: Any,
    pipeline: Pipeline,
    columns: Mapping[str, str | None] | None,
    options: dict[str, Any],
) -> EventTable:
    """The partition's table; a deal id kept as the index (after ``set_index``) becomes a column."""
    deal_id = (columns or {}).get("deal_id") or "deal_id"
    if deal_id not in frame.columns and frame.index.name == deal_id:
        frame = frame.reset_index()
    return EventTable.from_frame(frame, pipeline, columns=columns, **options)


def _hashes(frame: Any, columns: Mapping[str, str | None] | None) -> Any:
    """The partition's deal ids as sorted distinct 64-bit hashes (8 bytes a deal to send)."""
    import numpy as np
    import pandas as pd

    deal_id = (columns or {}).get("deal_id") or "deal_id"
    ids = frame.index if deal_id not in frame.columns else frame[deal_id]
    return np.unique(pd.util.hash_array(np.asarray(ids, dtype=object).astype(str)))


class _Carried:
    """An error to send back from a worker: its class and fields (pickle calls no constructor)."""

    def __init__(self, exc: Exception) -> None:
        self.kind = type(exc)
        self.args = exc.args
        self.fields = dict(vars(exc))

    def rebuilt(self) -> Exception:
        exc: Exception = self.kind.__new__(self.kind, *self.args)
        exc.args = self.args
        vars(exc).update(self.fields)
        return exc


class _Part:
    """What a partition sends to the merge: its report state(s), its deals' hashes, its latest event."""

    def __init__(
        self,
        states: dict[Hashable, ReportAccumulator],
        hashes: Any,
        latest: int | None,
        missing: int = 0,
        fields: tuple[str, ...] = (),
        error: _Carried | None = None,
    ) -> None:
        self.states = states
        self.hashes = hashes
        self.latest = latest
        self.missing = missing
        self.fields = fields
        self.error = error


def _partial(
    frame: Any,
    *,
    pipeline: Pipeline,
    columns: Mapping[str, str | None] | None,
    options: dict[str, Any],
    as_of: datetime | None,
    between: Any,
    by: By | None,
    weights: dict[str, Decimal] | None,
) -> _Part:
    hashes = _hashes(frame, columns)
    try:
        table = _table(frame, pipeline, columns, options)
    except SalesflowError as exc:
        # A deal cut in two reads as an illegal history: the split is said first.
        return _Part({}, hashes, None, error=_Carried(exc))
    latest = int(table.times.max()) if table.events else None

    def state(part: EventTable) -> ReportAccumulator:
        found = table_state(part, as_of=as_of, between=between, weights=weights)
        spells = cast("SpellCounts", found.stages)
        found.stages = cast("Any", spells.compacted())
        return found

    if by is None:
        return _Part({None: state(table)}, hashes, latest)
    groups = _groups(table, by, as_of)
    states = {key: state(part) for key, part in groups.items()}
    return _Part(states, hashes, latest, groups.missing, groups.fields)


def _merge(a: _Part, b: _Part) -> _Part:
    import numpy as np

    both = np.intersect1d(a.hashes, b.hashes, assume_unique=True)
    if len(both):
        msg = (
            f"{len(both)} deal(s) have events in two partitions, so no partition sees the "
            "whole deal; partition the events by deal id first, e.g. "
            "events = events.set_index('deal_id') or events.shuffle('deal_id')."
        )
        raise SplitDealError(msg, deal_ids=())
    hashes = np.union1d(a.hashes, b.hashes)
    if a.error is not None or b.error is not None:
        return _Part({}, hashes, None, error=a.error or b.error)
    states = dict(a.states)
    for key, found in b.states.items():
        states[key] = states[key].merge(found) if key in states else found
    latest = max((x for x in (a.latest, b.latest) if x is not None), default=None)
    return _Part(states, hashes, latest, a.missing + b.missing, a.fields or b.fields)


def _latest(frame: Any, pipeline: Pipeline, columns: Any, options: dict[str, Any]) -> int | None:
    try:
        table = _table(frame, pipeline, columns, options)
    except SalesflowError:
        return None  # the report's pass says what is wrong, a split deal first
    return int(table.times.max()) if table.events else None


def report(
    events: Any,
    pipeline: Pipeline,
    *,
    columns: Mapping[str, str | None] | None = None,
    as_of: datetime | None = None,
    between: tuple[datetime, datetime] | None = None,
    by: By | None = None,
    split_every: int = 8,
    **options: Any,
) -> Report | Breakdown[Report]:
    """The standard report of a Dask DataFrame of stage events, one row per stage change.

    Each partition is read as :meth:`EventTable.from_frame` reads a frame
    (so its rows are checked and refused as a file's are), reported with the
    columnar accumulators, and the partial states are merged in a tree of at
    most *split_every* parts per merge. The result equals
    ``salesflow.report`` on the same events in one process.

    Args:
        events: A ``dask.dataframe.DataFrame`` partitioned by deal id (every
            deal's rows in one partition; the deal id may be the index).
        pipeline: The pipeline the stages belong to.
        columns: Logical field -> column name, as for :func:`salesflow.io.read_events_csv`.
        as_of: Cut-off; default the latest stage change in all partitions.
        between: ``(start, end)``, as for :func:`salesflow.report`.
        by: One report per group, as for :func:`salesflow.report`.
        split_every: How many partial states one task merges.
        **options: Options of :func:`salesflow.io.from_frame` (``timezone``,
            ``default_currency`` …).

    Returns:
        A :class:`~salesflow.Report`, or a :class:`~salesflow.metrics.Breakdown` with ``by=``.

    Raises:
        SplitDealError: A deal's events are in two partitions.
        LoadError: A bad row.
        MissingDependencyError: dask, NumPy or pyarrow is not installed.

    Examples:
        A Parquet export, partitioned by deal, on a local cluster::

            import dask.dataframe as dd
            from distributed import Client
            import salesflow as sf
            import salesflow.dask

            client = Client()  # or the address of a cluster
            events = dd.read_parquet("events/").set_index("deal_id")
            rep = salesflow.dask.report(events, sf.templates.b2b())
    """
    fast_modules("salesflow.dask.report()")
    dask = require("dask", _EXTRA, "salesflow.dask.report()")
    delayed = dask.delayed
    as_of, between = check_window(as_of, between)
    weights = report_weights(EventTable.from_deals([], pipeline=pipeline))
    parts = events.to_delayed()
    if by is not None and as_of is None:
        # One cut-off for every group: the latest event in all the partitions.
        ends = dask.compute(*(delayed(_latest)(p, pipeline, columns, options) for p in parts))
        found = [e for e in ends if e is not None]
        as_of = EPOCH + timedelta(microseconds=max(found)) if found else None
    level = [
        delayed(_partial)(
            p,
            pipeline=pipeline,
            columns=columns,
            options=options,
            as_of=as_of,
            between=between,
            by=by,
            weights=weights,
        )
        for p in parts
    ]
    if not level:
        level = [delayed(_Part)({}, fast_modules("salesflow.dask.report()")[0].array([]), None)]
    while len(level) > 1:
        level = [
            _tree(delayed, level[i : i + split_every]) for i in range(0, len(level), split_every)
        ]
    (whole,) = dask.compute(level[0])
    if whole.error is not None:
        raise whole.error.rebuilt()
    empty = ReportAccumulator(pipeline, as_of, between, weights)
    if by is None:
        single: Report = whole.states.get(None, empty).result()
        return single
    several = len(whole.fields) > 1
    keys = sorted(whole.states, key=_order_tuple if several else _order)
    results = {key: whole.states[key].result() for key in keys}
    return Breakdown("report", ", ".join(whole.fields), results, whole.missing, whole.fields)


def _tree(delayed: Any, parts: list[Any]) -> Any:
    def merge_all(*found: _Part) -> _Part:
        merged = found[0]
        for other in found[1:]:
            merged = _merge(merged, other)
        return merged

    return delayed(merge_all)(*parts)


def partial_report(
    frame: Any,
    pipeline: Pipeline,
    *,
    columns: Mapping[str, str | None] | None = None,
    as_of: datetime | None = None,
    between: tuple[datetime, datetime] | None = None,
    **options: Any,
) -> bytes:
    """The report's partial state of one pandas frame of whole deals, as bytes to send.

    The building block for engines other than Dask (Spark's
    ``groupBy(...).applyInPandas``, a process pool): each worker calls it on
    its share of the deals, the driver passes every result to
    :func:`combine`. Every deal's rows must be in one frame.

    Args:
        frame: A ``pandas.DataFrame`` of stage events (the deal id may be the index).
        pipeline: The pipeline the stages belong to.
        columns: Logical field -> column name, as for :func:`salesflow.io.read_events_csv`.
        as_of: Cut-off; give the same one to every part (default: the latest event of all).
        between: ``(start, end)``, as for :func:`salesflow.report`.
        **options: Options of :func:`salesflow.io.from_frame`.

    Raises:
        LoadError: A bad row.
    """
    import pickle

    fast_modules("salesflow.dask.partial_report()")
    as_of, between = check_window(as_of, between)
    weights = report_weights(EventTable.from_deals([], pipeline=pipeline))
    part = _partial(
        frame,
        pipeline=pipeline,
        columns=columns,
        options=options,
        as_of=as_of,
        between=between,
        by=None,
        weights=weights,
    )
    if part.error is not None:
        raise part.error.rebuilt()
    return pickle.dumps(part)


def combine(
    parts: Iterable[bytes],
    pipeline: Pipeline,
    *,
    as_of: datetime | None = None,
    between: tuple[datetime, datetime] | None = None,
) -> Report:
    """The report of every deal in *parts* (results of :func:`partial_report` with these options).

    Only unpickle parts your own workers made: the bytes are pickles.

    Raises:
        SplitDealError: A deal's rows were in two parts.
    """
    import pickle

    as_of, between = check_window(as_of, between)
    level: list[_Part] = [pickle.loads(part) for part in parts]
    if not level:
        weights = report_weights(EventTable.from_deals([], pipeline=pipeline))
        return ReportAccumulator(pipeline, as_of, between, weights).result()
    while len(level) > 1:
        level = [
            _merge(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    found: Report = level[0].states[None].result()
    return found
