"""Notebooks (paper §3.4) and the paper's context window (§3.5): notes, their rules, their tools,
and what a resident's prompts show of them."""

from __future__ import annotations

import json
import pickle
import re
from types import SimpleNamespace

from agentopia_mesa.config import MemoryConfig, SimulationConfig
from agentopia_mesa.contract import questions as q
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.minds.llm_mind import LLMMind
from agentopia_mesa.minds.notebook_tools import NotebookTools, tools_for
from agentopia_mesa.minds.prompts import messages_for
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.run.notebooks import read_notebooks
from agentopia_mesa.stages.asking import prepare
from agentopia_mesa.stages.contact import contactable
from agentopia_mesa.town.notebook import Note, Notebook

SHORT = {"calendar__weeks_per_year": 3}


def _call(tool, **arguments):
    return SimpleNamespace(name=tool, arguments=arguments)


# -- the notebook --------------------------------------------------------------------------------

def test_every_version_is_kept_and_every_use_logged():
    nb = Notebook()
    nb.write("people/Ana", "Kind.", "We met at the park.", "W1", 0)
    nb.write("people/Ana", "Kind.", "We met at the park.", "W1", 0)  # the same again: no new version
    nb.replace("people/Ana", "Kind and funny.", "Met at the park; she joked all day.", "W2", 1)
    assert nb.read("people/Ana", "W3").summary == "Kind and funny."
    assert [v[1] for v in nb.people["Ana"].history] == ["Kind.", "Kind and funny."]
    assert nb.log == [("W1", "write", "people/Ana"), ("W1", "write", "people/Ana"), ("W2", "write", "people/Ana"),
                      ("W3", "read", "people/Ana")]
    assert nb.read("people/Bo", "W3") is None and len(nb.log) == 4  # nothing to read, nothing logged


def test_listing_puts_recent_use_first_and_always_lists_people_present():
    nb = Notebook()
    for week, name in enumerate(["Ana", "Bo", "Cy", "Di"]):
        nb.write(f"people/{name}", f"{name}.", "", f"W{week}", week)
    nb.read("people/Ana", "W9")
    assert nb.recent_people(2) == ["Ana", "Di"]
    assert nb.recent_people(2, present=("Bo",)) == ["Bo", "Ana"]


def test_notes_from_old_checkpoints_load_with_empty_history():
    note = Note.__new__(Note)
    note.__setstate__({"summary": "old", "full": "", "updated": 3})
    book = Notebook.__new__(Notebook)
    book.__setstate__({"general": note, "people": {}, "topics": {}, "diary": []})
    assert (note.history, note.used, book.log, book.uses) == ([], 0, [], 0)
    assert pickle.loads(pickle.dumps(book)).general.summary == "old"


# -- the tools' rules ----------------------------------------------------------------------------

def _tools(nb, present=(), writable=True, **memory):
    return NotebookTools(nb, "Y2020-W02-review", 1, writable=writable, present=present, memory=MemoryConfig(**memory))


def test_an_update_without_a_read_is_refused_and_the_model_is_told_why():
    nb = Notebook()
    nb.write("people/Ana", "Kind.", "Met at the park.", "W1", 0)
    tools = _tools(nb)
    refusal = tools.call(_call("update_note", name="people/Ana", summary="Rude.", content="She was rude."))
    assert refusal.startswith("Refused: read people/Ana")
    assert nb.people["Ana"].summary == "Kind."
    assert "Met at the park." in tools.call(_call("read_note", name="people/Ana"))
    assert tools.call(_call("update_note", name="people/Ana", summary="Rude.", content="Park; rude.")) == "Saved people/Ana."
    assert nb.people["Ana"].summary == "Rude." and nb.people["Ana"].full == "Park; rude."


def test_person_notes_start_only_for_people_present_topics_always():
    nb = Notebook()
    tools = _tools(nb, present=("Bo",))
    assert "only on someone present" in tools.call(_call("update_note", name="people/Cy", summary="?", content="?"))
    assert tools.call(_call("update_note", name="people/Bo", summary="New.", content="Met Bo.")) == "Saved people/Bo."
    assert tools.call(_call("update_note", name="topics/chess", summary="Fun.", content="Openings.")) == "Saved topics/chess."
    assert set(nb.files()) == {"general", "people/Bo", "topics/chess"}
    assert "not a note name" in tools.call(_call("update_note", name="diary", summary="x", content="x"))


