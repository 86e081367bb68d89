"""Write a world with a language model: three rounds of small calls, then assembly.

1. public places (one call each: a place and a public event held there), organisations (one
   call each: one to three positions with incomes) and households (one call each: the members'
   names, genders, ages and relations), all at once;
2. each resident's persona in words and the position it holds, all at once;
3. each resident's numbers (traits, talents, skills, savings), all at once.

Every call goes through the client it is given (wrap it in the response cache with
``llm.factory.make_client`` to record and replay) and the dispatcher, seeded from the world's
seed and the call's tag, so the same seed, model and cache write the same world without a model
call. Its token budget is the schema's (``llm/budgets.py``). An answer that still fails after the
dispatcher's retries is filled in by defaults (a place named after its kind, a persona left
blank, average numbers) and counted, and a persona text that only repeats what the step asked (a
small model copies its instructions) is blanked and counted; if more than half of a round's answers fail, the world is
refused with one line saying which round and why. The result is validated as any world file.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

from agentopia_mesa.llm.budgets import answer_budget, family_of
from agentopia_mesa.llm.client import ChatOptions, ChatRequest, LLMClient
from agentopia_mesa.llm.dispatcher import Dispatcher, Outcome
from agentopia_mesa.llm.recorded import dispatch_recorded
from agentopia_mesa.world.loader import WorldError, parse_world
from agentopia_mesa.world.schema import WorldSpec
from agentopia_mesa.world.themes import THEME_TABLE, Theme
from agentopia_mesa.world.writer import answers as a
from agentopia_mesa.world.writer import assemble
from agentopia_mesa.world.writer import prompts as p

#: Public places per resident (at least ``MIN_PUBLIC``): the paper's worlds have about 30 for 100.
PUBLIC_PER_RESIDENT = 0.2
MIN_PUBLIC = 4
#: Organisations per resident (at least 2); each has one to three positions.
ORGANISATIONS_PER_RESIDENT = 0.5
#: Household sizes and how often each is drawn.
HOUSEHOLD_SIZES = {1: 0.3, 2: 0.35, 3: 0.2, 4: 0.15}
HOUSEHOLD_KINDS = {1: "someone living alone", 2: "a couple, two friends or a parent and child",
                   3: "a family or three housemates", 4: "a family"}
#: Sampling temperature: some variety between residents, still mostly sensible for a small model.
TEMPERATURE = 0.8
#: Most residents a written world may have (each costs two calls, and a household a third of one).
MAX_WRITTEN_RESIDENTS = 1000


@dataclass(frozen=True)
class Written:
    """A written world and what it cost: ``calls`` made (or replayed), ``failed`` answers filled
    in by defaults, ``repairs`` (``assemble.Repairs.line``)."""

    world: WorldSpec
    calls: int
    failed: int
    repairs: str


class _Asker:
    def __init__(self, client: LLMClient, dispatcher: Dispatcher, seed: int, theme: Theme):
        self.client, self.dispatcher, self.seed = client, dispatcher, seed
        self.system = p.system(theme.title, theme.setting)
        self.family = family_of(getattr(client, "model", "") or "")
        self.calls = 0
        self.failed = 0

    def round(self, name: str, asks: list[tuple[str, str, dict, object]]) -> list:
        """The parsed answers (None where a call failed) to ``asks``: (tag, user text, schema, parse)."""
        jobs = []
        for tag, text, schema, parse in asks:
            options = ChatOptions(temperature=TEMPERATURE, seed=random.Random(f"{self.seed}/{tag}").getrandbits(32),
                                  max_tokens=answer_budget(schema, self.family))
            jobs.append((self.client, ChatRequest(messages=(self.system, p.user(text)), schema=schema,
                                                  options=options, tag=tag), parse))
        outcomes: list[Outcome] = dispatch_recorded(self.dispatcher, jobs) if jobs else []
        failed = [o for o in outcomes if o.value is None]
        self.calls += len(outcomes)
        self.failed += len(failed)
        if outcomes and len(failed) * 2 > len(outcomes):
            raise WorldError(f"world new --llm {self.client.name}: {len(failed)} of {len(outcomes)} answers of the "
                             f"{name} round failed (last: {_one_line(failed[-1].error)}); check the model, or try "
                             "another --seed or a larger model")
        return [o.value for o in outcomes]


def _one_line(text: str | None) -> str:
    return " ".join((text or "unknown error").split())[:200]


def household_sizes(residents: int, rng: random.Random) -> list[int]:
    """Sizes drawn by ``HOUSEHOLD_SIZES`` until they hold ``residents`` (the last one cut to fit)."""
    sizes: list[int] = []
    while sum(sizes) < residents:
        size = rng.choices(list(HOUSEHOLD_SIZES), list(HOUSEHOLD_SIZES.values()))[0]
        sizes.append(min(size, residents - sum(sizes)))
    return sizes


def example_names(theme: Theme, rng: random.Random, k: int = 40) -> list[str]:
    """Made-up full names from the theme's name cultures (the schema's ``examples``)."""
    out = []
    for _ in range(k):
        culture = rng.choice(theme.cultures)
        first = rng.choice(rng.choice((culture.male, culture.female))[-1].names)
        surname = rng.choice(culture.surnames)
        out.append(f"{surname} {first}" if culture.surname_first else f"{first} {surname}")
    return out


def write_world(client: LLMClient, dispatcher: Dispatcher, theme: str = "apartment", residents: int = 6,
                seed: int = 0, name: str | None = None) -> Written:
    """A world of ``residents`` people written by ``client``'s model, set in ``theme``'s town
    (its title, setting and price list). Deterministic in (model, theme, residents, seed) given
    the same answers. Raises ``WorldError`` (one line) for bad arguments or a failing model."""
    t = THEME_TABLE.get(theme)
    if t is None:
        raise WorldError(f"theme: unknown theme {theme!r}; choose one of {', '.join(THEME_TABLE)}")
    if not 1 <= residents <= MAX_WRITTEN_RESIDENTS:
        raise WorldError(f"residents: a written world has 1 to {MAX_WRITTEN_RESIDENTS} residents, got {residents}")
    rng = random.Random(seed)
    asker = _Asker(client, dispatcher, seed, t)
    repairs = assemble.Repairs()
    names = example_names(t, rng)

    public_kinds = [list(assemble.PUBLIC_KINDS)[i % len(assemble.PUBLIC_KINDS)]
                    for i in range(max(MIN_PUBLIC, round(PUBLIC_PER_RESIDENT * residents)))]
    org_kinds = [assemble.WORKPLACE_KINDS[i % len(assemble.WORKPLACE_KINDS)]
                 for i in range(max(2, math.ceil(ORGANISATIONS_PER_RESIDENT * residents)))]
    sizes = household_sizes(residents, rng)
    # names of the theme's own for the schemas' examples (what the fake backend answers with)
    place_examples = [pl.name for pl in t.public] + [m for pl in t.public for m in pl.more]
    org_examples = [n for w in t.workplaces for n in w.names]
    role_examples = [r.title for w in t.workplaces for r in w.roles]
    skill_examples = sorted({s for w in t.workplaces for r in w.roles for s in r.skills} | set(t.hobbies))
    asks = []
    for i, kind in enumerate(public_kinds):
        schema = a.place_schema(place_examples, [e.name for e in t.events])
        asks.append((f"world/place/{i + 1}", p.place(kind, []), schema, a.parser(a.PlaceAnswer, schema)))
    for i, kind in enumerate(org_kinds):
        schema = a.organisation_schema(org_examples, role_examples, skill_examples)
        asks.append((f"world/organisation/{i + 1}", p.organisation(kind, []), schema,
                     a.parser(a.OrganisationAnswer, schema)))
    for i, size in enumerate(sizes):
        schema = a.household_schema(size, names, [f"{n.split()[-1]} household" for n in names])
        asks.append((f"world/household/{i + 1}", p.household(size, HOUSEHOLD_KINDS[size], []), schema,
                     a.parser(a.HouseholdAnswer, schema)))
    first = asker.round("places, organisations and households", asks)
    place_answers = first[:len(public_kinds)]
    org_answers = first[len(public_kinds):len(public_kinds) + len(org_kinds)]
    household_answers = first[len(public_kinds) + len(org_kinds):]

    taken: set[str] = set()
    places, events = assemble.public_places(
        [(k, ans or _default_place(k, repairs)) for k, ans in zip(public_kinds, place_answers)], taken, repairs)
    orgs = assemble.organisations(
        [(k, ans or _default_organisation(k, repairs)) for k, ans in zip(org_kinds, org_answers)], taken, repairs)
    members, homes = assemble.households(
        [ans or _default_household(size, i, repairs) for i, (size, ans) in enumerate(zip(sizes, household_answers))],
        repairs)
    jobs = {j.key: j for org in orgs for j in org.jobs}

    open_to = [[k for k, j in jobs.items() if (j.min_age or 0) <= m.age <= (j.max_age or 200)] for m in members]
    asks = []
    for i, m in enumerate(members):
        home = homes[m.household]
        housemates = [f"{members[j].name} ({members[j].relation}, {members[j].age})" for j in home.members if j != i]
        schema = a.persona_schema(open_to[i])
        asks.append((f"world/persona/{i + 1}", p.persona(m.name, m.age, m.gender, home.name, housemates,
                                                          [f"{k} ({jobs[k].role}, {jobs[k].weekly_income} a week)"
                                                           for k in open_to[i]]),
                     schema, a.parser(a.PersonaAnswer, schema, {"position": [*open_to[i], "none"]})))
    personas = asker.round("personas", asks)
    holders: Counter = Counter()
    jobs_of = []
    for persona in personas:
        jobs_of.append(assemble.fill_position(persona.position if persona else "none", jobs, holders, repairs))

    asks = []
    for i, m in enumerate(members):
        job = jobs[jobs_of[i]] if jobs_of[i] else None
        what = f"{job.role} at {job.organisation}" if job else "without a position"
        schema = a.numbers_schema(skill_examples)
        asks.append((f"world/numbers/{i + 1}", p.numbers(m.name, m.age, what), schema,
                     a.parser(a.NumbersAnswer, schema)))
    numbers = asker.round("numbers", asks)

    known = assemble.acquaintances(members, homes, jobs_of, rng)
    residents_data = []
    for i, m in enumerate(members):
        job = jobs[jobs_of[i]] if jobs_of[i] else None
        traits, talents, skills, deposit = assemble.numbers(numbers[i], job, repairs)
        words = _words(personas[i], repairs)
        residents_data.append(dict(
            name=m.name, birth_year=assemble.birth_year(m.age), gender=m.gender, **words, traits=traits,
            talents=talents, skills=skills, job=jobs_of[i], deposit=deposit, home=homes[m.household].key,
            acquaintances=tuple(known[i])))
    for org in orgs:
        org.jobs = [jobs[j.key] for j in org.jobs]  # with capacities raised where residents chose a full one
    spec = assemble.world(name or f"{t.name}-written", t.title, t.setting, t.prices, places, events, orgs, homes,
                          residents_data, rng)
    world = parse_world(spec.model_dump(mode="json"), f"written by {client.name}")
    return Written(world, asker.calls, asker.failed, repairs.line())


def _words(persona, repairs: assemble.Repairs) -> dict:
    if persona is None:
        repairs.add("personas left blank")
        return {}
    words = {field: _own_words(getattr(persona, field), repairs) for field in a.PERSONA_CHARS}
    words["values"] = tuple(v for v in (_own_words(v, repairs).strip() for v in persona.values) if v)
    return words


def _own_words(text: str, repairs: assemble.Repairs) -> str:
    """``text`` cleaned, or "" if it only repeats the question or has no word at all (counted)."""
    if p.echoes_the_question(text):
        repairs.add("texts that repeated the question blanked")
        return ""
    if text and not any(ch.isalpha() for ch in text):
        repairs.add("texts without a word blanked")
        return ""
    return assemble.clean_text(text, repairs)


def _default_place(kind: str, repairs: assemble.Repairs) -> a.PlaceAnswer:
    repairs.add("places defaulted")
    return a.PlaceAnswer(name=f"The {kind.title()}", description="", event_name=f"{kind.title()} gathering",
                         event_description="")


def _default_organisation(kind: str, repairs: assemble.Repairs) -> a.OrganisationAnswer:
    repairs.add("organisations defaulted")
    position = a.PositionAnswer(role="Staff", work=True, description="", weekly_income=300, min_age=18, capacity=3,
                                skill="work", skill_level=0)
    return a.OrganisationAnswer(name=f"The {kind.title()}", description="", positions=[position])


def _default_household(size: int, index: int, repairs: assemble.Repairs) -> a.HouseholdAnswer:
    repairs.add("households defaulted")
    members = [a.MemberAnswer(name=f"Resident {index + 1}-{k + 1}", gender="non-binary", age=40 if k == 0 else 30,
                              relation="head" if k == 0 else "housemate") for k in range(size)]
    return a.HouseholdAnswer(home_name=f"Home {index + 1}", members=members)
