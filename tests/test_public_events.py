"""Public events as described participation (issue 13, paper §4.3): each participant says what it
does and whom it noticed, seeing but not talking to the others; one environment call judges the
whole group; names in the verdict are the participants'; a noticed person gets a note."""

import json

from agentopia_mesa.cli.main import main
from agentopia_mesa.environment.llm_environment import LLMEnvironment
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.minds.llm_mind import LLMMind
from agentopia_mesa.town.public_event import PublicEvent
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.activities import _public_events


def _town(mind_reply, env_reply, residents=6):
    """Every resident with one LLM mind answering ``mind_reply(request)``, an LLM environment answering
    ``env_reply(request)``; ``asked`` keeps each backend's requests."""
    asked = {"mind": [], "env": []}

    def keeping(reply, into):
        def answer(request):
            into.append(request)
            return reply(request)
        return FakeBackend(reply=answer)

    mind_backend, env_backend = keeping(mind_reply, asked["mind"]), keeping(env_reply, asked["env"])
    holder = {}

    def minds(model, spec, index):
        if "mind" not in holder:
            holder["mind"] = LLMMind(mind_backend, model.rule_mind, Dispatcher(max_concurrency=1, retries=0))
        return holder["mind"]

    def environment(model):
        return LLMEnvironment(env_backend, model.rule_environment, Dispatcher(max_concurrency=1, retries=0))

    model = AgentopiaModel(world="school", residents=residents, years=1, seed=0, minds=minds, environment=environment)
    return model, asked


def _event(model, skill="public speaking") -> PublicEvent:
    event = PublicEvent("E0-0", "Open mic night", model.social_places[0], 2, "Anyone may read a poem.", skill, 0)
    model.public_events = [event]
    return event


def _judged(request, mood=9, outsider=None) -> str:
    """An environment answer for every participant the schema names (and ``outsider`` too, if given)."""
    names = [p["properties"]["name"]["const"] for p in request.schema["properties"]["participants"]["prefixItems"]]
    return json.dumps({"participants": [
        {"name": n, "outcome": f"{n} was applauded.", "vitality": -1, "mood": mood, "social": 2, "esteem": 1, "skill_gain": 1}
        for n in [*names, *([outsider] if outsider else [])]]})


def test_one_environment_call_judges_the_whole_group_from_what_each_said():
    def mind_reply(request):
        name = request.tag.split("/")[1]
        noticed = [b.name] if name == a.name else []
        return json.dumps({"description": f"I read a short poem about rain ({name}).", "noticed": noticed})

    model, asked = _town(mind_reply, _judged)
    a = model.residents[0]
    b, c = [r for r in model.residents if r is not a and not model.ties.acquaintance.has_edge(a.name, r.name)][:2]
    event = _event(model)
    model.conversations = []
    _public_events(model, {event.event_id: [a, b, c]}, day=2)

    (env_call,) = asked["env"]  # one call for the group of three
    assert env_call.tag.startswith("env-public/")
    prompt = env_call.messages[-1]["content"]
    assert all(f"I read a short poem about rain ({p.name})." in prompt for p in (a, b, c))
    # each participant saw the event and the others, not itself, and may name only them as noticed
    mind_calls = {r.tag.split("/")[1]: r for r in asked["mind"]}
    assert set(mind_calls) == {a.name, b.name, c.name}
    schema = mind_calls[a.name].schema
    assert schema["properties"]["noticed"]["items"]["enum"] == [b.name, c.name]
    assert "Open mic night" in mind_calls[a.name].messages[-1]["content"]
    assert c.name in mind_calls[a.name].messages[-1]["content"]
    # the verdict: the clipped changes (public limits: mood at most 5) and the outcome, per participant
    for p in (a, b, c):
        record = p.records[-1]
        assert record.kind == "public" and record.note == f"{p.name} was applauded."
        assert record.changes["mood"] == model.config.activity.public.mood[1]
        assert record.changes["skills"] == {"public speaking": 1}
    # A noticed B, a stranger: a new acquaintance with a first-impression note, and B is on A's record
    assert model.ties.acquaintance.has_edge(a.name, b.name) and not model.ties.acquaintance.has_edge(a.name, c.name)
    assert a.notebook.people[b.name].summary.startswith(f"{b.name}: first met at Open mic night.")
    assert not b.notebook.knows(a.name) and not a.notebook.knows(c.name)  # only the one who noticed takes a note
    assert a.records[-1].with_people == (b.name,) and c.records[-1].with_people == ()
    # the group's transcript: one turn per participant, seen by the others
    (line,) = model.conversations
    assert line["kind"] == "public" and line["participants"] == [a.name, b.name, c.name]
    assert [t["text"] for t in line["turns"]] == [f"I read a short poem about rain ({p.name})." for p in (a, b, c)]
    assert line["turns"][0]["visible_to"] == [b.name, c.name] and line["noticed"][a.name] == [b.name]


