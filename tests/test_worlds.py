"""World generator, built-in worlds and world-file validation errors."""

import json
import re
import statistics
import time
from collections import Counter

import pytest

from agentopia_mesa.world.builtin.__main__ import BUILTIN, FOLDER, main as builtin_main, render
from agentopia_mesa.world.generate import THEMES, generate_world
from agentopia_mesa.world.loader import WorldError, load_world, parse_world, resize_world

CATEGORY_RANGES = {
    "free_low_cost": (0, 10), "daily_entertainment": (5, 30), "social_mid_frequency": (20, 80),
    "mid_range_valuable": (80, 400), "large_luxury": (400, 3000),
}
MEAN_ACQUAINTANCES = {"apartment": (4.0, 6.5), "school": (9.0, 12.0), "rivertown": (7.0, 9.5)}


@pytest.fixture(scope="module")
def builtins():
    return {name: load_world(name) for name in BUILTIN}


def _jobs(world):
    return {j.key: j for j in world.jobs}


def _age(resident):
    return 2020 - resident.birth_year


def _is_public(place):
    return place.kind != "home" and "work" not in place.affordances


# -- built-in worlds ------------------------------------------------------------------------------
def test_themes_and_builtin_names():
    assert THEMES == ("apartment", "school", "rivertown")
    assert set(BUILTIN) == set(THEMES)


@pytest.mark.parametrize("name", list(BUILTIN))
def test_builtin_file_equals_regeneration(name, builtins):
    theme, residents, seed = BUILTIN[name]
    assert (FOLDER / f"{name}.json").read_text(encoding="utf-8") == render(name)
    assert builtins[name] == generate_world(theme, residents=residents, seed=seed, name=name)
    assert builtins[name].generator.model_dump() == {"theme": theme, "seed": seed, "residents": 100}


def test_builtin_check_passes(capsys):
    assert builtin_main(["--check"]) == 0
    assert capsys.readouterr().out.count("up to date") == len(BUILTIN)


def test_builtin_check_detects_stale_files(tmp_path, monkeypatch, capsys):
    import agentopia_mesa.world.builtin.__main__ as builtin

    monkeypatch.setattr(builtin, "FOLDER", tmp_path)
    assert builtin.main(["--check"]) == 1 and not list(tmp_path.iterdir())  # missing, and nothing written
    assert builtin.main([]) == 0 and sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.json" for n in BUILTIN)
    assert builtin.main(["--check"]) == 0
    path = tmp_path / "school.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"seed": 2', '"seed": 9'), encoding="utf-8")
    capsys.readouterr()
    assert builtin.main(["--check"]) == 1
    assert "school.json" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(BUILTIN))
