"""Is the forecast any good? A backtest over past cut-offs, and stage calibration.

A forecast is judged by what happened after it was made, never by its own fit
(DESIGN §8b): :func:`backtest` forecasts from each past cut-off with only what
was known then and compares with what was then won; :func:`calibration` puts
each stage's configured probability next to the win rate the data shows.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .._checks import aware
from .._deal import Deal
from .._frames import build, decimal_series, float_series, int_series, text_series, time_series
from .._money import Money
from .._optional import pandas
from .._pipeline import Pipeline
from ._common import check_as_of, common_pipeline, cut, deals_of
from ._forecast import Engine, Forecast, ForecastMethod, forecast, latest_event
from ._markov import win_probability
from ._rate import Rate

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Backtest",
    "BacktestRow",
    "Calibration",
    "CalibrationRow",
    "actual_won",
    "backtest",
    "calibration",
]

#: The interval levels whose coverage a backtest reports.
LEVELS = (0.5, 0.8, 0.95)


def actual_won(
    deals: Iterable[Deal], start: datetime, end: datetime, as_of: datetime
) -> tuple[Decimal, int]:
    """What the deals open at *as_of* actually won in ``[start, end)``: amount and count.

    A deal counts when its first move to a won stage after *as_of* falls in
    the period (the event the forecast predicts), with its value then.
    """
    amount, count = Decimal(0), 0
    for deal in deals:
        seen = cut(deal, as_of)
        if seen is None or not deal.pipeline.stage(seen[0][-1]).is_open:
            continue
        for key, at in zip(deal.stage_keys, deal.stage_times, strict=True):
            if at <= as_of:
                continue
            if deal.pipeline.stage(key).is_won:
                if start <= at < end:
                    then = deal.as_of(at)
                    value = None if then is None else then.value
                    amount += value.amount if value is not None else Decimal(0)
                    count += 1
                break
    return amount, count


@attrs.frozen
class BacktestRow:
    """One cut-off of a backtest.

    Attributes:
        cutoff: The cut-off; the forecast used only what was known then.
        forecast: The forecast of ``[cutoff, cutoff + horizon)``.
        actual: What the deals open at the cut-off won in that period.
        won: How many of them were won in it.
    """

    cutoff: datetime
    forecast: Forecast
    actual: Money | None
    won: int

    @property
    def error(self) -> Money | None:
        """Forecast mean minus actual (positive: the forecast was too high)."""
        mean = self.forecast.mean
        return None if mean is None or self.actual is None else mean - self.actual

    @property
    def ape(self) -> float | None:
        """Absolute percentage error, |mean − actual| / actual (``None`` when nothing was won)."""
        error = self.error
        if error is None or self.actual is None or not self.actual.amount:
            return None
        return float(abs(error.amount) / self.actual.amount)

    def inside(self, level: float) -> bool | None:
        """Whether the actual fell inside the forecast's interval at *level* (ends included)."""
        interval = self.forecast.interval(level)
        if interval is None or self.actual is None:
            return None
        return interval[0] <= self.actual <= interval[1]


