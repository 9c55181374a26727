"""What every metric shares: the cut-off, the deal filter, breakdowns."""

from __future__ import annotations

import inspect
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from itertools import chain
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    Protocol,
    TypeVar,
    cast,
    runtime_checkable,
)

import attrs

from .._checks import aware
from .._deal import Deal
from .._frames import build, concat, result_texts, value_frame
from .._lead import Lead
from .._money import Money
from .._optional import pandas
from .._pipeline import Pipeline
from ._grouping import By, group
from ._summary import DurationSummary, summaries_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Breakdown", "By", "Window"]

R = TypeVar("R")
Window = tuple[datetime, datetime]
#: How a :class:`Breakdown` orders its groups for display.
Order = Literal["n", "value", "key"]


_NOTHING = object()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _not_deals(metric: str, got: object, *, item: bool = False) -> TypeError:
    """The error for *got* (the deals, or their first *item*) where *metric* wants deals."""
    kind = type(got).__name__
    a = "an" if kind[:1].lower() in "aeiou" else "a"
    if isinstance(got, Lead):
        msg = (
            f"{metric}() takes deals, got a Lead ({got.id!r}); measure leads with "
            "salesflow.metrics.lead_conversion(leads, deals=deals), or convert them "
            "with lead.convert(pipeline, at=...)."
        )
    elif isinstance(got, Deal):
        msg = (
            f"{metric}() takes an iterable of deals, got a single Deal ({got.id!r}); "
            f"pass a list: {metric}([deal])."
        )
    elif kind == "EventTable":
        msg = (
            f"{metric}() does not take an EventTable; pass table.to_deals(), or use "
            "salesflow.report(table) or a metric that takes a table (funnel, win_rate, "
            "time_in_stage, sales_cycle, average_deal_size, sales_velocity, pipeline_value)."
        )
    elif kind == "DataFrame":
        msg = (
            f"{metric}() takes deals, got a DataFrame; build the deals with "
            "salesflow.io.from_frame(frame, pipeline) first."
        )
    elif isinstance(got, Mapping) and isinstance(next(iter(got.values()), None), Deal):
        msg = f"{metric}() takes deals, got a {kind} of deals; pass its values: {metric}(mapping.values())."
    elif isinstance(got, str | bytes) and not item:
        msg = (
            f"{metric}() takes deals, got a {kind} ({_shown(got)}); load a file with "
            "salesflow.io.read_events_csv(path, pipeline) or another salesflow.io loader first."
        )
    else:
        what = "None" if got is None else f"{a} {kind} ({_shown(got)})"
        msg = (
            f"{metric}() takes an iterable of deals, got {what}; "
            "load deals with a salesflow.io loader or open them with pipeline.open_deal(...)."
        )
    return TypeError(msg)


def deals_of(deals: Iterable[Deal], metric: str) -> Iterable[Deal]:
    """*deals*, checked to be an iterable of :class:`~salesflow.Deal`, for *metric*.

    The entry point of every deal-taking metric calls this once. It checks the
    container and its first item only, so the per-deal loops are not slowed:
    that catches the usual mistakes (leads, a single deal, a file name, a
    DataFrame, a dict of deals) with a message naming the call to make. A
    sequence (a list, a loader's result) or any re-iterable collection is
    returned as it is; a one-shot iterator is returned with its first item put
    back in front.

    Raises:
        TypeError: *deals* is not an iterable of deals; the message names what
            was given and what to call instead.

    Examples:
        >>> import salesflow as sf
        >>> from datetime import datetime, timezone
        >>> lead = sf.Lead("L1", created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> deals_of([lead], "report")
        Traceback (most recent call last):
        ...
        TypeError: report() takes deals, got a Lead ('L1'); measure leads with salesflow.metrics.lead_conversion(leads, deals=deals), or convert them with lead.convert(pipeline, at=...).
    """
    if (
        isinstance(deals, Deal | str | bytes | Mapping)
        or type(deals).__name__ == "DataFrame"
        or not isinstance(deals, Iterable)
    ):
        raise _not_deals(metric, deals)
    if isinstance(deals, Sequence):
        first = deals[0] if len(deals) else _NOTHING
    else:
        iterator = iter(deals)
        first = next(iterator, _NOTHING)
        if iterator is deals:
            # A one-shot iterator: put the item looked at back in front.
            deals = () if first is _NOTHING else chain((cast("Deal", first),), iterator)
    if first is not _NOTHING and not isinstance(first, Deal):
        raise _not_deals(metric, first, item=True)
    return deals


def check_as_of(as_of: datetime | None) -> datetime | None:
    """Validate an ``as_of`` argument."""
    return None if as_of is None else aware("as_of", as_of)