def test_builtin_world_is_coherent(name, builtins):
    w = builtins[name]
    jobs = _jobs(w)
    places = {p.key: p for p in w.places}
    names = {r.name for r in w.residents}
    assert len(w.residents) == 100 and len(names) == 100
    # Job capacity exceeds the population by ~10-25 %, nobody holds a job beyond its capacity.
    capacity = sum(j.capacity for j in w.jobs)
    assert 1.08 * 100 <= capacity <= 1.3 * 100
    holders = Counter(r.job for r in w.residents if r.job)
    assert all(holders[k] <= jobs[k].capacity for k in holders)
    assert sum(r.job is None for r in w.residents) <= 8
    # Residents meet their own job's minimum skills and age limits.
    for r in w.residents:
        if r.job:
            job = jobs[r.job]
            assert all(r.skills.get(s, 0) >= m for s, m in job.min_skills.items()), (r.name, job.key)
            assert (job.min_age or 0) <= _age(r) <= (job.max_age or 200), (r.name, job.key)
        assert set(r.traits) >= {"extraversion", "empathy", "patience"} and set(r.talents) >= {"health", "beauty"}
        assert 2 <= len(r.values) <= 3 and r.motivation and r.introduction.startswith(r.name)
        # The persona in words, as the paper's profiles have it.
        assert all(getattr(r, f) for f in ("personality", "talent_words", "conflicts", "preferences", "backstory",
                                           "details")), r.name
        assert r.personality[:4].strip("IESNTFJP") == "" and "{" not in r.backstory + r.conflicts + r.details
    # Incomes follow the paper: work 100-500, allowances at most 250; in apartment as the paper's apartment
    # (mean 371, nearly every resident at an organisation of its own), elsewhere mostly at the low end.
    work = [j for j in w.jobs if j.work]
    assert all(100 <= j.weekly_income <= 500 and (j.min_age or 0) >= 16 for j in work)
    assert all(j.weekly_income <= 250 for j in w.jobs if not j.work)
    held = [jobs[r.job].weekly_income for r in w.residents if r.job and jobs[r.job].work]
    if name == "apartment":
        positions = [jobs[r.job] for r in w.residents if r.job]
        assert 350 <= statistics.mean(j.weekly_income for j in positions) <= 390
        assert len({j.organisation for j in positions}) >= 90
    else:
        assert statistics.median(held) < 367 and sum(x >= 367 for x in held) < 0.25 * len(held)
    assert all(0 <= m <= 150 for j in w.jobs for m in j.min_skills.values())
    assert all(places[j.place].kind != "home" for j in w.jobs)
    assert all("work" in places[j.place].affordances for j in work)
    # Acquaintances exist, are symmetric and average as the theme says.
    by_name = {r.name: r for r in w.residents}
    for r in w.residents:
        assert all(a in names and a != r.name and r.name in by_name[a].acquaintances for a in r.acquaintances)
    low, high = MEAN_ACQUAINTANCES[name]
    assert low <= statistics.mean(len(r.acquaintances) for r in w.residents) <= high
    # Households of 1-5 share a home; there are plenty of public places with sensible affordances.
    sizes = Counter(r.home for r in w.residents)
    assert max(sizes.values()) <= 5 and len(sizes) >= 25
    assert all(p.affordances == ("rest",) for p in w.places if p.kind == "home")
    public = [p for p in w.places if _is_public(p)]
    assert len(public) >= 10
    for activity in ("study", "exercise", "leisure", "shopping", "socialize", "event"):
        assert any(activity in p.affordances for p in public), activity
    # Deposits are spread out.
    deposits = [r.deposit for r in w.residents]
    assert statistics.pstdev(deposits) > 0.4 * statistics.mean(deposits) and min(deposits) < 1000
    # Price list and events.
    assert 20 <= len(w.price_list) <= 30
    assert {p.category for p in w.price_list} == set(CATEGORY_RANGES)
    for item in w.price_list:
        low, high = CATEGORY_RANGES[item.category]
        assert low <= item.price <= high, item
    assert 12 <= len(w.events) <= 20 and any(e.skill for e in w.events)
    assert all(_is_public(places[e.place]) and not re.search(r"\bshop", e.name.lower()) for e in w.events)
    assert w.grid.width * w.grid.height >= 4 * len(w.places)
    assert 2 <= w.setting.count(". ") + 1 <= 5


def test_apartment_character(builtins):
    w = builtins["apartment"]
    ages = [_age(r) for r in w.residents]
    assert 17 <= min(ages) and max(ages) <= 62 and 26 <= statistics.mean(ages) <= 34
    roles = {j.role for j in w.jobs}
    assert {"Ensemble Actor", "Junior Associate", "Session Musician", "Waiter", "Software Engineer",
            "Registered Nurse", "Undergraduate"} <= roles
    deposits = [r.deposit for r in w.residents]
    assert 300 <= min(deposits) and max(deposits) <= 10_000 and 2500 <= statistics.mean(deposits) <= 5000
    assert "rooftop" in {p.kind for p in w.places} and "cafe" in {p.kind for p in w.places}