def test_a_verdict_naming_someone_not_there_is_refused_and_the_rules_judge():
    model, asked = _town(lambda r: json.dumps({"description": "I listen.", "noticed": []}),
                         lambda r: _judged(r, mood=5, outsider="Somebody Else"))
    a, b = model.residents[:2]
    event = _event(model, skill=None)
    model.conversations, recorded = [], []
    model.environment.recorder = recorded.append
    _public_events(model, {event.event_id: [a, b]}, day=2)
    assert len(asked["env"]) == 1
    (line,) = recorded
    assert line["fallback"] and "participants: give exactly one outcome" in line["error"]
    assert set(line["decision"]["changes"]) == {a.name, b.name}  # the rules judged the two who were there
    assert all(p.records[-1].note == "" for p in (a, b))  # and wrote no outcome line


def test_a_run_records_each_description_and_judges_each_group_once(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "12", "--years", "1", "--weeks-per-year", "2", "--seed", "3",
                 "--mind", "llm", "--llm", "fake", "--env", "llm", "--quiet", "--out", str(out)]) == 0
    lines = [json.loads(x) for x in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    described = [x for x in lines if x["stage"] == "public" and x.get("role") != "environment"]
    judged = [x for x in lines if x.get("role") == "environment" and x["task"] == "public"]
    groups = [json.loads(x) for x in (out / "dialogues.jsonl").read_text(encoding="utf-8").splitlines()]
    groups = [g for g in groups if g["kind"] == "public"]
    assert any(len(g["participants"]) >= 2 for g in groups)
    assert len(judged) == len(groups)  # one environment call per group
    assert len(described) == sum(len(g["participants"]) for g in groups)
    assert all(x["decision"]["description"] for x in described)
    for verdict, group in zip(judged, groups, strict=True):
        assert set(verdict["decision"]["changes"]) <= set(group["participants"])
        assert all(t["text"] in verdict["messages"][-1]["content"] for t in group["turns"])


def test_rules_judge_public_events_without_any_model():
    model = AgentopiaModel(world="school", residents=12, years=1, seed=3)
    for _ in range(2):
        model.step()
    assert model.counts["public"] > 0
    groups = [c for c in model.conversations if c["kind"] == "public"]
    assert groups and all(t["model"] == "rules" and t["text"] for g in groups for t in g["turns"])


def test_with_the_rules_judging_llm_minds_are_not_asked_about_public_events():
    """The rules read no descriptions, so the rule mind plays the event: no calls (as for a solo slot's words)."""
    asked = []
    backend = FakeBackend(reply=lambda r: asked.append(r.tag) or json.dumps({"description": "I listen.", "noticed": []}))

    def minds(model, spec, index):
        return LLMMind(backend, model.rule_mind, Dispatcher(max_concurrency=1, retries=0))

    model = AgentopiaModel(world="school", residents=6, years=1, seed=0, minds=minds)
    a, b = model.residents[:2]
    event = _event(model)
    model.conversations = []
    _public_events(model, {event.event_id: [a, b]}, day=2)
    assert asked == [] and a.records[-1].kind == b.records[-1].kind == "public"
    (line,) = model.conversations
    assert {t["model"] for t in line["turns"]} == {"rules"}
