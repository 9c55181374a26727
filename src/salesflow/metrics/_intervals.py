"""Confidence intervals for a proportion (win rate, stage conversion rate).

Three intervals, all pure Python:

* :func:`wilson_interval`: the Wilson score interval, a closed form.
* :func:`jeffreys_interval`: quantiles of the Beta(x + 1/2, n - x + 1/2)
  posterior under the Jeffreys prior; central by default, with the Brown, Cai &
  DasGupta boundary rule on request.
* :func:`clopper_pearson_interval`: the "exact" interval from inverting two
  one-sided binomial tests; conservative (coverage at least the nominal level).

Jeffreys and Clopper-Pearson need the inverse of the regularised incomplete
beta function, which the standard library lacks; :func:`_betainc` and
:func:`_betaincinv` provide it (Lentz continued fraction, then safeguarded
Newton), accurate to about 1e-12 for the counts a sales team meets.

Every function returns ``None`` when there are no trials: a rate over nothing is
undefined, and reporting 0 (or an interval of [0, 1]) would be a number that
looks measured but is not.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from statistics import NormalDist

__all__ = ["clopper_pearson_interval", "jeffreys_interval", "wilson_interval"]

# Lentz's algorithm replaces exact zeros with a tiny number so that divisions stay finite.
_TINY = 1e-300
_CF_EPS = 1e-15
_NEWTON_TOL = 1e-15
_MAX_NEWTON = 200


def _check(successes: int, trials: int, confidence: float) -> tuple[int, int, float]:
    """Validate the arguments shared by every interval; return them as int, int, float."""
    counts: tuple[tuple[str, object], ...] = (("trials", trials), ("successes", successes))
    for name, value in counts:
        # bool is an int subclass, but True successes out of 3 trials is almost surely a bug.
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            msg = f"{name} must be an int, got {value!r}."
            raise ValueError(msg)
    if trials < 0:
        msg = f"trials must be zero or more, got {trials!r}."
        raise ValueError(msg)
    if not 0 <= successes <= trials:
        msg = f"successes must be between 0 and trials ({trials!r}), got {successes!r}."
        raise ValueError(msg)
    level: object = confidence
    # The negated comparison also refuses NaN, which compares false with everything.
    if not isinstance(level, numbers.Real | Decimal) or not 0 < float(level) < 1:
        msg = f"confidence must be strictly between 0 and 1, got {confidence!r}."
        raise ValueError(msg)
    return int(successes), int(trials), float(confidence)


def wilson_interval(
    successes: int, trials: int, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Wilson score interval for a proportion.

    With p = x / n and z the two-sided normal quantile for *confidence*::

        centre     = (p + z²/2n) / (1 + z²/n)
        half-width = z·√(p(1 - p)/n + z²/4n²) / (1 + z²/n)

    The interval is centre ± half-width, clamped to [0, 1]; at x = 0 the lower
    bound is exactly 0.0 and at x = n the upper bound is exactly 1.0. Unlike the
    Wald interval (p ± z·√(p(1 - p)/n)) it does not collapse to a single point at
    0 % or 100 %, and its coverage stays close to the nominal level for small n.

    Args:
        successes: Count of successes x (e.g. deals won), an int.
        trials: Count of trials n (e.g. deals closed), an int.
        confidence: Two-sided confidence level, strictly between 0 and 1.

    Returns:
        ``(lower, upper)`` as fractions in [0, 1], or ``None`` when ``trials``
        is 0 (the proportion is undefined).

    Raises:
        ValueError: If a count is not an int (bools are refused), is negative,
            if ``successes > trials``, or if ``confidence`` is not in (0, 1).

    Examples:
        >>> lo, hi = wilson_interval(1, 10)
        >>> round(lo, 6), round(hi, 6)
        (0.017876, 0.40415)
        >>> wilson_interval(0, 0) is None
        True
    """
    successes, trials, level = _check(successes, trials, confidence)
    if trials == 0:
        return None
    z = NormalDist().inv_cdf(0.5 + level / 2)
    n = trials
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # Rounding leaves centre - half a few ulps off 0 at x = 0 (and likewise at x = n).
    lower = 0.0 if successes == 0 else max(0.0, centre - half)
    upper = 1.0 if successes == n else min(1.0, centre + half)
    return lower, upper