def test_limits_and_read_only_access():
    nb = Notebook()
    tools = _tools(nb, summary_words=10, note_words=20)
    # over its limit, a text is saved trimmed to it (and the model told), not refused
    said = tools.call(_call("update_note", name="general", summary="w " * 11, content="ok"))
    assert said.startswith("Saved general") and "summary was cut to its limit of 10 words" in said
    assert nb.general.summary.split() == ["w"] * 10
    said = tools.call(_call("update_note", name="general", summary="ok", content="w " * 21))
    assert "note was cut to its limit of 20 words" in said and len(nb.general.full.split()) == 20
    update = tools.specs()[-1]["function"]["parameters"]["properties"]  # the limits are in the tool's schema too
    assert update["summary"]["maxLength"] == 70 and update["content"]["maxLength"] == 140
    reader = _tools(Notebook(), writable=False)
    assert [s["function"]["name"] for s in reader.specs()] == ["list_notes", "read_note", "read_public_info"]
    assert reader.call(_call("update_note", name="general", summary="x", content="x")).startswith("No tool")
    assert reader.notebook.general.summary == ""


def test_which_stages_offer_the_tools():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    r = model.residents[0]
    assert tools_for(prepare(model, q.ContactQuestion(r))).writable is False
    assert tools_for(prepare(model, q.ReviewQuestion(r))).writable is True
    assert tools_for(prepare(model, q.SoloQuestion(r))) is None


# -- meeting and contacting ----------------------------------------------------------------------

def test_a_first_meeting_writes_a_first_impression_and_makes_someone_contactable():
    model = AgentopiaModel(world="school", residents=12, years=1, seed=3, **SHORT)
    before = {r.name: set(r.notebook.people) for r in model.residents}
    model.step()
    met = [(r, other) for r in model.residents for rec in r.records if rec.kind in ("joint", "encounter")
           for other in rec.with_people if other not in before[r.name]]
    assert met, "nobody met anyone new in a week: the test needs another seed"
    for r, other in met:
        note = r.notebook.people[other]
        assert "first met" in note.history[0][1]
        assert other in contactable(model, r) or len(r.notebook.people) > model.config.memory.listed_people


def test_knowing_someone_outlasts_a_faded_tie():
    model = AgentopiaModel(world="school", residents=8, years=1, seed=0)
    r = model.residents[0]
    other = next(iter(r.notebook.people))
    model.ties.acquaintance.remove_edge(r.name, other)  # lost touch
    assert other in contactable(model, r)
    stranger = next(x.name for x in model.residents if x is not r and x.name not in r.notebook.people)
    assert stranger not in contactable(model, r)


def test_colleagues_get_notes_after_the_job_season():
    from agentopia_mesa.stages.year_end import meet_colleagues

    model = AgentopiaModel(world="school", residents=30, years=1, seed=0)
    meet_colleagues(model)
    colleagues = [(r, o) for r in model.residents for o in model.residents
                  if r is not o and r.job and o.job and r.job.work and r.job.organisation == o.job.organisation
                  and "as a colleague" in (r.notebook.people.get(o.name) or Note()).summary]
    assert colleagues


# -- the context window --------------------------------------------------------------------------

def _review_writes_a_note(request):
    """A fake mind whose Review writes a marked note on everyone it met; other stages as the fake."""
    if request.tag.startswith("review/"):
        schema = request.schema["$defs"]["NoteUpdate"]["properties"]["about"]
        names = schema.get("enum", [])
        week = request.tag.rsplit("-W", 1)[1][:2]
        notes = [{"about": n, "summary": f"MARKER week {week} about {n}"} for n in names[:2]]
        return json.dumps({"summary": "A week.", "reflection": "Fine.", "notes": notes})
    return FakeBackend().chat(request).text


def _llm_town(reply, residents=6, **overrides):
    backend = FakeBackend(reply=reply)
    seen = []
    chat = backend.chat
    backend.chat = lambda request: (seen.append(request), chat(request))[1]
    holder = {}

    def minds(model, spec, index):
        holder.setdefault("mind", LLMMind(backend, model.rule_mind, Dispatcher(max_concurrency=1, retries=0)))
        return holder["mind"]

    model = AgentopiaModel(world="school", residents=residents, years=1, seed=1, minds=minds,
                           **{**SHORT, "memory__notes": "json", **overrides})
    return model, seen


