"""The stages of the paper's cycle that issue 30 item 5 adds, each asked in the paper profile only:
the contact errors returned in the next slot, the contact-stage summary, the solo reflection, the
plan's activity a day in the resident's words, the year-end rewrite of every updatable text,
hiring in batches (tests/test_hiring_batches.py) and the reasoning compaction (tests/test_compaction.py)."""

import json

from agentopia_mesa.config import PROFILES, SimulationConfig
from agentopia_mesa.contract import decisions as d
from agentopia_mesa.contract import questions as q
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.minds.llm_mind import LLMMind
from agentopia_mesa.model import AgentopiaModel


def _town(reply, residents=6, **overrides):
    """``residents`` residents, all on one LLM mind answering ``reply(request)`` (None: the fake's
    own answer); every decision's record and every request kept."""
    backend = FakeBackend(reply=reply)
    requests, entries, holder = [], [], {}
    chat = backend.chat

    def keep(request):
        requests.append(request)
        return chat(request)

    backend.chat = keep

    def minds(model, spec, index):
        if "mind" not in holder:
            holder["mind"] = LLMMind(backend, model.rule_mind, Dispatcher(max_concurrency=1, retries=0),
                                     recorder=entries.append)
        return holder["mind"]

    model = AgentopiaModel(world="school", residents=residents, years=1, seed=0, minds=minds,
                           calendar__weeks_per_year=2, **overrides)
    return model, requests, entries


def _empty_contact(**extra) -> str:
    return json.dumps({"messages": [], "proposals": [], "replies": [], "cancellations": [], **extra})


def test_contact_errors_go_back_in_the_next_slot_and_mark_the_slot_rejected():
    def reply(request):
        if request.tag.startswith("contact/") and request.tag.endswith("contact") and "round 1 of" in request.messages[-1]["content"]:
            return _empty_contact(messages=[{"to": "Nobody Known", "text": "hi"}])
        if request.tag.startswith("contact/"):
            return _empty_contact()
        return None

    model, requests, entries = _town(reply)
    model.step()
    first = [e for e in entries if e["stage"] == "contact" and e.get("rejected")]
    assert first and all("'Nobody Known' is not someone you know" in e["errors"][0] for e in first)
    assert not any(e["fallback"] for e in first)  # accepted: the rest was carried out, nothing retried
    second = [r.messages[-1]["content"] for r in requests if "CONTACT round 2 of" in r.messages[-1]["content"]]
    assert second and all("could not be carried out" in text and "Nobody Known" in text for text in second)
    assert model.counts["contact_errors"] == len(first)


def test_the_lean_profile_retries_contact_errors_instead():
    model, requests, entries = _town(lambda request: _empty_contact(messages=[{"to": "Nobody Known", "text": "hi"}])
                                     if request.tag.startswith("contact/") else None,
                                     **PROFILES["lean"])
    model.step()
    contact = [e for e in entries if e["stage"] == "contact"]
    assert contact and all(e["fallback"] and not e.get("errors") for e in contact)  # refused, then the rule mind
    assert not any(e["stage"] == "contact_summary" for e in entries)


def test_each_llm_resident_sums_up_the_contact_stage():
    model, requests, entries = _town(None)
    model.step()
    summaries = [e for e in entries if e["stage"] == "contact_summary"]
    assert len(summaries) == len(model.residents)
    text = next(r for r in requests if r.tag.startswith("contact_summary/")).messages[-1]["content"]
    assert "CONTACT IS OVER" in text and "summary of the contact stage" in text
    assert any(stage == "contact_summary" for stage, _ in model.residents[0].replies)


def test_the_rule_mind_is_never_asked_for_a_contact_summary():
    model = AgentopiaModel(world="school", residents=6, years=1, seed=0, calendar__weeks_per_year=2)
    model.step()
    assert SimulationConfig().activity.contact_summary and model.counts["contact_errors"] == 0


def test_each_llm_resident_reflects_on_its_solo_slots():
    model, requests, entries = _town(None)
    model.step()
    reflections = [e for e in entries if e["stage"] == "solo_reflection"]
    solos = [e for e in entries if e["stage"] == "solo"]
    assert reflections and len(reflections) == len(solos)  # one per solo slot (shopping included)
    text = next(r for r in requests if r.tag.startswith("solo_reflection/")).messages[-1]["content"]
    assert "YOUR SOLO SLOT" in text and "reflection" in text
    written = [rec for r in model.residents for rec in r.last_records or r.records if rec.kind not in ("joint", "encounter", "public")]
    assert written and all(rec.summary for rec in written)  # the reflection is what the resident wrote of the slot