@attrs.frozen(repr=False)
class Backtest:
    """Forecasts from past cut-offs next to what happened.

    Attributes:
        method: The forecast method.
        horizon: The length of each forecast period.
        rows: One :class:`BacktestRow` per cut-off, in time order.
    """

    method: str
    horizon: timedelta
    rows: tuple[BacktestRow, ...]

    def coverage(self, level: float = 0.8) -> Rate:
        """The share of cut-offs whose actual fell inside the interval at *level*, with its interval.

        A calibrated forecast covers about *level*; the rate's Wilson interval
        says how far off that may be by chance with this many cut-offs.
        """
        flags = [row.inside(level) for row in self.rows]
        known = [f for f in flags if f is not None]
        return Rate.of(sum(known), len(known))

    @property
    def mape(self) -> float | None:
        """Mean absolute percentage error over the cut-offs where something was won."""
        apes = [row.ape for row in self.rows if row.ape is not None]
        return sum(apes) / len(apes) if apes else None

    @property
    def mean_absolute_error(self) -> Money | None:
        """Mean |forecast mean − actual| over the cut-offs (``None`` without amounts)."""
        errors = [abs(row.error) for row in self.rows if row.error is not None]
        return Money.total(errors) / len(errors) if errors else None

    @property
    def bias(self) -> Money | None:
        """Mean (forecast mean − actual): positive when the forecast runs high."""
        errors = [row.error for row in self.rows if row.error is not None]
        return Money.total(errors) / len(errors) if errors else None

    def summary(self) -> dict[str, Any]:
        """Coverage at 50/80/95 %, MAPE, mean absolute error, bias and the cut-offs."""
        out: dict[str, Any] = {
            f"coverage_{round(level * 100)}": self.coverage(level) for level in LEVELS
        }
        out |= {
            "mape": self.mape,
            "mean_absolute_error": self.mean_absolute_error,
            "bias": self.bias,
            "cutoffs": len(self.rows),
        }
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: the summary and one record per cut-off."""

        def plain(value: object) -> Any:
            if isinstance(value, Money):
                return str(value.amount)
            if isinstance(value, Rate):
                return value.to_dict()
            return value

        return {
            "method": self.method,
            "horizon_days": self.horizon / timedelta(days=1),
            **{k: plain(v) for k, v in self.summary().items()},
            "rows": [
                {
                    "cutoff": row.cutoff.isoformat(),
                    "mean": plain(row.forecast.mean),
                    "actual": plain(row.actual),
                    "ape": row.ape,
                    **{f"inside_{round(level * 100)}": row.inside(level) for level in LEVELS},
                }
                for row in self.rows
            ],
        }

    def __repr__(self) -> str:
        cover = ", ".join(
            f"{round(level * 100)}%: {self.coverage(level).format(0)}" for level in LEVELS
        )
        mape = "None" if self.mape is None else f"{self.mape:.1%}"
        return f"Backtest({self.method}, {len(self.rows)} cut-offs, coverage {cover}, MAPE {mape})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(row.cutoff.date().isoformat())}</td>"
            f"<td>{html.escape(str(row.forecast.mean))}</td>"
            f"<td>{html.escape(str(row.actual))}</td>"
            f"<td>{'yes' if row.inside(0.8) else 'no'}</td></tr>"
            for row in self.rows
        )
        return (
            f"<table><caption>{html.escape(repr(self))}</caption>"
            "<tr><th>cut-off</th><th>forecast mean</th><th>actual</th><th>in 80%</th></tr>"
            f"{rows}</table>"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per cut-off: cutoff, mean, p10/p90, actual, ape, inside_50/80/95."""
        pd = pandas("Backtest.to_frame()")
        rows = self.rows

        def amounts(values: Sequence[Money | None]) -> Any:
            return decimal_series(pd, [None if v is None else v.amount for v in values], "object")

        columns = {
            "cutoff": time_series(pd, [r.cutoff for r in rows]),
            "mean": amounts([r.forecast.mean for r in rows]),
            "p10": amounts([r.forecast.percentile(0.1) for r in rows]),
            "p90": amounts([r.forecast.percentile(0.9) for r in rows]),
            "actual": amounts([r.actual for r in rows]),
            "won": int_series(pd, [r.won for r in rows]),
            "ape": float_series(pd, [r.ape for r in rows]),
            "currency": text_series(pd, [r.forecast.currency for r in rows]),
        }
        for level in LEVELS:
            flags = [r.inside(level) for r in rows]
            columns[f"inside_{round(level * 100)}"] = pd.Series(flags, dtype="boolean")
        return build(pd, columns)


def backtest(
    deals: Iterable[Deal],
    cutoffs: Iterable[datetime],
    *,
    horizon: timedelta,
    method: ForecastMethod = "markov",
    n: int = 2_000,
    seed: int = 0,
    pipeline: Pipeline | None = None,
    engine: Engine = "auto",
) -> Backtest:
    """Forecast ``[cutoff, cutoff + horizon)`` from each cut-off and compare with what happened.

    Each forecast is ``forecast(deals, cutoff, cutoff + horizon, as_of=cutoff)``:
    it sees each deal only as it was at the cut-off (its stage changes up to
    then), so no later event can change it. The actual is what the deals open
    at the cut-off won in the period (:func:`actual_won`), the same event the
    forecast predicts. Coverage over many cut-offs is the headline: an 80 %
    interval should hold the actual about 80 % of the time. Overlapping
    periods (cut-offs closer than *horizon*) make the rows dependent, so the
    coverage's interval is then too narrow.

    Args:
        deals: The deals with their whole history.
        cutoffs: The cut-offs (aware datetimes), in any order.
        horizon: The length of each forecast period.
        method: As for :func:`forecast`.
        n: Simulations per forecast.
        seed: As for :func:`forecast`; every cut-off uses it.
        pipeline: The pipeline, when *deals* may be empty.
        engine: As for :func:`forecast`.

    Returns:
        A :class:`Backtest` with one row per cut-off, in time order.

    Raises:
        ValueError: A naive cut-off or a horizon that is not positive.
    """
    deals = list(deals_of(deals, "backtest"))
    if not isinstance(horizon, timedelta) or horizon <= timedelta(0):
        msg = f"horizon must be a positive timedelta, got {horizon!r}."
        raise ValueError(msg)
    times = sorted(aware("cutoff", c) for c in cutoffs)
    rows = []
    for cutoff in times:
        end = cutoff + horizon
        # forecast(as_of=cutoff) reads each deal only as it was at the cut-off
        # (tests/test_forecast.py::TestLeakage), so the deals go in whole.
        result = forecast(
            deals,
            cutoff,
            end,
            as_of=cutoff,
            method=method,
            n=n,
            seed=seed,
            pipeline=pipeline,
            engine=engine,
        )
        amount, won = actual_won(deals, cutoff, end, cutoff)
        currency = result.currency
        actual = None if currency is None else Money(amount, currency)
        rows.append(BacktestRow(cutoff, result, actual, won))
    return Backtest(method, horizon, tuple(rows))


