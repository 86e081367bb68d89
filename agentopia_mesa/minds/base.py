"""The Mind interface: one typed decision per question, for every stage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from agentopia_mesa.contract.decisions import Decision
from agentopia_mesa.contract.questions import Question


class Mind(ABC):
    """What makes a resident's decisions. Implementations: ``RuleMind``, ``LLMMind``."""

    name: str = "mind"

    @abstractmethod
    def decide(self, question: Question) -> Decision:
        """Answer one question with a decision of type ``question.decision``."""

    def decide_all(self, questions: Sequence[Question]) -> list[Decision]:
        """Answer many questions of one stage; LLM minds send them concurrently."""
        return [self.decide(q) for q in questions]


def ask_all(questions: Sequence[Question]) -> list[Decision]:
    """Ask every question of a stage, grouped by mind, and return answers in question order."""
    groups: dict[int, tuple[Mind, list[int]]] = {}
    for i, q in enumerate(questions):
        mind = q.resident.mind
        groups.setdefault(id(mind), (mind, []))[1].append(i)
    answers: list[Decision | None] = [None] * len(questions)
    for mind, indices in groups.values():
        for i, decision in zip(indices, mind.decide_all([questions[i] for i in indices]), strict=True):
            answers[i] = decision
    return answers  # type: ignore[return-value]
