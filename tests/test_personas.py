"""Persona fields as the paper's: plain updatable profile fields, shown in both
context layouts of a fake LLM run (world-file validation: tests/test_worlds.py)."""

import json

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.world.schema import PERSONA_TEXTS, UPDATABLE, ResidentSpec

NEW_FIELDS = ("personality", "talent_words", "conflicts", "preferences", "backstory", "details")


def test_the_new_fields_are_plain_updatable_profile_fields():
    assert set(NEW_FIELDS) <= set(PERSONA_TEXTS) <= set(UPDATABLE) <= set(ResidentSpec.model_fields)
    assert all(ResidentSpec.model_fields[f].default == "" for f in PERSONA_TEXTS)


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
