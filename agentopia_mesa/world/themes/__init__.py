"""The world generator's three themes: names, households, jobs, places, prices, read from data files.

Each theme is one JSON file in this folder (``apartment.json``, ``school.json``, ``rivertown.json``)
holding everything ``generate.py`` needs to turn it into a ``WorldSpec``: name cultures, household
kinds, workplaces and their roles, public places, events, the price list, hobbies, values,
motivations, money and skills by cohort, clothes and hair. The models below say what each field
means; ranges are ``[low, high]`` and a household member's ages ``[low, high, mode]`` of a
triangular distribution.

Numbers follow ``shared/research/agentopia-paper.md``: work pays 100-500 a week, in school and
rivertown mostly at the low end with a few elite jobs in the top third, in apartment mostly
350-500 as in the paper's apartment world (mean 371 a week, where nearly every resident works at
an organisation of its own: ``size`` 1 and name ``patterns``; docs/reference/worlds.md); non-work positions (students, retirees) pay an
allowance of at most 250; skill levels use the prompt's scale (0 untrained, 10 beginner, 30 some
experience, 100 proficient, 300 master) and existing jobs ask for at most 150.

A theme file is validated like a world file: unknown keys, out-of-range numbers and dangling
references are refused with one line naming the file and the field, e.g.
``theme file .../school.json: workplaces[0].roles[3].income: low 300 is above high 100``.
"""

from __future__ import annotations

import json
import string
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

# The world loader's JSON reading and error formatting, so theme and world errors read alike.
from agentopia_mesa.world.loader import WorldError, _first_error, _loc_part, _no_duplicate_keys, _one_line
from agentopia_mesa.world.schema import (
    NAME_LENGTH, Affordance, EventTemplate, Key, Name, Phrase, PriceItem, Skill, Text, WorldName,
)

#: The shipped themes, in the order the CLI and error messages list them.
THEME_NAMES: tuple[str, ...] = ("apartment", "school", "rivertown")


class ThemeError(WorldError):
    """A theme file cannot be read or is invalid. The message is one line naming the file and the field."""


# A role's key ends a job key (``<organisation>/<role>``) and a cohort is a plain label: no ``/``.
Label = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$")]
Chance = Annotated[float, Field(ge=0, le=1)]
Age = Annotated[int, Field(ge=0, le=120)]


def _ordered(pair: tuple[int, int]) -> tuple[int, int]:
    if pair[0] > pair[1]:
        raise ValueError(f"low {pair[0]} is above high {pair[1]}")
    return pair


#: ``[low, high]``, both inclusive (``random.randint``).
SkillRange = Annotated[tuple[Skill, Skill], AfterValidator(_ordered)]
IncomeRange = Annotated[tuple[Annotated[int, Field(ge=0, le=100_000)], Annotated[int, Field(ge=0, le=100_000)]],
                        AfterValidator(_ordered)]
AgeRange = Annotated[tuple[Age, Age], AfterValidator(_ordered)]


def placeholders(allowed: frozenset[str]):
    """A check that a text's ``{...}`` fields are among ``allowed`` (``str.format`` fills them in)."""

    def check(text: str) -> str:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as exc:
            raise ValueError(f"not a valid format string ({exc})") from None
        if unknown := fields - allowed:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: "
                             f"{', '.join('{' + a + '}' for a in sorted(allowed))}")
        return text

    return AfterValidator(check)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Strict):
    """A position at a kind of workplace, before it is priced and sized for one world."""

    key: Label
    title: Name
    description: Text
    income: IncomeRange  # weekly income range
    skills: dict[Name, SkillRange] = {}  # minimum skill ranges
    weight: float = Field(default=1.0, ge=0)  # how often residents of a fitting cohort hold it (0: never at the start)
    cohorts: tuple[Label, ...] = ("worker",)
    ages: AgeRange = (16, 120)  # typical ages of holders when the world is made
    work: bool = True
    min_age: Age | None = 16
    max_age: Age | None = None
    elite: bool = False  # a top job: always offered, rarely held at the start
    entry: bool = False  # an entry-level job: always offered with spare places
    # weekly skill gain; None: 2-4 a week in each required skill
    gain: dict[Name, Annotated[int, Field(ge=0, le=50)]] | None = None
    nudges: dict[Name, int] = {}  # shifts to holders' traits/talents
    dreams: tuple[Text, ...] = ()  # motivations that suit holders
    intro: Annotated[Text, placeholders(frozenset({"org"}))] = ""  # e.g. "is retired and a regular at the {org}"

    @model_validator(mode="after")
    def _age_limits(self) -> Role:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError(f"min_age {self.min_age} is above max_age {self.max_age}")
        return self


