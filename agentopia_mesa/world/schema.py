"""The world file format: a town map, jobs, a price list and the residents' profiles.

A world file is JSON validated by these pydantic models. Cross-references (a job's place, a
resident's job, home and acquaintances) are checked too, and every error names the field that
is wrong, e.g. ``jobs[3].place: 'bakery' is not a place``. Every string and list has a length
limit, names are one line of plain characters, resident names have no path separators and free
text no control characters but newline and tab (``world/text.py``); a bad file is one line of error.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from agentopia_mesa.world.text import check_name, check_person_name, check_text

#: What a resident can do at a place in a free-time slot.
Affordance = Literal["rest", "study", "work", "exercise", "leisure", "shopping", "socialize", "event"]
AFFORDANCES: tuple[str, ...] = Affordance.__args__  # type: ignore[attr-defined]

# Lengths are checked before content, so a megabyte-long string fails fast with a short message.
NAME_LENGTH = 60
TEXT_LENGTH = 2000
PHRASE_LENGTH = 200

#: A name or label (places, jobs, items, skills, traits): one line of plain characters (world/text.py).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_LENGTH), AfterValidator(check_name)]
#: A resident's name: a Name without path separators.
PersonName = Annotated[Name, AfterValidator(check_person_name)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-/]{0,79}$")]
#: A world's name, used for the default run directory: a Key without ``/``.
WorldName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{0,79}$")]
Text = Annotated[str, StringConstraints(max_length=TEXT_LENGTH), AfterValidator(check_text)]
Phrase = Annotated[str, StringConstraints(max_length=PHRASE_LENGTH), AfterValidator(check_text)]
Level = Annotated[int, Field(ge=0, le=100)]
Skill = Annotated[int, Field(ge=0, le=1000)]

#: Most entries in a profile's trait/talent/skill table and in a job's skill tables.
TABLE_SIZE = 50
#: Most values one resident states.
VALUES_COUNT = 20
#: Most acquaintances of one resident, items on the price list, event templates.
LIST_SIZE = 1000
#: Most residents, places or jobs in one world (a generated 1000-resident town has ~650 places).
WORLD_SIZE = 100_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GridSpec(_Strict):
    width: int = Field(ge=2, le=1000)
    height: int = Field(ge=2, le=1000)


class PlaceSpec(_Strict):
    """A place on the town grid. Homes have kind ``home``; workplaces are named by jobs."""

    key: Key
    name: Name
    kind: Key
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    capacity: int = Field(ge=1, le=100_000)
    affordances: tuple[Affordance, ...] = ()


class JobSpec(_Strict):
    """A position: an organisation's role with income, requirements and capacity (paper §2.1)."""

    key: Key
    organisation: Name
    role: Name
    work: bool = True  # False for students, retirees and the like (an allowance, not a wage)
    description: Text = ""
    weekly_income: int = Field(ge=0, le=100_000)
    min_skills: dict[Name, Skill] = Field(default={}, max_length=TABLE_SIZE)
    weekly_skill_gain: dict[Name, Annotated[int, Field(ge=0, le=50)]] = Field(default={}, max_length=TABLE_SIZE)
    capacity: int = Field(ge=1, le=10_000)
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    place: Key

    @model_validator(mode="after")
    def _age_range(self) -> JobSpec:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError(f"min_age {self.min_age} is above max_age {self.max_age}")
        return self


class PriceItem(_Strict):
    name: Name
    category: Key
    price: int = Field(ge=0, le=1_000_000)


class EventTemplate(_Strict):
    """A public event the environment can schedule: people join individually at a place."""

    name: Name
    place: Key
    description: Text = ""
    skill: Name | None = None  # a skill the event trains, if any


class ResidentSpec(_Strict):
    """A resident's profile (paper §3.1). Traits and talents are 0-100 (50 = average).

    The persona in words, each a plain free text ("" when a world does not say), as the paper's
    profile has them: ``introduction`` (its brief introduction), ``appearance`` (appearance and
    impression), ``personality`` (the personality traits in words), ``talent_words`` (the talents
    in words), ``motivation`` (core motivation), ``conflicts`` (what pulls the resident two ways),
    ``values``, ``preferences`` (likes and dislikes), ``backstory`` (where the resident comes from
    and the key past events) and ``details`` (the concrete present: routines, places, people).
    All of them, with ``traits`` and ``talents``, are what a yearly profile rewrite may change
    (``UPDATABLE``); name, birth year, gender, job, skills, money and home are not.
    """

    name: PersonName
    birth_year: int = Field(ge=1800, le=2200)
    gender: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), AfterValidator(check_name)]
    introduction: Text = ""
    appearance: Text = ""
    personality: Text = ""
    talent_words: Text = ""
    traits: dict[Name, Level] = Field(max_length=TABLE_SIZE)  # required: minds and ties read them
    talents: dict[Name, Level] = Field(default={}, max_length=TABLE_SIZE)
    values: tuple[Phrase, ...] = Field(default=(), max_length=VALUES_COUNT)
    motivation: Text = ""
    conflicts: Text = ""
    preferences: Text = ""
    backstory: Text = ""
    details: Text = ""
    skills: dict[Name, Skill] = Field(default={}, max_length=TABLE_SIZE)
    job: Key | None = None
    deposit: int = Field(ge=0, le=100_000_000)
    extra_income: int = Field(default=0, ge=0, le=100_000)
    home: Key
    acquaintances: tuple[PersonName, ...] = Field(default=(), max_length=LIST_SIZE)


