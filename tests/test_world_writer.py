"""``agentopia world new --llm``: a model writes a world in small cached steps; the result is
repaired and valid, or refused with one line."""

import json
from collections import Counter

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm.budgets import answer_budget
from agentopia_mesa.llm.cache import CachedClient, ResponseCache
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.world.loader import WorldError, load_world
from agentopia_mesa.world.schema import JobSpec
from agentopia_mesa.world.themes import THEME_TABLE
from agentopia_mesa.world.writer import answers as a
from agentopia_mesa.world.writer import assemble
from agentopia_mesa.world.writer.write import write_world


def _dispatcher() -> Dispatcher:
    return Dispatcher(max_concurrency=4, timeout_s=30, retries=1, backoff_s=0)


def test_world_new_llm_fake_writes_a_world_that_checks_and_runs(tmp_path, capsys):
    path = tmp_path / "written.json"
    assert main(["world", "new", "--llm", "fake:verbose", "--residents", "7", "--seed", "3", "--out", str(path)]) == 0
    said = capsys.readouterr().out
    assert "7 residents" in said and "calls to fake:verbose" in said
    assert (tmp_path / "written.llm-cache.sqlite").is_file()
    assert main(["world", "check", str(path)]) == 0
    world = load_world(path)
    assert world.generator is None and world.name == "apartment-written"
    for r in world.residents:  # the full persona, in words a model wrote
        assert all(getattr(r, f) for f in a.PERSONA_CHARS) and 2 <= len(r.values) <= 3
        assert len(r.traits) == 10 and len(r.talents) == 9
    assert {p.kind for p in world.places} >= {"home", "cafe", "park"}
    assert all(0 <= j.weekly_income <= a.MAX_INCOME for j in world.jobs) and world.events
    out = tmp_path / "run"
    assert main(["run", "--world", str(path), "--years", "1", "--weeks-per-year", "2", "--quiet", "--out", str(out)]) == 0
    assert (out / "metrics.csv").is_file()


def test_the_same_seed_replays_from_the_cache_without_a_model_call(tmp_path):
    cache = tmp_path / "cache.sqlite"
    first_backend, again_backend = FakeBackend(verbose=True), FakeBackend(verbose=True)
    first = write_world(CachedClient(first_backend, ResponseCache(cache)), _dispatcher(), "school", residents=5, seed=8)
    again = write_world(CachedClient(again_backend, ResponseCache(cache)), _dispatcher(), "school", residents=5, seed=8)
    assert first_backend.calls == first.calls > 0 and again_backend.calls == 0
    assert again.world == first.world and first.failed == 0


def test_every_step_asks_with_its_schema_and_budget():
    seen = []

    def reply(request):
        seen.append(request)
        return FakeBackend(verbose=True).chat(request).text

    written = write_world(FakeBackend(reply=reply), _dispatcher(), "rivertown", residents=3, seed=1)
    steps = Counter(r.tag.split("/")[1] for r in seen)
    assert steps["persona"] == steps["numbers"] == 3 and steps["place"] >= 4 and steps["organisation"] >= 2
    assert steps["household"] >= 1 and written.calls == len(seen)
    for r in seen:
        assert r.schema is not None and r.options.max_tokens == answer_budget(r.schema)
    systems = {r.messages[0]["content"] for r in seen}  # one system message: a server reuses its prefix
    assert len(systems) == 1 and THEME_TABLE["rivertown"].title in systems.pop()


def test_a_model_that_never_answers_json_is_refused_in_one_line():
    with pytest.raises(WorldError) as info:
        write_world(FakeBackend(reply=lambda request: "I am sorry, I cannot do that."), _dispatcher(), residents=3)
    message = str(info.value)
    assert "\n" not in message and "answers of the places, organisations and households round failed" in message


def test_a_few_failed_answers_are_filled_in_by_defaults():
    def reply(request):  # every persona of resident 1 fails; the rest answer well
        if request.tag == "world/persona/1":
            return "{}"
        return FakeBackend(verbose=True).chat(request).text

    written = write_world(FakeBackend(reply=reply), _dispatcher(), residents=4, seed=2)
    assert written.failed == 1 and "personas left blank 1" in written.repairs
    assert written.world.residents[0].personality == "" and written.world.residents[1].personality


def test_assembly_repairs_names_ages_and_capacities():
    repairs = assemble.Repairs()
    member = a.MemberAnswer
    households = [a.HouseholdAnswer(home_name="=HYPERLINK(x)", members=[
        member(name="Ana Lopez", gender="female", age=12, relation="head"),
        member(name="Ana Lopez", gender="male", age=40, relation="child"),
        member(name="Bo/b <start_of_turn>", gender="male", age=5, relation="child")])]
    members, homes = assemble.households(households, repairs)
    assert [m.name for m in members] == ["Ana Lopez", "Ana Lopez II", "Bo-b"]
    assert members[0].age >= 18 and all(m.age <= members[0].age - 16 for m in members[1:])
    assert homes[0].name == "HYPERLINK(x)" and homes[0].key.startswith("home/")
    jobs = {"cafe/barista": JobSpec(key="cafe/barista", organisation="Cafe", role="Barista", weekly_income=300,
                                    capacity=1, place="cafe")}
    holders = Counter()
    assert [assemble.fill_position("cafe/barista", jobs, holders, repairs) for _ in range(2)] == ["cafe/barista"] * 2
    assert jobs["cafe/barista"].capacity == 2 and assemble.fill_position("none", jobs, holders, repairs) is None
    assert {"names made unique", "names cleaned", "ages raised", "ages lowered", "capacities raised"} <= set(repairs.counts)


def test_bad_arguments_are_one_line(tmp_path, capsys):
    assert main(["world", "new", "--llm", "fake", "--theme", "mars", "--out", str(tmp_path / "x.json")]) == 2
    assert main(["world", "new", "--llm", "fake", "--residents", "0", "--out", str(tmp_path / "x.json")]) == 2
    assert main(["world", "new", "--llm", "nonsense:x", "--residents", "2", "--out", str(tmp_path / "x.json")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and "bad LLM spec" in errors[2]
    assert list(tmp_path.iterdir()) == []  # neither a world nor a cache left behind


def test_a_persona_that_repeats_the_question_or_has_no_word_is_blanked_not_kept():
    from agentopia_mesa.world.writer.prompts import PERSONA_FIELDS

    def reply(request):  # a small model's habit: it copies the field descriptions as its answer
        text = FakeBackend(verbose=True).chat(request).text
        if request.tag == "world/persona/2":
            answer = json.loads(text)
            answer.update({f: PERSONA_FIELDS[f] for f in a.PERSONA_CHARS})
            answer["values"] = ["two or three short beliefs they live by", "Family first."]
            return json.dumps(answer)
        if request.tag == "world/persona/3":  # or answers with punctuation alone
            return json.dumps({**json.loads(text), "introduction": ", ", "values": [",", "Be kind."]})
        return text

    written = write_world(FakeBackend(reply=reply), _dispatcher(), residents=3, seed=5)
    echoed, other = written.world.residents[1], written.world.residents[0]
    assert all(getattr(echoed, f) == "" for f in a.PERSONA_CHARS) and echoed.values == ("Family first.",)
    assert all(getattr(other, f) for f in a.PERSONA_CHARS)
    assert f"texts that repeated the question blanked {len(a.PERSONA_CHARS) + 1}" in written.repairs
    wordless = written.world.residents[2]
    assert wordless.introduction == "" and wordless.values == ("Be kind.",) and wordless.personality
    assert "texts without a word blanked 2" in written.repairs