class Workplace(_Strict):
    kind: Key
    names: tuple[Name, ...] = Field(min_length=1)  # one organisation per name; bigger towns open more
    # names for further organisations of this kind once ``names`` are used ({surname}, {surname2} from the
    # theme's name cultures); without them a numeral is added (``II``)
    patterns: tuple[Annotated[Name, placeholders(frozenset({"surname", "surname2"}))], ...] = ()
    roles: tuple[Role, ...] = Field(min_length=1)
    affordances: tuple[Affordance, ...] = ("work",)
    size: int = Field(default=12, ge=1)  # holders per organisation before another one opens
    # unheld openings (an elite role, an entry role's spare place) in one of this many organisations
    openings_every: int = Field(default=1, ge=1)
    always: bool = False  # exists even when nobody works there yet

    @model_validator(mode="after")
    def _unique_roles(self) -> Workplace:
        # Jobs are keyed by (organisation, role key): two roles with one key would merge.
        seen: set[str] = set()
        for i, role in enumerate(self.roles):
            if role.key in seen:
                raise ValueError(f"roles[{i}].key: duplicate {role.key!r}; role keys in a workplace must be unique")
            seen.add(role.key)
        return self


class PublicPlace(_Strict):
    key: Key
    name: Name
    kind: Key
    affordances: tuple[Affordance, ...]
    capacity: int = Field(ge=1, le=100_000)  # at 100 residents; scaled with the population
    more: tuple[Name, ...] = ()  # names for further places of this kind in bigger towns


def _triangle(ages: tuple[int, int, int]) -> tuple[int, int, int]:
    low, high, mode = ages
    if not low <= mode <= high:
        raise ValueError(f"[low, high, mode] must have low <= mode <= high, got {list(ages)}")
    return ages


class Member(_Strict):
    cohort: Label
    ages: Annotated[tuple[Age, Age, Age], AfterValidator(_triangle)]  # low, high, mode of a triangular distribution
    count: Annotated[tuple[Annotated[int, Field(ge=0, le=20)], Annotated[int, Field(ge=0, le=20)]],
                     AfterValidator(_ordered)] = (1, 1)
    # adult (the first is the head), partner, child, elder or mate (unrelated housemate)
    relation: Literal["adult", "partner", "child", "elder", "mate"] = "adult"


class Household(_Strict):
    label: Label  # which kind of home: decides how the home is named
    weight: float = Field(gt=0)
    members: tuple[Member, ...] = Field(min_length=1)
    family: bool = True  # members share a surname and a name culture

    @model_validator(mode="after")
    def _someone_lives_there(self) -> Household:
        # The generator names the home after its first member, so every draw must yield one.
        if sum(m.count[0] for m in self.members) < 1:
            raise ValueError("members: every member's count may be 0; a household needs at least one member for sure")
        return self


class NameBand(_Strict):
    """First names for people aged ``min_age`` and over (up to the next band's ``min_age``)."""

    min_age: Age
    names: tuple[Name, ...] = Field(min_length=1)


class NameCulture(_Strict):
    surnames: tuple[Name, ...] = Field(min_length=1)
    male: tuple[NameBand, ...] = Field(min_length=1)
    female: tuple[NameBand, ...] = Field(min_length=1)
    surname_first: bool = False
    compound: bool = False  # first names are two syllables from the pools (Chinese given names)
    married_name: Chance = 0.7  # chance a partner takes the household's surname

    @model_validator(mode="after")
    def _bands(self) -> NameCulture:
        for side in ("male", "female"):
            bands = getattr(self, side)
            if bands[0].min_age != 0:
                raise ValueError(f"{side}[0].min_age: the first band must start at 0, not {bands[0].min_age}")
            for i in range(1, len(bands)):
                if bands[i].min_age <= bands[i - 1].min_age:
                    raise ValueError(f"{side}[{i}].min_age: bands must go up in age")
            for i, band in enumerate(bands):
                if self.compound and len(band.names) < 2:  # a compound name takes two different syllables
                    raise ValueError(f"{side}[{i}].names: a compound culture needs at least 2 names per band")
        return self


class Deposit(_Strict):
    """A cohort's savings at the start: log-normal around ``median``, clipped to ``[low, high]``."""

    median: int = Field(ge=0)
    sigma: float = Field(ge=0)  # standard deviation of the logarithm
    low: int = Field(ge=0)
    high: int = Field(ge=0, le=100_000_000)

    @model_validator(mode="after")
    def _order(self) -> Deposit:
        if not self.low <= self.median <= self.high:
            raise ValueError(f"low {self.low}, median {self.median} and high {self.high} must go up")
        return self


