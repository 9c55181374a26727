"""What moved between two dates: the pipeline waterfall.

``pipeline_changes(deals, start, end)`` replays each deal's stage changes and
field changes in time order and sorts what happened in the window
``[start, end)`` into buckets, each a count and an amount. The buckets that
enter or leave the open pipeline telescope: per deal, what was open at the
start, plus what entered (created, reopened), minus what left (won, lost),
plus the value changes while open, is what is open at the end. Summed over
deals this is the waterfall identity, exact in count and in amount.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .._deal import Deal
from .._frames import build, decimal_series, int_series, text_series
from .._money import Money
from .._optional import pandas
from ..exceptions import CurrencyMismatchError
from ._common import Breakdown, By, breakdown, deals_of
from ._common import check_between as _check_between

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd

__all__ = ["Bucket", "Waterfall", "WaterfallAccumulator", "closes_before", "pipeline_changes"]

#: The buckets of a waterfall, in the order they are shown.
NAMES = (
    "open_at_start",
    "created",
    "advanced",
    "regressed",
    "value_up",
    "value_down",
    "pulled_in",
    "pushed_out",
    "won",
    "lost",
    "reopened",
    "open_at_end",
)

#: A bucket shown beside the waterfall: pushed out from inside the window to after it.
EXTRA = ("pushed_out_of_window",)

_FLOWS = ("open_at_start", "created", "won", "lost", "reopened", "open_at_end")


def closes_before(day: date, end: datetime) -> bool:
    """True when a deal expected to close on *day* is expected within a window ending at *end*.

    The day begins at midnight in *end*'s zone; it is in the window when it
    begins before *end* (so a window ending at midnight on 1 April holds
    31 March, not 1 April).
    """
    return datetime.combine(day, time(0), tzinfo=end.tzinfo) < end


@attrs.frozen
class Bucket:
    """One bar of a waterfall: how many deals (or events) and their amount.

    Attributes:
        count: Deals (for the movement buckets) or events (entering and
            leaving the pipeline; a deal won, reopened and won again in the
            window counts twice in ``won``).
        amount: Their value, in the waterfall's currency; ``None`` when no
            deal in the waterfall has a value. Deals without a value count
            in ``count`` and add nothing to ``amount``.
    """

    count: int
    amount: Money | None

    def __str__(self) -> str:
        return f"{self.count}" + ("" if self.amount is None else f" ({self.amount})")


def _name(name: str) -> str:
    key = name.strip().replace(" ", "_").replace("-", "_")
    if key not in NAMES and key not in EXTRA:
        msg = f"A waterfall has no bucket {name!r}; its buckets are {', '.join(NAMES + EXTRA)}."
        raise KeyError(msg)
    return key


@attrs.frozen(repr=False, eq=False)
class Waterfall(Mapping[str, Bucket]):
    """The pipeline's movement between *start* and *end*, bucket by bucket.

    A read-only mapping ``name -> Bucket`` over :attr:`names`, in order;
    ``waterfall["pushed_out_of_window"]`` is also there (the deals pushed
    from inside the window to after it). Names may be written with spaces
    (``"pushed out"``).

    Attributes:
        start: The window's start (inclusive).
        end: The window's end (exclusive).
        currency: The currency of every amount (``None`` when no deal has a value).
        buckets: Name -> bucket.
        members: Name -> the deals in that bucket, in input order.
    """

    names = NAMES

    start: datetime
    end: datetime
    currency: str | None
    buckets: Mapping[str, Bucket]
    members: Mapping[str, tuple[Deal, ...]]

    def __getitem__(self, name: str) -> Bucket:
        return self.buckets[_name(name)]

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)

    def deals(self, name: str) -> tuple[Deal, ...]:
        """The deals in bucket *name* (each once), in the order they were given."""
        return self.members[_name(name)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Waterfall):
            return NotImplemented
        return (self.start, self.end, dict(self.buckets)) == (
            other.start,
            other.end,
            dict(other.buckets),
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the window, the currency and ``{name: {count, amount}}``."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "currency": self.currency,
            "buckets": {
                name: {
                    "count": b.count,
                    "amount": None if b.amount is None else str(b.amount.amount),
                }
                for name, b in self.buckets.items()
            },
        }

    def __repr__(self) -> str:
        rows = ", ".join(f"{n}={self.buckets[n]}" for n in NAMES)
        return f"<Waterfall {self.start.isoformat()} to {self.end.isoformat()}: {rows}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(n.replace('_', ' '))}</td><td>{self.buckets[n].count}</td>"
            f"<td>{'' if self.buckets[n].amount is None else esc(str(self.buckets[n].amount))}</td></tr>"
            for n in (*NAMES, *EXTRA)
        )
        caption = f"pipeline changes {self.start.isoformat()} to {self.end.isoformat()}"
        return (
            f"<table><caption>{esc(caption)}</caption>"
            f"<tr><th>bucket</th><th>count</th><th>amount</th></tr>{rows}</table>"
        )

    def to_frame(self, *, decimal: str = "float") -> pd.DataFrame:
        """A pandas DataFrame, one row per bucket: bucket, count, amount, currency."""
        pd = pandas("Waterfall.to_frame()")
        names = [*NAMES, *EXTRA]
        amounts = [
            None if self.buckets[n].amount is None else self.buckets[n].amount.amount  # type: ignore[union-attr]
            for n in names
        ]
        return build(
            pd,
            {
                "bucket": text_series(pd, names),
                "count": int_series(pd, [self.buckets[n].count for n in names]),
                "amount": decimal_series(pd, amounts, decimal),
                "currency": text_series(pd, [self.currency] * len(names)),
            },
        )


def _initial(deal: Deal, field: str) -> Any:
    """The deal's *field* before its first recorded change of it."""
    for change in deal.changes:
        if change.field == field:
            return change.old
    return getattr(deal, field)