def test_a_note_written_at_review_is_in_the_next_weeks_prompt():
    model, seen = _llm_town(_review_writes_a_note)
    model.step()
    written = {(r.name, n): note.summary for r in model.residents for n, note in r.notebook.people.items()
               if note.summary.startswith("MARKER week 01")}
    assert written, "no review wrote a note"
    seen.clear()
    model.step()
    plans = {re.search(r"^plan/(.+?)/", s.tag).group(1): s.messages[0]["content"] for s in seen if s.tag.startswith("plan/")}
    for (name, about), summary in written.items():
        assert json.dumps(summary) in plans[name], f"{name}'s plan prompt does not list its note on {about}"


def test_the_paper_context_holds_diaries_records_and_earlier_replies():
    model, seen = _llm_town(_review_writes_a_note)
    model.step()
    seen.clear()
    model.step()
    review = next(s for s in seen if s.tag.startswith("review/"))
    system = review.messages[0]["content"]
    for piece in ("Role-play principles:", "16. ", "Your notebook", "Your diary", "What you did lately",
                  "Your earlier answers this week", "How a life is judged"):
        assert piece in system, piece
    assert system.index("Role-play principles:") < system.index("Your notebook") < system.index("Now:") < system.index("Time:")
    contact = [s.messages[0]["content"] for s in seen if s.tag.startswith("review/")]
    assert all("- contact:" not in c for c in contact), "Contact's answers are shown only during Contact"


def test_ablations_drop_history_and_context_engineering():
    model, seen = _llm_town(_review_writes_a_note, **{"memory__history": False, "memory__context_engineering": False})
    model.step()
    model.step()
    system = next(s for s in reversed(seen) if s.tag.startswith("review/")).messages[0]["content"]
    for piece in ("Your diary", "What you did lately", "Your earlier answers", "Role-play principles", "Your notebook"):
        assert piece not in system, piece
    assert "Now:" in system and "You are" in system


def test_the_lean_context_stays_compact():
    model, seen = _llm_town(_review_writes_a_note, **{"memory__context": "lean"})
    model.step()
    lean = [len(s.messages[0]["content"]) for s in seen if s.tag.startswith("plan/")]
    paper_model, paper_seen = _llm_town(_review_writes_a_note)
    paper_model.step()
    paper = [len(s.messages[0]["content"]) for s in paper_seen if s.tag.startswith("plan/")]
    assert sum(lean) * 1.5 < sum(paper)
    assert all("Role-play principles:" not in s.messages[0]["content"] for s in seen)


def test_contact_shows_own_sent_messages_in_the_paper_context():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    a, b = model.residents[:2]
    a.correspondence[b.name] = [("Y2020-W01-contact", a.name, "Lunch on Friday?"),
                                ("Y2020-W01-contact", b.name, "Sure!")]
    question = prepare(model, q.ContactQuestion(a, known=[b.name], places=model.social_places))
    user = messages_for(question)[1]["content"]
    assert '"Lunch on Friday?"' in user and '"Sure!"' in user and "you (Y2020-W01-contact)" in user
    lean = AgentopiaModel(world="school", residents=4, years=1, seed=0, memory__context="lean")
    a2 = lean.residents[0]
    a2.correspondence = dict(a.correspondence)
    assert "Lunch on Friday" not in messages_for(prepare(lean, q.ContactQuestion(a2, known=[b.name])))[1]["content"]


def test_memory_settings_are_checked():
    import pytest

    with pytest.raises(ValueError, match="memory.notes: must be one of tools, json"):
        SimulationConfig().with_flat_overrides({"memory__notes": "magic"})
    with pytest.raises(ValueError, match="memory.tool_rounds"):
        SimulationConfig().with_flat_overrides({"memory__tool_rounds": 0})


def test_anyone_can_read_public_information():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    a, b = model.residents[:2]
    tools = tools_for(prepare(model, q.ReviewQuestion(a)))
    info = tools.call(_call("read_public_info", person=b.name))
    assert info.startswith(f"{b.name}, {b.age}.") and "Position:" in info
    assert "nobody called" in tools.call(_call("read_public_info", person="Nobody Atall"))


# -- the tools inside a run ----------------------------------------------------------------------

