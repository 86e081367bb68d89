"""Judging the plays: one judge call per play lists flaws in the four dimensions; the CoSER rule
(``scoring``) turns their severities and the play's length into scores.

CoSER asks its judge once per dimension; we ask once per play with one list per dimension, a
quarter of the calls, which matters for a small local judge. The judge answers greedily
(temperature 0): a judge should not change its mind between runs. A judge call that fails after
its retries leaves the play unscored (``Verdict.scores`` is None); the report counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentopia_mesa.evaluation import answers, prompts
from agentopia_mesa.evaluation.calls import Ask, Caller
from agentopia_mesa.evaluation.play import Play
from agentopia_mesa.evaluation.scoring import scene_scores
from agentopia_mesa.evaluation.transcript import actor_lines
from agentopia_mesa.llm.client import LLMClient

#: The judge's answers are given room for the longest the schema allows (4 x 5 flaws of up to 100
#: characters; llm/budgets.py): measured, at 512 tokens the embedded 270M model, which fills every
#: list, was cut off.
JUDGE_TEMPERATURE = 0.0


@dataclass(frozen=True)
class Verdict:
    """The judge's ``judgement`` of one play (None if the call failed), the play's ``actor_lines``
    and the ``scores`` (each dimension and overall, 0..100; None when unjudged)."""

    judgement: answers.Judgement | None
    actor_lines: int
    scores: dict[str, float] | None


def judge_all(plays: list[Play], judge: LLMClient, caller: Caller) -> list[Verdict]:
    """A verdict per play, in order."""
    asks = [Ask(judge, p.tag("judge"), prompts.judge_messages(p.scene, p.turns), answers.judgement_schema(),
                answers.parse_judgement, JUDGE_TEMPERATURE) for p in plays]
    verdicts = []
    for play, outcome in zip(plays, caller.run(asks), strict=True):
        lines = actor_lines(play.turns)
        judgement = outcome.value
        scores = None
        if judgement is not None:
            scores = scene_scores({d: [f.severity for f in getattr(judgement, d)] for d in answers.DIMENSIONS}, lines)
        verdicts.append(Verdict(judgement, lines, scores))
    return verdicts