@attrs.define
class WaterfallAccumulator:
    """Counts, amounts and members of each bucket over ``[start, end)``; exactly mergeable."""

    start: datetime
    end: datetime
    currency: str | None = None
    counts: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(NAMES + EXTRA, 0))
    amounts: dict[str, Decimal] = attrs.field(
        factory=lambda: dict.fromkeys(NAMES + EXTRA, Decimal(0))
    )
    members: dict[str, list[Deal]] = attrs.field(factory=lambda: {n: [] for n in NAMES + EXTRA})

    def _amount(self, value: Money | None) -> Decimal:
        if value is None:
            return Decimal(0)
        if self.currency is None:
            self.currency = value.currency
        elif value.currency != self.currency:
            msg = (
                f"Cannot add {value.currency} and {self.currency} amounts in one waterfall; "
                "use by='currency'."
            )
            raise CurrencyMismatchError(msg, currencies=(self.currency, value.currency))
        return value.amount

    def add(self, deal: Deal) -> None:  # noqa: C901, PLR0912 - one replay, one branch per event kind
        """Replay *deal* and add what it did in the window to the buckets."""
        start, end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        table = deal.pipeline.table
        # At equal times: the creation, then field changes (made on the deal as it
        # was), then the stage change (win(value=...) records the value first).
        events: list[tuple[datetime, int, int, Any]] = [
            (t.astimezone(UTC), 0 if i == 0 else 2, i, k)
            for i, (k, t) in enumerate(zip(deal.stage_keys, deal.stage_times, strict=True))
        ]
        events += [(c.at.astimezone(UTC), 1, j, c) for j, c in enumerate(deal.changes)]
        events.sort(key=lambda e: e[:3])
        stage = None
        value: Money | None = _initial(deal, "value")
        flows: dict[str, tuple[int, Decimal]] = {}
        moved: dict[str, Decimal] = {}  # movement buckets: the deal's value at its last such event
        net = Decimal(0)
        changed_value = False
        started = False

        def flow(name: str) -> None:
            count, amount = flows.get(name, (0, Decimal(0)))
            flows[name] = (count + 1, amount + self._amount(value))

        for at, _, _, item in events:
            if at >= end:
                break
            if not started and at >= start:
                started = True
                if stage is not None and stage.is_open:
                    flow("open_at_start")
            inside = started
            if isinstance(item, str):
                target = table.by_key[item]
                if inside:
                    if stage is None:
                        flow("created")
                    elif stage.is_open and target.is_open:
                        up = (table.rank[target.key] or 0) > (table.rank[stage.key] or 0)
                        moved["advanced" if up else "regressed"] = self._amount(value)
                    elif stage.is_open:
                        flow("won" if target.is_won else "lost")
                    elif target.is_open:
                        flow("reopened")
                stage = target
                continue
            change = item
            open_now = stage is not None and stage.is_open
            if change.field == "value":
                if inside and open_now:
                    before = self._amount(change.old)
                    net += self._amount(change.new) - before
                    changed_value = True
                value = change.new
            elif change.field == "expected_close" and inside and open_now:
                old, new = change.old, change.new
                if old is not None and new is not None:
                    moved["pulled_in" if new < old else "pushed_out"] = self._amount(value)
                    if (
                        new > old
                        and closes_before(old, self.end)
                        and not closes_before(new, self.end)
                    ):
                        moved["pushed_out_of_window"] = self._amount(value)
        if not started and stage is not None and stage.is_open:
            flow("open_at_start")
        if stage is not None and stage.is_open:
            flow("open_at_end")
        if changed_value and net:
            moved["value_up" if net > 0 else "value_down"] = abs(net)
        for name, (count, amount) in flows.items():
            self._put(name, deal, count, amount)
        for name, amount in moved.items():
            self._put(name, deal, 1, amount)

    def _put(self, name: str, deal: Deal, count: int, amount: Decimal) -> None:
        self.counts[name] += count
        self.amounts[name] += amount
        self.members[name].append(deal)

    def merge(self, other: WaterfallAccumulator) -> WaterfallAccumulator:
        """A new accumulator holding both parts (same window)."""
        if (self.start, self.end) != (other.start, other.end):
            msg = "Cannot merge waterfalls over different windows."
            raise ValueError(msg)
        currencies = sorted({c for c in (self.currency, other.currency) if c is not None})
        if len(currencies) > 1:
            msg = f"Cannot merge waterfalls in {currencies}."
            raise CurrencyMismatchError(msg, currencies=currencies)
        return WaterfallAccumulator(
            self.start,
            self.end,
            self.currency or other.currency,
            {n: self.counts[n] + other.counts[n] for n in self.counts},
            {n: self.amounts[n] + other.amounts[n] for n in self.amounts},
            {n: [*self.members[n], *other.members[n]] for n in self.members},
        )

    def result(self) -> Waterfall:
        """The waterfall."""
        currency = self.currency
        return Waterfall(
            self.start,
            self.end,
            currency,
            {
                n: Bucket(
                    self.counts[n], None if currency is None else Money(self.amounts[n], currency)
                )
                for n in NAMES + EXTRA
            },
            {n: tuple(self.members[n]) for n in NAMES + EXTRA},
        )


