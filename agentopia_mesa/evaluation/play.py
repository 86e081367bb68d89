"""Playing the scenes: given-circumstance acting as CoSER does it, through our LLM layer.

One model plays every character of a scene (CoSER's protocol: the actor model is each
character's agent, each with its own view of the scene): player A plays all scenes, player B the
same scenes, in separate plays. After the given opening line, each round has two turns:

1. the environment model narrates what anyone present could observe and picks the next speaker
   among the characters, never the last speaker; END is offered once every character has spoken;
2. the player's model speaks as that character (thought, action, speech), seeing its own earlier
   thoughts but only the others' actions and words.

A play ends when the environment says END or after ``rounds`` rounds (CoSER: 20). The rounds of
all plays go to the dispatcher together, one batch per turn, so a server (or the embedded
model's parallel slots) is kept busy. A narrator call that fails after its retries falls back to
a rule (the character who spoke longest ago speaks next, no narration) and is marked ``failed``;
a failed actor call leaves an empty, ``failed`` line that the judge does not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentopia_mesa.evaluation import answers, prompts
from agentopia_mesa.evaluation.calls import Ask, Caller
from agentopia_mesa.evaluation.scenes import Scene
from agentopia_mesa.evaluation.transcript import LINE, NARRATION, NARRATOR, OPENING, Turn
from agentopia_mesa.llm.client import LLMClient

#: CoSER's bound on rounds.
MAX_ROUNDS = 20


@dataclass
class Play:
    """One player's play of one scene: ``player`` ("A" or "B"), its model ``spec``, the ``scene``
    and the ``turns`` so far; ``ended_by`` is "END", "rounds" or "" while it runs."""

    player: str
    spec: str
    scene: Scene
    turns: list[Turn] = field(default_factory=list)
    ended_by: str = ""

    def __post_init__(self) -> None:
        if not self.turns:
            self.turns.append(Turn(OPENING, 0, self.scene.first_speaker, speech=self.scene.first_line))

    @property
    def spoken(self) -> list[str]:
        """Characters in the order of their turns (opening included, failed lines not)."""
        return [t.speaker for t in self.turns if t.kind in (OPENING, LINE) and not t.failed]

    def next_speakers(self) -> list[str]:
        """Who the narrator may pick: everyone but the last speaker; END once all have spoken."""
        last = self.spoken[-1] if self.spoken else None
        names = [n for n in self.scene.names if n != last]
        return names + ([answers.END] if set(self.spoken) >= set(self.scene.names) else [])

    def longest_silent(self) -> str:
        """The rule's pick when the narrator fails: whoever spoke longest ago (never: first in the cast)."""
        candidates = [n for n in self.next_speakers() if n != answers.END]
        last_turn = {name: i for i, name in enumerate(self.spoken)}
        return min(candidates, key=lambda n: (last_turn.get(n, -1), self.scene.names.index(n)))

    def tag(self, role: str, round_: int | None = None) -> str:
        where = f"eval-{role}/{self.player}/{self.scene.scene_id}"
        return where if round_ is None else f"{where}/r{round_}"


def play_all(plays: list[Play], actors: dict[str, LLMClient], narrator: LLMClient, caller: Caller,
             rounds: int = MAX_ROUNDS, temperature: float = 0.7) -> None:
    """Play every ``Play`` to its end; ``actors`` maps a player to its client."""
    for round_ in range(1, rounds + 1):
        running = [p for p in plays if not p.ended_by]
        if not running:
            return
        choices = [p.next_speakers() for p in running]
        asks = [Ask(narrator, p.tag("env", round_), prompts.narrator_messages(p.scene, p.turns, round_, rounds, speakers),
                    answers.narration_schema(speakers), _narration_parser(speakers), temperature)
                for p, speakers in zip(running, choices, strict=True)]
        speaking = []
        for p, outcome in zip(running, caller.run(asks), strict=True):
            said = outcome.value
            if said is not None and said.next_speaker == answers.END:
                p.turns.append(Turn(NARRATION, round_, NARRATOR, speech=said.narration))
                p.ended_by = answers.END
                continue
            p.turns.append(Turn(NARRATION, round_, NARRATOR, speech=said.narration if said else "", failed=said is None))
            speaking.append((p, said.next_speaker if said else p.longest_silent()))
        asks = [Ask(actors[p.player], p.tag("actor", round_), prompts.actor_messages(p.scene, name, p.turns),
                    answers.line_schema(), answers.parse_line, temperature) for p, name in speaking]
        for (p, name), outcome in zip(speaking, caller.run(asks), strict=True):
            line = outcome.value
            p.turns.append(Turn(LINE, round_, name, speech=line.speech, action=line.action, thought=line.thought)
                           if line is not None else Turn(LINE, round_, name, failed=True))
    for p in plays:
        p.ended_by = p.ended_by or "rounds"


def _narration_parser(speakers: list[str]):
    return lambda text: answers.parse_narration(text, speakers)