def _review_edits_general(request):
    """Review with the tools: first an update without a read (refused), then read, update, answer."""
    if not request.tag.startswith("review/"):
        return _plain_answer(request)
    results = [m["content"] for m in request.messages if m["role"] == "tool"]
    steps = [{"tool": "update_note", "arguments": {"name": "general", "summary": "TOOLMARK", "content": "x"}},
             {"tool": "read_note", "arguments": {"name": "general"}},
             {"tool": "update_note", "arguments": {"name": "general", "summary": "TOOLMARK", "content": "Merged."}}]
    if request.tools and len(results) < len(steps):
        return json.dumps(steps[len(results)])
    return json.dumps({"summary": "A week.", "reflection": "Fine.", "notes": []})


def _plain_answer(request):
    """The fake's schema answer without calling any tool."""
    from agentopia_mesa.llm.client import ChatRequest

    return FakeBackend().chat(ChatRequest(request.messages, request.schema, request.options, request.tag)).text


def test_tool_edits_follow_the_rules_and_reach_the_next_weeks_prompt():
    model, seen = _llm_town(_review_edits_general, residents=4, **{"memory__notes": "tools"})
    model.step()
    reviews = [s for s in seen if s.tag.startswith("review/")]
    told = [m["content"] for s in reviews for m in s.messages if m["role"] == "tool"]
    assert any(t.startswith("Refused: read general with read_note first") for t in told)
    assert all(r.notebook.general.summary == "TOOLMARK" for r in model.residents)
    assert all(("review", "general") in {(w.split("-")[-1], f) for w, op, f in r.notebook.log if op == "read"}
               for r in model.residents)
    seen.clear()
    model.step()
    plans = [s.messages[0]["content"] for s in seen if s.tag.startswith("plan/")]
    assert plans and all('general: "TOOLMARK"' in p for p in plans)


def test_a_paper_run_with_note_tools_replays_exactly_with_no_calls(tmp_path, monkeypatch):
    from agentopia_mesa.cli.main import main
    from agentopia_mesa.llm import factory
    from tests.golden.same_seed import digests

    run = ["run", "--world", "school", "--residents", "6", "--years", "1", "--weeks-per-year", "2", "--seed", "2",
           "--mind", "llm", "--llm", "fake", "--profile", "paper", "--quiet", "--llm-cache", str(tmp_path / "c.sqlite")]
    assert main([*run, "--out", str(tmp_path / "a")]) == 0
    lines = [json.loads(x) for x in (tmp_path / "a" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    used = [x for x in lines if x.get("tool_use")]
    assert {x["stage"] for x in used} >= {"plan", "contact", "review"}
    assert any(c["name"] == "update_note" for x in used for c in x["tool_use"]["calls"])
    books = read_notebooks(tmp_path / "a" / "notebooks.jsonl")  # the notebooks as the run left them
    assert len(books) == 6 and all(b["diary"] and b["notes"]["general"]["versions"] for b in books.values())
    assert all(f in b["notes"] for b in books.values() for _, op, f in b["log"] if op == "write")
    dialogues = [json.loads(x) for x in (tmp_path / "a" / "dialogues.jsonl").read_text(encoding="utf-8").splitlines()]
    met = {(a, b) for d in dialogues if d["kind"] != "public" for a in d["participants"] for b in d["participants"] if a != b}
    met |= {(a, b) for d in dialogues for a, seen in d.get("noticed", {}).items() for b in seen}
    assert met and all(f"people/{b}" in books[a]["notes"] for a, b in met)  # whoever met someone has a note on them
    made = []
    real = factory.make_backend
    monkeypatch.setattr(factory, "make_backend", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    assert main([*run, "--cache-mode", "replay", "--out", str(tmp_path / "b")]) == 0
    assert made and sum(b.calls for b in made) == 0
    before, after = digests(tmp_path / "a"), digests(tmp_path / "b")
    for name in ("decisions.jsonl", "config.json"):
        before.pop(name), after.pop(name)
    assert before == after


def test_a_public_event_prompt_says_where_and_lists_the_group_in_the_notebook():
    model = AgentopiaModel(world="school", residents=6, years=1, seed=0)
    r = model.residents[0]
    known = next(iter(r.notebook.people))
    event = q.EventView("e1", "Chess club", 2, "library", "Casual games.", None)
    question = prepare(model, q.PublicEventQuestion(r, event=event, place_name="The Library",
                                                    others=[q.Attendee(known, 17, "")]))
    system = messages_for(question)[0]["content"]
    assert 'You are at "The Library", at the event "Chess club".' in system
    assert f"people/{json.dumps(known)}" in system
