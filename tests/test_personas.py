"""Persona fields as the paper's: in world files (validated, old files still load) and in both
context layouts of a fake LLM run."""

import json

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.world.generate import generate_world
from agentopia_mesa.world.loader import WorldError, parse_world
from agentopia_mesa.world.schema import PERSONA_TEXTS, UPDATABLE, ResidentSpec

NEW_FIELDS = ("personality", "talent_words", "conflicts", "preferences", "backstory", "details")


@pytest.fixture()
def data():
    return generate_world("school", residents=8, seed=4).model_dump(mode="json")


def _error(data) -> str:
    with pytest.raises(WorldError) as info:
        parse_world(data, "test.json")
    message = str(info.value)
    assert "\n" not in message and message.startswith("world file test.json: ")
    return message


def test_the_new_fields_are_plain_updatable_profile_fields():
    assert set(NEW_FIELDS) <= set(PERSONA_TEXTS) <= set(UPDATABLE) <= set(ResidentSpec.model_fields)
    assert all(ResidentSpec.model_fields[f].default == "" for f in PERSONA_TEXTS)


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


def _decisions(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "decisions.jsonl").read_text().splitlines() if line.strip()]


def _system_prompts(run_dir) -> list[str]:
    prompts = []
    for line in _decisions(run_dir):
        messages = line["messages"] if isinstance(line["messages"], list) else json.loads(line["messages"])
        prompts += [m["content"] for m in messages if m["role"] == "system"]
    return prompts


@pytest.mark.parametrize("profile, shown, absent", [
    ("paper", ("- personality: ", "- talents: ", "- inner conflicts: ", "- likes and dislikes: ", "- backstory: ",
               "- details of your life now: "), ()),
    ("lean", ("- personality: ", "- inner conflict: ", "- likes and dislikes: "), ("- backstory: ", "- talents: ")),
])
def test_a_fake_run_shows_the_persona_in_its_layout(tmp_path, profile, shown, absent):
    out = tmp_path / profile
    assert main(["run", "--world", "school", "--residents", "4", "--years", "1", "--weeks-per-year", "1", "--seed", "2",
                 "--mind", "llm", "--llm", "fake", "--profile", profile, "--quiet", "--out", str(out)]) == 0
    prompts = [p for p in _system_prompts(out) if p.startswith('You are "')]  # the residents', not the environment's
    assert prompts
    for prompt in prompts:
        assert all(label in prompt for label in shown), prompt[:600]
        assert not any(label in prompt for label in absent)
