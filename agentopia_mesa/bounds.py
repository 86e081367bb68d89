"""Counts and numbers from outside (command-line options, Python keywords) checked by type and range
before any work, so an absurd value is one line naming the option, never hours of work or a NaN
that compares false with everything (issue #32, "bounded before busy")."""

from __future__ import annotations

import math
import numbers

#: Largest seed the simulation takes (a signed 64-bit integer, as ``--seed`` of a run).
MAX_SEED = 2**63 - 1
#: Most simulated years of one run (the paper's runs are 10; a century of weeks is still minutes).
MAX_YEARS = 1000


def in_range(name: str, value, low: float, high: float, whole: bool = False, above_low: bool = False):
    """``value`` if it is a finite number (a whole one if ``whole``) in ``[low, high]`` (``(low, high]``
    with ``above_low``); else ``ValueError`` naming ``name``: ``--samples: must be ... got 10**9``."""
    kind = "a whole number" if whole else "a number"
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and (not whole or isinstance(value, numbers.Integral))
          and math.isfinite(value) and (low < value if above_low else low <= value) and value <= high)
    if not ok:
        bracket = "(" if above_low else "["
        shown = (lambda x: str(int(x))) if whole else (lambda x: f"{x:g}")
        raise ValueError(f"{name}: must be {kind} in {bracket}{shown(low)}, {shown(high)}], got {str(value)[:40]}")
    return value
