"""The Mind interface: one typed decision per question, for every stage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from agentopia_mesa.contract.decisions import Decision
from agentopia_mesa.contract.questions import Question, Work


class Mind(ABC):
    """What makes a resident's decisions. Implementations: ``RuleMind``, ``LLMMind``."""

    name: str = "mind"
    #: Whether this mind's answers of the week are kept for its later prompts (``Resident.replies``).
    keeps_replies: bool = False

    @abstractmethod
    def decide(self, question: Question) -> Decision:
        """Answer one question with a decision of type ``question.decision``."""

    def decide_all(self, questions: Sequence[Question]) -> list[Decision]:
        """Answer many questions of one stage; LLM minds send them concurrently."""
        return [self.decide(q) for q in questions]

    def work_behind(self, question: Question) -> Work | None:
        """The work behind this mind's last answer to ``question`` (its resident's, at its stage),
        once: what a ``CompactionQuestion`` sums up (``stages.compaction``). None: nothing to tell
        (a rule mind answers with no work behind it)."""
        return None
