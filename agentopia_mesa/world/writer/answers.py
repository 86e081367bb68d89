"""What each step of writing a world answers: pydantic models, and their JSON schemas for one call.

Steps are small, so that a local model with a short context can take them: one public place (with a
public event held there), one organisation (with one to three positions), one household (its
members' names, genders, ages and relations), and two per resident: the persona in words (and the
position the resident holds), then the numbers (traits, talents, skills, savings).

Every free text has a ``maxLength`` (characters), from which ``llm/budgets.py`` gives the call its
token budget; over-long texts are cut at a sentence end, not refused (``trim_to_schema``). Names
and titles carry ``examples`` (a model ignores them; the fake backend answers with one, as a model
makes up a name). Comments, not docstrings, describe the fields: a docstring would become the
schema's description.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from agentopia_mesa.llm.dispatcher import Repaired
from agentopia_mesa.llm.narrowing import copied, restrict, trim_to_schema
from agentopia_mesa.world.generate import TALENTS, TRAITS

#: Longest name or title a model may write (world/schema.py allows 60).
TITLE_CHARS = 50
#: Free-text lengths of the persona in characters (about 5 a word): long enough for a character, short
#: enough that a small model finishes every field within its budget.
PERSONA_CHARS = {"introduction": 300, "appearance": 300, "personality": 300, "talent_words": 240,
                 "motivation": 200, "conflicts": 300, "preferences": 240, "backstory": 400, "details": 400}
VALUE_CHARS = 100
DESCRIPTION_CHARS = 240
#: Weekly income of a position, as the paper's worlds: at most 500.
MAX_INCOME = 500
GENDERS = ("female", "male", "non-binary")
RELATIONS = ("head", "partner", "child", "parent", "sibling", "housemate")

Title = Annotated[str, StringConstraints(max_length=TITLE_CHARS)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_CHARS)]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlaceAnswer(Answer):
    name: Title  # the place's proper name
    description: Description  # what it is like, in a sentence or two
    event_name: Title  # a public event held there now and then
    event_description: Description


class PositionAnswer(Answer):
    role: Title
    work: bool  # false for a non-work position (student, retiree, volunteer): an allowance, not a wage
    description: Description  # what the holder does
    weekly_income: int = Field(ge=0, le=MAX_INCOME)
    min_age: int = Field(ge=6, le=70)
    capacity: int = Field(ge=1, le=5)  # how many may hold it
    skill: Title  # the one skill it asks for
    skill_level: int = Field(ge=0, le=150)  # 0 none, 10 beginner, 30 some experience, 100 proficient


class OrganisationAnswer(Answer):
    name: Title
    description: Description
    positions: list[PositionAnswer] = Field(min_length=1, max_length=3)


class MemberAnswer(Answer):
    name: Title  # first name and surname
    gender: Literal[GENDERS]  # type: ignore[valid-type]
    age: int = Field(ge=0, le=95)
    relation: Literal[RELATIONS]  # type: ignore[valid-type]


class HouseholdAnswer(Answer):
    home_name: Title  # the home's name or address
    members: list[MemberAnswer] = Field(min_length=1, max_length=6)


def _persona_model() -> type[Answer]:
    texts = {name: (Annotated[str, StringConstraints(max_length=chars)], ...) for name, chars in PERSONA_CHARS.items()}
    values = (list[Annotated[str, StringConstraints(max_length=VALUE_CHARS)]], Field(min_length=2, max_length=3))
    return create_model("PersonaAnswer", __base__=Answer, **texts, values=values, position=(str, ...))


PersonaAnswer = _persona_model()
Level = Annotated[int, Field(ge=0, le=100)]
Traits = create_model("Traits", __base__=Answer, **{name: (Level, ...) for name in TRAITS})
Talents = create_model("Talents", __base__=Answer, **{name: (Level, ...) for name in TALENTS})


class SkillAnswer(Answer):
    skill: Title
    level: int = Field(ge=0, le=300)  # 0 untrained, 10 beginner, 30 some experience, 100 proficient, 300 master


class NumbersAnswer(Answer):
    traits: Traits  # type: ignore[valid-type]  # 0-100, 50 average
    talents: Talents  # type: ignore[valid-type]
    skills: list[SkillAnswer] = Field(min_length=1, max_length=4)
    deposit: int = Field(ge=0, le=50_000)  # savings at the start


class InvalidAnswer(ValueError):
    """An answer that parses but breaks a rule the schema cannot state (shown to the model on retry)."""

    fault = "invalid_answer"


@functools.cache
def _schema(answer: type[Answer]) -> dict:
    return answer.model_json_schema()


def _set_examples(schema: dict, path: tuple[str, ...], examples: list[str]) -> None:
    node = schema
    for key in path:
        node = node[key]
    node["examples"] = list(dict.fromkeys(examples))


def place_schema(names: list[str], events: list[str]) -> dict:
    schema = copied(_schema(PlaceAnswer))
    _set_examples(schema, ("properties", "name"), names)
    _set_examples(schema, ("properties", "event_name"), events)
    return schema


def organisation_schema(names: list[str], roles: list[str], skills: list[str]) -> dict:
    schema = copied(_schema(OrganisationAnswer))
    _set_examples(schema, ("properties", "name"), names)
    _set_examples(schema, ("$defs", "PositionAnswer", "properties", "role"), roles)
    _set_examples(schema, ("$defs", "PositionAnswer", "properties", "skill"), skills)
    return schema


def household_schema(size: int, names: list[str], homes: list[str]) -> dict:
    """Exactly ``size`` members."""
    schema = copied(_schema(HouseholdAnswer))
    members = schema["properties"]["members"]
    members["minItems"] = members["maxItems"] = size
    _set_examples(schema, ("$defs", "MemberAnswer", "properties", "name"), names)
    _set_examples(schema, ("properties", "home_name"), homes)
    return schema


def persona_schema(positions: list[str]) -> dict:
    """``position``: one of ``positions`` (job keys open to the resident) or "none"."""
    schema = copied(_schema(PersonaAnswer))
    restrict(schema["properties"]["position"], [*positions, "none"])
    return schema


def numbers_schema(skills: list[str]) -> dict:
    schema = copied(_schema(NumbersAnswer))
    _set_examples(schema, ("$defs", "SkillAnswer", "properties", "skill"), skills)
    return schema


def parser(answer: type[Answer], schema: dict, choices: dict[str, list[str]] | None = None):
    """``text -> Repaired(answer)``: JSON following ``schema``, over-long texts cut to their limits,
    and each field named in ``choices`` one of its values (else ``InvalidAnswer``, retried)."""

    def parse(text: str) -> Repaired:
        data, trimmed = trim_to_schema(json.loads(text), schema)
        value = answer.model_validate(data)
        for field, allowed in (choices or {}).items():
            if getattr(value, field) not in allowed:
                raise InvalidAnswer(f"{field}: {getattr(value, field)!r} is not one of {allowed}")
        return Repaired(value, trimmed)

    return parse