def pipeline_changes(
    deals: Iterable[Deal], start: datetime, end: datetime, *, by: By | None = None
) -> Waterfall | Breakdown[Waterfall]:
    """What moved in the pipeline between *start* (inclusive) and *end* (exclusive).

    Each deal's stage changes and field changes are replayed in time order
    (at equal times: its creation, then field changes, then the stage change).
    The buckets, each a count and an amount:

    * ``open_at_start`` / ``open_at_end``: open just before *start* / *end*;
    * ``created``, ``won``, ``lost``, ``reopened``: events in the window
      (amount: the deal's value at the event);
    * ``advanced`` / ``regressed``: deals that moved forward / back between
      open stages (amount: value at the last such move);
    * ``value_up`` / ``value_down``: deals whose value rose / fell in net
      while open in the window (amount: the net change, positive);
    * ``pulled_in`` / ``pushed_out``: deals whose expected close date moved
      earlier / later while open (amount: value at the last such change);
      ``pushed_out_of_window`` those pushed from inside the window to after
      it (see :func:`closes_before`).

    The identity ``open_at_end = open_at_start + created + reopened − won −
    lost`` holds exactly in count, and in amount once ``value_up −
    value_down`` is added. Mirrors Clari's pipeline "flow" and Salesforce's
    historical trending of opportunities.

    Args:
        deals: The deals.
        start: The window's start (aware).
        end: The window's end (aware, not before *start*).
        by: Group the deals (see :data:`~salesflow.metrics.By`; fields that
            depend on the cut-off are taken at *end*) and give one waterfall
            per group.

    Raises:
        CurrencyMismatchError: Deals in several currencies (use ``by="currency"``).
        TypeError, ValueError: A naive time, or *end* before *start*.
    """
    _check_between((start, end))
    deals = deals_of(deals, "pipeline_changes")

    def compute(members: Iterable[Deal]) -> Waterfall:
        acc = WaterfallAccumulator(start, end)
        for deal in members:
            acc.add(deal)
        return acc.result()

    if by is None:
        return compute(deals)
    return breakdown("pipeline changes", deals, by, compute, end)
