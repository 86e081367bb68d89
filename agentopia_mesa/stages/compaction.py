"""Reasoning compaction (paper §3.5): a brief of the work behind an answer, before the answer.

With ``memory.compaction`` on (the paper profile; ``MemoryConfig.compacts``), an answer that had
work behind it (a thinking model's reasoning, note-tool calls at Plan and Review:
``Mind.work_behind``) gets a second question of its own, a ``CompactionQuestion``, asked of the
same mind, all of a stage in one batch.
Its brief (at most ``memory.brief_words`` words: background and motives, the reasoning, the calls
made) leads the answer as the week's later prompts see it (``<brief>...</brief> {answer}``,
``minds.paper_context.earlier_replies``), so they see a short account of the earlier reasoning,
which is never sent back itself. A brief is not compacted again, nor kept as an answer of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agentopia_mesa.contract.questions import CompactionQuestion, Question, Situation


def with_briefs(mind, questions: Sequence[Question], replies: Sequence[str], now: Situation,
                side: Callable[[str], dict]) -> list[str]:
    """``replies`` (the answers to ``questions`` as they are kept, in order), each whose answer had
    work behind it led by the resident's brief of that work. ``now`` and ``side`` (the resident's
    side of its ties) prepare the compaction questions as ``stages.asking`` prepares any."""
    asked: list[tuple[int, CompactionQuestion]] = []
    for index, (question, reply) in enumerate(zip(questions, replies, strict=True)):
        work = mind.work_behind(question)
        if work:
            brief = CompactionQuestion(question.resident, answered=question.stage, answered_when=question.when,
                                       answer=reply, work=work, situation=now, ties=side(question.resident.name))
            asked.append((index, brief))
    if not asked:
        return list(replies)
    out = list(replies)
    for (index, _), decision in zip(asked, mind.decide_all([b for _, b in asked]), strict=True):
        out[index] = led_by(decision.brief, replies[index])
    return out


def led_by(brief: str, reply: str) -> str:
    """A kept answer led by its brief."""
    return f"<brief>{brief}</brief> {reply}"
