"""Means with 95 % percentile-bootstrap intervals, and paired differences between two models.

Both models play the same scenes, so a difference is paired: resample scenes (with replacement)
and take the mean of A's score minus B's on the drawn scenes, which keeps each scene's
difficulty out of the interval's width. Percentile intervals: the 2.5th and 97.5th percentiles
of ``draws`` resampled means. The generator is ``numpy.random.default_rng(seed)``, so an
interval is reproduced exactly by its seed. With one scene the interval is that scene's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agentopia_mesa.analysis.compare import BOOTSTRAP_DRAWS, LEVEL, percentile_interval


@dataclass(frozen=True)
class Estimate:
    """A ``mean`` over ``n`` values and its interval [``low``, ``high``] (NaN when ``n`` is 0)."""

    mean: float
    low: float
    high: float
    n: int

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval (to within rounding: a constant sample's resampled
        means may differ from its mean in the last bits)."""
        slack = 1e-9 * max(1.0, abs(value))
        return self.low - slack <= value <= self.high + slack


def mean_interval(values: Sequence[float], seed: int = 0, draws: int = BOOTSTRAP_DRAWS, level: float = LEVEL) -> Estimate:
    """The mean of ``values`` and its ``level`` percentile-bootstrap interval from ``draws`` resamples."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(draws, data.size))].mean(axis=1)
    low, high = percentile_interval(means, level)
    return Estimate(float(data.mean()), low, high, int(data.size))


def paired_difference(a: Sequence[float], b: Sequence[float], seed: int = 0, draws: int = BOOTSTRAP_DRAWS,
                      level: float = LEVEL) -> Estimate:
    """The mean of ``a[i] - b[i]`` (same scenes, same order) and its interval, scenes resampled."""
    if len(a) != len(b):
        raise ValueError(f"paired difference: {len(a)} scores of A against {len(b)} of B")
    return mean_interval(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), seed, draws, level)