@attrs.frozen
class CalibrationRow:
    """One open stage: its configured probability next to what the data shows.

    Attributes:
        stage: The stage key.
        configured: The stage's configured probability (``None`` if unset).
        rate: Of the deals that reached the stage and had closed by the
            cut-off, the share that was won, with its Wilson interval.
        chain: The absorbing-chain estimate of P(won | in the stage)
            (:func:`~salesflow.metrics.win_probability`), which also counts
            the moves of deals still open.
    """

    stage: str
    configured: float | None
    rate: Rate
    chain: float | None

    @property
    def outside(self) -> bool | None:
        """Whether the configured probability lies outside the rate's interval (``None`` if unknown)."""
        if self.configured is None or self.rate.interval is None:
            return None
        low, high = self.rate.interval
        return not low <= self.configured <= high


@attrs.frozen(repr=False)
class Calibration:
    """Configured versus empirical win probability, per open stage.

    Attributes:
        as_of: The cut-off.
        rows: One :class:`CalibrationRow` per open stage, in pipeline order.
    """

    as_of: datetime | None
    rows: tuple[CalibrationRow, ...]

    @property
    def flagged(self) -> tuple[str, ...]:
        """The stages whose configured probability is outside the empirical interval."""
        return tuple(row.stage for row in self.rows if row.outside)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict, one record per stage."""
        return {
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "rows": [
                {
                    "stage": r.stage,
                    "configured": r.configured,
                    "empirical": r.rate.value,
                    "ci_low": None if r.rate.interval is None else r.rate.interval[0],
                    "ci_high": None if r.rate.interval is None else r.rate.interval[1],
                    "n": r.rate.denominator,
                    "chain": r.chain,
                    "outside": r.outside,
                }
                for r in self.rows
            ],
        }

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{r.stage}: {r.configured} vs {r.rate.format(0)}{' !' if r.outside else ''}"
            for r in self.rows
        )
        return f"Calibration({parts})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(r.stage)}</td><td>{r.configured}</td>"
            f"<td>{html.escape(r.rate.format(1))}</td><td>{r.rate.denominator}</td>"
            f"<td>{'outside' if r.outside else ''}</td></tr>"
            for r in self.rows
        )
        return (
            "<table><caption>Configured vs empirical win probability</caption>"
            "<tr><th>stage</th><th>configured</th><th>empirical (95% CI)</th><th>n</th><th></th></tr>"
            f"{rows}</table>"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per stage: stage, configured, empirical, ci_low, ci_high, n, chain, outside."""
        pd = pandas("Calibration.to_frame()")
        records = self.to_dict()["rows"]

        def col(name: str) -> list[Any]:
            return [r[name] for r in records]

        return build(
            pd,
            {
                "stage": text_series(pd, col("stage")),
                "configured": float_series(pd, col("configured")),
                "empirical": float_series(pd, col("empirical")),
                "ci_low": float_series(pd, col("ci_low")),
                "ci_high": float_series(pd, col("ci_high")),
                "n": int_series(pd, col("n")),
                "chain": float_series(pd, col("chain")),
                "outside": pd.Series(col("outside"), dtype="boolean"),
            },
        )


def calibration(
    deals: Iterable[Deal], *, as_of: datetime | None = None, pipeline: Pipeline | None = None
) -> Calibration:
    """Each open stage's configured probability next to the win rate observed from it.

    For stage k: of the deals that reached k and had closed (won or lost) by
    *as_of*, the share won, with its Wilson 95 % interval and n; and the
    absorbing-chain estimate. A stage is flagged (``outside``) when its
    configured probability is outside the interval. Deals still open are not
    in the rate (their outcome is unknown); the chain estimate uses their
    moves so far.

    Args:
        deals: The deals.
        as_of: The cut-off (default: the latest stage change).
        pipeline: The pipeline, when *deals* may be empty.

    Returns:
        A :class:`Calibration`.

    Raises:
        ValueError: No deals and no pipeline, or a naive *as_of*.
    """
    deals = list(deals_of(deals, "calibration"))
    found = common_pipeline(deals, pipeline)
    if found is None:
        msg = "calibration() of no deals needs pipeline=... to know its stages."
        raise ValueError(msg)
    as_of = check_as_of(as_of) or latest_event(deals)
    reached = {s.key: [0, 0] for s in found.open_stages}  # won, closed
    for deal in deals:
        seen = cut(deal, as_of)
        if seen is None:
            continue
        stages = seen[0]
        final = found.stage(stages[-1])
        if final.is_open:
            continue
        for key in set(stages):
            if key in reached:
                reached[key][1] += 1
                reached[key][0] += final.is_won
    chain = win_probability(deals, pipeline=found, as_of=as_of)
    rows = tuple(
        CalibrationRow(s.key, s.probability, Rate.of(*reached[s.key]), chain.get(s.key))
        for s in found.open_stages
    )
    return Calibration(as_of, rows)
