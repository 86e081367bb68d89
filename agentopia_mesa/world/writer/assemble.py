"""From a model's answers to a valid world: the model proposes, the code disposes.

A model's answers are checked against their schemas before they get here (``answers.parser``);
what a schema cannot state is repaired here, each repair counted: a name that a world file would
refuse (a control character, a formula start, a chat-template marker) is cleaned or replaced, a
name given twice gets a numeral (``II``), an age is kept within its household's bounds, a
position chosen by more residents than it has room for gets the room, a resident's skills reach
what its own position asks. The map is laid out by code as the generated worlds' (public places
near the centre, workplaces around them, homes on the outskirts), acquaintances are household
members, colleagues and a few others drawn with the seed's RNG to ``ACQUAINTANCES`` on average,
and the price list comes from the theme.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

from agentopia_mesa.world.generate import START_YEAR, TALENTS, TRAITS, around, grid_cells, numeral, slug
from agentopia_mesa.world.schema import (
    NAME_LENGTH, EventTemplate, JobSpec, PlaceSpec, ResidentSpec, WorldSpec,
)
from agentopia_mesa.world.text import FORMULA_STARTS, TEMPLATE_MARKER, check_name, check_person_name, check_text
from agentopia_mesa.world.writer.answers import HouseholdAnswer, NumbersAnswer, OrganisationAnswer, PlaceAnswer

#: Mean number of people a resident knows at the start, the paper's apartment world's (about 5).
ACQUAINTANCES = 5.0
#: Most colleagues linked at the start (the paper links colleagues of one organisation, up to 10).
MAX_COLLEAGUES = 10
#: What residents can do at a public place of each kind the writer asks for (``PUBLIC_KINDS``).
PUBLIC_KINDS: dict[str, tuple[str, ...]] = {
    "cafe": ("leisure", "socialize"),
    "park": ("exercise", "leisure", "socialize", "event"),
    "market": ("shopping", "socialize"),
    "library": ("study", "leisure", "event"),
    "gym": ("exercise", "socialize"),
    "community hall": ("socialize", "event", "leisure"),
    "bar": ("leisure", "socialize", "event"),
    "restaurant": ("leisure", "socialize"),
    "theatre": ("leisure", "event"),
    "bookshop": ("shopping", "study", "leisure"),
    "sports ground": ("exercise", "event", "socialize"),
    "gallery": ("leisure", "event"),
}
#: Kinds of organisation the writer asks for, in turn.
WORKPLACE_KINDS = ("office", "shop", "restaurant", "school", "clinic", "studio", "workshop", "bank", "bar",
                   "bakery", "theatre company", "tech start-up", "garage", "salon", "bookshop", "law firm")
#: Workplaces where people also study.
STUDY_KINDS = frozenset({"school"})


@dataclass
class Repairs:
    """What assembling changed in the model's answers, by kind (``Counter``), to report."""

    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str, n: int = 1) -> None:
        if n:
            self.counts[kind] += n

    def line(self) -> str:
        return ", ".join(f"{kind} {n}" for kind, n in sorted(self.counts.items())) or "none"


_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_name(text: str, fallback: str, repairs: Repairs, person: bool = False) -> str:
    """``text`` as a valid name (one line, no markers or formula starts, no path separators for a
    person), or ``fallback`` if nothing valid is left."""
    cleaned = _SPACES.sub(" ", TEMPLATE_MARKER.sub("", _CONTROL.sub(" ", text))).strip()
    cleaned = re.sub(r"[;,|]\s*(?=[=+\-@])", " ", cleaned).lstrip("".join(FORMULA_STARTS) + " ")
    if person:
        cleaned = re.sub(r"[/\\]", "-", cleaned)
    cleaned = cleaned[:NAME_LENGTH].strip()
    try:
        cleaned = check_person_name(check_name(cleaned)) if person else check_name(cleaned)
    except ValueError:
        cleaned = ""
    if not cleaned:
        repairs.add("names replaced")
    elif cleaned != text:
        repairs.add("names cleaned")
    return cleaned or fallback


def clean_text(text: str, repairs: Repairs) -> str:
    """Free text without control characters other than newline and tab."""
    try:
        return check_text(text)
    except ValueError:
        repairs.add("texts cleaned")
        return _CONTROL.sub(" ", text)


