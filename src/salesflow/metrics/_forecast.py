"""The revenue forecast: a distribution of what the open deals will win in a period."""

from __future__ import annotations

import html
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._checks import aware
from .._deal import Deal
from .._field_change import day_of
from .._frames import build, decimal_series, float_series, text_series
from .._money import Money
from .._optional import pandas, require
from .._pipeline import Pipeline
from .._time import stamp
from ..exceptions import CurrencyMismatchError, MissingDependencyError, SalesflowError
from ._common import Breakdown, common_pipeline, deals_of
from ._forecast_model import DealState, fit, open_states
from ._grouping import By, group
from ._newdeals import new_deals
from ._simulate import simulate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Forecast", "ForecastMethod", "HistogramBin", "UnknownDealError", "forecast"]

ForecastMethod = Literal["markov", "stage_probability"]
"""How :func:`forecast` models each deal: ``"markov"`` (simulated paths, the default) or ``"stage_probability"`` (the CRM way)."""
Engine = Literal["auto", "numpy", "python"]
_METHODS = ("markov", "stage_probability")
# float64 adds whole numbers exactly below 2^53 (see _simulate._outcome).
_EXACT = 1 << 53


class UnknownDealError(SalesflowError, KeyError):
    """A deal id the forecast does not know (it was not open at the cut-off).

    Attributes:
        deal_id: The id asked for.
    """

    def __init__(self, deal_id: str) -> None:
        msg = f"Deal {deal_id!r} was not open at the forecast's cut-off, so it has no p_close."
        super().__init__(msg)
        self.deal_id = deal_id

    def __str__(self) -> str:
        return str(self.args[0])


@attrs.frozen
class HistogramBin:
    """One bar of :meth:`Forecast.histogram`: simulations whose revenue fell in [low, high).

    The last bin includes its upper edge.
    """

    low: Money
    high: Money
    count: int


def _money(units: int | Decimal, places: int, currency: str) -> Money:
    return Money(Decimal(units).scaleb(-places), currency)