def check_between(between: Window | None) -> Window | None:
    """Validate a ``between=(start, end)`` window: aware, start <= end."""
    if between is None:
        return None
    try:
        start, end = between
    except (TypeError, ValueError):
        msg = f"between must be a (start, end) pair of datetimes, got {between!r}."
        raise TypeError(msg) from None
    aware("between start", start)
    aware("between end", end)
    if end < start:
        msg = f"between ends ({end.isoformat()}) before it starts ({start.isoformat()})."
        raise ValueError(msg)
    return (start, end)


def check_window(
    as_of: datetime | None, between: Window | None
) -> tuple[datetime | None, Window | None]:
    """Validate the ``as_of`` and ``between`` arguments that every metric takes."""
    return check_as_of(as_of), check_between(between)


def in_window(at: datetime | None, between: Window | None) -> bool:
    """Whether *at* falls in the half-open window ``[start, end)``."""
    if between is None:
        return True
    return at is not None and between[0] <= at < between[1]


def cut(deal: Deal, as_of: datetime | None) -> tuple[tuple[str, ...], tuple[datetime, ...]] | None:
    """The deal's stage keys and times up to *as_of* (``None`` if it did not exist yet)."""
    stages, times = deal.stage_keys, deal.stage_times
    if as_of is None or times[-1] <= as_of:
        return stages, times
    n = bisect_right(times, as_of)
    if n == 0:
        return None
    return stages[:n], times[:n]


def common_pipeline(deals: Iterable[Deal], pipeline: Pipeline | None) -> Pipeline | None:
    """The pipeline of *deals*, checking they share one."""
    for deal in deals:
        if pipeline is None:
            pipeline = deal.pipeline
        elif deal.pipeline is not pipeline and deal.pipeline != pipeline:
            msg = (
                f"Deal {deal.id!r} is in pipeline {deal.pipeline.name!r}, not {pipeline.name!r}; "
                "measure one pipeline at a time, or group with by=lambda d: d.pipeline.name."
            )
            raise ValueError(msg)
    return pipeline