def unique(name: str, taken: set[str], repairs: Repairs) -> str:
    """``name``, or ``name II``, ``name III``... if it is taken; the result is taken from then on."""
    candidate, extra = name, 0
    while candidate in taken:
        extra += 1
        candidate = (name[: NAME_LENGTH - 6] + numeral(extra))
    if extra:
        repairs.add("names made unique")
    taken.add(candidate)
    return candidate


def unique_key(text: str, taken: set[str]) -> str:
    key = slug(text)
    while key in taken:
        key += "-x"
    taken.add(key)
    return key


@dataclass
class Member:
    """A resident before its persona: from a household answer, repaired."""

    name: str
    gender: str
    age: int
    relation: str
    household: int


@dataclass
class Home:
    key: str
    name: str
    members: list[int]


def households(answers: list[HouseholdAnswer], repairs: Repairs) -> tuple[list[Member], list[Home]]:
    """Residents and their homes; every name unique, the head at least 18, children younger than
    their parents' generation."""
    members: list[Member] = []
    homes: list[Home] = []
    names: set[str] = set()
    keys: set[str] = set()
    for h, answer in enumerate(answers):
        first = len(members)
        for m in answer.members:
            fallback = f"Resident {len(members) + 1}"
            name = unique(clean_name(m.name, fallback, repairs, person=True), names, repairs)
            members.append(Member(name, m.gender, m.age, m.relation, h))
        head = members[first]
        if head.age < 18:
            repairs.add("ages raised")
            head.age = 18 + head.age % 10
        for m in members[first + 1:]:
            if m.relation == "child" and m.age > head.age - 16:
                repairs.add("ages lowered")
                m.age = max(0, head.age - 16 - m.age % 10)
        home_name = clean_name(answer.home_name, f"Home of {head.name}", repairs)
        homes.append(Home(f"home/{unique_key(home_name, keys)}", home_name, list(range(first, len(members)))))
    return members, homes


@dataclass
class Organisation:
    key: str
    name: str
    kind: str
    jobs: list[JobSpec]


def organisations(answers: list[tuple[str, OrganisationAnswer]], taken: set[str], repairs: Repairs) -> list[Organisation]:
    """Organisations and their positions; keys unique among ``taken`` place keys."""
    out = []
    names: set[str] = set()
    for kind, answer in answers:
        name = unique(clean_name(answer.name, f"The {kind.title()}", repairs), names, repairs)
        key = unique_key(name, taken)
        roles: set[str] = set()
        jobs = []
        for p in answer.positions:
            role = clean_name(p.role, "Staff", repairs)
            role_key = unique_key(role, roles)
            skill = clean_name(p.skill, "work", repairs)
            jobs.append(JobSpec(
                key=f"{key}/{role_key}", organisation=name, role=role, work=p.work,
                description=clean_text(p.description, repairs), weekly_income=p.weekly_income,
                min_skills={skill: p.skill_level} if p.skill_level else {},
                weekly_skill_gain={skill: 3}, capacity=p.capacity, min_age=p.min_age, place=key))
        out.append(Organisation(key, name, kind, jobs))
    return out


def public_places(answers: list[tuple[str, PlaceAnswer]], taken: set[str],
                  repairs: Repairs) -> tuple[list[tuple[str, str, str, tuple[str, ...]]], list[EventTemplate]]:
    """(key, name, kind, affordances) of each public place, and one event at each that hosts events."""
    places, events = [], []
    names: set[str] = set()
    event_names: set[str] = set()
    for kind, answer in answers:
        name = unique(clean_name(answer.name, f"The {kind.title()}", repairs), names, repairs)
        key = unique_key(name, taken)
        affordances = PUBLIC_KINDS[kind]
        places.append((key, name, kind, affordances))
        if "event" in affordances:
            event = unique(clean_name(answer.event_name, f"Gathering at {name}", repairs), event_names, repairs)
            events.append(EventTemplate(name=event, place=key, description=clean_text(answer.event_description, repairs)))
    return places, events