#: The profile's words that a yearly rewrite may change (paper §3.1: "updated yearly by the
#: environment model"); the numbers ``traits`` and ``talents`` drift too, within their limits.
PERSONA_TEXTS: tuple[str, ...] = ("introduction", "appearance", "personality", "talent_words", "motivation",
                                  "conflicts", "preferences", "backstory", "details")
UPDATABLE: tuple[str, ...] = (*PERSONA_TEXTS, "values", "traits", "talents")


class GeneratorInfo(_Strict):
    """How a generated world was made, so it can be re-made or grown to more residents."""

    theme: Key
    seed: int
    residents: int


class WorldSpec(_Strict):
    name: WorldName
    title: Name
    setting: Text = ""
    generator: GeneratorInfo | None = None
    grid: GridSpec
    places: tuple[PlaceSpec, ...] = Field(max_length=WORLD_SIZE)
    jobs: tuple[JobSpec, ...] = Field(max_length=WORLD_SIZE)
    price_list: tuple[PriceItem, ...] = Field(max_length=LIST_SIZE)
    events: tuple[EventTemplate, ...] = Field(default=(), max_length=LIST_SIZE)
    residents: tuple[ResidentSpec, ...] = Field(max_length=WORLD_SIZE)

    @model_validator(mode="after")
    def _cross_references(self) -> WorldSpec:
        places = _unique(self.places, "key", "places")
        _unique(self.jobs, "key", "jobs")
        names = _unique(self.residents, "name", "residents")
        if len(self.residents) == 0:
            raise ValueError("residents: a world needs at least one resident")
        cells = self.grid.width * self.grid.height
        if len(self.places) > cells:
            raise ValueError(
                f"grid: {self.grid.width}x{self.grid.height} has {cells} cells but there are "
                f"{len(self.places)} places; enlarge the grid"
            )
        taken: dict[tuple[int, int], str] = {}
        for i, p in enumerate(self.places):
            if p.x >= self.grid.width or p.y >= self.grid.height:
                raise ValueError(
                    f"places[{i}] ({p.key}): position ({p.x}, {p.y}) is outside the "
                    f"{self.grid.width}x{self.grid.height} grid"
                )
            if (p.x, p.y) in taken:
                raise ValueError(f"places[{i}] ({p.key}): cell ({p.x}, {p.y}) is already taken by {taken[p.x, p.y]}")
            taken[p.x, p.y] = p.key
        jobs = {j.key: j for j in self.jobs}
        holders: dict[str, int] = {}
        for i, j in enumerate(self.jobs):
            if j.place not in places:
                raise ValueError(f"jobs[{i}].place: {j.place!r} is not a place; add it to places or fix the key")
        for i, e in enumerate(self.events):
            if e.place not in places:
                raise ValueError(f"events[{i}].place: {e.place!r} is not a place")
        for i, r in enumerate(self.residents):
            if r.job is not None and r.job not in jobs:
                raise ValueError(f"residents[{i}].job ({r.name}): {r.job!r} is not a job key")
            home = places.get(r.home)
            if home is None or home.kind != "home":
                raise ValueError(f"residents[{i}].home ({r.name}): {r.home!r} is not a place of kind 'home'")
            if r.job is not None:
                holders[r.job] = holders.get(r.job, 0) + 1
                if holders[r.job] > jobs[r.job].capacity:
                    raise ValueError(
                        f"residents[{i}].job ({r.name}): {r.job!r} already has its capacity of "
                        f"{jobs[r.job].capacity} holders; raise the job's capacity or choose another job"
                    )
            for other in r.acquaintances:
                if other not in names:
                    raise ValueError(f"residents[{i}].acquaintances ({r.name}): {other!r} is not a resident")
                if other == r.name:
                    raise ValueError(f"residents[{i}].acquaintances ({r.name}): a resident cannot know itself")
        return self


def _unique(items, attribute: str, field_name: str) -> dict:
    seen: dict = {}
    for i, item in enumerate(items):
        value = getattr(item, attribute)
        if value in seen:
            raise ValueError(f"{field_name}[{i}].{attribute}: duplicate {value!r}; every {attribute} must be unique")
        seen[value] = item
    return seen
