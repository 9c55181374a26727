"""pandas conversions of results: the engine behind every ``to_frame()``.

pandas is an optional extra (``salesflow[pandas]``): it is imported inside
the functions, and its absence raises :class:`MissingDependencyError`, which
names the extra to install.

The frames are tidy: one row per observation, one column per variable, with
the counts behind every rate (``numerator``, ``denominator``) so that an
analyst can re-aggregate. Dtypes are fixed whatever the data:

* counts are ``int64`` (``Int64``, nullable, where a row may have none);
* rates, interval bounds and durations in days are ``float64``; an
  undefined value (a rate over nothing, a median never reached) is ``NaN``;
* money amounts are exact :class:`~decimal.Decimal` objects in an
  ``object`` column, next to a ``currency`` column; sum them per currency;
* text is the string dtype pandas gives text (``str`` in pandas 3, ``object``
  in pandas 2), missing text is ``NaN``;
* timestamps are ``datetime64[us, UTC]``, missing ones ``NaT``.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any, Literal

from ._money import Money
from .exceptions import MissingDependencyError

__all__ = ["DecimalMode", "MissingDependencyError"]

#: How money amounts are stored in a frame.
DecimalMode = Literal["object", "float", "arrow"]
_DAY = timedelta(days=1)
_NAN = math.nan


def require(package: str, extra: str, feature: str) -> ModuleType:
    """Import *package*, or raise :class:`MissingDependencyError` naming *extra*."""
    try:
        return importlib.import_module(package)
    except ImportError:
        msg = f"{feature} needs {package}, which is not installed; install {extra} (pip install '{extra}')."
        raise MissingDependencyError(msg, package=package, extra=extra) from None


def pandas(feature: str = "to_frame()") -> Any:
    """The pandas module, or a clear error naming ``salesflow[pandas]``."""
    return require("pandas", "salesflow[pandas]", feature)


# ------------------------------------------------------------------ columns


def text_series(pd: Any, values: Sequence[object]) -> Any:
    """Text in the dtype pandas itself gives text (``str`` in pandas 3); ``None`` -> missing."""
    dtype = pd.Series(["x"]).dtype
    return pd.Series(values, dtype=dtype)


def time_series(pd: Any, values: Sequence[datetime | None]) -> Any:
    """Aware datetimes as ``datetime64[us, UTC]`` (``None`` -> ``NaT``)."""
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[us, UTC]")


def float_series(pd: Any, values: Sequence[float | None]) -> Any:
    """Floats as ``float64`` (``None`` -> ``NaN``)."""
    return pd.Series([_NAN if v is None else v for v in values], dtype="float64")


def int_series(pd: Any, values: Sequence[int | None]) -> Any:
    """Whole numbers: ``int64``, or nullable ``Int64`` when a value is ``None``."""
    dtype = "Int64" if any(v is None for v in values) else "int64"
    return pd.Series(values, dtype=dtype)


def number_series(pd: Any, values: Sequence[int | Decimal]) -> Any:
    """Counts as ``int64``; amounts (any ``Decimal``) as exact ``Decimal`` objects."""
    if all(isinstance(v, int) for v in values):
        return pd.Series(values, dtype="int64")
    return pd.Series(list(values), dtype=object)


def decimal_series(pd: Any, values: Sequence[Decimal | None], mode: str) -> Any:
    """Amounts: ``Decimal`` objects, ``float64`` or an Arrow decimal, as *mode* says."""
    if mode == "object":
        return pd.Series(list(values), dtype=object)
    if mode == "float":
        return float_series(pd, [None if v is None else float(v) for v in values])
    if mode == "arrow":
        pa = require("pyarrow", "pyarrow", "decimal='arrow'")
        scale = max([2, *(_places(v) for v in values if v is not None)])
        digits = max([1, *(_whole_digits(v) for v in values if v is not None)])
        if digits + scale > 38:
            msg = f"Amounts with {digits} digits before and {scale} after the point do not fit an Arrow decimal128 (38 digits); use decimal='object'."
            raise ValueError(msg)
        dtype = pd.ArrowDtype(pa.decimal128(38, scale))
        return pd.Series(pd.array(list(values), dtype=dtype))
    msg = f"decimal must be 'object', 'float' or 'arrow', got {mode!r}."
    raise ValueError(msg)


def _places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # Money amounts are finite.
    return max(0, -exponent)


def _whole_digits(amount: Decimal) -> int:
    return max(1, amount.adjusted() + 1)


def days(value: timedelta | None) -> float | None:
    """A duration in days (``None`` stays ``None``)."""
    return None if value is None else value / _DAY


def check_decimal(mode: object) -> str:
    """Validate a ``decimal=`` option."""
    if mode not in ("object", "float", "arrow"):
        msg = f"decimal must be 'object', 'float' or 'arrow', got {mode!r}."
        raise ValueError(msg)
    return str(mode)


def build(pd: Any, columns: Mapping[str, Any]) -> Any:
    """A DataFrame from ready-made column Series (the index is reset to 0..n-1)."""
    return pd.DataFrame(
        {name: pd.Series(col).reset_index(drop=True) for name, col in columns.items()}
    )


# ------------------------------------------------------------------ results


def rate_frame(rate: Any) -> Any:
    """One row: numerator, denominator, value, ci_low, ci_high, confidence, method."""
    pd = pandas("Rate.to_frame()")
    low, high = rate.interval if rate.interval is not None else (None, None)
    return build(
        pd,
        {
            "numerator": number_series(pd, [rate.numerator]),
            "denominator": number_series(pd, [rate.denominator]),
            "value": float_series(pd, [rate.value]),
            "ci_low": float_series(pd, [low]),
            "ci_high": float_series(pd, [high]),
            "confidence": float_series(pd, [rate.confidence]),
            "method": text_series(pd, [rate.method]),
        },
    )


def _bounds(rate: Any) -> tuple[float | None, float | None, float | None]:
    if rate is None:
        return None, None, None
    low, high = rate.interval if rate.interval is not None else (None, None)
    return rate.value, low, high


def funnel_frame(funnel: Any) -> Any:
    """One row per funnel step, with its counts and both conversions."""
    pd = pandas("Funnel.to_frame()")
    rows = funnel.rows
    step = [_bounds(r.conversion) for r in rows]
    cumulative = [_bounds(r.cumulative) for r in rows]
    return build(
        pd,
        {
            "stage": text_series(pd, [r.stage.key for r in rows]),
            "stage_name": text_series(pd, [r.stage.name for r in rows]),
            "outcome": text_series(pd, [r.stage.outcome.value for r in rows]),
            "entered": int_series(pd, [r.entered for r in rows]),
            "advanced": int_series(pd, [r.advanced for r in rows]),
            "lost": int_series(pd, [r.lost for r in rows]),
            "still_open": int_series(pd, [r.still_open for r in rows]),
            "conversion": float_series(pd, [s[0] for s in step]),
            "conversion_ci_low": float_series(pd, [s[1] for s in step]),
            "conversion_ci_high": float_series(pd, [s[2] for s in step]),
            "reached": int_series(pd, [int(r.cumulative.numerator) for r in rows]),
            "total": int_series(pd, [funnel.total] * len(rows)),
            "cumulative": float_series(pd, [c[0] for c in cumulative]),
            "cumulative_ci_low": float_series(pd, [c[1] for c in cumulative]),
            "cumulative_ci_high": float_series(pd, [c[2] for c in cumulative]),
        },
    )


def _duration_columns(pd: Any, summaries: Sequence[Any]) -> dict[str, Any]:
    return {
        "method": text_series(pd, [s.method for s in summaries]),
        "n": int_series(pd, [s.n for s in summaries]),
        "censored": int_series(pd, [s.censored for s in summaries]),
        "mean_days": float_series(pd, [days(s.mean) for s in summaries]),
        "median_days": float_series(pd, [days(s.median) for s in summaries]),
        "p90_days": float_series(pd, [days(s.percentile(0.9)) for s in summaries]),
    }


def duration_frame(summary: Any) -> Any:
    """One row: method, n, censored, mean_days, median_days, p90_days."""
    pd = pandas("DurationSummary.to_frame()")
    return build(pd, _duration_columns(pd, [summary]))


def stages_frame(summaries: Mapping[str, Any]) -> Any:
    """One row per stage of a ``{stage key: DurationSummary}`` (``metrics.time_in_stage``)."""
    pd = pandas("time in stage to_frame()")
    items = list(summaries.items())
    columns = {"stage": text_series(pd, [k for k, _ in items])}
    columns.update(_duration_columns(pd, [s for _, s in items]))
    return build(pd, columns)


def count_frame(summary: Any) -> Any:
    """One row: n, total, mean, median, p90."""
    pd = pandas("CountSummary.to_frame()")
    return build(
        pd,
        {
            "n": int_series(pd, [summary.n]),
            "total": int_series(pd, [summary.total]),
            "mean": float_series(pd, [summary.mean]),
            "median": float_series(pd, [summary.median]),
            "p90": float_series(pd, [summary.percentile(0.9)]),
        },
    )


def km_frame(curve: Any) -> Any:
    """One row per distinct time: time, at_risk, events, censored, survival."""
    pd = pandas("KaplanMeier.to_frame()")
    times = list(curve.times)
    if times and isinstance(times[0], timedelta):
        time = pd.Series(times, dtype="timedelta64[us]")
    else:
        time = float_series(pd, times)
    return build(
        pd,
        {
            "time": time,
            "at_risk": int_series(pd, list(curve.at_risk)),
            "events": int_series(pd, list(curve.event_counts)),
            "censored": int_series(pd, list(curve.censored_counts)),
            "survival": float_series(pd, list(curve.survival_values)),
        },
    )


def incidence_frame(result: Any) -> Any:
    """One row per time and cause: time, cause, at_risk, events, censored, survival, incidence."""
    pd = pandas("CumulativeIncidence.to_frame()")
    overall = km_frame(result.overall)
    parts = []
    for cause, counts, values in zip(
        result.causes, result.event_counts, result.incidence_values, strict=True
    ):
        part = overall.copy()
        part["events"] = int_series(pd, list(counts))
        part.insert(1, "cause", pd.Series([cause] * len(part), dtype=object))
        part["incidence"] = float_series(pd, list(values))
        parts.append(part)
    if not parts:
        empty = overall.copy()
        empty.insert(1, "cause", pd.Series([], dtype=object))
        empty["incidence"] = float_series(pd, [])
        return empty
    return pd.concat(parts, ignore_index=True).sort_values(
        ["time"], kind="stable", ignore_index=True
    )


def attribution_frame(result: Any) -> Any:
    """One row per key: model, the key, credit (exact Decimal), currency, share of the total."""
    pd = pandas("Attribution.to_frame()")
    items = list(result.credits.items())
    total = None if result.total is None else result.total.amount
    share = [None if not total else float(m.amount / total) for _, m in items]
    key = result.key if result.key not in ("model", "credit", "currency", "share") else "key"
    return build(
        pd,
        {
            "model": text_series(pd, [result.model] * len(items)),
            key: text_series(pd, [k for k, _ in items]),
            "credit": decimal_series(pd, [m.amount for _, m in items], "object"),
            "currency": text_series(pd, [m.currency for _, m in items]),
            "share": float_series(pd, share),
        },
    )


def _metric_frame(pd: Any, rows: list[dict[str, Any]]) -> Any:
    def col(name: str) -> list[Any]:
        return [row.get(name) for row in rows]

    return build(
        pd,
        {
            "metric": text_series(pd, col("metric")),
            "stage": text_series(pd, col("stage")),
            "value": float_series(pd, col("value")),
            "unit": text_series(pd, col("unit")),
            "amount": decimal_series(pd, col("amount"), "object"),
            "currency": text_series(pd, col("currency")),
            "n": pd.Series(col("n"), dtype="Int64"),
            "censored": pd.Series(col("censored"), dtype="Int64"),
            "numerator": pd.Series(col("numerator"), dtype="Int64"),
            "denominator": pd.Series(col("denominator"), dtype="Int64"),
            "ci_low": float_series(pd, col("ci_low")),
            "ci_high": float_series(pd, col("ci_high")),
        },
    )


def _money_row(metric: str, money: Money | None, unit: str = "money") -> dict[str, Any]:
    if money is None:
        return {"metric": metric, "unit": unit}
    return {
        "metric": metric,
        "value": float(money.amount),
        "unit": unit,
        "amount": money.amount,
        "currency": money.currency,
    }


def _rate_row(metric: str, rate: Any, stage: str | None = None) -> dict[str, Any]:
    value, low, high = _bounds(rate)
    counts = isinstance(rate.numerator, int) and isinstance(rate.denominator, int)
    return {
        "metric": metric,
        "stage": stage,
        "value": value,
        "unit": "ratio",
        "numerator": rate.numerator if counts else None,
        "denominator": rate.denominator if counts else None,
        "ci_low": low,
        "ci_high": high,
    }


def _duration_rows(prefix: str, summary: Any, stage: str | None = None) -> list[dict[str, Any]]:
    values = {
        "mean": summary.mean,
        "median": summary.median,
        "p90": summary.percentile(0.9),
    }
    return [
        {
            "metric": f"{prefix}_{name}",
            "stage": stage,
            "value": days(value),
            "unit": "days",
            "n": summary.n,
            "censored": summary.censored,
        }
        for name, value in values.items()
    ]


def _velocity_rows(velocity: Any) -> list[dict[str, Any]]:
    return [
        _money_row("sales_velocity", velocity.value, "money per day"),
        {"metric": "open_deals", "value": velocity.opportunities, "unit": "deals"},
        _rate_row("win_rate", velocity.win_rate),
        _money_row("average_deal_size", velocity.average_deal_size),
        *_duration_rows("sales_cycle", velocity.cycle),
    ]


def velocity_frame(velocity: Any) -> Any:
    """The velocity and its components as a long metric table (see :func:`report_frame`)."""
    pd = pandas("Velocity.to_frame()")
    return _metric_frame(pd, _velocity_rows(velocity))


def report_frame(report: Any) -> Any:
    """Every figure of a report as a long table, one row per metric (and stage)."""
    pd = pandas("Report.to_frame()")
    rows: list[dict[str, Any]] = [
        {"metric": "deals", "value": report.deals, "unit": "deals", "n": report.deals},
        *_velocity_rows(report.velocity),
        _money_row("pipeline_value", report.pipeline_value),
        _money_row("weighted_pipeline", report.weighted_pipeline),
    ]
    for row in report.funnel.rows:
        key = row.stage.key
        if row.conversion is not None:
            rows.append(_rate_row("stage_conversion", row.conversion, key))
        rows.append(_rate_row("cumulative_conversion", row.cumulative, key))
    for key, summary in report.time_in_stage.items():
        rows.extend(_duration_rows("time_in_stage", summary, key)[:2])
    return _metric_frame(pd, rows)


def _converter(value: object) -> Callable[[Any], Any] | None:
    from ._report import Report
    from .metrics._attribution import Attribution
    from .metrics._conversion import Funnel
    from .metrics._rate import Rate
    from .metrics._summary import CountSummary, DurationSummary
    from .metrics._survival import CumulativeIncidence, KaplanMeier
    from .metrics._velocity import Velocity

    table: list[tuple[type, Callable[[Any], Any]]] = [
        (Rate, rate_frame),
        (Funnel, funnel_frame),
        (DurationSummary, duration_frame),
        (CountSummary, count_frame),
        (Velocity, velocity_frame),
        (KaplanMeier, km_frame),
        (CumulativeIncidence, incidence_frame),
        (Attribution, attribution_frame),
        (Report, report_frame),
    ]
    for kind, convert in table:
        if isinstance(value, kind):
            return convert
    if isinstance(value, Mapping) and all(isinstance(v, DurationSummary) for v in value.values()):
        return stages_frame
    return None


def frame_of(value: object) -> Any:
    """The frame of any result: a metric result, ``Money``, ``None`` or a number."""
    convert = _converter(value)
    if convert is not None:
        return convert(value)
    pd = pandas()
    if value is None or isinstance(value, Money):
        row = _money_row("", value)
        return build(
            pd,
            {
                "value": float_series(pd, [row.get("value")]),
                "amount": decimal_series(pd, [row.get("amount")], "object"),
                "currency": text_series(pd, [row.get("currency")]),
            },
        )
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return build(pd, {"value": float_series(pd, [float(value)])})
    msg = f"Cannot make a frame of {type(value).__name__} {value!r}."
    raise TypeError(msg)


def breakdown_frame(result: Any) -> Any:
    """The group key as the first column, then the frame of each group's result."""
    pd = pandas("Breakdown.to_frame()")
    parts = [(key, frame_of(value)) for key, value in result.results.items()]
    columns: set[str] = set().union(*(set(frame.columns) for _, frame in parts))
    name = result.by if result.by not in columns else f"by_{result.by}"
    if not parts:
        return pd.DataFrame({name: pd.Series([], dtype=object)})
    framed = []
    for key, frame in parts:
        frame = frame.copy()
        frame.insert(0, name, pd.Series([key] * len(frame), dtype=object))
        framed.append(frame)
    out = pd.concat(framed, ignore_index=True)
    keys = list(out[name])
    # Text keys get the text dtype; numbers, dates and mixed keys what pandas infers.
    text = all(isinstance(k, str) or k is None for k in keys)
    out[name] = text_series(pd, keys) if text else pd.Series(keys)
    return out


def iter_amounts(values: Iterable[Money | None]) -> tuple[list[Decimal | None], list[str | None]]:
    """Amounts and currencies of *values*, ``None`` where there is no value."""
    amounts: list[Decimal | None] = []
    currencies: list[str | None] = []
    for money in values:
        amounts.append(None if money is None else money.amount)
        currencies.append(None if money is None else money.currency)
    return amounts, currencies