def fill_position(choice: str, jobs: dict[str, JobSpec], holders: Counter, repairs: Repairs) -> str | None:
    """The job key a resident holds ("none": None); a chosen job already full gets one more place."""
    if choice == "none" or choice not in jobs:
        return None
    holders[choice] += 1
    if holders[choice] > jobs[choice].capacity:
        repairs.add("capacities raised")
        jobs[choice] = jobs[choice].model_copy(update={"capacity": holders[choice]})
    return choice


def numbers(answer: NumbersAnswer | None, job: JobSpec | None, repairs: Repairs) -> tuple[dict, dict, dict, int]:
    """(traits, talents, skills, deposit): the answer's, with skills raised to what the job asks."""
    if answer is None:
        repairs.add("numbers defaulted")
        traits, talents, skills, deposit = dict.fromkeys(TRAITS, 50), dict.fromkeys(TALENTS, 50), {}, 1000
    else:
        traits, talents = answer.traits.model_dump(), answer.talents.model_dump()
        skills = {}
        for s in answer.skills:
            name = clean_name(s.skill, "", repairs)
            if name:
                skills[name] = max(skills.get(name, 0), s.level)
        deposit = answer.deposit
    for skill, level in (job.min_skills.items() if job else ()):
        if skills.get(skill, 0) < level:
            repairs.add("skills raised to the job's")
            skills[skill] = level
    return traits, talents, skills, deposit


def acquaintances(members: list[Member], homes: list[Home], jobs_of: list[str | None], rng: random.Random) -> list[list[str]]:
    """Whom each resident knows: household members, colleagues (up to ``MAX_COLLEAGUES``), then
    others at random until the mean reaches ``ACQUAINTANCES`` (links go both ways)."""
    n = len(members)
    links: list[dict[int, None]] = [{} for _ in range(n)]

    def link(i: int, j: int) -> None:
        if i != j:
            links[i][j] = None
            links[j][i] = None

    for h in homes:
        for i in h.members:
            for j in h.members:
                link(i, j)
    by_org: dict[str, list[int]] = {}
    for i, job in enumerate(jobs_of):
        if job:
            by_org.setdefault(job.split("/")[0], []).append(i)
    for group in by_org.values():
        for i in group:
            for j in group[:MAX_COLLEAGUES]:
                link(i, j)
    target = min(ACQUAINTANCES, n - 1) * n
    tries = 0
    while sum(map(len, links)) < target and tries < 20 * n:
        tries += 1
        link(rng.randrange(n), rng.randrange(n))
    return [[members[j].name for j in sorted(links[i])] for i in range(n)]


def world(name: str, title: str, setting: str, price_list, places, events, organisations_: list[Organisation],
          homes: list[Home], residents: list[dict], rng: random.Random) -> WorldSpec:
    """The world file: places laid out on a grid as the generator lays them, then validated."""
    n = len(residents)
    total = len(places) + len(organisations_) + len(homes)
    side, cells = grid_cells(total, n, rng)
    spots = iter(cells)
    scale = max((n / 100) ** 0.5, 0.3)
    specs = [PlaceSpec(key=k, name=nm, kind=kind.replace(" ", "_"), x=x, y=y, capacity=max(5, round(30 * scale)),
                       affordances=aff) for (k, nm, kind, aff), (x, y) in zip(places, spots)]
    for org, (x, y) in zip(organisations_, spots):
        specs.append(PlaceSpec(key=org.key, name=org.name, kind=slug(org.kind).replace("-", "_"), x=x, y=y,
                               capacity=sum(j.capacity for j in org.jobs) + 5,
                               affordances=("work", "study") if org.kind in STUDY_KINDS else ("work",)))
    for h, (x, y) in zip(homes, around(spots, side)):
        specs.append(PlaceSpec(key=h.key, name=h.name, kind="home", x=x, y=y, capacity=len(h.members) + 3,
                               affordances=("rest",)))
    return WorldSpec(name=name, title=title, setting=setting, grid={"width": side, "height": side}, places=tuple(specs),
                     jobs=tuple(j for org in organisations_ for j in org.jobs), price_list=price_list,
                     events=tuple(events), residents=tuple(ResidentSpec(**r) for r in residents))


def birth_year(age: int) -> int:
    return START_YEAR - age
