"""What the actors, the environment and the judge answer: pydantic models and narrowed schemas.

Comments, not docstrings, describe the fields: a docstring would become the JSON schema's
description, text the model is shown. An answer must parse and, for the environment, name
someone present (or END), else it is retried with the problem shown (llm/dispatcher.py).
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agentopia_mesa.llm.narrowing import copied, restrict

Short = Annotated[str, StringConstraints(max_length=160)]
Speech = Annotated[str, StringConstraints(max_length=300)]
Name = Annotated[str, StringConstraints(max_length=80)]
FlawText = Annotated[str, StringConstraints(max_length=100)]

END = "END"
#: The judge's four dimensions, CoSER's (Storyline Consistency, Anthropomorphism, Character
#: Fidelity, Storyline Quality), in its order.
DIMENSIONS = ("storyline_consistency", "anthropomorphism", "character_fidelity", "storyline_quality")
#: The most flaws the judge may list per dimension: five of severity 5 already bring a dimension
#: to 0 (``scoring``), and a short list keeps a small judge's answer within its token budget.
MAX_FLAWS = 5


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Line(Answer):
    thought: Short  # what the character thinks; the others never see it
    action: Short  # what the character visibly does ("" for nothing)
    speech: Speech  # what the character says aloud ("" for silence)


class Narration(Answer):
    narration: Short  # what anyone present could observe now ("" when nothing happens)
    next_speaker: Name  # one of the characters, or END when the scene may end


class Flaw(Answer):
    flaw: FlawText  # what is wrong, and in which line
    severity: int = Field(ge=1, le=5)  # 1 minor, 3 clear, 5 breaks the scene


class Judgement(Answer):
    storyline_consistency: list[Flaw] = Field(max_length=MAX_FLAWS)
    anthropomorphism: list[Flaw] = Field(max_length=MAX_FLAWS)
    character_fidelity: list[Flaw] = Field(max_length=MAX_FLAWS)
    storyline_quality: list[Flaw] = Field(max_length=MAX_FLAWS)


assert tuple(Judgement.model_fields) == DIMENSIONS


class InvalidAnswer(ValueError):
    """An answer that parses but names someone who is not there (shown to the model on retry)."""

    fault = "invalid_answer"


@functools.cache
def _schema(answer: type[BaseModel]) -> dict:
    return answer.model_json_schema()


def line_schema() -> dict:
    return copied(_schema(Line))


def judgement_schema() -> dict:
    return copied(_schema(Judgement))


def narration_schema(speakers: list[str]) -> dict:
    """The environment's schema, ``next_speaker`` one of ``speakers`` (END among them when allowed)."""
    schema = copied(_schema(Narration))
    restrict(schema["properties"]["next_speaker"], speakers)
    return schema


def parse_line(text: str) -> Line:
    return Line.model_validate_json(text)


def parse_judgement(text: str) -> Judgement:
    return Judgement.model_validate_json(text)


def parse_narration(text: str, speakers: list[str]) -> Narration:
    answer = Narration.model_validate_json(text)
    if answer.next_speaker not in speakers:
        raise InvalidAnswer(f"next_speaker: {answer.next_speaker!r} is not one of {speakers}")
    return answer
