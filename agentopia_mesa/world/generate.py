"""Generate a world of N residents from a theme and a seed (the paper's worlds, made to order).

``generate_world("apartment", residents=100, seed=1)`` builds households, gives every resident a
position at an organisation, sizes the jobs so that about 10-25 % of places are vacant, lays the
homes, workplaces and public places out on a grid that grows with the population, and links
residents to household members, colleagues (classmates in a school), neighbours and a few others.
Everything comes from one ``random.Random(seed)``: the same theme, size and seed always give the
same world.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

from agentopia_mesa.config import CalendarConfig
from agentopia_mesa.world.loader import WorldError
from agentopia_mesa.world.persona_words import persona_words
from agentopia_mesa.world.schema import (
    NAME_LENGTH, GeneratorInfo, GridSpec, JobSpec, PlaceSpec, ResidentSpec, WorldSpec,
)
from agentopia_mesa.world.themes import NO_EXTRA_INCOME, THEME_TABLE, Household, NameCulture, Role, Theme, Workplace

#: The themes ``generate_world`` knows.
THEMES: tuple[str, ...] = tuple(THEME_TABLE)

START_YEAR = CalendarConfig().start_year  # ages in world files are at the simulation's start
TRAITS = ("extraversion", "intuition", "thinking", "judging", "confidence", "curiosity", "empathy",
          "responsibility", "control", "patience")
TALENTS = ("intelligence", "creativity", "leadership", "communication", "health", "beauty", "trustworthiness",
           "honesty", "integrity")
VACANCY = (1.12, 1.20)  # total job capacity / population, before elite and entry openings


@dataclass(eq=False)
class _Person:
    cohort: str
    age: int
    relation: str
    gender: str = ""
    culture: NameCulture | None = None
    surname: str = ""
    first: str = ""
    name: str = ""
    role: Role | None = None
    org: _Org | None = None
    job: JobSpec | None = None
    traits: dict[str, int] = field(default_factory=dict)
    talents: dict[str, int] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)
    hobbies: list[str] = field(default_factory=list)
    links: dict[int, None] = field(default_factory=dict)  # acquaintances by index, in meeting order


@dataclass(eq=False)
class _Org:
    key: str
    name: str
    workplace: Workplace


@dataclass(eq=False)
class _Home:
    key: str
    name: str
    neighbourhood: str
    members: list[int]
    label: str


#: Most residents a generated world may have (generation takes about a second per thousand).
MAX_GENERATED_RESIDENTS = 10_000


def generate_world(theme: str, residents: int = 100, seed: int = 0, name: str | None = None) -> WorldSpec:
    """A complete, valid world of ``residents`` people in ``theme`` (one of ``THEMES``).

    Deterministic in (theme, residents, seed). ``name`` (default: the theme) is the world's key.
    """
    t = THEME_TABLE.get(theme)
    if t is None:
        raise WorldError(f"theme: unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    if residents < 1:
        raise WorldError(f"residents: must be at least 1, got {residents}")
    if residents > MAX_GENERATED_RESIDENTS:
        raise WorldError(f"residents: at most {MAX_GENERATED_RESIDENTS} in a generated world, got {residents}")
    rng = random.Random(seed)
    people, homes = _populate(t, residents, rng)
    _name_everyone(t, people, rng)
    orgs = _assign_positions(t, people, rng)
    jobs = _make_jobs(t, people, orgs, residents, rng)
    for p in people:
        _profile_numbers(t, p, rng)
    _link_acquaintances(t, people, homes, rng)
    places = _layout(t, homes, orgs, jobs, residents, rng)
    home_of = {i: h for h in homes for i in h.members}
    words_rng = random.Random(f"persona-words/{seed}")  # its own stream: the numbers stay as the seed draws them
    specs = tuple(_resident_spec(t, p, people, home_of[i], rng, words_rng) for i, p in enumerate(people))
    return WorldSpec(
        name=name or t.name,
        title=t.title,
        setting=t.setting,
        generator=GeneratorInfo(theme=t.name, seed=seed, residents=residents),
        grid=places[0],
        places=places[1],
        jobs=tuple(jobs),
        price_list=t.prices,
        events=t.events,
        residents=specs,
    )


# -- households and names -------------------------------------------------------------------------
def _populate(t: Theme, n: int, rng: random.Random) -> tuple[list[_Person], list[_Home]]:
    """Households drawn by weight until there are ``n`` people (the last one may be cut short)."""
    people: list[_Person] = []
    homes: list[_Home] = []
    weights = [h.weight for h in t.households]
    per_label: dict[str, int] = {}
    while len(people) < n:
        kind: Household = rng.choices(t.households, weights)[0]
        members = _draw_members(kind, rng)[: n - len(people)]
        index = len(homes)
        first = len(people)
        for cohort, age, relation in members:
            people.append(_Person(cohort=cohort, age=age, relation=relation))
        _dress_household(t, kind, people[first:], rng)
        count = per_label.get(kind.label, 0)
        per_label[kind.label] = count + 1
        home_name, neighbourhood = _home_name(kind.label, count, people[first].surname)
        homes.append(_Home(f"home/{index + 1}", home_name, neighbourhood, list(range(first, len(people))), kind.label))
    return people, homes


def _draw_members(kind: Household, rng: random.Random) -> list[tuple[str, int, str]]:
    """(cohort, age, relation) for each member; partners near the head's age, parents 20+ years older."""
    drawn = []
    for m in kind.members:
        for _ in range(rng.randint(*m.count)):
            low, high, mode = m.ages
            drawn.append([m.cohort, round(rng.triangular(low, high, mode)), m.relation, low, high])
    head = next((d for d in drawn if d[2] == "adult"), None)
    for d in drawn:
        if d[2] == "partner" and head is not None:
            d[1] = min(max(d[3], head[1] + rng.randint(-5, 5)), d[4])
    children = [d[1] for d in drawn if d[2] == "child"]
    if children:
        oldest = max(children)
        for d in drawn:
            if d[2] in ("adult", "partner"):
                d[1] = max(d[1], min(oldest + rng.randint(20, 32), max(d[4], oldest + 20)))
    parents = [d[1] for d in drawn if d[2] in ("adult", "partner")]
    for d in drawn:
        if d[2] == "elder" and parents:
            d[1] = min(99, max(d[1], max(parents) + rng.randint(20, 30)))
    return [(cohort, age, relation) for cohort, age, relation, _, _ in drawn]


