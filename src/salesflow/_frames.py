"""pandas columns: the building blocks of every ``to_frame()``.

This is the low layer: it knows money and time but no metric result. Each
result type builds its own frame in its own module (``Rate.to_frame`` in
``metrics/_rate.py`` …) from these columns, and the loaders' frames
(``io/_frame.py``) use them too. pandas is an optional extra
(``salesflow[pandas]``): the caller gets the module from
:func:`salesflow._optional.pandas`, which names the extra when it is missing,
and passes it in.

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

Metric results (``Rate``, ``Funnel``, ``Report`` … ``to_frame()``) follow one
convention of their own, so that a result frame never mixes ``None``,
``NaN`` and ``<NA>``: every column has a nullable pandas dtype and every
undefined value is ``pd.NA`` (``isna()`` is true, and it prints ``<NA>``):

* counts are ``Int64``; rates, bounds, days and amounts are ``Float64``;
* text is the ``string`` dtype;
* amounts are floats by default, to read and plot; ``exact=True`` gives the
  exact :class:`~decimal.Decimal` objects (``object`` dtype, ``pd.NA`` where
  there is none), to sum to the cent.

The ``result_*`` helpers below build those columns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from ._money import Money
from ._optional import require
from ._time import DAY

if TYPE_CHECKING:
    from types import ModuleType

    from pandas import DataFrame, Series

__all__ = [
    "DecimalMode",
    "build",
    "check_decimal",
    "concat",
    "days",
    "decimal_series",
    "float_series",
    "int_series",
    "iter_amounts",
    "metric_frame",
    "money_row",
    "number_series",
    "result_amounts",
    "result_floats",
    "result_ints",
    "result_numbers",
    "result_texts",
    "text_series",
    "time_series",
    "value_frame",
]

#: How money amounts are stored in a frame.
DecimalMode = Literal["object", "float", "arrow"]
_NAN = math.nan

# Each helper takes the pandas module its caller got from _optional.pandas()
# (so the missing-extra error names the caller's feature) and returns a typed
# Series or DataFrame: the annotated assignments are where pandas' untyped
# module object meets pandas-stubs' types.


def text_series(pd: ModuleType, values: Sequence[object]) -> Series:
    """Text in the dtype pandas itself gives text (``str`` in pandas 3); ``None`` -> missing."""
    dtype = pd.Series(["x"]).dtype
    series: Series = pd.Series(values, dtype=dtype)
    return series


def time_series(pd: ModuleType, values: Sequence[datetime | None]) -> Series:
    """Aware datetimes as ``datetime64[us, UTC]`` (``None`` -> ``NaT``)."""
    series: Series = pd.Series(pd.to_datetime(list(values), utc=True))
    return series.astype("datetime64[us, UTC]")


def float_series(pd: ModuleType, values: Sequence[float | None]) -> Series:
    """Floats as ``float64`` (``None`` -> ``NaN``)."""
    series: Series = pd.Series([_NAN if v is None else v for v in values], dtype="float64")
    return series


def int_series(pd: ModuleType, values: Sequence[int | None]) -> Series:
    """Whole numbers: ``int64``, or nullable ``Int64`` when a value is ``None``."""
    dtype = "Int64" if any(v is None for v in values) else "int64"
    series: Series = pd.Series(values, dtype=dtype)
    return series


def number_series(pd: ModuleType, values: Sequence[int | Decimal]) -> Series:
    """Counts as ``int64``; amounts (any ``Decimal``) as exact ``Decimal`` objects."""
    if all(isinstance(v, int) for v in values):
        counts: Series = pd.Series(values, dtype="int64")
        return counts
    amounts: Series = pd.Series(list(values), dtype=object)
    return amounts


def decimal_series(pd: ModuleType, values: Sequence[Decimal | None], mode: str) -> Series:
    """Amounts: ``Decimal`` objects, ``float64`` or an Arrow decimal, as *mode* says."""
    if mode == "object":
        objects: Series = pd.Series(list(values), dtype=object)
        return objects
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
        arrow: Series = pd.Series(pd.array(list(values), dtype=dtype))
        return arrow
    msg = f"decimal must be 'object', 'float' or 'arrow', got {mode!r}."
    raise ValueError(msg)


def result_floats(pd: ModuleType, values: Sequence[float | None]) -> Series:
    """A result's floats as ``Float64`` (``None`` and NaN -> ``pd.NA``)."""
    clean = [None if v is None or v != v else float(v) for v in values]
    series: Series = pd.Series(pd.array(clean, dtype="Float64"))
    return series


def result_ints(pd: ModuleType, values: Sequence[int | None]) -> Series:
    """A result's counts as ``Int64`` (``None`` -> ``pd.NA``)."""
    series: Series = pd.Series(pd.array(list(values), dtype="Int64"))
    return series


