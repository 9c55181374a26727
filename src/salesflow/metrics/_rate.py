"""Rates with their counts and a confidence interval."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._frames import build, result_floats, result_numbers, result_texts
from .._optional import pandas
from ._intervals import jeffreys_interval, wilson_interval

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["IntervalMethod", "Rate"]

IntervalMethod = Literal["wilson", "jeffreys"]
#: How a rate's interval was made: a binomial method, or a bootstrap (amount-based rates).
RateMethod = Literal["wilson", "jeffreys", "percentile-bootstrap"]


@attrs.frozen(repr=False)
class Rate:
    """A proportion that keeps its numerator and denominator.

    ``value`` is ``numerator / denominator`` as a float, or ``None`` when the
    denominator is zero: a rate over nothing is undefined, not 0. Count-based
    rates carry a confidence interval (Wilson by default, Jeffreys on
    request). A binomial interval does not apply to amount-based rates
    (``Decimal`` counts, e.g. a win rate by amount): :meth:`of` gives them
    ``interval = None``, and the win rate by amount sets a percentile
    bootstrap interval (``method="percentile-bootstrap"``).

    Attributes:
        numerator: The successes (an ``int``), or an amount (``Decimal``).
        denominator: The trials, or the total amount.
        interval: ``(low, high)`` at ``confidence``, or ``None``.
        method: ``"wilson"``, ``"jeffreys"``, ``"percentile-bootstrap"``, or
            ``None`` when there is no interval.
        confidence: The interval's confidence level.

    Examples:
        >>> from salesflow.metrics import Rate
        >>> r = Rate.of(45, 180)
        >>> r.value, tuple(round(x, 6) for x in r.interval)
        (0.25, (0.192413, 0.318035))
        >>> Rate.of(0, 0).value is None
        True
    """

    numerator: int | Decimal
    denominator: int | Decimal
    interval: tuple[float, float] | None = None
    method: RateMethod | None = None
    confidence: float = 0.95

    @classmethod
    def of(
        cls,
        numerator: int | Decimal,
        denominator: int | Decimal,
        *,
        interval: IntervalMethod | None = "wilson",
        confidence: float = 0.95,
    ) -> Rate:
        """Build a rate, with an interval when the counts are integers.

        Raises:
            ValueError: Negative counts, or a numerator above the denominator.
        """
        if numerator < 0 or denominator < 0:
            msg = f"A rate needs non-negative counts, got {numerator!r} / {denominator!r}."
            raise ValueError(msg)
        if numerator > denominator:
            msg = f"A rate's numerator ({numerator!r}) cannot exceed its denominator ({denominator!r})."
            raise ValueError(msg)
        counts = isinstance(numerator, int) and isinstance(denominator, int)
        if interval is None or not counts:
            return cls(numerator, denominator, None, None, confidence)
        if interval not in ("wilson", "jeffreys"):
            msg = f"interval must be 'wilson', 'jeffreys' or None, got {interval!r}."
            raise ValueError(msg)
        fn = wilson_interval if interval == "wilson" else jeffreys_interval
        bounds = fn(int(numerator), int(denominator), confidence)
        return cls(numerator, denominator, bounds, interval, confidence)

    @property
    def value(self) -> float | None:
        """``numerator / denominator``, or ``None`` when the denominator is zero."""
        if not self.denominator:
            return None
        return float(Decimal(self.numerator) / Decimal(self.denominator))

    def __add__(self, other: Rate) -> Rate:
        """Pool two rates of the same kind (counts add; the interval is recomputed)."""
        if not isinstance(other, Rate):
            return NotImplemented
        # A bootstrap interval cannot be pooled from two rates (it needs the
        # items), so a pooled amount-based rate has none.
        method = self.method
        interval: IntervalMethod | None = (
            "wilson" if method == "wilson" else "jeffreys" if method == "jeffreys" else None
        )
        return Rate.of(
            self.numerator + other.numerator,
            self.denominator + other.denominator,
            interval=interval,
            confidence=self.confidence,
        )

    def format(self, digits: int = 1) -> str:
        """``'25.0% (45/180, 95% CI 19.2-31.8%)'``; ``'n/a (0/0)'`` when undefined."""
        counts = f"{self.numerator}/{self.denominator}"
        if self.value is None:
            return f"n/a ({counts})"
        text = f"{self.value:.{digits}%} ({counts}"
        if self.interval is not None:
            lo, hi = self.interval
            text += f", {self.confidence:.0%} CI {lo * 100:.{digits}f}-{hi:.{digits}%}"
        return text + ")"

    def __repr__(self) -> str:
        value = "None" if self.value is None else f"{self.value:.6g}"
        interval = (
            ""
            if self.interval is None
            else f", interval=({self.interval[0]:.6g}, {self.interval[1]:.6g})"
        )
        return f"Rate({self.numerator}/{self.denominator}, value={value}{interval})"

    def __str__(self) -> str:
        return self.format()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (amounts as decimal strings)."""

        def num(x: int | Decimal) -> int | str:
            return x if isinstance(x, int) else str(x)

        return {
            "numerator": num(self.numerator),
            "denominator": num(self.denominator),
            "value": self.value,
            "interval": None if self.interval is None else list(self.interval),
            "method": self.method,
            "confidence": self.confidence,
        }

    def _repr_html_(self) -> str:
        from ._show import rate_sheet

        return rate_sheet(self).html()

    def to_frame(self, *, exact: bool = False) -> pd.DataFrame:
        """A one-row pandas DataFrame: numerator, denominator, value, ci_low, ci_high, method.

        Counts are ``Int64``; amount-based counts are floats, or exact
        ``Decimal`` objects with *exact*. An undefined value is ``pd.NA``.
        """
        pd = pandas("Rate.to_frame()")
        low, high = self.interval if self.interval is not None else (None, None)
        return build(
            pd,
            {
                "numerator": result_numbers(pd, [self.numerator], exact),
                "denominator": result_numbers(pd, [self.denominator], exact),
                "value": result_floats(pd, [self.value]),
                "ci_low": result_floats(pd, [low]),
                "ci_high": result_floats(pd, [high]),
                "confidence": result_floats(pd, [self.confidence]),
                "method": result_texts(pd, [self.method]),
            },
        )


def bounds(rate: Rate | None) -> tuple[float | None, float | None, float | None]:
    """A rate's value and interval bounds, ``None`` for what it lacks (frame columns)."""
    if rate is None:
        return None, None, None
    low, high = rate.interval if rate.interval is not None else (None, None)
    return rate.value, low, high


def rate_row(metric: str, rate: Rate, stage: str | None = None) -> dict[str, Any]:
    """The metric-table row of a rate (see :func:`salesflow._frames.metric_frame`)."""
    value, low, high = bounds(rate)
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
