"""What every metric shares: the cut-off, the deal filter, breakdowns."""

from __future__ import annotations

import html
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from .._checks import aware
from .._deal import Deal
from .._pipeline import Pipeline

__all__ = ["Breakdown", "By", "Window"]

R = TypeVar("R")
#: A deal attribute to group by ("owner", "source", "currency", "stage", or a key of
#: ``deal.attributes``), or a function of the deal.
By = str | Callable[[Deal], Hashable]
Window = tuple[datetime, datetime]


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


def key_of(by: By, as_of: datetime | None = None) -> Callable[[Deal], Hashable]:
    """A function giving the breakdown key of a deal (``"stage"``: its stage at *as_of*)."""
    if callable(by):
        return by
    if by == "owner":
        return lambda d: d.owner
    if by == "source":
        return lambda d: d.source
    if by == "currency":
        return lambda d: None if d.value is None else d.value.currency
    if by == "stage":

        def stage_at(deal: Deal) -> Hashable:
            seen = cut(deal, as_of)
            return None if seen is None else seen[0][-1]

        return stage_at
    if by == "pipeline":
        return lambda d: d.pipeline.name
    if isinstance(by, str):
        return lambda d: d.attributes.get(by)
    msg = f"by must be a field name or a function of the deal, got {by!r}."
    raise TypeError(msg)


@attrs.frozen(repr=False, eq=False)
class Breakdown(Mapping[Hashable, R], Generic[R]):
    """One result per group: a read-only mapping ``key -> result``.

    Deals whose key is ``None`` are grouped under ``None`` (never dropped).
    It compares equal to any mapping with the same items.
    """

    metric: str
    by: str
    results: dict[Hashable, R]

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
            out[str(key)] = to_dict() if to_dict is not None else _plain(value)
        return {"metric": self.metric, "by": self.by, "results": out}

    def __repr__(self) -> str:
        rows = ", ".join(f"{k!r}: {v!r}" for k, v in self.results.items())
        return f"Breakdown({self.metric} by {self.by}: {{{rows}}})"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>"
            for k, v in self.results.items()
        )
        return (
            f"<table><caption>{esc(self.metric)} by {esc(self.by)}</caption>"
            f"<tr><th>{esc(self.by)}</th><th>{esc(self.metric)}</th></tr>{rows}</table>"
        )

    def to_frame(self) -> Any:
        """A pandas DataFrame: the group key, then the columns of each group's frame."""
        from .._frames import breakdown_frame

        return breakdown_frame(self)


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
    key = key_of(by, as_of)
    groups: dict[Hashable, list[Deal]] = {}
    for deal in deals:
        groups.setdefault(key(deal), []).append(deal)

    def order(k: Hashable) -> tuple[int, str]:
        return (k is None, str(k))

    results = {k: compute(groups[k]) for k in sorted(groups, key=order)}
    name = by if isinstance(by, str) else getattr(by, "__name__", "key")
    return Breakdown(metric, name, results)
