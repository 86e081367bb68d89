"""Replay finds recorded decisions by their site (tag, options, occurrence) without rendering
prompts, and trusts a recording's sites only while their prompts match this run's."""

import json

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.minds import llm_mind

COMMON = ["run", "--world", "school", "--residents", "6", "--years", "1", "--weeks-per-year", "2",
          "--mind", "llm", "--llm", "fake", "--env", "llm", "--env-llm", "fake", "--quiet"]


def _renders(monkeypatch) -> list[int]:
    """Count the residents' prompts rendered from here on."""
    count = [0]
    real = llm_mind.messages_for

    def counted(question):
        count[0] += 1
        return real(question)

    monkeypatch.setattr(llm_mind, "messages_for", counted)
    return count


def _decisions(run_dir) -> list[dict]:
    entries = [json.loads(line) for line in (run_dir / "decisions.jsonl").read_text().splitlines()]
    for entry in entries:
        entry.pop("run"), entry.pop("cached")
    return entries


@pytest.mark.parametrize("profile", ["lean", "paper"])  # paper: notebooks edited through tool calls, replayed too
def test_a_replay_renders_one_prompt_per_batch_and_repeats_the_recorded_run(tmp_path, monkeypatch, profile):
    cache = str(tmp_path / "c.sqlite")
    run = [*COMMON, "--profile", profile, "--llm-cache", cache]
    assert main([*run, "--cache-mode", "record", "--out", str(tmp_path / "rec")]) == 0
    renders = _renders(monkeypatch)
    assert main([*run, "--cache-mode", "replay", "--out", str(tmp_path / "rep")]) == 0
    recorded, replayed = _decisions(tmp_path / "rec"), _decisions(tmp_path / "rep")
    assert replayed == recorded  # prompts (from the recording), answers and decisions alike
    assert (profile == "paper") == any("tool_use" in e for e in recorded)  # tool calls replayed onto the notebooks
    assert (profile == "paper") == any(e.get("stage") == "compact" for e in recorded)  # and their briefs (compaction)
    minds = [e for e in recorded if e.get("role") != "environment"]
    assert 0 < renders[0] < len(minds) / 3  # the lazy check renders one per batch, not one per decision
    for name in ("metrics.csv", "residents.csv", "dialogues.jsonl", "replay.jsonl"):
        assert (tmp_path / "rep" / name).read_bytes() == (tmp_path / "rec" / name).read_bytes(), name


def test_sites_recorded_by_another_run_are_not_trusted(tmp_path, monkeypatch):
    """Same tags and seeds, other settings: the first site checked does not match, so every
    decision is found by its prompt, and the run is what a fresh recording of it would be."""
    cache = str(tmp_path / "c.sqlite")
    assert main([*COMMON, "--llm-cache", cache, "--out", str(tmp_path / "first")]) == 0
    other = ["--set", "needs__decay=0.3"]
    renders = _renders(monkeypatch)
    assert main([*COMMON, *other, "--llm-cache", cache, "--out", str(tmp_path / "shared")]) == 0
    assert main([*COMMON, *other, "--llm-cache", str(tmp_path / "own.sqlite"), "--out", str(tmp_path / "own")]) == 0
    assert _decisions(tmp_path / "shared") == _decisions(tmp_path / "own")
    assert (tmp_path / "shared" / "metrics.csv").read_bytes() == (tmp_path / "own" / "metrics.csv").read_bytes()
    assert renders[0] >= 2 * len([e for e in _decisions(tmp_path / "own") if e.get("role") != "environment"])