def result_texts(pd: ModuleType, values: Sequence[object]) -> Series:
    """A result's text as the ``string`` dtype (``None`` -> ``pd.NA``)."""
    clean = [None if v is None else str(v) for v in values]
    series: Series = pd.Series(pd.array(clean, dtype="string"))
    return series


def result_amounts(pd: ModuleType, values: Sequence[Decimal | None], exact: bool) -> Series:
    """Amounts: ``Float64`` by default, exact ``Decimal`` objects with *exact* (``pd.NA`` if none)."""
    if not exact:
        return result_floats(pd, [None if v is None else float(v) for v in values])
    series: Series = pd.Series([pd.NA if v is None else v for v in values], dtype=object)
    return series


def result_numbers(pd: ModuleType, values: Sequence[int | Decimal], exact: bool) -> Series:
    """Counts as ``Int64``; amounts (any ``Decimal``) as :func:`result_amounts` gives them."""
    if all(isinstance(v, int) for v in values):
        return result_ints(pd, [int(v) for v in values])
    return result_amounts(pd, [Decimal(v) for v in values], exact)


def _places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # Money amounts are finite.
    return max(0, -exponent)


def _whole_digits(amount: Decimal) -> int:
    return max(1, amount.adjusted() + 1)


def days(value: timedelta | None) -> float | None:
    """A duration in days (``None`` stays ``None``)."""
    return None if value is None else value / DAY


def check_decimal(mode: object) -> str:
    """Validate a ``decimal=`` option."""
    if mode not in ("object", "float", "arrow"):
        msg = f"decimal must be 'object', 'float' or 'arrow', got {mode!r}."
        raise ValueError(msg)
    return str(mode)


def build(pd: ModuleType, columns: Mapping[str, Series]) -> DataFrame:
    """A DataFrame from ready-made column Series (the index is reset to 0..n-1)."""
    frame: DataFrame = pd.DataFrame(
        {name: pd.Series(col).reset_index(drop=True) for name, col in columns.items()}
    )
    return frame


def concat(pd: ModuleType, frames: Sequence[DataFrame]) -> DataFrame:
    """The rows of *frames*, one after another, with a fresh 0..n-1 index."""
    frame: DataFrame = pd.concat(frames, ignore_index=True)
    return frame


def iter_amounts(values: Iterable[Money | None]) -> tuple[list[Decimal | None], list[str | None]]:
    """Amounts and currencies of *values*, ``None`` where there is no value."""
    amounts: list[Decimal | None] = []
    currencies: list[str | None] = []
    for money in values:
        amounts.append(None if money is None else money.amount)
        currencies.append(None if money is None else money.currency)
    return amounts, currencies


# ------------------------------------------------------------------ metric tables
#
# The long "one row per metric" table of Velocity.to_frame() and
# Report.to_frame(). A row is a dict of the columns it has; the result
# modules build their rows (Rate's in metrics/_rate.py …) and this makes the
# frame, so every metric table has the same columns and dtypes.


def metric_frame(
    pd: ModuleType, rows: Sequence[Mapping[str, Any]], *, exact: bool = False
) -> DataFrame:
    """A long metric table: metric, stage, value, unit, amount, currency, counts, interval."""

    def col(name: str) -> list[Any]:
        return [row.get(name) for row in rows]

    return build(
        pd,
        {
            "metric": result_texts(pd, col("metric")),
            "stage": result_texts(pd, col("stage")),
            "value": result_floats(pd, col("value")),
            "unit": result_texts(pd, col("unit")),
            "amount": result_amounts(pd, col("amount"), exact),
            "currency": result_texts(pd, col("currency")),
            "n": result_ints(pd, col("n")),
            "censored": result_ints(pd, col("censored")),
            "numerator": result_ints(pd, col("numerator")),
            "denominator": result_ints(pd, col("denominator")),
            "ci_low": result_floats(pd, col("ci_low")),
            "ci_high": result_floats(pd, col("ci_high")),
        },
    )


def money_row(metric: str, money: Money | None, unit: str = "money") -> dict[str, Any]:
    """The metric-table row of an amount (only metric and unit when there is none)."""
    if money is None:
        return {"metric": metric, "unit": unit}
    return {
        "metric": metric,
        "value": float(money.amount),
        "unit": unit,
        "amount": money.amount,
        "currency": money.currency,
    }


def value_frame(
    pd: ModuleType, value: Money | float | Decimal | None, *, exact: bool = False
) -> DataFrame:
    """One row of a plain value: an amount (value, amount, currency) or a number (value)."""
    if value is None or isinstance(value, Money):
        row = money_row("", value)
        return build(
            pd,
            {
                "value": result_floats(pd, [row.get("value")]),
                "amount": result_amounts(pd, [row.get("amount")], exact),
                "currency": result_texts(pd, [row.get("currency")]),
            },
        )
    return build(pd, {"value": result_floats(pd, [float(value)])})