def _dress_household(t: Theme, kind: Household, members: list[_Person], rng: random.Random) -> None:
    """Genders, name cultures and surnames: a family shares a culture and (mostly) a surname."""
    culture = rng.choice(t.cultures)
    surname = rng.choice(culture.surnames)
    head_gender = None
    for p in members:
        if p.relation == "partner" and head_gender in ("female", "male") and rng.random() < 0.9:
            p.gender = "male" if head_gender == "female" else "female"
        else:
            p.gender = "non-binary" if rng.random() < t.nonbinary else rng.choice(("female", "male"))
        if head_gender is None:
            head_gender = p.gender
        if kind.family:
            p.culture = culture
            keeps_own = p.relation == "partner" and rng.random() >= culture.married_name
            p.surname = rng.choice(culture.surnames) if keeps_own else surname
        else:
            p.culture = rng.choice(t.cultures)
            p.surname = rng.choice(p.culture.surnames)


_BUILDINGS = ("The Carroway", "The Linden", "The Ashcroft", "The Morton", "The Bedford", "The Barrow",
              "The Grove", "The Commerce", "The Charlton", "The Leroy")
_RIVER_STREETS = {
    "house": ("Mill Lane", "Church Street", "High Street", "Ferry Road", "Orchard Close", "Weir Walk", "Station Road",
              "Willow Row", "School Lane", "Bridge Street"),
    "cottage": ("Towpath Row", "Kingfisher Lane", "Sheep Street", "Bridge End", "Chapel Yard", "Lock Lane"),
    "farmhouse": ("Valley Road", "Lowmead Lane", "Brackenridge Drove", "Ashby Hill"),
    "shared": ("High Street",),
}


