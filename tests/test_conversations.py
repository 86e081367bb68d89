"""Joint activities and encounters as conversations (issue 13): turn bounds and end rules, what each
participant sees (private words), gifts, leaving, exits, the environment's verification flags, and
a running chat whose prompt prefix stays the same from turn to turn, on scripted fake backends."""

import json
import re

from agentopia_mesa.contract.questions import Seen
from agentopia_mesa.environment.llm_environment import LLMEnvironment
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.minds.llm_mind import LLMMind
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.activities import Gathering, _play_together
from agentopia_mesa.town.state import Possession

TURNS = {"activity__min_turns": 2, "activity__max_turns": 4}


def _utterance(speech="(nods) \"Sure.\"", **extra) -> str:
    return json.dumps({"speech": speech, "thoughts": "", "private": [], "gift_to": "", "gift_item": "", "leave": False,
                       **extra})


def _turn_of(tag: str) -> int:
    return int(re.search(r"-(?:t|turn)(\d+)$", tag).group(1))


def _town(mind_reply, env_reply, **overrides):
    """Six residents; the first three have an LLM mind answering ``mind_reply(request)``, the
    environment answers ``env_reply(request)``; both backends keep the requests they got."""
    mind_backend, env_backend = FakeBackend(reply=mind_reply), FakeBackend(reply=env_reply)
    asked = {"mind": [], "env": []}
    mind_backend.chat = _keeping(mind_backend.chat, asked["mind"])
    env_backend.chat = _keeping(env_backend.chat, asked["env"])
    holder = {}

    def minds(model, spec, index):
        if index >= 3:
            return None
        if "mind" not in holder:
            holder["mind"] = LLMMind(mind_backend, model.rule_mind, Dispatcher(max_concurrency=1, retries=0))
        return holder["mind"]

    def environment(model):
        return LLMEnvironment(env_backend, model.rule_environment, Dispatcher(max_concurrency=1, retries=0))

    model = AgentopiaModel(world="school", residents=6, years=1, seed=0, minds=minds, environment=environment,
                           **{**TURNS, **overrides})
    return model, asked


def _keeping(chat, into):
    def keep(request):
        into.append(request)
        return chat(request)
    return keep


def _outcome(request) -> str:
    names = [p["const"] for p in request.schema["properties"]["participants"]["prefixItems"] for p in [p["properties"]["name"]]]
    return json.dumps({"participants": [{"name": n, "outcome": "It went fine.", "vitality": 0, "mood": 2, "social": 3,
                                         "esteem": 1, "skill_gain": 0, "enjoyed": 40} for n in names]})