@attrs.frozen(repr=False)
class Forecast:
    """The simulated distribution of revenue won in ``[start, end)`` from the deals open at ``as_of``.

    Percentiles are values that some simulation gave (the inverted empirical
    CDF, no interpolation), so they are exact amounts; the mean is their exact
    sum divided by ``n``. Amounts are ``None`` when no open deal has a value.

    Attributes:
        method: ``"markov"`` or ``"stage_probability"``.
        start: Start of the period (included).
        end: End of the period (excluded).
        as_of: The cut-off: only what was known then was used.
        n: Number of simulations.
        seed: The seed; the same seed gives the same forecast.
        currency: The open deals' currency (``None`` if none has a value).
        open_deals: How many deals were open at ``as_of``.
        unvalued: Open deals without a value (counted, but they add nothing).
        revenue: The revenue of each simulation, ascending, in units of
            10^-``places`` of the currency.
        counts: The deals won in each simulation (in simulation order).
        chances: Per open deal id, the probability that it is won within the
            period under the method's model (see :meth:`p_close`).
        places: Decimal places of the units in :attr:`revenue`.
        by: One forecast per group when ``by=`` was given, else ``None``.
        new_created: With ``include_new``, the mean number of deals created
            per simulation (in the whole forecast, not in its groups).
        new_won: With ``include_new``, the mean number of them won in the period.
    """

    method: str
    start: datetime
    end: datetime
    as_of: datetime
    n: int
    seed: int
    currency: str | None
    open_deals: int
    unvalued: int
    revenue: tuple[int, ...]
    counts: tuple[int, ...]
    chances: Mapping[str, float]
    places: int = 0
    by: Breakdown[Forecast] | None = None
    new_created: float | None = None
    new_won: float = 0.0

    def _amount(self, units: int | Decimal) -> Money | None:
        return None if self.currency is None else _money(units, self.places, self.currency)

    @property
    def mean(self) -> Money | None:
        """Mean revenue over the simulations (``None`` with no valued deal or no simulation)."""
        if self.currency is None or not self.n:
            return None
        total = _money(sum(self.revenue), self.places, self.currency)
        return total / self.n

    @property
    def median(self) -> Money | None:
        """The 50th percentile."""
        return self.percentile(0.5)

    def percentile(self, q: float) -> Money | None:
        """The smallest simulated revenue that at least a fraction *q* of simulations do not exceed.

        Args:
            q: A fraction in [0, 1] (0.9 is the 90th percentile).

        Raises:
            ValueError: *q* is not in [0, 1].
        """
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 1:
            msg = f"q must be a fraction in [0, 1], got {q!r}."
            raise ValueError(msg)
        if not self.revenue:
            return None
        i = max(math.ceil(q * len(self.revenue)) - 1, 0)
        return self._amount(self.revenue[i])

    def interval(self, level: float = 0.8) -> tuple[Money, Money] | None:
        """The equal-tailed interval that holds a fraction *level* of the simulations.

        ``interval(0.8)`` is (10th percentile, 90th percentile).

        Raises:
            ValueError: *level* is not in (0, 1).
        """
        if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
            msg = f"level must be a fraction in (0, 1), got {level!r}."
            raise ValueError(msg)
        low, high = self.percentile((1 - level) / 2), self.percentile((1 + level) / 2)
        return None if low is None or high is None else (low, high)

    @property
    def expected_count(self) -> float:
        """Expected number of deals won in the period: the sum of every open deal's :meth:`p_close`.

        With ``include_new``, plus the mean number of new deals won (:attr:`new_won`).
        """
        return sum(self.chances.values()) + self.new_won

    def p_close(self, deal_id: str) -> float:
        """The probability that the open deal *deal_id* is won within the period.

        It is the exact probability under the method's model (for ``markov``,
        over the deal's possible paths, see :func:`forecast`), not a count of
        simulations, so it carries no simulation noise beyond the model's.

        Raises:
            UnknownDealError: The deal was not open at ``as_of``.
        """
        if deal_id not in self.chances:
            raise UnknownDealError(deal_id)
        return self.chances[deal_id]

    def histogram(self, bins: int = 20) -> tuple[HistogramBin, ...]:
        """Simulations per revenue bin: *bins* equal-width bins from the minimum to the maximum.

        Raises:
            ValueError: *bins* is not a positive int.
        """
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            msg = f"bins must be a positive int, got {bins!r}."
            raise ValueError(msg)
        if self.currency is None or not self.revenue:
            return ()
        low, high = self.revenue[0], self.revenue[-1]
        width = Decimal(high - low) / bins
        edges = [Decimal(low) + width * i for i in range(bins)] + [Decimal(high)]
        counts = [0] * bins
        for units in self.revenue:
            i = min(int((units - low) / width), bins - 1) if width else 0
            counts[i] += 1
        cur = self.currency
        return tuple(
            HistogramBin(
                _money(edges[i], self.places, cur), _money(edges[i + 1], self.places, cur), c
            )
            for i, c in enumerate(counts)
        )

    def summary(self) -> dict[str, Money | float | int | None]:
        """The headline numbers: mean, percentiles 5 to 95, expected count, open deals."""
        out: dict[str, Money | float | int | None] = {"mean": self.mean}
        for q in (5, 10, 25, 50, 75, 90, 95):
            out[f"p{q}"] = self.percentile(q / 100)
        out["expected_count"] = self.expected_count
        out["open_deals"] = self.open_deals
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the period, the summary and each deal's p_close."""

        def plain(value: object) -> Any:
            return str(value.amount) if isinstance(value, Money) else value

        return {
            "method": self.method,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "n": self.n,
            "seed": self.seed,
            "currency": self.currency,
            "unvalued": self.unvalued,
            **{k: plain(v) for k, v in self.summary().items()},
            "p_close": dict(self.chances),
            "by": None if self.by is None else self.by.to_dict(),
        }

    def __repr__(self) -> str:
        interval = self.interval(0.8)
        shown = "None" if interval is None else f"{interval[0]} .. {interval[1]}"
        return (
            f"Forecast({self.method}, {self.start.date()} to {self.end.date()}, "
            f"mean={self.mean}, 80% interval={shown}, open_deals={self.open_deals})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.summary().items()
        )
        caption = html.escape(
            f"Forecast ({self.method}) of revenue won {self.start.date()} to {self.end.date()}, "
            f"as of {self.as_of.isoformat()}, {self.n} simulations"
        )
        return f"<table><caption>{caption}</caption>{rows}</table>"

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame of :meth:`summary`: statistic, value, amount, currency."""
        pd = pandas("Forecast.to_frame()")
        items = list(self.summary().items())
        return build(
            pd,
            {
                "statistic": text_series(pd, [k for k, _ in items]),
                "value": float_series(
                    pd,
                    [
                        None if v is None else float(v.amount) if isinstance(v, Money) else float(v)
                        for _, v in items
                    ],
                ),
                "amount": decimal_series(
                    pd, [v.amount if isinstance(v, Money) else None for _, v in items], "object"
                ),
                "currency": text_series(
                    pd, [v.currency if isinstance(v, Money) else None for _, v in items]
                ),
            },
        )


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be a positive int, got {value!r}."
        raise ValueError(msg)
    return value


def _engine(engine: str) -> str:
    if engine not in ("auto", "numpy", "python"):
        msg = f"engine must be 'auto', 'numpy' or 'python', got {engine!r}."
        raise ValueError(msg)
    if engine != "auto":
        return engine
    try:
        require("numpy", "salesflow[fast]", "forecast()")
    except MissingDependencyError:
        return "python"
    return "numpy"


def period_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The calendar days ``[first, after)`` that ``[start, end)`` touches, in each bound's zone.

    Expected close dates are days (``salesflow.FieldChange``): a deal expected
    on a day the period covers in part closes in the period.
    """
    after = day_of(end)
    if end.timetz().replace(tzinfo=None) != time(0):
        after += timedelta(days=1)
    return day_of(start), after