def _home_name(label: str, i: int, surname: str) -> tuple[str, str]:
    """The ``i``-th home of a kind: its display name and the neighbourhood (floor, block, street)."""
    if label == "apartment":  # 6 floors x 8 flats per building
        building, flat = divmod(i, 48)
        floor, letter = divmod(flat, 8)
        base = _BUILDINGS[building % len(_BUILDINGS)] + numeral(building // len(_BUILDINGS))
        return f"{base}, Apt {floor + 1}{'ABCDEFGH'[letter]}", f"{building}-{floor}"
    if label == "dorm":  # 4 floors x 6 rooms per dormitory
        building, room = divmod(i, 24)
        floor, number = divmod(room, 6)
        return f"Dormitory {_letters(building)}, Room {floor + 1}{number + 1:02d}", f"dorm-{building}-{floor}"
    if label == "family_flat":
        block = i // 6 + 1
        return f"{surname} Family Flat, Haibin Estate Block {block}", f"block-{block}"
    if label == "staff":
        block, flat = divmod(i, 8)
        return f"Teachers' Housing, Block {block + 1} Flat {flat // 2 + 1}0{flat % 2 + 1}", f"staff-{block}"
    streets = _RIVER_STREETS.get(label, _RIVER_STREETS["house"])
    street = streets[(i // 6) % len(streets)]
    if label == "cottage":
        return f"{surname} Cottage, {i + 1} {street}", street
    if label == "farmhouse":
        return f"{surname} Farmhouse, {street}", street
    if label == "shared":
        return f"Flat {i + 1}, {i // 4 + 10} High Street", street
    return f"{i + 1} {street}", street


def _name_everyone(t: Theme, people: list[_Person], rng: random.Random) -> None:
    """Unique full names; when a culture's pools run out, a middle initial or a numeral is added."""
    taken: set[str] = set()
    for p in people:
        culture = p.culture
        for _ in range(12):
            p.first = _first_name(culture, p.gender, p.age, rng)
            p.name = _full(culture, p.first, p.surname)
            if p.name not in taken:
                break
        else:
            for extra in range(1, 10_000):
                if culture.surname_first:
                    candidate = _full(culture, p.first, p.surname) + numeral(extra)
                else:
                    initial = "ABCDEFGHJKLMNOPRSTVW"[(extra - 1) % 20] + "."
                    candidate = f"{p.first} {initial} {p.surname}" + numeral((extra - 1) // 20)
                if candidate not in taken:
                    p.name = candidate
                    break
        taken.add(p.name)


def _first_name(culture: NameCulture, gender: str, age: int, rng: random.Random) -> str:
    if gender == "male":
        bands = culture.male
    elif gender == "female":
        bands = culture.female
    else:
        bands = rng.choice((culture.male, culture.female))
    pool = next(band.names for band in reversed(bands) if age >= band.min_age)
    if not culture.compound:
        return rng.choice(pool)
    first, second = rng.sample(pool, 2)
    return first.capitalize() + second


def _full(culture: NameCulture, first: str, surname: str) -> str:
    return f"{surname} {first}" if culture.surname_first else f"{first} {surname}"


def numeral(n: int) -> str:
    """'' for 0, else ' II', ' III', ... (Roman numerals distinguish namesakes and branches)."""
    if n <= 0:
        return ""
    value, out = n + 1, ""
    for number, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                            (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while value >= number:
            out += letters
            value -= number
    return " " + out


def _letters(n: int) -> str:
    return "ABCDEFGHJKLMNPQRSTUVWXYZ"[n % 24] + ("" if n < 24 else str(n // 24 + 1))


# -- positions ------------------------------------------------------------------------------------
_ASCII = str.maketrans("áéíóúñńśźżłàèìòù", "aeiounnszzlaeiou")


def slug(text: str) -> str:
    text = text.lower().replace("&", "and").replace("'", "")
    text = re.sub(r"[^a-z0-9]+", "-", text.translate(_ASCII))
    return text.strip("-")[:40].strip("-") or "place"


def _eligible(role: Role, person: _Person) -> bool:
    age = person.age
    return (role.weight > 0 and person.cohort in role.cohorts and role.ages[0] <= age <= role.ages[1]
            and (role.min_age is None or age >= role.min_age) and (role.max_age is None or age <= role.max_age))


def _assign_positions(t: Theme, people: list[_Person], rng: random.Random) -> list[_Org]:
    """Each resident draws a role; each kind of workplace opens as many organisations as it needs."""
    pairs = [(w, role) for w in t.workplaces for role in w.roles]
    workplace_of: dict[int, Workplace] = {}
    for i, p in enumerate(people):
        options = [(w, role) for w, role in pairs if _eligible(role, p)]
        always_placed = all(not role.work for _, role in options)  # students and retirees have a position
        if not options or (not always_placed and rng.random() < t.unemployed):
            continue
        w, p.role = rng.choices(options, [role.weight for _, role in options])[0]
        workplace_of[i] = w
    orgs: list[_Org] = []
    keys: set[str] = set()
    surnames = [s for c in t.cultures for s in c.surnames]
    for w in t.workplaces:
        holders = [p for i, p in enumerate(people) if workplace_of.get(i) is w]
        count = math.ceil(len(holders) / w.size) or (1 if w.always else 0)
        names = list(w.names)
        rng.shuffle(names)
        if count > len(names) and w.patterns:  # more organisations than names: make the rest from patterns
            names += _patterned(w.patterns, count - len(names), set(names), surnames, rng)
        opened = []
        for k in range(count):
            name = names[k % len(names)] + numeral(k // len(names))
            key = slug(name)
            while key in keys:
                key += "-x"
            keys.add(key)
            opened.append(_Org(key, name, w))
        rng.shuffle(holders)
        for k, p in enumerate(holders):
            p.org = opened[k % count]
        orgs.extend(opened)
    return orgs


def _patterned(patterns: tuple[str, ...], count: int, taken: set[str], surnames: list[str],
               rng: random.Random) -> list[str]:
    """Up to ``count`` new organisation names from ``patterns`` (``{surname}``, ``{surname2}``)."""
    out: list[str] = []
    for _ in range(count * 20):
        if len(out) == count:
            break
        first, second = rng.sample(surnames, 2) if len(surnames) > 1 else (surnames * 2)[:2]
        name = rng.choice(patterns).format(surname=first, surname2=second)[:NAME_LENGTH]
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _make_jobs(t: Theme, people: list[_Person], orgs: list[_Org], n: int, rng: random.Random) -> list[JobSpec]:
    """One job per (organisation, role) that someone holds, plus elite and entry openings and spare places."""
    filled: dict[tuple[str, str], int] = {}
    for p in people:
        if p.role is not None:
            filled[p.org.key, p.role.key] = filled.get((p.org.key, p.role.key), 0) + 1
    drafts = []
    rank: dict[int, int] = {}  # organisations of each workplace opened so far
    for org in orgs:
        k = rank[id(org.workplace)] = rank.get(id(org.workplace), -1) + 1
        for role in org.workplace.roles:
            holders = filled.get((org.key, role.key), 0)
            opening = ((role.elite and k % org.workplace.openings_every == 0)
                       or (org.workplace.always and role is org.workplace.roles[0]))
            capacity = (holders + (1 if opening and holders == 0 else 0)
                        + (1 if role.entry and k % org.workplace.openings_every == 0 else 0))
            if capacity:
                drafts.append([org, role, capacity])
    target = max(n + 1, round(n * rng.uniform(*VACANCY)))
    spare = target - sum(d[2] for d in drafts)
    weights = [0.0 if role.elite else 3.0 if role.work else 1.0 for _, role, _ in drafts]
    if spare > 0 and sum(weights) > 0:
        for d in rng.choices(drafts, weights, k=spare):
            d[2] += 1
    jobs: dict[tuple[str, str], JobSpec] = {}
    for org, role, capacity in drafts:
        minimums = {s: _round5(rng.randint(low, high)) for s, (low, high) in role.skills.items()}
        jobs[org.key, role.key] = JobSpec(
            key=f"{org.key}/{role.key}", organisation=org.name, role=role.title, work=role.work,
            description=role.description, weekly_income=_round5(rng.randint(*role.income)), min_skills=minimums,
            weekly_skill_gain=dict(role.gain) if role.gain is not None else {s: rng.randint(2, 4) for s in minimums},
            capacity=capacity, min_age=role.min_age, max_age=role.max_age, place=org.key,
        )
    for p in people:
        if p.role is not None:
            p.job = jobs[p.org.key, p.role.key]
    return list(jobs.values())


def _round5(x: float) -> int:
    return int(round(x / 5) * 5)


# -- profiles -------------------------------------------------------------------------------------
def _profile_numbers(t: Theme, p: _Person, rng: random.Random) -> None:
    """Traits and talents (0-100, 50 = average) and skills that meet the resident's own job."""
    nudges = p.role.nudges if p.role else {}
    p.traits = {k: _clip(rng.gauss(50 + nudges.get(k, 0), 17)) for k in TRAITS}
    ageing = max(0, p.age - 50) * 0.7
    p.talents = {k: _clip(rng.gauss(50 + nudges.get(k, 0) - (ageing if k == "health" else 0), 14)) for k in TALENTS}
    skills: dict[str, int] = {}
    for skill, (low, high) in t.base_skills.get(p.cohort, {}).items():
        skills[skill] = _round5(rng.randint(low, high) * (0.6 + p.talents["intelligence"] / 125))
    p.hobbies = rng.sample(list(t.hobbies), rng.randint(1, 2))
    for skill in p.hobbies:
        skills[skill] = max(skills.get(skill, 0), _round5(rng.randint(5, 60)))
    if p.job is not None:
        experience = min(40, max(0, p.age - p.role.ages[0]) * 2)
        for skill, minimum in p.job.min_skills.items():
            skills[skill] = max(skills.get(skill, 0), minimum + _round5(rng.randint(0, 20) + rng.random() * experience))
    p.skills = {k: v for k, v in skills.items() if v > 0}


def _clip(x: float) -> int:
    return max(0, min(100, round(x)))


def _link_acquaintances(t: Theme, people: list[_Person], homes: list[_Home], rng: random.Random) -> None:
    """Household members know each other; then colleagues, neighbours and anyone, to the theme's mean."""
    n = len(people)
    if n < 2:
        return
    neighbourhood: dict[str, list[int]] = {}
    for h in homes:
        neighbourhood.setdefault(h.neighbourhood, []).extend(h.members)
        for i in h.members:
            for j in h.members:
                if i != j:
                    people[i].links[j] = None
    groups: dict[str, list[int]] = {}
    group_of: list[str | None] = []
    for i, p in enumerate(people):
        if p.org is None:
            group_of.append(None)
            continue
        key = p.org.key + (f"/{p.age}" if t.classes_by_age and not p.role.work else "")
        groups.setdefault(key, []).append(i)
        group_of.append(key)
    neighbours_of = [neighbourhood[h.neighbourhood] for h in homes for _ in h.members]
    target = t.acquaintances
    # Links also arrive from others (up to one past their own wish), so ask for a bit under the mean.
    desired = [max(1, round(rng.gauss(target * (0.5 + 0.8 * p.traits["extraversion"] / 100), target * 0.2)))
               for p in people]
    colleague, neighbour = t.mix.colleague, t.mix.neighbour
    order = list(range(n))
    rng.shuffle(order)
    for i in order:
        links = people[i].links
        tries = 0
        while len(links) < desired[i] and tries < 6 * desired[i] + 10:
            tries += 1
            r = rng.random()
            if r < colleague and group_of[i] is not None:
                pool = groups[group_of[i]]
            elif r < colleague + neighbour:
                pool = neighbours_of[i]
            else:
                pool = None
            j = rng.randrange(n) if pool is None else pool[rng.randrange(len(pool))]
            if j == i or j in links or len(people[j].links) >= desired[j] + 1:
                continue
            links[j] = None
            people[j].links[i] = None


# -- the map --------------------------------------------------------------------------------------
def _layout(t: Theme, homes: list[_Home], orgs: list[_Org], jobs: list[JobSpec], n: int,
            rng: random.Random) -> tuple[GridSpec, tuple[PlaceSpec, ...]]:
    """Public places near the centre, workplaces around them, homes on the outskirts by street.

    The grid side grows with the square root of the population (24 x 24 at 100 residents).
    """
    scale = math.sqrt(n / 100)
    public = _public_places(t, n)
    side, chosen = grid_cells(len(public) + len(orgs) + len(homes), n, rng)
    spots = iter(chosen)
    places = [PlaceSpec(key=k, name=name, kind=kind, x=x, y=y, capacity=max(5, round(cap * max(scale, 0.3))),
                        affordances=aff) for (k, name, kind, aff, cap), (x, y) in zip(public, spots)]
    staff: dict[str, int] = {}
    for j in jobs:
        staff[j.place] = staff.get(j.place, 0) + j.capacity
    for org, (x, y) in zip(orgs, spots):
        places.append(PlaceSpec(key=org.key, name=org.name, kind=org.workplace.kind, x=x, y=y,
                                capacity=staff.get(org.key, 0) + 5, affordances=org.workplace.affordances))
    outskirts = around(spots, side)
    for h, (x, y) in zip(homes, outskirts):
        places.append(PlaceSpec(key=h.key, name=h.name, kind="home", x=x, y=y, capacity=len(h.members) + 3,
                                affordances=("rest",)))
    return GridSpec(width=side, height=side), tuple(places)


def grid_cells(total: int, n: int, rng: random.Random) -> tuple[int, list[tuple[int, int]]]:
    """The grid side for ``total`` places of a town of ``n`` residents, and ``total`` distinct
    cells spread over it, nearest the centre first (a little jitter from ``rng``)."""
    side = max(4, math.ceil(2.4 * math.sqrt(n)), math.ceil(math.sqrt(total * 4)))  # room to move: 4 cells a place
    centre = (side - 1) / 2
    cells = sorted(((x, y) for x in range(side) for y in range(side)),
                   key=lambda c: math.hypot(c[0] - centre, c[1] - centre) + rng.random() * side * 0.15)
    stride = max(1, len(cells) // total)
    return side, cells[::stride][:total]


def around(cells, side: int) -> list[tuple[int, int]]:
    """``cells`` in order of their angle around the grid's centre: neighbouring homes share a street."""
    centre = (side - 1) / 2
    return sorted(cells, key=lambda c: math.atan2(c[1] - centre, c[0] - centre))


def _public_places(t: Theme, n: int) -> list[tuple[str, str, str, tuple[str, ...], int]]:
    """The theme's public places, and more of the repeatable kinds (cafes, parks...) in bigger towns."""
    out = [(p.key, p.name, p.kind, p.affordances, p.capacity) for p in t.public]
    wanted = max(len(out), round(len(out) * math.sqrt(n / 100)))
    repeatable = [p for p in t.public if p.more]
    keys = {p.key for p in t.public}
    k = 0
    while len(out) < wanted and repeatable:
        base = repeatable[k % len(repeatable)]
        rank = k // len(repeatable)
        name = base.more[rank % len(base.more)] + numeral(rank // len(base.more))
        key = slug(name)
        while key in keys:
            key += "-x"
        keys.add(key)
        out.append((key, name, base.kind, base.affordances, max(5, base.capacity // 2)))
        k += 1
    return out


# -- words ----------------------------------------------------------------------------------------
_TRAIT_WORDS = {
    "extraversion": ("outgoing", "quiet"), "intuition": ("imaginative", "down-to-earth"),
    "thinking": ("analytical", "tender-hearted"), "judging": ("organised", "spontaneous"),
    "confidence": ("self-assured", "self-doubting"), "curiosity": ("endlessly curious", "set in {poss} ways"),
    "empathy": ("warm", "guarded"), "responsibility": ("dependable", "happy-go-lucky"),
    "control": ("strong-willed", "easy-going"), "patience": ("patient", "restless"),
}
_IMPRESSIONS = {
    "extraversion": ("Has a laugh that carries across a room.", "Speaks softly and watches before joining in."),
    "confidence": ("Walks as if the street belongs to {obj}.", "Apologises a little too often."),
    "empathy": ("Remembers everyone's birthday.", "Keeps people at arm's length until they earn trust."),
    "patience": ("Never seems to be in a hurry.", "Drums {poss} fingers on every table."),
    "curiosity": ("Asks one more question than anyone expects.", "Orders the same thing every time."),
    "control": ("Likes things done properly, and says so.", "Shrugs off plans that fall through."),
    "judging": ("Carries a notebook with lists in it.", "Is always five minutes late, and charming about it."),
    "intuition": ("Often seems lost in a daydream.", "Notices the practical detail everyone else missed."),
    "thinking": ("Weighs every word before speaking.", "Wears every feeling openly."),
    "responsibility": ("Is the one people call in an emergency.", "Rarely worries about tomorrow."),
}
_BUILDS = ("Tall", "Short", "Wiry", "Broad-shouldered", "Slight", "Stocky", "Lanky", "Compact", "Athletic",
           "Round-faced")
_PROPER = frozenset({"Chinese", "English", "Broadway"})
_PRONOUNS = {"male": ("he", "his", "him", "himself"), "female": ("she", "her", "her", "herself")}


def _pronouns(gender: str) -> tuple[str, str, str, str]:
    return _PRONOUNS.get(gender, ("they", "their", "them", "themselves"))


def _extremes(values: dict[str, int], k: int) -> list[tuple[str, bool]]:
    ranked = sorted(values, key=lambda name: (-abs(values[name] - 50), name))
    return [(name, values[name] >= 50) for name in ranked[:k]]


def _resident_spec(t: Theme, p: _Person, people: list[_Person], home: _Home, rng: random.Random,
                   words_rng: random.Random) -> ResidentSpec:
    pronouns = _pronouns(p.gender)
    _, poss, obj, refl = pronouns
    words = {"poss": poss, "obj": obj, "self": refl}
    income = p.job.weekly_income if p.job else 0
    saved = t.deposits[p.cohort]
    deposit = (saved.median * math.exp(rng.gauss(0, saved.sigma)) * (0.75 + 0.5 * income / 500)
               * (1 + max(0, p.age - 30) / 60))
    extra = 0
    side = t.extra_income.get(p.cohort, NO_EXTRA_INCOME)
    if p.age <= side.max_age and rng.random() < side.chance:
        extra = _round5(rng.randint(side.low, side.high))
    acquaintances = tuple(people[j].name for j in p.links)
    persona = persona_words(words_rng, first=p.first, age=p.age, pronouns=pronouns, traits=p.traits, talents=p.talents,
                            org=p.job.organisation if p.job and p.job.work else None, role=p.job.role if p.job else None,
                            hobby=p.hobbies[0] if p.hobbies else None,
                            housemates=[people[j].first for j in home.members if people[j] is not p])
    return ResidentSpec(
        name=p.name,
        birth_year=START_YEAR - p.age,
        gender=p.gender,
        introduction=_introduction(t, p, people, home, words, rng),
        appearance=_appearance(t, p, words, rng),
        traits=p.traits,
        talents=p.talents,
        values=tuple(rng.sample(t.values, rng.randint(2, 3))),
        motivation=_motivation(t, p, rng),
        skills=p.skills,
        job=p.job.key if p.job else None,
        deposit=max(saved.low, min(saved.high, _round5(deposit / 2) * 2)),
        extra_income=extra,
        home=home.key,
        acquaintances=acquaintances,
        **persona,
    )


def _introduction(t: Theme, p: _Person, people: list[_Person], home: _Home, words: dict, rng: random.Random) -> str:
    if p.job is None:
        opening = f"{p.name}, {p.age}, {t.unemployed_phrase}."
    elif p.role.intro:
        opening = f"{p.name}, {p.age}, {p.role.intro.format(org=p.job.organisation)}."
    else:
        title = " ".join(w if w.isupper() or w in _PROPER else w.lower() for w in p.job.role.split())
        if ", " in title:  # "Student, Science Track" -> "student (science track)"
            head, _, rest = title.partition(", ")
            title = f"{head} ({rest.lower()})"
        article = "an" if str(p.age).startswith("8") or p.age in (11, 18) else "a"
        opening = f"{p.name} is {article} {p.age}-year-old {title} at {p.job.organisation}."
    doing = f" {p.first} {p.job.description[0].lower()}{p.job.description[1:]}" if p.job and not p.role.intro else ""
    (t1, high1), (t2, high2) = _extremes(p.traits, 2)
    a = _TRAIT_WORDS[t1][0 if high1 else 1].format(**words)
    b = _TRAIT_WORDS[t2][0 if high2 else 1].format(**words)
    others = [people[j] for j in home.members if people[j] is not p]
    if not others:
        with_parents = home.label == "family_flat" and p.relation == "child"
        living = f"lives with {words['poss']} parents in {home.name}" if with_parents else f"lives alone in {home.name}"
    else:
        names = [o.first for o in others]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        verb = "shares" if p.relation == "mate" else "lives in"
        living = f"{verb} {home.name} with {listed}"
    hobby = next((s for s in p.hobbies if p.job is None or s not in p.job.min_skills), None)
    spare = f" In {words['poss']} free time {p.first} {t.hobbies[hobby].format(**words)}." if hobby else ""
    return f"{opening} {a[0].upper() + a[1:]} and {b}, {p.first} {living}.{doing}{spare}"


def _appearance(t: Theme, p: _Person, words: dict, rng: random.Random) -> str:
    if p.age < 19:
        noun = "teenager"
    else:
        noun = {"male": "man", "female": "woman"}.get(p.gender, "person")
        if p.age < 30:
            noun = "young " + noun
    beauty = p.talents["beauty"]
    look = ["strikingly good-looking"] if beauty >= 72 else ["plain-looking"] if beauty <= 28 else []
    hair = rng.choice(("grey hair", "silver hair", "thinning white hair")) if p.age >= 58 and rng.random() < 0.7 \
        else rng.choice(t.hair)
    trait, high = _extremes(p.traits, 1)[0]
    impression = _IMPRESSIONS[trait][0 if high else 1].format(**words)
    style = rng.choice(t.styles.get(p.cohort) or t.styles[""])
    return f"{', '.join([rng.choice(_BUILDS)] + look)} {noun} with {hair}, usually in {style}. {impression}"


def _motivation(t: Theme, p: _Person, rng: random.Random) -> str:
    if p.role is not None and p.role.dreams and rng.random() < 0.7:
        return rng.choice(p.role.dreams)
    pool = t.motivations.get(p.cohort) or next(iter(t.motivations.values()))
    return rng.choice(pool)
