"""Asking minds and the environment: every stage's questions go out through ``ask_all``, prepared
with what a mind may use, and every environment task through ``judge_all``.

``prepare(model, question)`` fills in the question's ``situation`` (when, the world's title, the
economy's and careers' rules) and ``ties`` (the asking resident's side of its acquaintance
ties), so minds answer from the question alone (``contract.questions``). A mind that
``keeps_replies`` (LLM minds) gets its answers of the week kept on the resident for its context,
each led by a brief of the work behind it when compaction is on (``stages.compaction``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from agentopia_mesa.contract.decisions import Decision
from agentopia_mesa.contract.environment import Task, Verdict
from agentopia_mesa.contract.questions import ChatQuestion, Question, Situation
from agentopia_mesa.stages.compaction import with_briefs

#: The most characters of one earlier answer kept for the week's context (paper §3.5: earlier replies).
REPLY_CHARS = 600


def situation(model) -> Situation:
    cal = model.calendar
    return Situation(year=cal.year, week=cal.week, week_index=cal.week_index, world_title=model.world.title,
                     economy=model.config.economy, career=model.config.career, memory=model.config.memory,
                     public_info=functools.partial(_public_info, model.residents_by_name))


def _public_info(residents: dict, name: str) -> str | None:
    r = residents.get(name)
    return r.public_profile() if r is not None else None


def prepare(model, question: Question, now: Situation | None = None) -> Question:
    """``question`` with its situation and the resident's ties filled in (returned for chaining)."""
    question.situation = now or situation(model)
    question.ties = model.ties.side(question.resident.name)
    return question


def ask_all(model, questions: Sequence[Question]) -> list[Decision]:
    """Ask every question of a stage, grouped by mind, and return answers in question order."""
    now, groups = _by_mind(model, questions)
    if len(groups) == 1:  # one mind for everyone (a rules run) that keeps no replies: its answers are in order
        (mind, _), = groups.values()
        if not mind.keeps_replies:
            return mind.decide_all(list(questions))
    answers: list[Decision | None] = [None] * len(questions)
    for mind, indices in groups.values():
        for i, decision in zip(indices, mind.decide_all([questions[i] for i in indices]), strict=True):
            answers[i] = decision
        if mind.keeps_replies and now.memory.history:
            _keep_replies(model, mind, [questions[i] for i in indices], [answers[i] for i in indices], now)
    return answers  # type: ignore[return-value]


def _keep_replies(model, mind, questions: list[Question], answers: list[Decision], now: Situation) -> None:
    """Keep each answer of the week on its resident for its later prompts, cut to ``REPLY_CHARS``
    (a conversation's answers live in its running chat instead), led by its brief where the mind
    had work behind it and compaction is on (``stages.compaction``)."""
    kept = [(q, a) for q, a in zip(questions, answers, strict=True) if not isinstance(q, ChatQuestion)]
    replies = [a.model_dump_json()[:REPLY_CHARS] for _, a in kept]
    if now.memory.compacts and kept:
        replies = with_briefs(mind, [q for q, _ in kept], replies, now, model.ties.side)
    for (question, _), reply in zip(kept, replies, strict=True):
        question.resident.replies.append((question.stage, reply))


def _by_mind(model, questions: Sequence[Question]) -> tuple[Situation, dict[int, tuple[object, list[int]]]]:
    """Prepare every question (``prepare``, inlined: a run asks ~2,000 questions a week); the
    situation, and the questions' indices grouped by mind (by identity), in question order."""
    now = situation(model)
    side, minds = model.ties.side, model.minds
    groups: dict[int, tuple[object, list[int]]] = {}
    for i, q in enumerate(questions):
        q.situation, q.ties = now, side(q.resident.name)
        mind = minds[q.resident.name]
        groups.setdefault(id(mind), (mind, []))[1].append(i)
    return now, groups


def ask_ahead(model, questions: Sequence[Question]) -> list:
    """Start the calls of ``questions`` that a later ``ask_all`` of the same questions will make
    (minds that can, ``LLMMind.ahead``), so the server answers them while the caller waits for
    others; nothing is decided now. Returns what to ``drop()`` once that ``ask_all`` is done."""
    _, groups = _by_mind(model, questions)
    handles = []
    for mind, indices in groups.values():
        start = getattr(mind, "ahead", None)  # rule minds answer at once: nothing to start
        handle = start([questions[i] for i in indices]) if start is not None else None
        if handle is not None:
            handles.append(handle)
    return handles


def judge_ahead(model, tasks: Sequence[Task]) -> list:
    """Start the calls of ``tasks`` that a later ``judge_all`` of the same tasks will make (an
    environment that can, ``LLMEnvironment.ahead``); nothing is judged now. Returns what to
    ``drop()`` once that ``judge_all`` is done."""
    start = getattr(model.environment, "ahead", None)  # the rules judge at once: nothing to start
    if start is None or not tasks:
        return []
    handle = start(_situated(model, tasks))
    return [handle] if handle is not None else []


def judge_all(model, tasks: Sequence[Task]) -> list[Verdict | None]:
    """Give every task of a stage to the environment (``model.environment``); verdicts in task order."""
    if not tasks:
        return []
    return model.environment.judge_all(_situated(model, tasks))


def _situated(model, tasks: Sequence[Task]) -> Sequence[Task]:
    """``tasks``, each with the current situation filled in."""
    now = situation(model)
    for task in tasks:
        task.situation = now
    return tasks
