"""Pointwise confidence intervals of a Kaplan-Meier curve (Greenwood's variance).

The variance of log S(t) is estimated by Greenwood's formula,

    sigma²(t) = sum over event times t_i <= t of d_i / (n_i (n_i - d_i)),

and the interval is built on one of three scales, named as R's
``survfit(conf.type=...)`` names them (z is the two-sided normal quantile):

* ``"log-log"`` (the default, as in lifelines; R's default is ``"log"``):
  S^exp(±z·sigma / log S), which always lies inside [0, 1] and keeps its good
  coverage in the tails (Kalbfleisch & Prentice 1980, §1.3);
* ``"log"``: S·exp(±z·sigma), the upper bound clipped at 1;
* ``"plain"``: S ± z·S·sigma, clipped to [0, 1] (Klein & Moeschberger 4.3.1).

Where every spell still at risk ends (n_i = d_i), S drops to 0 and the
variance is infinite: there is no interval there (``None``), as R reports NA.
Before the first event (S = 1, sigma = 0) the interval is the point (1, 1).
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from itertools import accumulate
from statistics import NormalDist
from typing import Literal, get_args

__all__ = [
    "Transform",
    "bounds",
    "check_confidence",
    "check_transform",
    "greenwood",
    "incidence_intervals",
    "restricted_mean_variance",
    "z_of",
]

Transform = Literal["log-log", "log", "plain"]


def check_confidence(confidence: object) -> float:
    """Return *confidence* as a float strictly between 0 and 1, or raise ValueError naming it."""
    # The negated comparison also refuses NaN, which compares false with everything.
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real | Decimal)
        or not 0 < float(confidence) < 1
    ):
        msg = f"confidence must be strictly between 0 and 1, got {confidence!r}."
        raise ValueError(msg)
    return float(confidence)


def check_transform(transform: object) -> Transform:
    """Return *transform* if it is one of the three scales, else raise ValueError naming it."""
    if transform not in get_args(Transform):
        msg = f"transform must be 'log-log', 'log' or 'plain', got {transform!r}."
        raise ValueError(msg)
    return transform  # type: ignore[return-value]


def z_of(confidence: float) -> float:
    """The two-sided standard normal quantile for *confidence* (1.959964 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def greenwood(at_risk: tuple[int, ...], events: tuple[int, ...]) -> tuple[float, ...]:
    """Greenwood's sigma²(t) at each time: the running sum of d / (n (n - d)).

    ``inf`` from the first time at which every spell at risk ended.
    """
    terms = (
        (d / (n * (n - d)) if n > d else math.inf) if d else 0.0
        for n, d in zip(at_risk, events, strict=True)
    )
    return tuple(accumulate(terms, initial=0.0))[1:]


def bounds(
    survival: float, variance: float, z: float, transform: Transform
) -> tuple[float, float] | None:
    """The interval of *survival* given Greenwood's *variance* of log S, or ``None`` at S = 0."""
    if survival <= 0.0 or math.isinf(variance):
        return None
    sigma = math.sqrt(variance)
    if sigma == 0.0:
        return survival, survival
    if transform == "plain":
        half = z * sigma * survival
        return max(0.0, survival - half), min(1.0, survival + half)
    if transform == "log":
        return survival * math.exp(-z * sigma), min(1.0, survival * math.exp(z * sigma))
    # log-log: a confidence interval for log(-log S), mapped back; log S < 0 here
    # because sigma > 0 needs an event, which makes S < 1.
    log_s = math.log(survival)
    spread = max(-700.0, z * sigma / log_s)  # negative; capped so that exp() cannot overflow
    return survival ** math.exp(-spread), survival ** math.exp(spread)


def restricted_mean_variance(
    starts: list[float],
    survival: tuple[float, ...],
    at_risk: tuple[int, ...],
    events: tuple[int, ...],
    end: float,
) -> float:
    """Variance of the restricted mean to *end* (Klein & Moeschberger 2003, eq. 4.5.2).

    Var = sum over event times t_i <= end of A_i² d_i / (n_i (n_i - d_i)), with
    A_i the area under S from t_i to *end*; *starts* are the k times at or
    before *end* (as floats), the other columns the curve's first k entries.
    A term with n_i = d_i adds nothing: its A_i is 0 (S is 0 from there on).
    """
    k = len(starts)
    # Area under S from each time to the end, accumulated from the right.
    edges = [*starts[1:], end]
    areas = [0.0] * k
    running = 0.0
    for i in range(k - 1, -1, -1):
        running += survival[i] * (edges[i] - starts[i])
        areas[i] = running
    return math.fsum(
        a * a * d / (n * (n - d))
        for a, n, d in zip(areas, at_risk[:k], events[:k], strict=True)
        if d and n > d
    )


def incidence_intervals(
    at_risk: tuple[int, ...],
    ended: tuple[int, ...],
    survival: tuple[float, ...],
    cause_ended: tuple[int, ...],
    incidence: tuple[float, ...],
    z: float,
) -> tuple[tuple[float, float], ...]:
    """Pointwise intervals of one cause's cumulative incidence F (delta method, log-log scale).

    The Greenwood-type variance (Marubini & Valsecchi 1995; SAS LIFETEST's
    delta method; Collett 2015, p. 411), over times t_i <= t with n_i at
    risk, d_i ended for any cause, d_ji for this one and S_{i-1} the overall
    survival just before t_i::

        Var F(t) = sum (F(t) - F(t_i))² d_i / (n_i (n_i - d_i))
                 + sum S_{i-1}² d_ji (n_i - d_ji) / n_i³
                 - 2 sum (F(t) - F(t_i)) S_{i-1} d_ji / n_i²

    kept as running sums (a quadratic in F(t)). The interval is
    F^exp(±z·SE / (F log F)) (as lifelines), inside [0, 1]; (0, 0) before the
    cause's first event and (F, F) where the variance is 0. A time at which
    every spell at risk ended adds nothing to the first sum: F stays at F(t_i).
    """
    a = af = aff = b = c = cf = 0.0
    out = []
    before = 1.0
    for n, d, s, dj, f in zip(at_risk, ended, survival, cause_ended, incidence, strict=True):
        if d and n > d:
            weight = d / (n * (n - d))
            a += weight
            af += weight * f
            aff += weight * f * f
        if dj:
            b += before * before * dj * (n - dj) / n**3
            weight = before * dj / (n * n)
            c += weight
            cf += weight * f
        before = s
        variance = max(0.0, f * f * a - 2 * f * af + aff + b - 2 * (f * c - cf))
        if f <= 0.0:
            out.append((0.0, 0.0))
        elif f >= 1.0 or variance == 0.0:
            # F can round a hair above 1 (a sum of products); the interval stays in [0, 1].
            end = min(f, 1.0)
            out.append((end, end))
        else:
            # Negative; huge when F is a rounding away from 1, hence the cap
            # (the lower bound then underflows to 0, as it should).
            spread = max(-700.0, z * math.sqrt(variance) / (f * math.log(f)))
            out.append((f ** math.exp(-spread), f ** math.exp(spread)))
    return tuple(out)
