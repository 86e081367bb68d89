"""What was said and done in a played scene, and how it reads to each participant.

A transcript is a list of ``Turn``: the given opening line, then per round the narrator's turn
(what anyone could observe) and a character's turn (thought, action, speech). A character's
thought is its own: the others, the narrator and the judge never see it (as in CoSER, where
inner thoughts are removed before the others and the judge read a message).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from agentopia_mesa.contract.context import quoted

NARRATOR = "Narrator"
OPENING, LINE, NARRATION = "opening", "line", "narration"


@dataclass(frozen=True)
class Turn:
    """One turn: ``kind`` (opening, line or narration), ``round`` (0 for the opening), ``speaker``
    (a character, or ``NARRATOR``), the character's ``thought``, ``action`` and ``speech`` or the
    narrator's ``speech``, and ``failed`` when the model gave no usable answer (the turn is empty)."""

    kind: str
    round: int
    speaker: str
    speech: str = ""
    action: str = ""
    thought: str = ""
    failed: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def render(turns: list[Turn], viewer: str | None = None) -> str:
    """The transcript as ``viewer`` saw it, one turn a line, text quoted: only ``viewer``'s own
    thoughts are shown (None: nobody's, as the narrator and the judge read it)."""
    lines = []
    for turn in turns:
        if turn.failed:
            continue
        if turn.kind == NARRATION:
            if turn.speech:
                lines.append(f"[{NARRATOR}] {quoted(turn.speech)}")
            continue
        parts = [f"{quoted(turn.speaker)}:"]
        if turn.speaker == viewer and turn.thought:
            parts.append(f"[you thought {quoted(turn.thought)}]")
        if turn.action:
            parts.append(f"({quoted(turn.action)})")
        parts.append(quoted(turn.speech) if turn.speech else "(says nothing)")
        lines.append(" ".join(parts))
    return "\n".join(lines)


def actor_lines(turns: list[Turn]) -> int:
    """Lines the actor played (the opening, the narrator's turns and failed calls excluded): the
    scene's length in CoSER's scoring rule."""
    return sum(t.kind == LINE and not t.failed for t in turns)