@attrs.frozen(repr=False, eq=False)
class Breakdown(Mapping[Hashable, R], Generic[R]):
    """One result per group: a read-only mapping ``key -> result``.

    Deals whose key is ``None`` are grouped under ``None`` (never dropped).
    It compares equal to any mapping with the same items.

    Attributes:
        metric: What was measured in each group.
        by: The name of the grouping field; for several, the names joined with ", ".
        results: Key -> result; the keys are tuples when grouping by several fields.
        missing: How many deals lack an attribute named in ``by=`` and are grouped
            under ``None`` for it (0 for built-in fields and functions).
        fields: The name of each grouping field, in order.
        order: How the groups are ranked when shown (``"n"``, ``"value"`` or
            ``"key"``; see :meth:`sort`). Printing or displaying a breakdown
            in a notebook shows a ranked table with an interval bar per rate.
        complete: Every group, when :meth:`head` or :meth:`top` kept only
            some (``None`` otherwise), so that the overall rate and the group
            count shown are those of the whole breakdown.
    """

    metric: str
    by: str
    results: dict[Hashable, R]
    missing: int = 0
    fields: tuple[str, ...] = attrs.field(
        default=attrs.Factory(lambda self: (self.by,), takes_self=True)
    )
    order: Order = attrs.field(default="n", kw_only=True)
    complete: Mapping[Hashable, R] | None = attrs.field(default=None, kw_only=True)

    def __getitem__(self, key: Hashable) -> R:
        return self.results[key]

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict ``{key: result.to_dict()}`` (keys as strings)."""
        out: dict[str, Any] = {}
        for key, value in self.results.items():
            to_dict = getattr(value, "to_dict", None)
            if len(self.fields) > 1 and isinstance(key, tuple):
                text = ", ".join(map(str, key))
            else:
                text = str(key)
            out[text] = to_dict() if to_dict is not None else _plain(value)
        return {
            "metric": self.metric,
            "by": self.by,
            "fields": list(self.fields),
            "missing": self.missing,
            "results": out,
        }

    def __repr__(self) -> str:
        rows = ", ".join(f"{k!r}: {v!r}" for k, v in self.results.items())
        missing = f"; missing={self.missing}" if self.missing else ""
        return f"Breakdown({self.metric} by {self.by}: {{{rows}}}{missing})"

    def ranked(self) -> list[Hashable]:
        """The group keys in display order (see :meth:`sort`)."""
        from ._show import order_key

        return sorted(self.results, key=lambda k: order_key(self.order, k, self.results[k]))

    def sort(self, by: Order = "n") -> Breakdown[R]:
        """The same groups, shown and iterated in another order.

        Args:
            by: ``"n"`` (the default: most deals first; the denominator of a
                rate, the spells of a duration), ``"value"`` (highest rate,
                longest median, largest amount first) or ``"key"``.
        """
        if by not in ("n", "value", "key"):
            msg = f"sort must be 'n', 'value' or 'key', got {by!r}."
            raise ValueError(msg)
        ordered = attrs.evolve(self, order=by)
        return attrs.evolve(ordered, results={k: self.results[k] for k in ordered.ranked()})

    def head(self, k: int = 5, *, sort: Order | None = None) -> Breakdown[R]:
        """The first *k* groups in display order (by n unless *sort* says otherwise)."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            msg = f"k must be a whole number of groups (0 or more), got {k!r}."
            raise ValueError(msg)
        ordered = self.sort(sort or self.order)
        keys = list(ordered.results)[:k]
        return attrs.evolve(
            ordered,
            results={key: self.results[key] for key in keys},
            complete=self.complete if self.complete is not None else self.results,
        )

    def top(self, k: int = 5) -> Breakdown[R]:
        """The *k* groups with the highest value (rate, median, amount)."""
        return self.head(k, sort="value")

    def _sheet(self) -> Any:
        from ._show import breakdown_sheet

        return breakdown_sheet(self, self.ranked())

    def __str__(self) -> str:
        text: str = self._sheet().text()
        return text

    def _repr_html_(self) -> str:
        fragment: str = self._sheet().html()
        return fragment

    def to_frame(self, *, exact: bool = False) -> pd.DataFrame:
        """A pandas DataFrame: the group key (one column per field), then each group's frame.

        Args:
            exact: Amounts as exact ``Decimal`` objects instead of floats
                (for results whose ``to_frame`` has the option).
        """
        pd = pandas("Breakdown.to_frame()")
        parts = [(key, _frame_of(value, exact)) for key, value in self.results.items()]
        columns: set[str] = set().union(*(set(frame.columns) for _, frame in parts))
        names = _key_columns(self.fields, columns)
        if not parts:
            return build(pd, {name: pd.Series([], dtype=object) for name in names})
        several = len(names) > 1
        framed = []
        for key, frame in parts:
            frame = frame.copy()
            # With several fields, every key is a tuple of one value per field.
            values = cast("tuple[Hashable, ...]", key) if several else (key,)
            for i, (name, value) in enumerate(zip(names, values, strict=True)):
                frame.insert(i, name, pd.Series([value] * len(frame), dtype=object))
            framed.append(frame)
        out = concat(pd, framed)
        for name in names:
            keys = list(out[name])
            # Text keys get the string dtype; numbers, dates and mixed keys what pandas infers.
            text = all(isinstance(k, str) or k is None for k in keys)
            out[name] = result_texts(pd, keys) if text else pd.Series(keys)
        return out


@runtime_checkable
class _Framed(Protocol):
    """A result that makes its own frame (``Rate``, ``Funnel``, ``Report`` …)."""

    def to_frame(self) -> pd.DataFrame: ...


def _frame_of(value: object, exact: bool = False) -> pd.DataFrame:
    """The frame of one group's result: a metric result, stage summaries, money or a number."""
    if isinstance(value, _Framed) and not isinstance(value, Breakdown):
        if exact and "exact" in inspect.signature(value.to_frame).parameters:
            framed: pd.DataFrame = cast("Any", value).to_frame(exact=True)
            return framed
        return value.to_frame()
    if isinstance(value, Mapping) and all(isinstance(v, DurationSummary) for v in value.values()):
        return summaries_frame(value)
    if value is None or isinstance(value, Money):
        return value_frame(pandas(), value, exact=exact)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value_frame(pandas(), value)
    msg = f"Cannot make a frame of {type(value).__name__} {value!r}."
    raise TypeError(msg)


def _key_columns(fields: tuple[str, ...], taken: set[str]) -> list[str]:
    """A column name per grouping field: ``by_`` before a clash, a number after a repeat."""
    names: list[str] = []
    for field in fields:
        name = base = field if field not in taken else f"by_{field}"
        n = 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def breakdown(
    metric: str,
    deals: Iterable[Deal],
    by: By,
    compute: Callable[[list[Deal]], R],
    as_of: datetime | None = None,
) -> Breakdown[R]:
    """Group *deals* by *by* and apply *compute* to each group (keys sorted, None last)."""
    grouped = group(deals, by, as_of)
    results = {k: compute(members) for k, members in grouped.groups.items()}
    fields = grouped.fields
    return Breakdown(metric, ", ".join(fields), results, grouped.missing, fields)