def test_school_character(builtins):
    w = builtins["school"]
    jobs = _jobs(w)
    students = [r for r in w.residents if r.job and jobs[r.job].max_age == 18 and not jobs[r.job].work]
    assert len(students) >= 60
    assert all(15 <= _age(r) <= 18 for r in students)
    assert all(jobs[r.job].weekly_income <= 50 for r in students)
    assert sum(r.extra_income > 0 for r in students) >= len(students) // 2  # family support
    ages = [_age(r) for r in w.residents]
    assert min(ages) >= 15 and 19 <= statistics.mean(ages) <= 27
    assert sum("Teacher" in jobs[r.job].role for r in w.residents if r.job) >= 5
    # Students who age out have somewhere to go: jobs with spare places and no maximum age.
    open_after_school = [j for j in w.jobs if j.max_age is None and (j.min_age or 0) <= 19]
    assert sum(j.capacity for j in open_after_school) - sum(1 for r in w.residents if r.job in
                                                           {j.key for j in open_after_school}) >= 3
    assert {"library", "sports_field", "canteen"} <= {p.kind for p in w.places}


def test_rivertown_character(builtins):
    w = builtins["rivertown"]
    jobs = _jobs(w)
    retired = [r for r in w.residents if r.job and not jobs[r.job].work and (jobs[r.job].min_age or 0) >= 60]
    assert len(retired) >= 10 and all(_age(r) >= 60 for r in retired)
    assert {"mill", "fishery", "farm", "clinic"} <= {p.kind for p in w.places}
    assert {"pub", "church", "market", "community_hall"} <= {p.kind for p in w.places if _is_public(p)}
    assert 38 <= statistics.mean(_age(r) for r in w.residents) <= 52


# -- the generator --------------------------------------------------------------------------------
def test_generation_is_deterministic():
    a = generate_world("rivertown", residents=60, seed=7)
    assert a == generate_world("rivertown", residents=60, seed=7)
    twin = generate_world("rivertown", 60, 7)
    assert json.dumps(a.model_dump(mode="json")) == json.dumps(twin.model_dump(mode="json"))
    b = generate_world("rivertown", residents=60, seed=8)
    assert a != b and {r.name for r in a.residents} != {r.name for r in b.residents}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", [1, 5, 400, 1000])
def test_sizes_validate(theme, size):
    started = time.process_time()  # CPU time of this process: other jobs on the machine do not count
    world = generate_world(theme, residents=size, seed=11)
    cpu_s = time.process_time() - started
    again = parse_world(world.model_dump(mode="json"))
    assert len(again.residents) == size and len({r.name for r in again.residents}) == size
    assert sum(j.capacity for j in again.jobs) > size
    assert sum(1 for p in again.places if _is_public(p)) >= 10
    if size == 1:
        assert again.residents[0].acquaintances == ()
    if size == 1000:
        assert cpu_s < 5.0  # about 0.1 s; the bound only catches a blow-up (e.g. quadratic), not a slow machine
        assert again.grid.width >= 60 and sum(1 for p in again.places if _is_public(p)) >= 25


def test_unknown_theme_and_bad_size():
    with pytest.raises(WorldError, match="unknown theme 'moon'.*apartment"):
        generate_world("moon")
    with pytest.raises(WorldError, match="residents: must be at least 1"):
        generate_world("school", residents=0)


def test_resize_world(builtins):
    small = resize_world(builtins["apartment"], 30)
    assert len(small.residents) == 30
    names = {r.name for r in small.residents}
    assert all(a in names for r in small.residents for a in r.acquaintances)
    parse_world(small.model_dump(mode="json"))
    big = resize_world(builtins["apartment"], 150)
    assert len(big.residents) == 150 and big.name == "apartment"
    assert big.generator.model_dump() == {"theme": "apartment", "seed": 1, "residents": 150}
    assert big == generate_world("apartment", residents=150, seed=1, name="apartment")


# -- bad world files ------------------------------------------------------------------------------
@pytest.fixture()
def data():
    return generate_world("apartment", residents=12, seed=5).model_dump(mode="json")