def jeffreys_interval(
    successes: int, trials: int, confidence: float = 0.95, *, boundary: bool = False
) -> tuple[float, float] | None:
    """Jeffreys interval for a proportion: quantiles of a Beta posterior.

    With the Jeffreys prior Beta(1/2, 1/2) the posterior of the proportion after
    x successes in n trials is Beta(x + 1/2, n - x + 1/2), and the interval is
    its alpha/2 and 1 - alpha/2 quantiles, with alpha = 1 - *confidence*.

    Two variants exist and give different numbers at x = 0 and x = n:

    * central (the default, as statsmodels' ``proportion_confint(method="jeffreys")``
      computes it; its ``method="beta"`` is Clopper-Pearson): both quantiles, always. It is the
      plain equal-tailed posterior interval, so it is what a Bayesian reading
      expects and it matches the most widely installed implementation; its price
      is that at x = 0 the lower bound is above 0 (it excludes the observed
      0 %), and one-sided coverage there is only 1 - alpha/2.
    * ``boundary=True``: the rule of Brown, Cai & DasGupta (2001, *Statistical
      Science* 16(2)): lower = 0 when x = 0 and upper = 1 when x = n, which
      restores coverage at the edges.

    Args:
        successes: Count of successes x, an int.
        trials: Count of trials n, an int.
        confidence: Two-sided confidence level, strictly between 0 and 1.
        boundary: Apply the Brown-Cai-DasGupta boundary rule.

    Returns:
        ``(lower, upper)`` as fractions in [0, 1], or ``None`` when ``trials``
        is 0 (the proportion is undefined).

    Raises:
        ValueError: As for :func:`wilson_interval`.

    Examples:
        >>> lo, hi = jeffreys_interval(0, 10)
        >>> round(lo, 6), round(hi, 6)
        (4.8e-05, 0.217196)
        >>> lo, hi = jeffreys_interval(0, 10, boundary=True)
        >>> lo, round(hi, 6)
        (0.0, 0.217196)
    """
    successes, trials, level = _check(successes, trials, confidence)
    if trials == 0:
        return None
    tail = (1 - level) / 2
    a = successes + 0.5
    b = trials - successes + 0.5
    lower = _betaincinv(a, b, tail)
    # The upper quantile comes from the mirrored distribution so that values close
    # to 1 keep full relative precision in 1 - upper, and so that x -> n - x maps
    # (lower, upper) to (1 - upper, 1 - lower) exactly.
    upper = 1.0 - _betaincinv(b, a, tail)
    if boundary and successes == 0:
        lower = 0.0
    if boundary and successes == trials:
        upper = 1.0
    return lower, upper


