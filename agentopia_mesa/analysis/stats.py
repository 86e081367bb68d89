"""Small statistics: means with confidence intervals, correlations, job ranks and mobility.

Pure functions over numbers; numpy only (no scipy), so the analysis runs wherever the model does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

# Two-sided 95 % Student t quantiles t(0.975, df) for df = 1..30; beyond 30 the normal 1.96.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)


def t975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (1.96 beyond 30)."""
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


def mean_ci(values: Sequence[float]) -> tuple[float, float, float, int]:
    """Mean and 95 % t-interval ``(mean, low, high, n)`` over finite values; NaN bounds if n < 2."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, 1
    half = t975(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r in [-1, 1]; NaN when either side is constant or there are fewer than 3 pairs."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), 1-based."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.arange(1, len(x) + 1)
    for value in np.unique(x):
        tied = x == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation rho: Pearson's r of the average ranks."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    return pearson(_ranks(a[keep]), _ranks(b[keep])) if keep.sum() >= 3 else math.nan


def fisher_ci(r: float, n: int) -> tuple[float, float]:
    """95 % interval of a correlation by Fisher's z: ``tanh(atanh(r) +- 1.96 / sqrt(n - 3))``."""
    if not np.isfinite(r) or n <= 3:
        return math.nan, math.nan
    z, half = math.atanh(max(-0.999999, min(0.999999, r))), 1.96 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def rank_thresholds(incomes: Sequence[float], tiers: int = 4) -> list[float]:
    """Income cut points splitting paid jobs into ``tiers`` quantile tiers (fixed for a run)."""
    paid = np.asarray([i for i in incomes if i > 0], dtype=float)
    if len(paid) == 0:
        return []
    return [float(q) for q in np.quantile(paid, [k / tiers for k in range(1, tiers)])]


def job_rank(income: float, thresholds: Sequence[float]) -> int:
    """A job's rank: 0 without a paid job, else 1 + the number of cut points its income exceeds."""
    if not income or income <= 0 or not np.isfinite(income):
        return 0
    return 1 + sum(1 for t in thresholds if income > t)


def mobility(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, float]:
    """Social mobility between two years: shares of residents (in both) whose job rank rose,
    fell, or changed at all (0-1)."""
    people = [p for p in before if p in after]
    if not people:
        return {"mobility": math.nan, "upward": math.nan, "downward": math.nan}
    up = sum(1 for p in people if after[p] > before[p])
    down = sum(1 for p in people if after[p] < before[p])
    n = len(people)
    return {"mobility": (up + down) / n, "upward": up / n, "downward": down / n}


def transition_matrix(before: Mapping[str, int], after: Mapping[str, int], ranks: int) -> np.ndarray:
    """Counts of residents moving from rank i (rows) to rank j (columns), ranks 0..ranks-1."""
    matrix = np.zeros((ranks, ranks), dtype=int)
    for person, rank in before.items():
        if person in after:
            matrix[rank, after[person]] += 1
    return matrix
