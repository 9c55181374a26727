"""The columnar lane: an immutable table of stage events, sorted by deal and time.

An :class:`EventTable` holds what the report needs as NumPy columns: per
event a stage code (``int8``, the stage's index in the pipeline) and a time
(``int64`` microseconds since the epoch, UTC); per deal the offsets of its
events, its value as a scaled ``int64`` (with the ``Decimal`` exponent it
had, so that sums keep the object lane's exact representation), and
dictionary codes for its currency, owner and source. What few deals carry
besides (event notes, touchpoints, attributes, lead links) is kept sparsely
as the model's own records, so :meth:`EventTable.to_deals` gives back equal
deals. A table is built only from deals the intake has checked (or from
deals, which are legal by construction), so it is always a set of legal
deals: nothing here re-checks a history.

NumPy and pyarrow are the ``salesflow[fast]`` extra, imported inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from ._deal import Deal, assemble, info_of, metas_of
from ._deal_info import NO_INFO, DealInfo, EventMeta, trusted_info
from ._money import trusted_money
from ._optional import require
from ._pipeline import Pipeline
from ._time import EPOCH, MICROSECOND
from .exceptions import LoadError, MoneyError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["EventTable", "fast_modules"]

_EXTRA = "salesflow[fast]"
#: Chunks of whole deals the columnar accumulators work on: small temporaries, few passes.
CHUNK = 65_536
# A value is kept as an int64 count of 10**-scale units: within that, sums are exact.
_INT64_MAX = 2**63 - 1


def fast_modules(feature: str) -> tuple[Any, Any]:
    """``numpy`` and ``pyarrow``, or :class:`~salesflow.MissingDependencyError` naming the extra."""
    np = require("numpy", _EXTRA, feature)
    pa = require("pyarrow", _EXTRA, feature)
    return np, pa


def _codes(items: Iterable[str | None]) -> tuple[list[int], tuple[str, ...]]:
    """Dictionary codes (-1 for ``None``) and the distinct texts, in order of first appearance."""
    found: dict[str, int] = {}
    codes = [-1 if x is None else found.setdefault(x, len(found)) for x in items]
    return codes, tuple(found)


def _has_extras(info: DealInfo) -> bool:
    return bool(
        info.touchpoints
        or info.attributes
        or info.lead_id is not None
        or info.lead_created_at
        or info.expected_close is not None
        or info.changes
    )


@attrs.frozen(eq=False, repr=False)
class EventTable:
    """Deals as columns: the fast lane for bulk analysis (extra ``salesflow[fast]``).

    Build one with :meth:`from_deals`, :meth:`from_frame` or
    :func:`salesflow.io.read_events_table`; measure it with
    :func:`salesflow.report` and the metrics that accept a table; get the
    deals back with :meth:`to_deals`. The columns are read-only NumPy arrays;
    deals come back with their times in UTC.

    Attributes:
        pipeline: The pipeline every deal is in.
        ids: The deal ids (a pyarrow string array), in table order.
        offsets: ``int64``, one more than there are deals: deal *i*'s events
            are ``offsets[i]:offsets[i + 1]``.
        stages: ``int8`` per event: the index of its stage in ``pipeline.stages``.
        times: ``int64`` per event: microseconds since the epoch, UTC; a
            deal's events in time order (equal times in their recorded order).
        values: ``int64`` per deal: its value in units of ``10**-scale``;
            -1 when it has none (values are never negative).
        exponents: ``int8`` per deal: the exponent of the value's ``Decimal``
            (``Decimal("12.50")`` has -2), so amounts come back as they were.
        scale: The decimal places of ``values``.
        currency: ``int16`` per deal: an index into ``currencies`` (-1: no value).
        currencies: The distinct currencies.
        owner: ``int32`` per deal: an index into ``owners`` (-1: none).
        owners: The distinct owners.
        source: ``int32`` per deal: an index into ``sources`` (-1: none).
        sources: The distinct sources.
        metas: Event row -> its actor, reason and note, for the events that have any.
        extras: Deal row -> its :class:`DealInfo`, for the deals with
            touchpoints, attributes, a lead, an expected close date or
            recorded field changes.
        rejects: What :func:`~salesflow.io.read_events_table` refused with
            ``errors="collect"`` (empty otherwise).
    """

    pipeline: Pipeline
    ids: Any
    offsets: npt.NDArray[np.int64]
    stages: npt.NDArray[np.int8]
    times: npt.NDArray[np.int64]
    values: npt.NDArray[np.int64]
    exponents: npt.NDArray[np.int8]
    scale: int
    currency: npt.NDArray[np.int16]
    currencies: tuple[str, ...]
    owner: npt.NDArray[np.int32]
    owners: tuple[str, ...]
    source: npt.NDArray[np.int32]
    sources: tuple[str, ...]
    metas: Mapping[int, EventMeta] = attrs.field(factory=dict)
    extras: Mapping[int, DealInfo] = attrs.field(factory=dict)
    rejects: tuple[LoadError, ...] = ()

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "metas", MappingProxyType(dict(self.metas)))
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))
        for name in ("offsets", "stages", "times", "values", "exponents", "currency"):
            getattr(self, name).flags.writeable = False
        self.owner.flags.writeable = False
        self.source.flags.writeable = False

    # ------------------------------------------------------------ building

    @classmethod
    def from_deals(cls, deals: Iterable[Deal], *, pipeline: Pipeline | None = None) -> EventTable:
        """The table of *deals*, in their order (all in one pipeline).

        Converting objects costs more than reporting on them: take this lane
        when data start in columns (a file, a frame), or when one set of
        deals is measured many times.

        Args:
            deals: The deals.
            pipeline: Their pipeline; needed only when there are no deals.

        Raises:
            ValueError: Deals in several pipelines, or no deals and no pipeline.
            MoneyError: A value too large (or too finely divided) for the
                table's 64-bit columns.
            MissingDependencyError: NumPy or pyarrow is not installed.
        """
        np, pa = fast_modules("EventTable.from_deals()")
        deals = list(deals)
        found = pipeline
        for deal in deals:
            if not isinstance(deal, Deal):
                msg = (
                    f"EventTable.from_deals() takes deals, got {type(deal).__name__} {deal!r:.60}."
                )
                raise TypeError(msg)
            if found is None:
                found = deal.pipeline
            elif deal.pipeline is not found and deal.pipeline != found:
                msg = (
                    f"Deal {deal.id!r} is in pipeline {deal.pipeline.name!r}, not {found.name!r}; "
                    "a table holds one pipeline's deals."
                )
                raise ValueError(msg)
        if found is None:
            msg = "EventTable.from_deals() of no deals needs pipeline=... to know its stages."
            raise ValueError(msg)
        code_of = {s.key: i for i, s in enumerate(found.stages)}
        lengths = [len(d.stage_keys) for d in deals]
        offsets = np.zeros(len(deals) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        stages = np.fromiter(
            (code_of[k] for d in deals for k in d.stage_keys), np.int8, int(offsets[-1])
        )
        times = np.fromiter(
            ((t - EPOCH) // MICROSECOND for d in deals for t in d.stage_times),
            np.int64,
            int(offsets[-1]),
        )
        metas: dict[int, EventMeta] = {}
        extras: dict[int, DealInfo] = {}
        for i, deal in enumerate(deals):
            found_metas = metas_of(deal)
            if found_metas is not None:
                start = int(offsets[i])
                metas.update((start + k, m) for k, m in enumerate(found_metas) if m is not None)
            info = info_of(deal)
            if info is not NO_INFO and _has_extras(info):
                extras[i] = info
        values, exponents, scale = _scaled([d.value for d in deals], np)
        currency, currencies = _codes(None if d.value is None else d.value.currency for d in deals)
        owner, owners = _codes(d.owner for d in deals)
        source, sources = _codes(d.source for d in deals)
        return cls(
            found,
            pa.array([d.id for d in deals], pa.string()),
            offsets,
            stages,
            times,
            values,
            exponents,
            scale,
            np.array(currency, np.int16),
            currencies,
            np.array(owner, np.int32),
            owners,
            np.array(source, np.int32),
            sources,
            metas,
            extras,
        )

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        pipeline: Pipeline,
        *,
        columns: Mapping[str, str | None] | None = None,
        **options: Any,
    ) -> EventTable:
        """The table of an event-shaped frame (pandas, polars or pyarrow): one row per stage change.

        The frame is read by :func:`salesflow.io.from_frame`, so its rows are
        checked by the same rules and refused with the same
        :class:`~salesflow.LoadError`\\ s as a file's; a polars or pyarrow
        frame goes to pandas through Arrow first.

        Args:
            frame: A ``pandas.DataFrame``, ``polars.DataFrame`` or ``pyarrow.Table``.
            pipeline: The pipeline the stages belong to.
            columns: Logical field -> the frame's column name, as for
                :func:`salesflow.io.read_events_csv` (``None`` ignores a field).
            **options: Any other option of :func:`salesflow.io.from_frame`
                (``timezone``, ``default_currency``, ``errors`` …).

        Raises:
            LoadError: A row is bad (with ``errors="raise"``, the default).
            MissingDependencyError: NumPy, pyarrow or pandas is not installed.
        """
        from .io._frame import from_frame

        _, pa = fast_modules("EventTable.from_frame()")
        if isinstance(frame, pa.Table):
            frame = frame.to_pandas()
        elif type(frame).__module__.split(".")[0] == "polars":
            frame = frame.to_arrow().to_pandas()
        names: dict[str, Any] = dict(columns or {})
        loaded = from_frame(frame, pipeline, **names, **options)
        return cls.from_deals(loaded.deals, pipeline=pipeline)

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def events(self) -> int:
        """How many stage changes the table holds."""
        return len(self.stages)

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns (ids included; the sparse records not)."""
        arrays = (self.offsets, self.stages, self.times, self.values, self.exponents)
        return (
            sum(a.nbytes for a in arrays)
            + self.currency.nbytes
            + self.owner.nbytes
            + self.source.nbytes
            + int(self.ids.nbytes)
        )

    def __repr__(self) -> str:
        return f"<EventTable {self.pipeline.name!r}: {len(self)} deals, {self.events} events>"

    def chunks(self, size: int | None = None) -> Iterator[tuple[int, int]]:
        """``(first, stop)`` deal rows of consecutive chunks of at most *size* whole deals."""
        size = size or CHUNK
        n = len(self)
        for first in range(0, n, size):
            yield first, min(first + size, n)

    @property
    def has_field_changes(self) -> bool:
        """True if a deal recorded field changes (value, owner … over time).

        The columns hold each deal's current fields, so the report and the
        metrics compute such a table on :meth:`to_deals`, where a past
        cut-off sees the fields as they were.
        """
        return any(info.changes for info in self.extras.values())

    def take(self, rows: Sequence[int] | Any) -> EventTable:
        """A new table of the deals at *rows* (table positions), in that order."""
        np, _ = fast_modules("EventTable.take()")
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # Every picked event: its deal's start, plus its place in the deal.
        events = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        new_of_event = {int(e): k for k, e in enumerate(events.tolist()) if int(e) in self.metas}
        new_of_deal = {int(r): k for k, r in enumerate(rows.tolist())}
        return attrs.evolve(
            self,
            ids=self.ids.take(rows),
            offsets=offsets,
            stages=self.stages[events],
            times=self.times[events],
            values=self.values[rows],
            exponents=self.exponents[rows],
            currency=self.currency[rows],
            owner=self.owner[rows],
            source=self.source[rows],
            metas={new: self.metas[old] for old, new in new_of_event.items()},
            extras={new_of_deal[r]: info for r, info in self.extras.items() if r in new_of_deal},
        )

    def value_of(self, row: int) -> Decimal | None:
        """The value amount of the deal at *row* as it was given (``None`` without one)."""
        scaled = int(self.values[row])
        if scaled < 0:
            return None
        exponent = int(self.exponents[row])
        return Decimal(scaled // 10 ** (self.scale + exponent)).scaleb(exponent)

    def to_deals(self) -> list[Deal]:
        """The deals, equal to those the table was built from (times in UTC).

        Each deal is assembled by the model's trusted constructor: the table
        holds only legal histories, so none is replayed again.
        """
        keys = [s.key for s in self.pipeline.stages]
        stage_keys = [keys[c] for c in self.stages.tolist()]
        times = [EPOCH + timedelta(microseconds=t) for t in self.times.tolist()]
        bounds = self.offsets.tolist()
        ids = self.ids.to_pylist()
        currency = self.currency.tolist()
        owner = self.owner.tolist()
        source = self.source.tolist()
        deals = []
        for i, deal_id in enumerate(ids):
            start, stop = bounds[i], bounds[i + 1]
            info = self.extras.get(i)
            if info is None:
                amount = self.value_of(i)
                value = (
                    None if amount is None else trusted_money(amount, self.currencies[currency[i]])
                )
                who = None if owner[i] < 0 else self.owners[owner[i]]
                where = None if source[i] < 0 else self.sources[source[i]]
                info = (
                    NO_INFO
                    if value is None and who is None and where is None
                    else trusted_info(value=value, owner=who, source=where, attributes=None)
                )
            metas = None
            if self.metas:
                found = tuple(self.metas.get(k) for k in range(start, stop))
                metas = found if any(found) else None
            deals.append(
                assemble(
                    self.pipeline,
                    deal_id,
                    tuple(stage_keys[start:stop]),
                    tuple(times[start:stop]),
                    metas,
                    info,
                )
            )
        return deals


def _scaled(values: Sequence[Any], np: Any) -> tuple[Any, Any, int]:
    """Values as int64 units of ``10**-scale`` (-1 for none), their exponents, and the scale.

    Raises:
        MoneyError: A value does not fit the table's 64-bit columns.
    """
    # Loaders share one Money per distinct amount: work out each distinct one once.
    distinct = {id(v): v for v in values if v is not None}
    exponent_of = {k: int(v.amount.as_tuple().exponent) for k, v in distinct.items()}
    scale = max([0, *(-e for e in exponent_of.values())])
    units_of: dict[int, int] = {}
    for k, v in distinct.items():
        units = int(v.amount.scaleb(scale))
        if units > _INT64_MAX or not -128 <= exponent_of[k] <= 127:
            msg = (
                f"Deal value {v!r} does not fit an EventTable (at most {_INT64_MAX} units of "
                f"10**-{scale}); measure these deals in the object lane."
            )
            raise MoneyError(msg, value=v)
        units_of[k] = units
    units_of[id(None)] = -1
    exponent_of[id(None)] = 0
    keys = [id(v) for v in values]
    scaled = np.fromiter(map(units_of.__getitem__, keys), np.int64, len(keys))
    exponents = np.fromiter(map(exponent_of.__getitem__, keys), np.int8, len(keys))
    return scaled, exponents, scale