def clopper_pearson_interval(
    successes: int, trials: int, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Clopper-Pearson ("exact") interval for a proportion.

    The bounds are the proportions at which a one-sided binomial test just
    rejects at level alpha/2: P(X ≥ x | lower) = alpha/2 and P(X ≤ x | upper) = alpha/2,
    i.e. lower = Beta⁻¹(alpha/2; x, n - x + 1) and upper = Beta⁻¹(1 - alpha/2; x + 1,
    n - x), with lower = 0 at x = 0 and upper = 1 at x = n. Coverage is never
    below the nominal level, so the interval is wider than Wilson or Jeffreys.

    Args:
        successes: Count of successes x, an int.
        trials: Count of trials n, an int.
        confidence: Two-sided confidence level, strictly between 0 and 1.

    Returns:
        ``(lower, upper)`` as fractions in [0, 1], or ``None`` when ``trials``
        is 0 (the proportion is undefined).

    Raises:
        ValueError: As for :func:`wilson_interval`.

    Examples:
        >>> lo, hi = clopper_pearson_interval(3, 20)
        >>> round(lo, 6), round(hi, 6)
        (0.032071, 0.378927)
    """
    successes, trials, level = _check(successes, trials, confidence)
    if trials == 0:
        return None
    tail = (1 - level) / 2
    x, n = successes, trials
    lower = 0.0 if x == 0 else _betaincinv(x, n - x + 1, tail)
    upper = 1.0 if x == n else 1.0 - _betaincinv(n - x, x + 1, tail)
    return lower, upper


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction for I_x(a, b), evaluated by the modified Lentz method."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    # Convergence takes O(sqrt(max(a, b))) terms; the cap is far above that.
    for m in range(1, 10_000 + int(10 * math.sqrt(max(a, b)))):
        m2 = 2 * m
        for coefficient in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + coefficient * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + coefficient / c
            c = c if abs(c) > _TINY else _TINY
            delta = c * d
            h *= delta
        if abs(delta - 1.0) < _CF_EPS:
            return h
    msg = f"The incomplete beta continued fraction did not converge for a={a!r}, b={b!r}."
    raise ArithmeticError(msg)


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b) = P(Beta(a, b) <= x), a, b > 0."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    # The continued fraction converges fast only left of the mode; use the symmetry
    # I_x(a, b) = 1 - I_{1-x}(b, a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def _initial_guess(a: float, b: float, p: float) -> float:
    """Starting point for the inversion (Numerical Recipes, 3rd ed., section 6.14)."""
    if a >= 1.0 and b >= 1.0:
        pp = p if p < 0.5 else 1.0 - p
        t = math.sqrt(-2.0 * math.log(pp))
        z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t
        if p < 0.5:
            z = -z
        al = (z * z - 3.0) / 6.0
        h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0)) if a + b > 2.0 else 1.0
        w = z * math.sqrt(al + h) / h - (1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)) * (
            al + 5.0 / 6.0 - 2.0 / (3.0 * h)
        )
        return a / (a + b * math.exp(min(2.0 * w, 700.0)))
    # Small shapes: invert the leading power-law term of each tail.
    t = math.exp(a * math.log(a / (a + b))) / a
    u = math.exp(b * math.log(b / (a + b))) / b
    if p < t / (t + u):
        return math.pow(a * (t + u) * p, 1.0 / a)
    return 1.0 - math.pow(b * (t + u) * (1.0 - p), 1.0 / b)


def _betaincinv(a: float, b: float, p: float) -> float:
    """Inverse of I_x(a, b) in x: the p-quantile of Beta(a, b), for a, b > 0, 0 <= p <= 1.

    Newton's method on I_x(a, b) - p, kept inside a bracket that shrinks with
    every evaluation; a step that would leave the bracket bisects it instead, so
    the iteration always converges even from a poor start.
    """
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_b = _log_beta(a, b)
    lo, hi = 0.0, 1.0
    x = min(max(_initial_guess(a, b, p), 1e-300), 1.0 - 1e-16)
    for _ in range(_MAX_NEWTON):
        f = _betainc(a, b, x) - p
        if f == 0.0:
            return x
        if f < 0.0:
            lo = x
        else:
            hi = x
        density = math.exp((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - log_b)
        step = f / density if density > 0.0 and math.isfinite(density) else math.inf
        candidate = x - step
        if not lo < candidate < hi:
            # Bisect geometrically near 0, where the quantiles of small shapes live.
            candidate = math.sqrt(lo * hi) if lo > 0.0 and hi < 0.5 else (lo + hi) / 2.0
        if abs(candidate - x) <= _NEWTON_TOL * x or hi - lo <= _NEWTON_TOL * lo:
            return candidate
        x = candidate
    return x


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with *df* degrees of freedom, for 1/2 <= p < 1.

    From the incomplete beta function: if x is the 2(1 - p) quantile of
    Beta(df/2, 1/2), then t = sqrt(df (1 - x) / x). From 1,000 degrees of
    freedom the inversion loses digits to the extreme shape, and the
    Cornish-Fisher expansion about the normal quantile (error O(df⁻⁴)) is
    used instead; both agree with scipy to 1e-11.
    """
    if p == 0.5:
        return 0.0
    if df >= 1_000:
        z = NormalDist().inv_cdf(p)
        return (
            z
            + (z**3 + z) / (4 * df)
            + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        )
    x = _betaincinv(df / 2.0, 0.5, 2.0 * (1.0 - p))
    return math.sqrt(df * (1.0 - x) / x)