def _error(data) -> str:
    with pytest.raises(WorldError) as info:
        parse_world(data, "test.json")
    message = str(info.value)
    assert "\n" not in message and message.startswith("world file test.json: ")
    return message


def test_unknown_world_name():
    with pytest.raises(WorldError, match="unknown world 'atlantis'.*apartment.*rivertown.*school"):
        load_world("atlantis")


def test_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x",', encoding="utf-8")
    with pytest.raises(WorldError, match=r"broken.json: not valid JSON \(line 1"):
        load_world(path)


def test_valid_file_loads_from_path(tmp_path, data):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert len(load_world(path).residents) == 12


def test_job_at_missing_place(data):
    data["jobs"][2]["place"] = "nowhere"
    message = _error(data)
    assert "jobs[2].place" in message and "'nowhere' is not a place" in message


def test_duplicate_resident_names(data):
    data["residents"][3]["name"] = data["residents"][0]["name"]
    assert "residents[3].name: duplicate" in _error(data)


def test_negative_income(data):
    data["jobs"][0]["weekly_income"] = -5
    assert "jobs[0].weekly_income" in _error(data)


def test_grid_too_small(data):
    data["grid"] = {"width": 3, "height": 3}
    message = _error(data)
    assert "grid:" in message and "enlarge" in message


def test_place_outside_grid(data):
    data["places"][1]["x"] = data["grid"]["width"]
    message = _error(data)
    assert "places[1]" in message and "outside" in message


def test_home_that_is_not_a_home(data):
    workplace = next(p["key"] for p in data["places"] if p["kind"] != "home")
    data["residents"][4]["home"] = workplace
    assert "residents[4].home" in _error(data)


def test_acquaintance_that_is_not_a_resident(data):
    data["residents"][2]["acquaintances"] = ["Nobody Atall"]
    message = _error(data)
    assert "residents[2].acquaintances" in message and "Nobody Atall" in message


def test_control_characters_in_a_name(data):
    data["residents"][0]["name"] = "Bad\nName"
    message = _error(data)
    assert "residents[0].name" in message and "control characters" in message


# -- persona fields --------------------------------------------------------------------------------
NEW_FIELDS = ("personality", "talent_words", "conflicts", "preferences", "backstory", "details")


def test_a_world_file_from_before_the_persona_fields_still_loads(data):
    for r in data["residents"]:
        for field in NEW_FIELDS:
            del r[field]
    world = parse_world(data, "old.json")
    assert all(getattr(r, f) == "" for r in world.residents for f in NEW_FIELDS)


def test_generated_residents_have_every_persona_field(data):
    world = parse_world(data)
    assert all(getattr(r, f).strip() for r in world.residents for f in NEW_FIELDS)


@pytest.mark.parametrize("field, value, expected", [
    ("personality", "warm\x07and loud", "residents[1].personality: must not contain control characters"),
    ("conflicts", "x" * 2001, "residents[1].conflicts: String should have at most 2000 characters"),
    ("backstory", 42, "residents[1].backstory: Input should be a valid string"),
    ("preferences", ["tea"], "residents[1].preferences: Input should be a valid string"),
    ("details", None, "residents[1].details: Input should be a valid string"),
])
def test_a_bad_persona_field_is_one_line_naming_it(data, field, value, expected):
    data["residents"][1][field] = value
    assert expected in _error(data)


def test_a_bad_persona_words_file_is_one_line_naming_the_sentence(tmp_path):
    from agentopia_mesa.world.persona_words import load_persona_words

    data = json.loads((FOLDER.parent / "persona_words.json").read_text(encoding="utf-8"))
    data["routines"][1] = "{Subj} walks to {town} every day."
    path = tmp_path / "persona_words.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(WorldError) as info:
        load_persona_words(path)
    assert "\n" not in str(info.value) and "routines[1]: unknown placeholder {town}" in str(info.value)