class ExtraIncome(_Strict):
    """A side income (pocket money, odd jobs) some of a cohort have, up to ``max_age``."""

    chance: Chance
    low: int = Field(ge=0, le=100_000)
    high: int = Field(ge=0, le=100_000)
    max_age: Age

    @model_validator(mode="after")
    def _order(self) -> ExtraIncome:
        _ordered((self.low, self.high))
        return self


#: For a cohort without an extra-income entry.
NO_EXTRA_INCOME = ExtraIncome(chance=0.0, low=0, high=0, max_age=0)


class Mix(_Strict):
    """Where new acquaintances come from: chances of a colleague and of a neighbour (else anyone)."""

    colleague: Chance
    neighbour: Chance

    @model_validator(mode="after")
    def _total(self) -> Mix:
        if self.colleague + self.neighbour > 1:
            raise ValueError(f"colleague {self.colleague} + neighbour {self.neighbour} is more than 1")
        return self


class Theme(_Strict):
    name: WorldName  # the file's name without .json
    title: Name
    setting: Text
    cultures: tuple[NameCulture, ...] = Field(min_length=1)
    households: tuple[Household, ...] = Field(min_length=1)
    workplaces: tuple[Workplace, ...]
    public: tuple[PublicPlace, ...]
    events: tuple[EventTemplate, ...]  # place is a public place's key
    prices: tuple[PriceItem, ...]
    # skill -> how a resident practises it (for introductions); residents draw one or two
    hobbies: dict[Name, Annotated[Text, placeholders(frozenset({"poss", "obj", "self"}))]] = Field(min_length=2)
    values: tuple[Phrase, ...] = Field(min_length=3)  # residents state two or three
    motivations: dict[Label, tuple[Text, ...]] = Field(min_length=1)  # by cohort, when a role has no dreams
    deposits: dict[Label, Deposit]  # by cohort; every household cohort needs one
    extra_income: dict[Label, ExtraIncome]  # by cohort
    base_skills: dict[Label, dict[Name, SkillRange]]  # cohort -> skills everyone of it has
    acquaintances: float = Field(gt=0, le=1000)  # target mean number of pre-existing acquaintances
    mix: Mix
    # what residents usually wear, by cohort ("" for anyone else)
    styles: dict[Annotated[str, StringConstraints(max_length=NAME_LENGTH)], tuple[Text, ...]]
    hair: tuple[Text, ...] = Field(min_length=1)
    unemployed: Chance  # chance an adult has no position at the start
    nonbinary: Chance = 0.0
    classes_by_age: bool = False  # non-work positions split into same-age classes (schools)
    unemployed_phrase: Text = "is between jobs"

    @model_validator(mode="after")
    def _cross_references(self) -> Theme:
        keys: set[str] = set()
        for i, p in enumerate(self.public):
            if p.key in keys:
                raise ValueError(f"public[{i}].key: duplicate {p.key!r}; every key must be unique")
            keys.add(p.key)
        for i, e in enumerate(self.events):
            if e.place not in keys:
                raise ValueError(f"events[{i}].place: {e.place!r} is not the key of a public place")
        for field in ("motivations", "styles"):
            for cohort, pool in getattr(self, field).items():
                if not pool:
                    raise ValueError(f"{field}{_loc_part(cohort)}: empty; give at least one")
        for i, h in enumerate(self.households):
            for j, m in enumerate(h.members):
                where = f"households[{i}].members[{j}].cohort"
                if m.cohort not in self.deposits:
                    raise ValueError(f"{where}: {m.cohort!r} has no entry in deposits")
                if m.cohort not in self.styles and "" not in self.styles:
                    raise ValueError(f"{where}: {m.cohort!r} has no entry in styles, and there is no '' entry")
        return self


def load_theme(path: str | Path | Traversable) -> Theme:
    """Read and validate one theme file; a bad one raises ``ThemeError`` naming the file and the field."""
    if isinstance(path, str):
        path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except OSError as exc:
        raise ThemeError(f"theme file {path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ThemeError(f"theme file {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ThemeError(f"theme file {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:  # a duplicate key
        raise ThemeError(f"theme file {path}: {_one_line(str(exc))}") from None
    try:
        theme = Theme.model_validate(data)
    except ValidationError as exc:
        raise ThemeError(f"theme file {path}: {_first_error(exc)}") from None
    stem = Path(path.name).stem
    if theme.name != stem:
        raise ThemeError(f"theme file {path}: name: {theme.name!r} differs from the file's name {stem!r}")
    return theme


def _load_shipped() -> dict[str, Theme]:
    folder = resources.files(__name__)  # works from a wheel or a zip, not only a source checkout
    return {name: load_theme(folder / f"{name}.json") for name in THEME_NAMES}


THEME_TABLE: dict[str, Theme] = _load_shipped()