def test_a_scripted_conversation_private_words_gifts_leaving_verification_and_exits():
    model = None

    def mind_reply(request):
        stage, name = request.tag.split("/")[:2]
        a, b, c = (r.name for r in model.residents[:3])
        if stage == "joint_entry":
            return json.dumps({"analysis": "I want to patch things up."})
        if stage == "joint_exit":
            notes = [{"about": b, "summary": "Kind, shy, good listener."}] if name == a else []
            return json.dumps({"summary": f"Tea with the others ({name}).", "reflection": "Worth it.", "notes": notes})
        turn = _turn_of(request.tag)
        script = {
            1: _utterance('"Hello, both."', private=[{"visible_to": [b], "text": "Meet me after."}]),
            2: _utterance('(hands over a cup) "For you."', gift_to=c, gift_item="Blue mug"),
            3: _utterance('"I have to go."', leave=True),
            4: _utterance('"Just us now."'),
        }
        return script[turn]

    def env_reply(request):
        task = request.tag.split("/")[0]
        if task == "env-outcome":
            return _outcome(request)
        a, b, c = (r.name for r in model.residents[:3])
        turn = _turn_of(request.tag)
        nxt = {1: a, 2: b, 3: c, 4: a}.get(turn, "END")
        verdict = "REJECT" if turn == 3 else "PASS"  # the reply of turn 2 is rejected
        return json.dumps({"verification": verdict, "failure": "parroting" if verdict == "REJECT" else "",
                           "reason": "says the same thing again" if verdict == "REJECT" else "", "feedback": f"Rain {turn}.",
                           "next_speaker": nxt})

    model, asked = _town(mind_reply, env_reply)
    a, b, c = model.residents[:3]
    b.state.possessions.append(Possession("Blue mug", 20, "Y2020-W01-D1"))
    g = Gathering("joint", "Tea", model.social_places[0], [a, b, c])
    _play_together(model, [g], day=1)

    (conversation,) = model.conversations
    turns = conversation["turns"]
    assert [t["speaker"] for t in turns] == [a.name, b.name, c.name, a.name]
    assert conversation["ended"] == "max_turns" and conversation["closing"] == "Rain 5."
    assert [t["feedback"] for t in turns] == ["Rain 1.", "Rain 2.", "Rain 3.", "Rain 4."]
    # verification: the second reply is rejected (kept, flagged), the others pass; counted per model
    assert [t["verification"] for t in turns] == ["PASS", "REJECT", "PASS", "PASS"]
    assert turns[1]["rejected"] and turns[1]["failure"] == "parroting" and not turns[0]["rejected"]
    model_name = model.minds[a.name].name
    assert model.conversation_stats[f"verified {model_name}"] == 4
    assert model.conversation_stats[f"rejected {model_name}"] == 1
    # private words: B reads them, C only learns that something was said privately
    assert Seen("private", a.name, "Meet me after.", (b.name,)) in g.chats[b.name].seen
    assert Seen("hidden", a.name, "", (b.name,)) in g.chats[c.name].seen
    c_turn = next(r for r in asked["mind"] if r.tag.startswith(f"joint/{c.name}/"))
    assert "said something privately" in c_turn.messages[-1]["content"] and "Meet me after" not in json.dumps(c_turn.messages)
    # the gift changed hands; leaving: C is gone for turn 4
    assert [p.name for p in c.state.possessions].count("Blue mug") == 1 and not any(
        p.name == "Blue mug" for p in b.state.possessions)
    assert turns[1]["gift"] == {"to": c.name, "item": "Blue mug"} and g.gifts == [(b.name, c.name)]
    assert turns[2]["left"] and turns[3]["visible_to"] == [b.name] and g.present == [a.name, b.name]
    # exits: A's note on B replaces the first impression; each record carries its owner's summary
    assert a.notebook.people[b.name].summary == "Kind, shy, good listener."
    assert a.records[-1].summary == f"Tea with the others ({a.name})." and a.records[-1].note == "It went fine."
    assert conversation["entries"][a.name] == "I want to patch things up."
    # the running chat: A's second turn starts with its first request and its answer, word for word
    first, second = [r.messages for r in asked["mind"] if r.tag.startswith(f"joint/{a.name}/")]
    assert list(second[:len(first)]) == list(first) and second[len(first)]["role"] == "assistant"
    env_calls = [r.messages for r in asked["env"] if r.tag.startswith("env-turn/")]
    assert all(list(later[:len(earlier)]) == list(earlier) for earlier, later in zip(env_calls, env_calls[1:]))


def test_the_environment_cannot_end_before_the_minimum_and_two_leaving_ends_it():
    model = None

    def mind_reply(request):
        stage = request.tag.split("/")[0]
        if stage == "joint_entry":
            return json.dumps({"analysis": "Keep it short."})
        if stage == "joint_exit":
            return json.dumps({"summary": "Short.", "reflection": "Fine.", "notes": []})
        return _utterance(leave=_turn_of(request.tag) == 3)

    def env_reply(request):
        if request.tag.startswith("env-outcome"):
            return _outcome(request)
        return json.dumps({"verification": "PASS", "failure": "", "reason": "", "feedback": "", "next_speaker": "END"})

    model, asked = _town(mind_reply, env_reply, activity__min_turns=2, activity__max_turns=6)
    a, b = model.residents[:2]
    _play_together(model, [Gathering("encounter", "Ran into each other", model.social_places[0], [a, b], scene="Rain.")], 1)
    (conversation,) = model.conversations
    # END before two replies breaks the rule: refused, and the rules pick the speaker (a fallback)
    assert len(conversation["turns"]) == 2 and conversation["ended"] == "environment"
    assert "Rain." in asked["mind"][0].messages[1]["content"]  # the encounter starts from the scene

    model, _ = _town(mind_reply, lambda r: _outcome(r) if r.tag.startswith("env-outcome") else json.dumps(
        {"verification": "PASS", "failure": "", "reason": "", "feedback": "",
         "next_speaker": r.schema["properties"]["next_speaker"]["enum"][0]}), activity__max_turns=6)
    a, b = model.residents[:2]
    _play_together(model, [Gathering("joint", "Walk", model.social_places[0], [a, b])], 1)
    (conversation,) = model.conversations
    assert len(conversation["turns"]) == 3 and conversation["turns"][-1]["left"] and conversation["ended"] == "too_few"


def test_rules_play_the_minimum_round_robin_and_pass_every_reply():
    model = AgentopiaModel(world="school", residents=12, years=1, seed=3)
    model.step()
    conversations = [c for c in model.conversations if c["kind"] in ("joint", "encounter")]
    assert conversations
    for conversation in conversations:
        turns = conversation["turns"]
        people = conversation["participants"]
        assert len(turns) == model.config.activity.min_turns == 5
        assert [t["speaker"] for t in turns] == [people[i % len(people)] for i in range(5)]
        assert all(t["verification"] == "PASS" for t in turns) and conversation["ended"] == "environment"
        assert set(conversation["exits"]) == set(people) and set(conversation["entries"]) == set(people)
