"""Test statistics and their distributions, in pure Python, for the comparisons.

* :func:`chi2_sf`: the upper tail of the chi-square distribution, from the
  regularised incomplete gamma function (series below the mean, Lentz's
  continued fraction above it; Numerical Recipes, 3rd ed., §6.2).
* :func:`fisher_exact`: the two-sided p-value of Fisher's exact test of a
  2 x 2 table, as R's ``fisher.test`` defines it (the tables at most as
  probable as the one observed), in exact integer arithmetic.
* :func:`adjust`: Holm's and Benjamini-Hochberg's adjusted p-values.
* :func:`solve`: a small linear system by Gaussian elimination (the k-sample
  log-rank statistic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

__all__ = ["Correction", "adjust", "chi2_sf", "fisher_exact", "solve"]

Correction = Literal["holm", "bh"]

_EPS = 1e-16
_TINY = 1e-300


def _gamma_series(a: float, x: float) -> float:
    """P(a, x), the regularised lower incomplete gamma, by its series (x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(100_000):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_fraction(a: float, x: float) -> float:
    """Q(a, x), the regularised upper incomplete gamma, by Lentz's continued fraction."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for X chi-square with *df* degrees of freedom (1.0 for x <= 0)."""
    if x <= 0.0:
        return 1.0
    a, half = df / 2.0, x / 2.0
    if half < a + 1.0:
        return max(0.0, 1.0 - _gamma_series(a, half))
    return _gamma_fraction(a, half)


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test of the table [[a, b], [c, d]].

    The sum of the hypergeometric probabilities (margins fixed) of every table
    no more probable than the observed one, as R's ``fisher.test`` computes it;
    here in exact integers, so ties between tables are exact.
    """
    row, col, total = a + b, a + c, a + b + c + d
    low, high = max(0, row + col - total), min(row, col)
    weights = [math.comb(col, x) * math.comb(total - col, row - x) for x in range(low, high + 1)]
    observed = weights[a - low]
    extreme = sum(w for w in weights if w <= observed)
    return min(1.0, extreme / sum(weights))


def adjust(p_values: Sequence[float], correction: Correction) -> list[float]:
    """Adjusted p-values for several tests at once (as R's ``p.adjust``).

    ``"holm"``: Holm's step-down (controls the family-wise error rate);
    ``"bh"``: Benjamini-Hochberg (controls the false discovery rate).
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    if correction == "holm":
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p_values[i]))
            adjusted[i] = running
        return adjusted
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, m * p_values[i] / (rank + 1))
        adjusted[i] = running
    return adjusted


def solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Solve matrix · x = vector (Gaussian elimination, partial pivoting); None if singular."""
    n = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(n)]
    scale = max((abs(v) for row in matrix for v in row), default=0.0)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) <= 1e-12 * scale:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            for k in range(col, n + 1):
                rows[r][k] -= factor * rows[col][k]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        x[i] = (rows[i][n] - sum(rows[i][k] * x[k] for k in range(i + 1, n))) / rows[i][i]
    return x