def latest_event(deals: Iterable[Deal]) -> datetime | None:
    """The latest stage or field change among *deals*: the default cut-off."""
    latest = None
    for deal in deals:
        last = deal.stage_times[-1]
        changes = deal.changes
        if changes and changes[-1].at > last:
            last = changes[-1].at
        if latest is None or last > latest:
            latest = last
    return latest


def forecast(
    deals: Iterable[Deal],
    start: datetime,
    end: datetime,
    *,
    as_of: datetime | None = None,
    method: ForecastMethod = "markov",
    n: int = 10_000,
    seed: int = 0,
    include_new: bool = False,
    by: By | None = None,
    pipeline: Pipeline | None = None,
    engine: Engine = "auto",
) -> Forecast:
    """Forecast the revenue won in ``[start, end)`` from the deals open at *as_of*, by simulation.

    ``method="markov"``: each open deal's path to won or lost is drawn from
    what the deals did up to *as_of*: the next stage from the observed moves
    out of each stage (the absorbing chain of
    :func:`~salesflow.metrics.win_probability`), the time of each move from
    the Kaplan-Meier curve of stays in the stage (stays still open at *as_of*
    censored), the deal's current stay conditioned on the time it has already
    spent there. A deal is won in a simulation when its path reaches a won
    stage in the period; it then brings its value at *as_of*. Revenue per
    simulation = sum of the values of the deals won in it.

    ``method="stage_probability"``: the CRM way, as a baseline: each open deal
    is won with its probability (its last recorded ``probability`` change,
    else its stage's configured probability), independently, if its expected
    close date (as of *as_of*) falls on a day the period covers. Deals without
    an expected close date are assumed to close within the period (so with
    none, the mean is the weighted pipeline).

    Deals already closed at *as_of* are not in the forecast; add what was won
    earlier in the period yourself (or see :func:`attainment`).

    Args:
        deals: The deals, with their whole history; only what happened up to
            *as_of* is used.
        start: Start of the period (included; aware).
        end: End of the period (excluded; aware).
        as_of: The cut-off (default: the latest stage or field change in *deals*).
        method: ``"markov"`` or ``"stage_probability"``.
        n: Number of simulations.
        seed: Random seed (a non-negative int); the same seed gives the same
            forecast, in either engine.
        include_new: Also forecast deals not yet created (Markov only): each
            simulation creates as many as one past window as long as
            *as_of* to *end* did, like the deals created then (first stage,
            value), at uniform times; they follow the same simulated paths.
            They are in the whole forecast, not in its ``by=`` groups.
        by: Also forecast each group of open deals (``"owner"``, ``"source"``,
            an attribute name or a function of the deal, as elsewhere); the
            groups share the simulations.
        pipeline: The pipeline, when *deals* may be empty.
        engine: ``"numpy"`` (vectorised, extra ``salesflow[fast]``),
            ``"python"``, or ``"auto"`` (NumPy when installed). Both give the
            same numbers for the same seed.

    Returns:
        A :class:`Forecast`.

    Raises:
        ValueError: A naive datetime, ``end <= start``, an unknown method or
            engine, ``n`` not a positive int or a negative seed.
        CurrencyMismatchError: The open deals are in several currencies.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from salesflow.datasets import synthetic
        >>> from salesflow import metrics as m
        >>> deals = synthetic(300, seed=1)
        >>> cutoff = datetime(2025, 10, 1, tzinfo=timezone.utc)
        >>> f = m.forecast(deals, cutoff, datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...                as_of=cutoff, n=500, engine="python")
        >>> f.interval(0.8)[0] <= f.median <= f.interval(0.8)[1]
        True
    """
    deals = list(deals_of(deals, "forecast"))
    aware("start", start)
    aware("end", end)
    if end <= start:
        msg = f"end ({end.isoformat()}) must be after start ({start.isoformat()})."
        raise ValueError(msg)
    if method not in _METHODS:
        msg = f"method must be 'markov' or 'stage_probability', got {method!r}."
        raise ValueError(msg)
    _positive("n", n)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        msg = f"seed must be a non-negative int, got {seed!r}."
        raise ValueError(msg)
    if include_new and method != "markov":
        msg = "include_new=True needs method='markov': new deals follow simulated paths."
        raise ValueError(msg)
    lane = _engine(engine)
    found = common_pipeline(deals, pipeline)
    if as_of is None:
        as_of = latest_event(deals) or start
    aware("as_of", as_of)
    if found is None:
        return Forecast(method, start, end, as_of, n, seed, None, 0, 0, (0,) * n, (0,) * n, {})
    states, currency, places = open_states(deals, found, as_of)
    new = None
    if include_new:
        spec = new_deals(deals, found, as_of, stamp(end) - stamp(as_of))
        states, currency, places, new_cents = _common_units(states, currency, places, spec.values)
        new = (spec, new_cents)
        if sum(new_cents) * max(spec.counts) >= _EXACT:
            msg = "The new deals' values add up past 2^53 units of their currency."
            raise ValueError(msg)
    if sum(abs(s.cents or 0) for s in states) >= _EXACT:
        msg = (
            "The open deals' values add up past 2^53 units of their currency; split them with by=."
        )
        raise ValueError(msg)
    # The CRM baseline needs no tables: skip the pass over every history.
    model = fit(deals if method == "markov" else [], found, as_of)
    keys, index = _groups(states, by, as_of)
    window = (max(stamp(start), model.as_of), stamp(end))
    outcome = simulate(
        model,
        states,
        index,
        max(len(keys), 1),
        window,
        method=method,
        n=n,
        seed=seed,
        engine=lane,
        days=period_days(start, end),
        new=new,
    )

    def make(members: Sequence[int], g: int) -> Forecast:
        return Forecast(
            method,
            start,
            end,
            as_of,
            n,
            seed,
            currency,
            len(members),
            sum(states[i].cents is None for i in members),
            tuple(sorted(outcome.revenue[g])),
            tuple(outcome.count[g]),
            {states[i].deal_id: outcome.p[i] for i in members},
            places,
        )

    everyone = range(len(states))
    totals = [sum(col) for col in zip(*outcome.revenue, strict=True)]
    counts = [sum(col) for col in zip(*outcome.count, strict=True)]
    extra: dict[str, Any] = {}
    if outcome.new_revenue is not None and outcome.new_count is not None and new is not None:
        # New deals belong to no group yet: they are in the whole forecast only.
        totals = [a + b for a, b in zip(totals, outcome.new_revenue, strict=True)]
        counts = [a + b for a, b in zip(counts, outcome.new_count, strict=True)]
        extra = {
            "new_created": sum(new[0].counts) / len(new[0].counts),
            "new_won": sum(outcome.new_count) / n,
        }
        if currency is None and new[0].values:
            currency = next((v.currency for v in new[0].values if v is not None), None)
    whole = attrs.evolve(
        make(everyone, 0), revenue=tuple(sorted(totals)), counts=tuple(counts), **extra
    )
    if by is None:
        return whole
    parts = {key: make([i for i in everyone if index[i] == g], g) for g, key in enumerate(keys)}
    grouped = group([s.deal for s in states], by, as_of)
    return attrs.evolve(
        whole,
        by=Breakdown("forecast", ", ".join(grouped.fields), parts, grouped.missing, grouped.fields),
    )


