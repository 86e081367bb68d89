"""A played activity as one transcript: a line of the run's ``dialogues.jsonl`` (``run.dialogues``).

Conversations (joint activities and encounters) and public events alike: the setting, the
participants, and each participant's words as a turn (``contract.environment.TurnRecord``) with
who else saw it, the environment's feedback before it and its verification after.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentopia_mesa.contract.environment import TurnRecord


def turn_line(t: TurnRecord) -> dict:
    """One turn as JSON-able data: what was said and done, by whom, seen by whom, and its verification."""
    r = t.reply
    return {
        "turn": t.turn, "when": t.when, "speaker": t.speaker, "model": t.model, "feedback": t.feedback, "text": r.speech,
        "thoughts": r.thoughts, "visible_to": list(t.audience),
        "private": [{"visible_to": list(p.visible_to), "text": p.text} for p in r.private],
        "gift": {"to": r.gift_to, "item": t.gave} if t.gave else None, "left": r.leave,
        "verification": t.verification, "failure": t.failure, "reason": t.reason, "rejected": t.rejected,
    }


def transcript(model, day: int, kind: str, title: str, place: str, participants: Sequence[str],
               turns: Sequence[TurnRecord], **details) -> dict:
    """A played activity of ``day`` as one line of ``dialogues.jsonl``; ``details`` fill in or add fields
    (``scene``, ``entries``, ``ended``, ``closing``, ``outcomes``, ``exits``, ``noticed``)."""
    return {
        "when": model.calendar.stamp("activity", day), "week_index": model.calendar.week_index, "day": day,
        "kind": kind, "activity": title, "place": place, "scene": "", "participants": list(participants), "entries": {},
        "turns": [turn_line(t) for t in turns], "ended": "", "closing": "", "outcomes": {}, "exits": {}, **details,
    }
