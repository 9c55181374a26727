"""Multi-touch attribution: how much of the won value each channel (or campaign) earned.

A *conversion* is a won deal with a value, converting at ``deal.closed_at``;
its *journey* is the deal's touchpoints at or before that moment. A model
gives each touch of the journey a share; the shares of one journey sum to 1.

==============  ===========================================================
``first``       100 % to the first touch.
``last``        100 % to the last touch at or before the win.
``linear``      1 / n to each touch.
``time_decay``  weight ``2 ** (-days before the win / half-life days)``, shares
                proportional to the weights (Google Ads' default half-life is
                7 days).
``position``    U-shaped 40/20/40: 40 % first, 40 % last, 20 % split evenly
                over the touches between; 1 touch gets 100 %, 2 get 50 % each.
``w_shaped``    30 % first touch, 30 % lead-creation touch, 30 %
                opportunity-creation touch, 10 % split over the other touches
                (edge cases in :func:`attribution_shares`).
==============  ===========================================================
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Context, Decimal
from fractions import Fraction
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs

from .._checks import aware
from .._deal import Deal
from .._frames import build, result_amounts, result_floats, result_texts
from .._money import Money
from .._optional import pandas
from .._time import DAY, MICROSECOND
from .._touchpoint import Touchpoint
from ..exceptions import CurrencyMismatchError
from ._common import check_window, deals_of, in_window

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NOT_SET",
    "NO_TOUCHPOINT",
    "Attribution",
    "AttributionModel",
    "attribution",
    "attribution_shares",
]

AttributionModel: TypeAlias = Literal[
    "first", "last", "linear", "time_decay", "position", "w_shaped"
]
"""The attribution models :func:`attribution` offers (see its docstring for each rule)."""
#: A touchpoint field holding text, or a function giving a touchpoint's key.
TouchKey: TypeAlias = str | Callable[[Touchpoint], str | None]

#: The key credited with conversions that had no touchpoint at or before the win.
NO_TOUCHPOINT = "(no touchpoint)"
#: The key of touchpoints whose key field (e.g. ``campaign``) is ``None``.
NOT_SET = "(not set)"

_MODELS: tuple[str, ...] = ("first", "last", "linear", "time_decay", "position", "w_shaped")
_TEXT_FIELDS = ("channel", "campaign", "direction", "note")
# A private context: a caller's decimal.getcontext() settings must not change credits.
_CONTEXT = Context(prec=28)


def _check_model(model: object) -> str:
    if model not in _MODELS:
        msg = f"model must be one of {', '.join(map(repr, _MODELS))}, got {model!r}."
        raise ValueError(msg)
    return str(model)


def _check_half_life(half_life: object) -> timedelta:
    if not isinstance(half_life, timedelta):
        msg = f"half_life must be a timedelta, got {half_life!r}; e.g. timedelta(days=7)."
        raise TypeError(msg)
    if half_life <= timedelta(0):
        msg = f"half_life must be positive, got {half_life!r}."
        raise ValueError(msg)
    return half_life


def _w_shaped(
    times: Sequence[datetime], lead_at: datetime, opportunity_at: datetime
) -> list[Fraction]:
    n = len(times)
    # The last touch at or before each milestone; -1 when there is none.
    found = (bisect_right(times, lead_at) - 1, bisect_right(times, opportunity_at) - 1)
    slots = [0, *(i for i in found if i >= 0)]
    others = [i for i in range(n) if i not in slots]
    # The milestones that exist share 90 % equally, so a missing one's 30 % goes
    # to the other milestones; without other touches the 10 % follows them too.
    milestone = Fraction(9, 10 * len(slots)) if others else Fraction(1, len(slots))
    shares = [Fraction(0)] * n
    for i in slots:
        shares[i] += milestone
    for i in others:
        shares[i] += Fraction(1, 10 * len(others))
    return shares


def _time_decay(times: Sequence[datetime], half_life: timedelta) -> list[Fraction]:
    # Measured from the latest touch, so the largest weight is exactly 1 and no
    # weight underflows however old the journey; the ratios are unchanged.
    latest = max(times)
    step = Decimal(half_life // MICROSECOND)
    weights = [
        Fraction(
            _CONTEXT.power(Decimal(2), _CONTEXT.divide(-Decimal((latest - t) // MICROSECOND), step))
        )
        for t in times
    ]
    total = sum(weights)
    return [w / total for w in weights]


def _shares(
    times: Sequence[datetime],
    model: str,
    half_life: timedelta,
    milestones: tuple[datetime, datetime] | None,
) -> list[Fraction]:
    """Exact shares for touches already in time order."""
    n = len(times)
    if model == "time_decay":
        return _time_decay(times, half_life)
    if model == "w_shaped":
        assert milestones is not None
        return _w_shaped(times, *milestones)
    if model == "linear" or (model == "position" and n <= 2):
        return [Fraction(1, n)] * n
    if model == "position":
        middle = [Fraction(1, 5 * (n - 2))] * (n - 2)
        return [Fraction(2, 5), *middle, Fraction(2, 5)]
    winner = 0 if model == "first" else n - 1
    return [Fraction(int(i == winner)) for i in range(n)]


def attribution_shares(
    touch_times: Sequence[datetime],
    conversion_at: datetime,
    *,
    model: AttributionModel,
    half_life: timedelta = timedelta(days=7),
    milestones: tuple[datetime, datetime] | None = None,
) -> list[float]:
    """The share of one conversion that each touch earns under *model*.

    Shares are computed exactly (as fractions) and returned as floats in the
    order of *touch_times*; they lie in [0, 1] and sum to 1 up to float
    rounding. Touches are ranked by time; equal times keep their given order.

    W-shaped rules, which the published descriptions leave open:

    * The three milestone touches are the first touch, the *lead-creation
      touch* (the last touch at or before ``milestones[0]``) and the
      *opportunity-creation touch* (the last touch at or before
      ``milestones[1]``).
    * Milestones that fall on the same touch merge: that touch gets 60 % (or
      90 %) while the other touches keep their 10 %.
    * A milestone with no touch at or before it (the lead was created before
      anyone touched it) has no touch to credit; its 30 % is spread evenly
      over the milestones that do exist (so 45 / 45 / 10 with two).
    * When every touch is a milestone touch there is no one to take the 10 %,
      so the milestones share 100 % evenly (one third each, merged as above).

    Args:
        touch_times: When each touch happened (timezone-aware), all at or
            before *conversion_at*; at least one.
        conversion_at: When the conversion (the win) happened.
        model: ``"first"``, ``"last"``, ``"linear"``, ``"time_decay"``,
            ``"position"`` or ``"w_shaped"``.
        half_life: For ``time_decay``: the age at which a touch weighs half
            as much as one at the moment of conversion.
        milestones: For ``w_shaped`` (required there, ignored otherwise):
            ``(lead_created_at, opportunity_created_at)``.

    Returns:
        One share per touch.

    Raises:
        TypeError: A time is not a datetime, or *half_life* not a timedelta.
        ValueError: No touches, a touch after the conversion, a naive time,
            an unknown model, a non-positive half-life, or ``w_shaped``
            without milestones.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> from salesflow.metrics import attribution_shares
        >>> won = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> touches = [won - timedelta(days=d) for d in (38, 33, 26, 8, 0)]
        >>> [round(s, 6) for s in attribution_shares(touches, won, model="time_decay")]
        [0.0146, 0.023953, 0.047906, 0.284754, 0.628787]
        >>> attribution_shares(touches, won, model="position")
        [0.4, 0.0666..., 0.0666..., 0.0666..., 0.4]
    """
    name = _check_model(model)
    decay = _check_half_life(half_life)
    aware("conversion_at", conversion_at)
    times = [aware("touch time", t) for t in touch_times]
    if not times:
        msg = "attribution_shares() needs at least one touch time; a conversion without touches has no shares."
        raise ValueError(msg)
    late = [t for t in times if t > conversion_at]
    if late:
        msg = f"Touch at {late[0].isoformat()} is after the conversion at {conversion_at.isoformat()}; pass only earlier touches."
        raise ValueError(msg)
    if name == "w_shaped":
        if milestones is None:
            msg = "model='w_shaped' needs milestones=(lead_created_at, opportunity_created_at)."
            raise ValueError(msg)
        milestones = (
            aware("lead created", milestones[0]),
            aware("opportunity created", milestones[1]),
        )
    order = sorted(range(len(times)), key=lambda i: times[i])
    ranked = _shares([times[i] for i in order], name, decay, milestones)
    shares = [0.0] * len(times)
    for rank, i in enumerate(order):
        shares[i] = float(ranked[rank])
    return shares


def _units(amount: Decimal) -> tuple[int, int]:
    """*amount* as an integer count of units of ``10 ** exponent`` (2 places at least)."""
    sign, digits, exp = amount.as_tuple()
    assert isinstance(exp, int)  # Money amounts are finite.
    exponent = min(exp, -2)
    coefficient = int("".join(map(str, digits)) or "0") * 10 ** (exp - exponent)
    return (-coefficient if sign else coefficient), exponent


def _allocate(amount: Decimal, shares: Sequence[Fraction]) -> list[Decimal]:
    """Split *amount* by *shares* (summing to 1) with the largest-remainder method."""
    units, exponent = _units(amount)
    size = abs(units)
    exact = [size * s for s in shares]
    parts = [math.floor(x) for x in exact]
    left = size - sum(parts)
    # Ties go to the earlier key, which is the earlier touch in the journey.
    for i in sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))[:left]:
        parts[i] += 1
    sign = -1 if units < 0 else 1
    return [Decimal(f"{sign * p}E{exponent}") for p in parts]


def _key_function(key: object) -> Callable[[Touchpoint], object]:
    if isinstance(key, str):
        if key not in _TEXT_FIELDS:
            msg = f"key must be one of {', '.join(map(repr, _TEXT_FIELDS))} or a function of the touchpoint, got {key!r}."
            raise ValueError(msg)
        return attrgetter(key)
    if not callable(key):
        msg = f"key must be a touchpoint field name or a function, got {key!r}."
        raise TypeError(msg)
    return key


def _credits(value: Mapping[str, Money]) -> Mapping[str, Money]:
    return MappingProxyType(dict(value))


@attrs.frozen(repr=False)
class Attribution(Mapping[str, Money]):
    """Won value credited per key (channel, campaign…): a read-only mapping ``key -> Money``.

    Keys run from the largest credit to the smallest (ties by key). Every
    credit is in one currency and they add up to :attr:`total`.

    Attributes:
        model: The attribution model used.
        key: The touchpoint field (or the key function's name) credits are grouped by.
        conversions: Won deals with a value that were credited.
        unvalued: Won deals without a value: counted here, credited nowhere.
        total: The won value credited, or ``None`` when nothing was credited
            (an empty total has no currency).
        half_life: The half-life used by ``time_decay``; ``None`` for the other models.
    """

    model: str
    key: str
    credits: Mapping[str, Money] = attrs.field(converter=_credits, hash=False)
    conversions: int
    unvalued: int
    total: Money | None
    half_life: timedelta | None = None

    def __getitem__(self, key: str) -> Money:
        return self.credits[key]

    def __reduce__(self) -> tuple[Any, ...]:
        # The credits are a read-only mappingproxy, which pickle and deepcopy refuse.
        fields = attrs.fields(type(self))
        return type(self), tuple(
            dict(self.credits) if f.name == "credits" else getattr(self, f.name) for f in fields
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.credits)

    def __len__(self) -> int:
        return len(self.credits)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; amounts are exact decimal strings."""
        days = None if self.half_life is None else self.half_life / DAY
        return {
            "model": self.model,
            "key": self.key,
            "half_life_days": days,
            "conversions": self.conversions,
            "unvalued": self.unvalued,
            "total": None if self.total is None else self.total.to_dict(),
            "credits": {k: v.to_dict() for k, v in self.credits.items()},
        }

    def __repr__(self) -> str:
        credits = ", ".join(f"{k!r}: {v!r}" for k, v in self.credits.items())
        return (
            f"Attribution({self.model}, by {self.key}, conversions={self.conversions}, "
            f"total={self.total!r}, {{{credits}}})"
        )

    def _repr_html_(self) -> str:
        from .._table_render import Col, Sheet, Table, count, money, pct

        total = None if self.total is None else self.total.amount
        currency = "" if self.total is None else f" ({self.total.currency})"
        rows = [
            [k, money(v), pct(None if not total else float(v.amount / total))]
            for k, v in self.credits.items()
        ]
        facts = [("model", self.model), ("conversions", count(self.conversions))]
        if self.half_life is not None:
            facts.append(("half-life (days)", f"{self.half_life / DAY:g}"))
        notes = (
            [f"{self.unvalued:,} won deal(s) without a value are credited nowhere."]
            if self.unvalued
            else []
        )
        columns = [Col(self.key, numeric=False), Col(f"credit{currency}"), Col("share")]
        return Sheet(f"Attribution by {self.key}", facts, [Table(columns, rows)], notes).html()

    def to_frame(self, *, exact: bool = False) -> pd.DataFrame:
        """A pandas DataFrame, one row per key: credit, currency, share.

        The credit is a float, or the exact ``Decimal`` with *exact*.
        """
        pd = pandas("Attribution.to_frame()")
        items = list(self.credits.items())
        total = None if self.total is None else self.total.amount
        share = [None if not total else float(m.amount / total) for _, m in items]
        key = self.key if self.key not in ("model", "credit", "currency", "share") else "key"
        return build(
            pd,
            {
                "model": result_texts(pd, [self.model] * len(items)),
                key: result_texts(pd, [k for k, _ in items]),
                "credit": result_amounts(pd, [m.amount for _, m in items], exact),
                "currency": result_texts(pd, [m.currency for _, m in items]),
                "share": result_floats(pd, share),
            },
        )


def _largest_first(item: tuple[str, Decimal]) -> tuple[Decimal, str]:
    return -item[1], item[0]


def attribution(
    deals: Iterable[Deal],
    *,
    model: AttributionModel = "first",
    half_life: timedelta = timedelta(days=7),
    key: TouchKey = "channel",
    as_of: datetime | None = None,
    between: tuple[datetime, datetime] | None = None,
) -> Attribution:
    """Credit the value of won deals to the touchpoints that led to them.

    Only won deals count, each converting at ``closed_at`` for its value.
    Touches after the win are ignored. A won deal with no touch at or before
    the win is credited to :data:`NO_TOUCHPOINT` (``"(no touchpoint)"``), so
    that the credits always add up to the total won value; touches whose key
    is ``None`` go to :data:`NOT_SET`. Won deals without a value cannot be
    credited and are counted in ``unvalued``.

    **Exact money.** Each conversion's value is split into units of its own
    last digit, at least cents (``12000`` and ``12000.00`` both split into
    cents, ``12.345`` into thousandths). Each key gets its exact share rounded
    down to a unit, and the units left over go one each to the keys with the
    largest remainders (ties to the key touched first). So the credits of one
    conversion sum to its value exactly and each is within one unit of its
    exact share. Rounding every credit to the nearest cent instead can miss
    the total: REFERENCE.md's 12,000 time-decay example rounds to 175.20 +
    287.44 + 574.88 + 3,417.04 + 7,545.45 = 12,000.01; here the first touch,
    whose exact credit 175.1952 is the one rounded up by the least, gets
    175.19 and the credits sum to 12,000.00.

    Args:
        deals: The deals; open and lost ones are skipped.
        model: See the module docs and :func:`attribution_shares` (``"first"``
            by default).
        half_life: For ``time_decay`` (7 days by default).
        key: What credits are grouped by: ``"channel"`` (default),
            ``"campaign"``, ``"direction"`` or ``"note"``, or a function of a
            :class:`~salesflow.Touchpoint` returning a str (or ``None``).
        as_of: Cut-off: deals are taken as they were then (later wins and
            touches ignored).
        between: ``(start, end)``: only wins with ``start <= closed_at < end``.

    Returns:
        An :class:`Attribution` mapping each key to the value credited to it.

    Raises:
        CurrencyMismatchError: Won deals are in more than one currency; pass
            the deals of one currency at a time.
        ValueError: An unknown model or key field, a non-positive half-life.
        TypeError: A key function returns something other than a str or None.

    Examples:
        >>> from datetime import datetime, timedelta, timezone
        >>> import salesflow as sf
        >>> from salesflow.metrics import attribution
        >>> day = lambda d: datetime(2026, 1, d, tzinfo=timezone.utc)
        >>> deal = sf.templates.b2b().open_deal("D-1", at=day(2), value=sf.Money(1000, "USD"))
        >>> deal = deal.log(sf.Touchpoint(day(1), "ad")).log(sf.Touchpoint(day(3), "email"))
        >>> deal = deal.log(sf.Touchpoint(day(5), "email")).win(at=day(9))
        >>> credits = attribution([deal], model="linear")
        >>> credits["ad"], credits["email"]
        (Money('333.33', 'USD'), Money('666.67', 'USD'))
    """
    name = _check_model(model)
    decay = _check_half_life(half_life)
    key_of = _key_function(key)
    cutoff, window = check_window(as_of, between)
    deals = deals_of(deals, "attribution")
    sums: dict[str, Decimal] = {}
    currency: str | None = None
    conversions = unvalued = 0
    total = Decimal(0)
    for original in deals:
        deal = original if cutoff is None else original.as_of(cutoff)
        if deal is None or not deal.is_won or not in_window(deal.closed_at, window):
            continue
        won_at = deal.closed_at
        assert won_at is not None
        value = deal.value
        if value is None:
            unvalued += 1
            continue
        if currency is None:
            currency = value.currency
        elif value.currency != currency:
            msg = (
                f"Deal {deal.id!r} is in {value.currency} but earlier won deals are in {currency}; "
                f"attribute one currency at a time, e.g. [d for d in deals if d.value.currency == {currency!r}]."
            )
            raise CurrencyMismatchError(msg, currencies=(currency, value.currency))
        conversions += 1
        total += value.amount
        journey = [t for t in deal.touchpoints if t.at <= won_at]
        if not journey:
            sums[NO_TOUCHPOINT] = sums.get(NO_TOUCHPOINT, Decimal(0)) + value.amount
            continue
        milestones = (deal.lead_created_at or deal.created_at, deal.created_at)
        shares = _shares([t.at for t in journey], name, decay, milestones)
        by_key: dict[str, Fraction] = {}
        for touch, share in zip(journey, shares, strict=True):
            k = key_of(touch)
            if k is None:
                k = NOT_SET
            elif not isinstance(k, str):
                msg = f"The key function must return a str or None, got {k!r} for {touch!r}."
                raise TypeError(msg)
            by_key[k] = by_key.get(k, Fraction(0)) + share
        for k, credit in zip(by_key, _allocate(value.amount, list(by_key.values())), strict=True):
            sums[k] = sums.get(k, Decimal(0)) + credit
    credits = (
        {}
        if currency is None
        else {k: Money(v, currency) for k, v in sorted(sums.items(), key=_largest_first)}
    )
    return Attribution(
        model=name,
        key=key if isinstance(key, str) else getattr(key, "__name__", "key"),
        credits=credits,
        conversions=conversions,
        unvalued=unvalued,
        total=None if currency is None else Money(total, currency),
        half_life=decay if name == "time_decay" else None,
    )
