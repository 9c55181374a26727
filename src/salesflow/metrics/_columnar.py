"""The report's accumulators over an :class:`~salesflow.EventTable`: vectorised, chunk by chunk.

:func:`accumulate` reads a chunk of whole deals and fills the very
:class:`~salesflow.metrics._report.ReportAccumulator` the object lane fills
deal by deal (the funnel's path counts, the win-rate counts, the value sums
with their exact ``Decimal`` representation, the sales-cycle counts), so the
partial states of chunks, of partitions on other machines and of the object
lane merge the same way and give the same numbers. One part differs in
shape: the spells of time in stage are kept as NumPy arrays of distinct
durations and their counts (:class:`SpellCounts`), which the object lane
keeps as lists; both give :class:`DurationSummary` the same counts. The
value parts keep no per-deal amounts (the report uses no median).

Every step is an element-wise pass over the chunk's events or deals; the
only sorts are the ``unique`` of each stage's durations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._pipeline import Pipeline
from .._time import stamp
from ..exceptions import CurrencyMismatchError
from ._common import Window
from ._conversion import WinRateAccumulator
from ._report import ReportAccumulator
from ._summary import DurationMethod, DurationSummary
from ._survival import KaplanMeier
from ._timing import SalesCycleAccumulator
from ._value import ValueAccumulator

if TYPE_CHECKING:
    from .._table import EventTable

__all__ = ["SpellCounts", "accumulate", "reduce_tree"]

# Decimal's default context keeps 28 digits: past that the object lane rounds.
_DIGITS = 10**28
_INT64_LIMIT = 2**63 - 1
Pairs = list[tuple[Any, Any]]


def _counted(np: Any, values: Any) -> tuple[Any, Any]:
    return cast("tuple[Any, Any]", np.unique(values, return_counts=True))


def _compact(np: Any, pairs: Pairs) -> tuple[Any, Any]:
    """One ``(distinct values, counts)`` pair from several."""
    if len(pairs) == 1:
        return pairs[0]
    values = np.concatenate([v for v, _ in pairs])
    counts = np.concatenate([c for _, c in pairs])
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, np.bincount(inverse, weights=counts, minlength=len(distinct)).astype(np.int64)


def _as_dict(pair: tuple[Any, Any], shift: int = 0) -> dict[int, int]:
    values, counts = pair
    return dict(zip((values + shift).tolist(), counts.tolist(), strict=True))


@attrs.define
class SpellCounts:
    """Time in stage, columnar: per open stage, distinct spell durations and their counts.

    The same sufficient statistics as
    :class:`~salesflow.metrics._timing.TimeInStageAccumulator` (ended spells,
    and open spells as offsets from the cut-off), as NumPy arrays; merging
    appends, and :meth:`result` counts once.
    """

    pipeline: Pipeline
    as_of: datetime | None = None
    latest: int | None = None
    ended: dict[str, Pairs] = attrs.field(factory=dict)
    open: dict[str, Pairs] = attrs.field(factory=dict)

    def merge(self, other: SpellCounts) -> SpellCounts:
        """A new accumulator holding both parts."""
        latest = max((x for x in (self.latest, other.latest) if x is not None), default=None)

        def joined(mine: dict[str, Pairs], theirs: dict[str, Pairs]) -> dict[str, Pairs]:
            return {k: [*mine.get(k, ()), *theirs.get(k, ())] for k in mine.keys() | theirs.keys()}

        return SpellCounts(
            self.pipeline,
            self.as_of,
            latest,
            joined(self.ended, other.ended),
            joined(self.open, other.open),
        )

    def compacted(self) -> SpellCounts:
        """The same counts with one array pair per stage (smaller to send between machines)."""
        import numpy as np

        return attrs.evolve(
            self,
            ended={k: [_compact(np, v)] for k, v in self.ended.items() if v},
            open={k: [_compact(np, v)] for k, v in self.open.items() if v},
        )

    def result(self, method: DurationMethod = "km") -> dict[str, DurationSummary]:
        """One summary per open stage, in pipeline order."""
        import numpy as np

        cutoff = stamp(self.as_of) if self.as_of is not None else self.latest or 0
        out = {}
        nothing = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        for stage in self.pipeline.open_stages:
            ended = _compact(np, self.ended[stage.key]) if self.ended.get(stage.key) else nothing
            still = _compact(np, self.open[stage.key]) if self.open.get(stage.key) else nothing
            still = (still[0] + cutoff, still[1])
            # The dicts are new: hand them over without the copy DurationSummary.of makes.
            summary = DurationSummary(method, _as_dict(ended), _as_dict(still))
            if method == "km" and len(ended[0]) + len(still[0]):
                # The curve the summary would build from these counts, built on the arrays.
                summary._cache["km"] = _curve(np, ended, still)
            out[stage.key] = summary
        return out


def _curve(np: Any, ended: tuple[Any, Any], still: tuple[Any, Any]) -> KaplanMeier[float]:
    """:meth:`KaplanMeier.from_counts` of these counts, column by column in NumPy.

    The same arithmetic in the same order (at-risk counts as exact integers,
    each factor ``(r - d) / r`` one IEEE division, the product accumulated
    left to right), so the same floats; the identity property compares them.
    """
    # Both are sorted and distinct: a stable sort of the two runs, then the repeats dropped.
    times = np.sort(np.concatenate((ended[0], still[0])), kind="stable")
    if len(times) > 1:
        times = times[np.concatenate(([True], times[1:] != times[:-1]))]
    events = np.zeros(len(times), np.int64)
    events[np.searchsorted(times, ended[0])] = ended[1]
    censored = np.zeros(len(times), np.int64)
    censored[np.searchsorted(times, still[0])] = still[1]
    total = int(events.sum() + censored.sum())
    removed = np.concatenate(([0], np.cumsum(events + censored)[:-1]))
    at_risk = total - removed
    factors = np.where(events > 0, (at_risk - events) / at_risk, 1.0)
    return KaplanMeier(
        tuple(times.tolist()),
        tuple(at_risk.tolist()),
        tuple(events.tolist()),
        tuple(censored.tolist()),
        tuple(np.cumprod(factors).tolist()),
    )


def _window(np: Any, times: Any, between: tuple[int, int] | None) -> Any:
    if between is None:
        return np.ones(len(times), dtype=bool)
    return (times >= between[0]) & (times < between[1])


def _paths(
    np: Any, table: EventTable, codes: Any, starts: Any, seen: Any, chosen: Any
) -> Counter[tuple[str, ...]]:
    """How many of the *chosen* deals took each distinct path (their first *seen* stages)."""
    keys = [s.key for s in table.pipeline.stages]
    base = len(keys) + 1
    longest = 1
    while base ** (longest + 1) < 2**62:
        longest += 1
    found: Counter[tuple[str, ...]] = Counter()
    short = chosen & (seen <= longest)
    if short.any():
        # A path of stage codes read as the digits (code + 1) of a number in base len + 1.
        lengths = np.diff(np.append(starts, len(codes)))
        place = np.arange(len(codes)) - np.repeat(starts, lengths)
        kept = place < np.repeat(seen, lengths)
        power = base ** np.minimum(place, longest).astype(np.int64)
        digits = np.where(kept, (codes.astype(np.int64) + 1) * power, 0)
        number = np.add.reduceat(digits, starts)
        for value, count in zip(*(a.tolist() for a in _counted(np, number[short])), strict=True):
            path = []
            while value:
                value, digit = divmod(value, base)
                path.append(keys[digit - 1])
            found[tuple(path)] += count
    for row in np.flatnonzero(chosen & ~short).tolist():
        start = int(starts[row])
        path_codes = codes[start : start + int(seen[row])].tolist()
        found[tuple(keys[c] for c in path_codes)] += 1
    return found


def _decimal_sum(units: Any, exponents: Any, scale: int, np: Any) -> Decimal | None:
    """Σ of values given as int64 units of 10**-scale, with the exponent Decimal addition gives.

    ``None`` when the object lane would round (past 28 digits): the caller adds them one by one.
    """
    if not len(units):
        return Decimal(0)
    top = int(units.max())
    total = int(units.sum()) if top * len(units) <= _INT64_LIMIT else sum(units.tolist())
    # Decimal addition keeps the smallest exponent of its terms (and of the starting 0).
    exponent = min(0, int(exponents.min()))
    coefficient = total // 10 ** (scale + exponent)
    if coefficient >= _DIGITS:
        return None
    return Decimal(coefficient).scaleb(exponent)


def _fill_values(
    acc: ValueAccumulator,
    table: EventTable,
    rows: Any,
    stages: Any,
    weights: Mapping[str, Decimal] | None,
    np: Any,
) -> None:
    """Fill *acc* with the values of the deals at *rows* (in table order), in *stages* at the cut."""
    units = table.values[rows]
    valued = units >= 0
    acc.no_value = int(len(units) - valued.sum())
    if not valued.any():
        return
    units = units[valued]
    currency = table.currency[rows][valued]
    first = int(currency[0])
    acc.currency = table.currencies[first]
    other = currency != first
    if other.any():
        theirs = table.currencies[int(currency[int(np.argmax(other))])]
        msg = f"Cannot add {theirs} and {acc.currency} deal values; use by='currency'."
        raise CurrencyMismatchError(msg, currencies=(acc.currency, theirs))
    exponents = table.exponents[rows][valued].astype(np.int64)
    acc.count = len(units)
    total = _decimal_sum(units, exponents, table.scale, np)
    if total is None:
        total = sum((table.value_of(int(r)) or Decimal(0) for r in rows[valued]), Decimal(0))
    acc.total = total
    if weights is None:
        return
    codes = stages[valued]
    keys = [s.key for s in table.pipeline.stages]
    parts = []
    for code in np.unique(codes).tolist():
        sign, digits, exp = weights[keys[code]].as_tuple()
        coefficient = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        mask = codes == code
        parts.append((coefficient, int(exp), units[mask], exponents[mask]))
    exact = all(
        abs(c) * int(u.max()) < _DIGITS and abs(c) * sum(u.tolist()) < _DIGITS
        for c, _, u, _ in parts
    )
    if exact:
        # Σ value × weight, at the smallest exponent the products and the starting 0 have.
        lowest = min(exp for _, exp, _, _ in parts) - table.scale
        number = sum(
            c * sum(u.tolist()) * 10 ** (exp - table.scale - lowest) for c, exp, u, _ in parts
        )
        target = min(0, *(int(e.min()) + exp for _, exp, _, e in parts))
        acc.weighted = Decimal(number // 10 ** (target - lowest)).scaleb(target)
        return
    weighted = Decimal(0)  # past 28 digits: round as the object lane does, deal by deal
    for row, code in zip(rows[valued].tolist(), codes.tolist(), strict=True):
        weighted += (table.value_of(row) or Decimal(0)) * weights[keys[code]]
    acc.weighted = weighted


def accumulate(  # noqa: PLR0915 - one pass over one chunk, kept whole to read as the object lane
    table: EventTable,
    first: int,
    stop: int,
    *,
    as_of: datetime | None,
    between: Window | None,
    weights: dict[str, Decimal] | None,
) -> ReportAccumulator:
    """The report's partial state of the deals ``first:stop`` of *table*.

    The same state :meth:`ReportAccumulator.add` builds from the deals (see
    the module's docstring), so partial states merge with
    :meth:`ReportAccumulator.merge`.
    """
    import numpy as np

    pipeline = table.pipeline
    acc = ReportAccumulator(pipeline, as_of, between, weights)
    window = None if between is None else (stamp(between[0]), stamp(between[1]))
    bounds = table.offsets[first : stop + 1]
    if len(bounds) < 2:
        acc.stages = cast("Any", SpellCounts(pipeline, as_of))
        return acc
    low, high = int(bounds[0]), int(bounds[-1])
    codes = table.stages[low:high]
    times = table.times[low:high]
    starts = bounds[:-1] - low
    lengths = np.diff(bounds)
    if as_of is None:
        seen = lengths
    else:
        seen = np.add.reduceat((times <= stamp(as_of)).astype(np.int64), starts)
    alive = seen > 0
    last = starts + np.maximum(seen, 1) - 1
    final = codes[last]
    first_at, last_at = times[starts], times[last]
    is_open = np.array([s.is_open for s in pipeline.stages])
    is_won = np.array([s.is_won for s in pipeline.stages])
    final_open = alive & is_open[final]
    final_won = alive & is_won[final]
    final_lost = alive & ~is_open[final] & ~is_won[final]
    created_in = _window(np, first_at, window)
    closed_in = _window(np, last_at, window)

    acc.deals = int(alive.sum())
    acc.opportunities = int((final_open & created_in).sum())
    chosen = alive & created_in
    acc.funnel.paths = _paths(np, table, codes, starts, seen, chosen)

    # Time in stage: every spell in an open stage of a chosen deal, up to the cut.
    latest = int(last_at[alive].max()) if alive.any() else None
    spells = SpellCounts(pipeline, as_of, latest)
    deal_of = np.repeat(np.arange(len(lengths)), lengths)
    place = np.arange(len(codes)) - np.repeat(starts, lengths)
    seen_of = seen[deal_of]
    counted = chosen[deal_of] & is_open[codes] & (place < seen_of)
    ending = counted & (place < seen_of - 1)
    following = np.empty_like(times)
    following[:-1] = times[1:]
    spent = (following - times)[ending]
    spent_codes = codes[ending]
    still_codes = codes[counted & ~ending]
    still_at = times[counted & ~ending]
    for code, stage in enumerate(pipeline.stages):
        if not stage.is_open:
            continue
        durations = spent[spent_codes == code]
        if len(durations):
            spells.ended[stage.key] = [_counted(np, durations)]
        entered = still_at[still_codes == code]
        if len(entered):
            spells.open[stage.key] = [_counted(np, -entered)]
    acc.stages = cast("Any", spells)

    closed = (final_won | final_lost) & closed_in
    acc.wins = WinRateAccumulator("count", as_of, between, won=int((closed & final_won).sum()))
    acc.wins.lost = int((closed & final_lost).sum())

    won_rows = np.flatnonzero(final_won & closed_in) + first
    _fill_values(acc.won, table, won_rows, final[won_rows - first], None, np)
    open_rows = np.flatnonzero(final_open & created_in) + first
    _fill_values(acc.open, table, open_rows, final[open_rows - first], weights, np)

    cycles = SalesCycleAccumulator("won", "deal", as_of, between, latest=latest)
    won_in = final_won & closed_in
    cycles.ended = Counter(_as_dict(_counted(np, (last_at - first_at)[won_in])))
    cycles.open = Counter(_as_dict(_counted(np, -first_at[final_open & created_in])))
    acc.cycles = cycles
    return acc


def reduce_tree(parts: list[ReportAccumulator]) -> ReportAccumulator:
    """Merge partial states pairwise, level by level (each count is copied O(log n) times)."""
    while len(parts) > 1:
        parts = [
            parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]
