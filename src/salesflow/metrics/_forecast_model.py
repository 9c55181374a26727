"""What the forecast learns from history: transition and time-in-stage tables.

The simulation (``_simulate.py``) draws each open deal's path from tables that
this module builds from the deals as they were at the cut-off:

* per open stage, where a deal goes when it leaves (the observed moves, as in
  :func:`~salesflow.metrics.transition_counts`), as a table of 2^16 equally
  likely destinations;
* per open stage, how long a stay lasts: the Kaplan-Meier curve of every
  stay in the stage, the stays still open at the cut-off censored there, as a
  table of 2^12 equally likely quantiles (a stay the curve never ends, past
  its last observed time, is ``NEVER``);
* per open deal, how much longer its *current* stay lasts given the time
  already spent in it, S(t) / S(age), as a table of 2^10 quantiles.

Quantile tables make a draw one integer look-up in both lanes (pure Python
and NumPy), so the two give identical results for the same seed; they resolve
probabilities to 1/65,536, and stay lengths to 1/4,096 of their distribution
(1/1,024 for the first, age-conditioned stay).
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import attrs

from .._deal import Deal
from .._money import Money
from .._pipeline import Pipeline
from .._time import stamp
from ..exceptions import CurrencyMismatchError
from ._common import cut
from ._survival import KaplanMeier

__all__ = [
    "DEST_BITS",
    "FIRST_BITS",
    "HOLD_BITS",
    "LOST",
    "NEVER",
    "WON",
    "DealState",
    "Model",
    "fit",
    "open_states",
]

#: Bits of a draw that pick a destination, a fresh stay, and the first stay.
DEST_BITS = 16
HOLD_BITS = 12
FIRST_BITS = 10
#: A stay that does not end within what the data shows.
NEVER = -1
#: Destination codes for the absorbing outcomes (open stages are 0, 1, …).
WON = -2
LOST = -3


@attrs.frozen
class DealState:
    """One open deal at the cut-off, as the simulation sees it.

    Attributes:
        deal_id: The deal's id.
        stage: Index of its open stage in :attr:`Model.stages`.
        entered: When it entered that stage, in microseconds since the epoch.
        cents: Its value in units of 10^-exponent of the currency, or ``None``.
        probability: Its win probability as the CRM states it: its last
            recorded ``probability`` change, else its stage's configured
            probability (``None`` if neither).
        expected_close: Its expected close date at the cut-off, when known.
        deal: The deal as it was at the cut-off.
    """

    deal_id: str
    stage: int
    entered: int
    cents: int | None
    probability: float | None
    expected_close: date | None
    deal: Deal


@attrs.frozen
class Model:
    """The fitted tables (see the module docstring) and the cut-off.

    Attributes:
        as_of: The cut-off, in microseconds since the epoch.
        stages: The open stage keys, in pipeline order.
        moves: Per open stage, ``(destination code, moves observed)`` pairs:
            an open stage index, ``WON`` or ``LOST``.
        dest: Per open stage, 2^16 destination codes drawn in proportion to
            :attr:`moves`, or ``None`` when no move out was observed.
        hold: Per open stage, 2^12 stay lengths in microseconds (or ``NEVER``).
        curves: Per open stage, the Kaplan-Meier curve of its stays.
    """

    as_of: int
    stages: tuple[str, ...]
    moves: tuple[tuple[tuple[int, int], ...], ...]
    dest: tuple[tuple[int, ...] | None, ...]
    hold: tuple[tuple[int, ...], ...]
    curves: tuple[KaplanMeier[float], ...]

    def first(self, state: DealState) -> tuple[int, ...]:
        """The 2^10 quantiles of the rest of *state*'s current stay, from its entry."""
        curve = self.curves[state.stage]
        age = self.as_of - state.entered
        left = _survival_at(curve, age)
        size = 1 << FIRST_BITS
        return tuple(_quantile(curve, (2 * k + 1) / (2 * size) * left) for k in range(size))


def _survival_at(curve: KaplanMeier[float], age: int) -> float:
    i = bisect.bisect_right(curve.times, float(age))
    return curve.survival_values[i - 1] if i else 1.0


def _quantile(curve: KaplanMeier[float], level: float) -> int:
    """The first observed time with S(t) <= level, or ``NEVER``."""
    values = curve.survival_values
    i = bisect.bisect_left(values, -level, key=operator.neg)
    return round(curve.times[i]) if i < len(values) else NEVER