def test_the_lean_profile_asks_for_no_solo_reflection():
    model, requests, entries = _town(None, **PROFILES["lean"])
    model.step()
    assert any(e["stage"] == "solo" for e in entries) and not any(e["stage"] == "solo_reflection" for e in entries)


def test_the_plan_gives_one_activity_a_day_in_the_residents_words():
    def reply(request):
        if request.tag.startswith("plan/"):
            days = request.schema["properties"]["activities"]["minItems"]
            return json.dumps({"long_term_goals": "Grow.", "short_term_goals": "Rest.", "living_standard": "frugal",
                               "intentions": ["rest"] * days,
                               "activities": [f"Read the old novel by the window on day {i + 1}" for i in range(days)]})
        return None

    model, requests, entries = _town(reply)
    model.step()
    plan = next(r for r in requests if r.tag.startswith("plan/"))
    assert "in your own words" in plan.messages[-1]["content"] and "activities" in plan.schema["required"]
    solo = [r.messages[-1]["content"] for r in requests if r.tag.startswith("solo/")]
    assert solo and all("Read the old novel by the window on day" in text for text in solo)
    assert model.residents[0].planned[0] == "Read the old novel by the window on day 1"


def test_the_lean_plan_asks_no_words():
    model, requests, entries = _town(None, **PROFILES["lean"])
    model.step()
    plan = next(r for r in requests if r.tag.startswith("plan/"))
    assert "activities" not in plan.schema["properties"] and "in your own words" not in plan.messages[-1]["content"]


def test_the_year_end_rewrite_covers_every_updatable_text():
    from collections import Counter

    from agentopia_mesa.contract.environment import ProfileTask
    from agentopia_mesa.environment.answers import schema_for, updatable_texts
    from agentopia_mesa.environment.llm_environment import LLMEnvironment
    from agentopia_mesa.stages.asking import judge_all

    texts = updatable_texts()
    assert {"introduction", "appearance", "motivation"} <= set(texts)

    def reply(request):
        return json.dumps({**{name: f"A new {name} after the year." for name in texts}, "traits": [], "talents": []})

    model = AgentopiaModel(world="school", residents=4, years=1, seed=0, environment=lambda m: LLMEnvironment(
        FakeBackend(reply=reply), m.rule_environment, Dispatcher(max_concurrency=1, retries=0)))
    task = ProfileTask(resident=model.residents[0], year_counts=Counter(), diaries=[])
    assert set(texts) <= set(schema_for(task)["required"])
    verdict = judge_all(model, [task])[0]
    assert verdict.text == {name: f"A new {name} after the year." for name in texts}
    prompt = model.environment.request_for(task).messages[-1]["content"]
    assert all(name.replace("_", " ") in prompt for name in texts)


def test_a_paper_profile_fake_run_asks_every_new_question(tmp_path):
    """Issue 30's "done": each new question of the paper profile shows in decisions.jsonl."""
    from agentopia_mesa.cli.main import main

    out = tmp_path / "run"
    weeks, residents = 2, 6
    assert main(["run", "--world", "school", "--residents", str(residents), "--years", "1", "--weeks-per-year", str(weeks),
                 "--seed", "3", "--mind", "llm", "--llm", "fake", "--profile", "paper", "--quiet", "--out", str(out)]) == 0
    lines = [json.loads(x) for x in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    mind = [x for x in lines if x.get("role") != "environment"]
    env = [x for x in lines if x.get("role") == "environment"]
    count = lambda stage: sum(x["stage"] == stage for x in mind)  # noqa: E731
    assert count("contact_summary") == residents * weeks
    assert count("solo_reflection") == count("solo") > 0
    worked = [x for x in mind if x.get("tool_use", {}).get("calls") and not x["fallback"] and x["stage"] in ("plan", "review")]
    assert {x["stage"] for x in worked} == {"plan", "review"} and count("compact") == len(worked)
    plans = [x for x in mind if x["stage"] == "plan" and not x["fallback"]]
    assert plans and all(len(x["decision"]["activities"]) == 5 for x in plans)
    assert sum(x["task"] == "encounters" for x in env) == weeks  # one a week
    profile = [x for x in env if x["task"] == "profile" and not x["fallback"]]
    from agentopia_mesa.environment.answers import updatable_texts

    assert len(profile) == residents and all(set(x["decision"]["text"]) == set(updatable_texts()) for x in profile)
    assert all(x["rejected"] == bool(x.get("errors")) for x in mind if x["stage"] == "contact" and not x["fallback"])
    batches = [x for x in env if x["task"] == "hiring" and isinstance(x["decision"]["ranked"], dict)]
    assert batches and all(len(x["decision"]["ranked"]) > 1 for x in batches)  # several jobs in one hiring call
