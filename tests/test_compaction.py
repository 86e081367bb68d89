"""Reasoning compaction (paper §3.5, issue 30): an answer with reasoning or note-tool calls behind it
gets a brief of that work, asked of the same mind, kept before the answer for the week's later prompts."""

import dataclasses
import json

import pytest

from agentopia_mesa.config import PROFILES, MemoryConfig
from agentopia_mesa.contract import questions as q
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.minds.llm_mind import LLMMind
from agentopia_mesa.model import AgentopiaModel

MARK = "I looked at my notes before I chose."


def _town(reply=None, backend=None, think=None, residents=4, **overrides):
    """``residents`` residents on one LLM mind (``backend``, a fake by default) whose answer is
    ``reply(request)`` where that gives one (None: the backend's own); every decision's record and
    every request kept."""
    backend = backend or FakeBackend()
    requests, entries, holder = [], [], {}
    chat = backend.chat

    def keep(request):
        requests.append(request)
        result = chat(request)
        text = reply(request) if reply else None
        return result if text is None else dataclasses.replace(result, text=text, tool_calls=())

    backend.chat = keep

    def minds(model, spec, index):
        if "mind" not in holder:
            holder["mind"] = LLMMind(backend, model.rule_mind, Dispatcher(max_concurrency=1, retries=0),
                                     recorder=entries.append, think=think)
        return holder["mind"]

    model = AgentopiaModel(world="school", residents=residents, years=1, seed=0, minds=minds,
                           calendar__weeks_per_year=2, **overrides)
    return model, requests, entries


def _briefs(request):
    return json.dumps({"brief": MARK}) if request.tag.startswith("compact/") else None


def test_answers_with_tool_calls_get_a_brief_that_later_prompts_of_the_week_show():
    model, requests, entries = _town(_briefs)
    model.step()
    # tool rounds ask for a brief at Plan and Review only (the paper's cycle table); Contact's do not
    worked = [e for e in entries if e.get("tool_use", {}).get("calls") and not e["fallback"]
              and e["stage"] in ("plan", "review")]
    assert any(e.get("tool_use", {}).get("calls") for e in entries if e["stage"] == "contact")
    briefs = [e for e in entries if e["stage"] == "compact"]
    assert {e["stage"] for e in worked} >= {"plan", "review"}
    assert len(briefs) == len(worked) and all(e["decision"] == {"brief": MARK} for e in briefs)
    asked = next(r for r in requests if r.tag.startswith("compact/") and "-plan-compact" in r.tag)
    text = asked.messages[-1]["content"]
    plan = next(e for e in worked if e["stage"] == "plan" and asked.tag.split("/")[1] == e["resident"])
    assert "YOUR PLAN ANSWER" in text and all(f'{c["name"]}(' in text for c in plan["tool_use"]["calls"])
    assert not asked.tools  # a brief calls no tools
    later = [r for r in requests if r.tag.startswith(("solo/", "signup/", "contact_summary/"))]
    assert later and all(f"<brief>{MARK}</brief>" in r.messages[0]["content"] for r in later)
    kept = [stage for r in model.residents for stage, _ in r.replies]
    assert "compact" not in kept  # a brief leads its answer; it is no answer of its own
    assert all(not e.get("tool_use") for e in briefs)  # and is never compacted itself


def test_a_failed_brief_falls_back_to_the_rule_minds_brief_from_the_answer_alone():
    model, requests, entries = _town(lambda request: "not json" if request.tag.startswith("compact/") else None)
    model.step()
    briefs = [e for e in entries if e["stage"] == "compact"]
    assert briefs and all(e["fallback"] for e in briefs)
    plan = next(text for r in model.residents for stage, text in r.replies if stage == "plan")
    assert plan.startswith("<brief>Before my plan answer I made ") and "notebook calls" in plan


def test_the_lean_profile_asks_for_no_brief():
    model, requests, entries = _town(_briefs, **PROFILES["lean"])
    model.step()
    assert entries and not any(e["stage"] == "compact" for e in entries)
    assert not any("<brief>" in text for r in model.residents for _, text in r.replies)


def test_no_tools_and_no_thinking_mean_no_brief():
    model, requests, entries = _town(_briefs, memory__notes="json")
    model.step()
    assert entries and not any(e["stage"] == "compact" for e in entries)


def test_a_thinking_models_reasoning_is_what_its_brief_sums_up():
    backend = FakeBackend("thinking", thinking=True)
    model, requests, entries = _town(backend=backend, think=64, memory__notes="json")
    model.step()
    briefs = [e for e in entries if e["stage"] == "compact"]
    kept = [e for e in entries if e["stage"] not in ("compact", "joint", "joint_entry", "joint_exit") and not e["fallback"]]
    assert briefs and len(briefs) == len(kept)  # every kept answer reasoned first
    asked = next(r for r in requests if r.tag.startswith("compact/")).messages[-1]["content"]
    assert "You thought (your reasoning, quoted)" in asked and "notebook" in asked


def test_compaction_is_a_setting_with_a_one_line_error():
    assert MemoryConfig().compacts and not MemoryConfig(compaction="off").compacts
    assert not MemoryConfig(context="lean").compacts and not MemoryConfig(history=False).compacts
    with pytest.raises(ValueError, match=r"^memory.compaction: must be one of on, off, got 'maybe'$"):
        MemoryConfig(compaction="maybe")


def test_the_brief_is_held_to_its_words():
    model = AgentopiaModel(world="school", residents=2, years=1, seed=0)
    situation = q.Situation(2020, 1, 0, "T", model.config.economy, model.config.career, MemoryConfig(brief_words=10))
    question = q.CompactionQuestion(model.residents[0], answered="plan", answer="{}", situation=situation,
                                    work=q.Work(reasoning="hm"))
    decision, cut = question.trimmed(question.decision(brief=" ".join(["word"] * 30)))
    assert cut == 1 and len(decision.brief.split()) == 10
    assert model.rule_mind.work_behind(question) is None  # the rule mind has no work to tell
    assert len(model.rule_mind.decide(question).brief.split()) <= 10


def test_a_recorded_run_with_briefs_replays_exactly(tmp_path):
    """A brief's prompt shows each tool call's arguments by name: the verbose fake's update_note
    calls (several arguments) come back from the cache in another order, and must render the same."""
    from agentopia_mesa.cli.main import main

    run = ["run", "--world", "school", "--residents", "3", "--years", "1", "--weeks-per-year", "1", "--mind", "llm",
           "--llm", "fake:verbose", "--profile", "paper", "--quiet", "--llm-cache", str(tmp_path / "c.sqlite")]
    assert main([*run, "--cache-mode", "record", "--out", str(tmp_path / "rec")]) == 0
    assert main([*run, "--cache-mode", "replay", "--out", str(tmp_path / "rep")]) == 0

    def decisions(name):
        lines = [json.loads(x) for x in (tmp_path / name / "decisions.jsonl").read_text().splitlines()]
        return [{k: v for k, v in x.items() if k not in ("run", "cached")} for x in lines]

    recorded = decisions("rec")
    assert any(x.get("stage") == "compact" and "update_note(" in x["messages"][-1]["content"] for x in recorded)
    assert decisions("rep") == recorded