def _common_units(
    states: list[DealState], currency: str | None, places: int, values: Sequence[Money | None]
) -> tuple[list[DealState], str | None, int, list[int]]:
    """Open deals' and new deals' values in one unit, and their one currency."""
    known = [v for v in values if v is not None]
    currencies = sorted({v.currency for v in known} | ({currency} if currency else set()))
    if len(currencies) > 1:
        msg = f"forecast() adds values in {currencies!r}; forecast one currency at a time."
        raise CurrencyMismatchError(msg, currencies=currencies)
    wider = max([places, *(-int(v.amount.as_tuple().exponent) for v in known)])
    if wider > places:
        factor = 10 ** (wider - places)
        states = [
            attrs.evolve(s, cents=None if s.cents is None else s.cents * factor) for s in states
        ]
    scale = Decimal(10) ** wider
    cents = [0 if v is None else int(v.amount * scale) for v in values]
    return states, (currencies[0] if currencies else None), wider, cents


def _groups(
    states: Sequence[DealState], by: By | None, as_of: datetime
) -> tuple[list[Hashable], list[int]]:
    if by is None:
        return [None], [0] * len(states)
    grouped = group([s.deal for s in states], by, as_of)
    where = {id(deal): g for g, members in enumerate(grouped.groups.values()) for deal in members}
    return list(grouped.groups), [where[id(s.deal)] for s in states]
