"""From counted flaws to scores: CoSER's rule, in our words.

Each dimension starts at 100. Every flaw the judge finds costs five points per degree of
severity (1 to 5); every line an actor played gives back 0.3 of a severity degree (1.5 points),
so a longer scene is not punished merely for offering more chances to slip. The result is
clipped to 0..100:

    score = max(0, min(100, 100 - 5 * (sum of severities - 0.3 * actor lines)))

Source: CoSER (Wang et al., 2025, arXiv:2502.09082), ``gca_evaluation/main.py``, ``gca_judging``
(github.com/Neph0s/CoSER), where the actor rounds are the simulated messages not spoken by the
environment. The overall score is the mean of the four dimensions, as there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agentopia_mesa.evaluation.answers import DIMENSIONS

POINTS_PER_SEVERITY = 5.0
#: Severity degrees given back per actor line (CoSER's length allowance).
ALLOWANCE_PER_LINE = 0.3


def dimension_score(severities: Iterable[int], actor_lines: int) -> float:
    """One dimension's score, 0..100, from its flaws' ``severities`` and the scene's ``actor_lines``."""
    penalty = POINTS_PER_SEVERITY * (sum(severities) - ALLOWANCE_PER_LINE * actor_lines)
    return max(0.0, min(100.0, 100.0 - penalty))


def scene_scores(severities: Mapping[str, Iterable[int]], actor_lines: int) -> dict[str, float]:
    """Every dimension's score and ``overall``, their mean."""
    scores = {d: dimension_score(severities[d], actor_lines) for d in DIMENSIONS}
    scores["overall"] = sum(scores.values()) / len(DIMENSIONS)
    return scores
