"""A generated resident's persona in words, composed from its numbers, position, home and hobbies.

The paper's residents were written with a model; ours are generated (``generate.py``), and this
module gives them the paper's persona fields in words (``ResidentSpec.personality``,
``talent_words``, ``conflicts``, ``preferences``, ``backstory``, ``details``) from sentences in
``world/persona_words.json``: the personality from the traits furthest from average (with the
four-letter type the paper's profiles name), talents from the strongest and weakest, conflicts
from what pulls the resident's own life two ways (work, home, hobby), likes and dislikes, a
childhood and the key events of the years the resident has lived, and a routine. A data file is
validated like a theme: an unknown placeholder or key is refused with one line naming it.

Words are drawn from their own ``random.Random``, so adding them changes none of the numbers a
world's seed draws.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentopia_mesa.world.loader import WorldError, _first_error
from agentopia_mesa.world.themes import placeholders

#: Placeholders a sentence may use.
PLACEHOLDERS = frozenset({"first", "subj", "Subj", "poss", "obj", "self", "org", "role", "hobby", "age", "housemate"})
#: Age bands of the key past events: (band, youngest age at the event, oldest).
EVENT_AGES = (("child", 6, 14), ("young", 17, 29), ("adult", 30, 54), ("older", 55, 80))


Sentence = Annotated[str, Field(min_length=1, max_length=300), placeholders(PLACEHOLDERS)]
HighLow = tuple[Sentence, Sentence]  # the sentence for a high value, then for a low one


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Conflict(_Strict):
    needs: tuple[str, ...] = ()  # placeholders the resident must have (org, hobby, housemate)
    text: Sentence


class PersonaWords(_Strict):
    comment: str = ""
    traits: dict[str, HighLow]
    talents: dict[str, HighLow]
    conflicts: tuple[Conflict, ...] = Field(min_length=2)
    likes: tuple[Sentence, ...] = Field(min_length=3)
    dislikes: tuple[Sentence, ...] = Field(min_length=2)
    origins: tuple[Sentence, ...] = Field(min_length=1)
    events: dict[str, tuple[Sentence, ...]]
    routines: tuple[Sentence, ...] = Field(min_length=1)


def load_persona_words(path=None) -> PersonaWords:
    """The sentences file (default: the shipped one); a bad one raises ``WorldError`` in one line."""
    path = path or resources.files("agentopia_mesa.world") / "persona_words.json"
    try:
        return PersonaWords.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise WorldError(f"persona words file {path}: {_first_error(exc)}") from None


WORDS = load_persona_words()


def _type_letters(traits: dict[str, int]) -> str:
    """The four-letter type of the paper's profiles, from the first four traits."""
    return "".join(hi if traits.get(t, 50) >= 50 else lo
                   for t, hi, lo in (("extraversion", "E", "I"), ("intuition", "N", "S"),
                                     ("thinking", "T", "F"), ("judging", "J", "P")))


def _extremes(values: dict[str, int], k: int) -> list[tuple[str, bool]]:
    ranked = sorted(values, key=lambda name: (-abs(values[name] - 50), name))
    return [(name, values[name] >= 50) for name in ranked[:k]]


def persona_words(rng, *, first: str, age: int, pronouns: tuple[str, str, str, str], traits: dict[str, int],
                  talents: dict[str, int], org: str | None, role: str | None, hobby: str | None,
                  housemates: list[str]) -> dict[str, str]:
    """The persona fields in words for one resident (see the module docstring).

    ``pronouns`` (subject, possessive, object, reflexive); ``hobby`` the skill the resident
    practises in free time ("photography"), ``housemates`` the first names of those it lives with."""
    subj, poss, obj, refl = pronouns
    fill = {"first": first, "subj": subj, "Subj": subj.capitalize(), "poss": poss, "obj": obj, "self": refl,
            "org": org or "", "role": role or "", "hobby": hobby or "", "age": "",
            "housemate": rng.choice(housemates) if housemates else ""}

    def say(text: str, **extra) -> str:
        return text.format(**{**fill, **extra})

    top = _extremes(traits, 3)
    personality = f"{_type_letters(traits)} at heart. " + " ".join(
        say(WORDS.traits[t][0 if high else 1]) for t, high in top if t in WORDS.traits)
    ranked = sorted(talents, key=lambda t: (-talents[t], t))
    talent_words = " ".join([say(WORDS.talents[t][0]) for t in ranked[:2] if t in WORDS.talents]
                            + [say(WORDS.talents[t][1]) for t in ranked[-1:] if t in WORDS.talents])
    have = {"org": org, "hobby": hobby, "housemate": housemates}
    fitting = [c.text for c in WORDS.conflicts if all(have.get(n) for n in c.needs)]
    conflicts = " ".join(say(t) for t in rng.sample(fitting, min(2, len(fitting))))
    likes = rng.sample(WORDS.likes, 2) + ([hobby] if hobby else [])
    preferences = f"Likes {', '.join(likes[:-1])} and {likes[-1]}. Dislikes {' and '.join(rng.sample(WORDS.dislikes, 2))}."
    past = [say(rng.choice(WORDS.origins))]
    for band, low, high in EVENT_AGES:
        if age > low + 1 and band in WORDS.events and (band == "child" or rng.random() < 0.7):
            past.append(say(rng.choice(WORDS.events[band]), age=rng.randint(low, min(high, age - 1))))
    details = " ".join(say(t) for t in rng.sample(WORDS.routines, min(2, len(WORDS.routines))))
    return {"personality": personality, "talent_words": talent_words, "conflicts": conflicts,
            "preferences": preferences, "backstory": " ".join(past), "details": details}