def _dest_table(row: Sequence[tuple[int, int]]) -> tuple[int, ...] | None:
    """2^16 destination codes, each taking the share of levels its count earns."""
    total = sum(n for _, n in row)
    if not total:
        return None
    size = 1 << DEST_BITS
    table: list[int] = []
    cum = 0
    for code, count in row:
        cum += count
        # Level k goes to the first destination whose cumulative share exceeds
        # (k + ½) / size, in integers: cum * 2 * size > (2k + 1) * total.
        upto = (cum * 2 * size + total - 1) // (2 * total)  # levels below the bound
        upto = min(max(upto, len(table)), size)
        table.extend([code] * (upto - len(table)))
    return tuple(table)


def _exponent(values: Sequence[Money]) -> int:
    places = 0
    for money in values:
        exp = money.amount.as_tuple().exponent
        if isinstance(exp, int) and -exp > places:
            places = -exp
    return places


def fit(deals: Sequence[Deal], pipeline: Pipeline, as_of: datetime) -> Model:
    """Build the tables from *deals* as they were at *as_of*."""
    cutoff = stamp(as_of)
    opened = [s.key for s in pipeline.open_stages]
    index = {k: i for i, k in enumerate(opened)}
    won = {s.key for s in pipeline.won_stages}
    events: list[dict[int, int]] = [{} for _ in opened]
    censored: list[dict[int, int]] = [{} for _ in opened]
    # One pass over every deal's history up to the cut-off: each stay in an
    # open stage (ended, or censored at the cut-off) and each move out of it,
    # as transition_counts() counts them.
    counts: dict[str, dict[str, int]] = {k: {} for k in opened}
    for deal in deals:
        seen = cut(deal, as_of)
        if seen is None:
            continue
        stages, times = seen
        clock = [stamp(t) for t in times]
        last = len(stages) - 1
        for i, key in enumerate(stages):
            s = index.get(key)
            if s is None:
                continue
            if i < last:
                d = clock[i + 1] - clock[i]
                events[s][d] = events[s].get(d, 0) + 1
                row = counts[key]
                row[stages[i + 1]] = row.get(stages[i + 1], 0) + 1
            else:
                d = cutoff - clock[i]
                censored[s][d] = censored[s].get(d, 0) + 1
    curves = tuple(KaplanMeier.from_counts(e, c) for e, c in zip(events, censored, strict=True))
    size = 1 << HOLD_BITS
    hold = tuple(
        tuple(_quantile(curve, (2 * k + 1) / (2 * size)) for k in range(size)) for curve in curves
    )
    order = {s.key: i for i, s in enumerate(pipeline.stages)}
    moves: list[tuple[tuple[int, int], ...]] = []
    for key in opened:
        row = counts.get(key, {})
        moves.append(
            tuple(
                (index.get(d, WON if d in won else LOST), n)
                for d, n in sorted(row.items(), key=lambda kv: order[kv[0]])
                if n
            )
        )
    dest = tuple(_dest_table(row) for row in moves)
    return Model(cutoff, tuple(opened), tuple(moves), dest, hold, curves)


def open_states(
    deals: Sequence[Deal], pipeline: Pipeline, as_of: datetime
) -> tuple[list[DealState], str | None, int]:
    """The deals open at *as_of*, their currency and the value exponent they share.

    Raises:
        CurrencyMismatchError: The open deals' values are in several currencies.
    """
    index = {s.key: i for i, s in enumerate(pipeline.open_stages)}
    seen: list[tuple[Deal, int]] = []
    for deal in deals:
        stages = cut(deal, as_of)
        if stages is None or stages[0][-1] not in index:
            continue
        then = deal.as_of(as_of)
        if then is not None:
            seen.append((then, index[stages[0][-1]]))
    values = [d.value for d, _ in seen if d.value is not None]
    currencies = sorted({v.currency for v in values})
    if len(currencies) > 1:
        msg = (
            f"forecast() adds the values of open deals, which are in {currencies!r}; "
            "forecast one currency at a time (by='currency' or a filter)."
        )
        raise CurrencyMismatchError(msg, currencies=currencies)
    places = _exponent(values)
    scale = Decimal(10) ** places
    states = []
    for then, stage in seen:
        value = then.value
        states.append(
            DealState(
                then.id,
                stage,
                stamp(then.entered_at),
                None if value is None else int(value.amount * scale),
                _probability(then),
                then.expected_close,
                then,
            )
        )
    return states, (currencies[0] if currencies else None), places


def _probability(deal: Deal) -> float | None:
    # A per-deal probability (Salesforce's Probability field) overrides the stage's.
    for change in reversed(deal.changes):
        if change.field == "probability":
            return change.new  # type: ignore[no-any-return]
    return deal.stage.probability
