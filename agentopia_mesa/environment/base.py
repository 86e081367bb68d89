"""The environment interface: verdicts for tasks, as ``Mind`` gives decisions for questions.

Two implementations: ``RuleEnvironment`` (the formulas; the default and every LLM environment's
fallback) and ``LLMEnvironment`` (a language model judges, the code clips).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from agentopia_mesa.contract.environment import Task, Verdict


class EnvironmentModel(ABC):
    """What judges what happens in the town (paper §2.4)."""

    name: str = "environment"

    @abstractmethod
    def judge_all(self, tasks: Sequence[Task]) -> list[Verdict | None]:
        """One verdict per task, in task order. ``None`` for a ``RatingTask`` means "no judgement
        of its own": the resident's own mind rates."""
