"""Tool calls: the protocol (llm/client.py), the rounds (llm/tools.py), every backend's wire form,
the dispatcher's retries and recorded replay with the tools' effects.

The model side is real code: the official ``ollama`` client against our Ollama API server, the
``OpenAIBackend`` against a small OpenAI-compatible server defined here, and the fake backend,
scripted or on its own. The toolbox is a dict-backed notebook with a read-before-write rule.
"""

import json
import sqlite3
import threading
from collections import Counter
from dataclasses import asdict, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import jsonschema
import ollama
import pytest
from llm_fixtures import DECISION_SCHEMA, decision_request, parse_decision
from llm_fixtures import fake_server  # noqa: F401 (fixtures)

from agentopia_mesa.llm import CachedClient, ChatRequest, ChatResult, Dispatcher, LLMBadResponse, ResponseCache
from agentopia_mesa.llm.cache import cache_key
from agentopia_mesa.llm.client import MAX_ANSWER_CHARS, LLMOversize, LLMTimeout, check_answer_size
from agentopia_mesa.llm.dispatcher import CORRECTION
from agentopia_mesa.llm.embedded_backend import answer_grammar, json_grammar
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.json_tools import TOOLS_NOTE, as_tool_call, choice_schema, plain_messages, uses_tools
from agentopia_mesa.llm.ollama_backend import OllamaBackend
from agentopia_mesa.llm.openai_backend import OpenAIBackend
from agentopia_mesa.llm.recorded import ReplayDiverged, ReplayMiss, dispatch_recorded, outcome_record, replayed_outcome
from agentopia_mesa.llm.tools import TOOLS_CLOSED, ToolCall, Toolbox, ToolUse, chat_with_tools


def spec(name: str, description: str, properties: dict) -> dict:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}}}


class NoteBox:
    """A notebook in a dict: list, read and update notes; an existing note must be read before it
    is rewritten. ``log`` keeps every call it was asked to run."""

    def __init__(self, notes: dict | None = None):
        self.notes, self.read, self.log = dict(notes or {}), set(), []

    def specs(self) -> list[dict]:
        name = {"type": "string", "description": "the note's name"}
        return [spec("list_notes", "The names of your notes.", {}),
                spec("read_note", "Read one note.", {"name": name}),
                spec("update_note", "Rewrite or create one note.", {"name": name, "text": {"type": "string"}})]

    def call(self, call: ToolCall) -> str:
        self.log.append(call)
        name = call.arguments.get("name")
        if call.name == "list_notes":
            return ", ".join(sorted(self.notes)) or "(no notes)"
        if call.name == "read_note" and name in self.notes:
            self.read.add(name)
            return self.notes[name]
        if call.name == "update_note" and isinstance(call.arguments.get("text"), str):
            if name in self.notes and name not in self.read:
                return f"refused: read {name!r} before you rewrite it"
            self.notes[name] = call.arguments["text"]
            return f"saved {name!r}"
        return f"refused: {call.name} {call.arguments} is not a call this notebook can run"


STEPS = ({"tool": "read_note", "arguments": {"name": "diary"}},
         {"tool": "update_note", "arguments": {"name": "diary", "text": "met Bo"}})


def diary_script(seen: list | None = None):
    """A fake model that reads the diary, rewrites it, then answers with the diary's old text as
    its reason (so the answer shows that the tool's result reached the model). ``seen`` collects
    the requests it was sent."""

    def reply(request: ChatRequest) -> str:
        if seen is not None:
            seen.append(request)
        results = [m["content"] for m in request.messages if m["role"] == "tool"]
        if request.tools and len(results) < len(STEPS):
            return json.dumps(STEPS[len(results)])
        return json.dumps({"action": "socialize", "reason": results[0] if results else "none"})

    return reply


def always_list(request: ChatRequest) -> str:
    """A fake model that lists the notes for as long as it may, then answers."""
    if request.tools:
        return json.dumps({"tool": "list_notes", "arguments": {}})
    return json.dumps({"action": "rest", "reason": "done"})


class Recording:
    """A client that passes calls to ``inner`` and keeps every result (and fails call ``fail_at``)."""

    def __init__(self, inner, fail_at: int | None = None):
        self.inner, self.fail_at, self.results = inner, fail_at, []
        self.name, self.backend, self.model = inner.name, inner.backend, inner.model

    def chat(self, request):
        if len(self.results) + 1 == self.fail_at:
            self.results.append(None)
            raise LLMTimeout("injected timeout")
        self.results.append(self.inner.chat(request))
        return self.results[-1]


# -- the protocol ----------------------------------------------------------------------------------------------

def test_the_toy_toolbox_is_a_toolbox_and_refuses_a_blind_rewrite():
    box = NoteBox({"diary": "Monday"})
    assert isinstance(box, Toolbox)
    assert box.call(ToolCall("update_note", {"name": "diary", "text": "x"})) == "refused: read 'diary' before you rewrite it"
    assert box.call(ToolCall("read_note", {"name": "diary"})) == "Monday"
    assert box.call(ToolCall("update_note", {"name": "diary", "text": "x"})) == "saved 'diary'" and box.notes == {"diary": "x"}


def test_requests_check_the_tool_messages_and_specs():
    system = decision_request().messages[0]
    ok = ChatRequest(messages=(system, {"role": "assistant", "content": "", "tool_calls": [
        {"name": "read_note", "arguments": {"name": "d"}, "id": "c1"}]},
        {"role": "tool", "content": "text", "tool_name": "read_note", "tool_call_id": "c1"}), tools=NoteBox().specs())
    assert isinstance(ok.tools, tuple) and len(ok.tools) == 3
    bad_messages = [{"role": "tool", "content": "text"},  # no tool_name
                    {"role": "user", "content": "", "tool_calls": [{"name": "x", "arguments": {}}]},
                    {"role": "assistant", "content": "", "tool_calls": [{"name": "x", "arguments": "{}"}]}]
    for message in bad_messages:
        with pytest.raises(ValueError, match="message 1 needs"):
            ChatRequest(messages=(system, message))
    with pytest.raises(ValueError, match="tool 0 needs the form"):
        ChatRequest(messages=(system,), tools=({"name": "list_notes"},))


def test_requests_without_tools_keep_their_cache_keys_and_tools_change_them():
    request = decision_request()
    # recorded on main before tools existed: old caches stay valid
    assert cache_key("fake", "schema-example", request) == "8e86618b15c63b65da45b25c99b98553e61fb6da4e034d36e7cd508d9abd50f5"
    assert cache_key("fake", "schema-example", replace(request, tools=tuple(NoteBox().specs()))) != cache_key(
        "fake", "schema-example", request)


def test_results_carry_tool_calls_through_asdict_and_json():
    result = ChatResult("", 3, 2, 0.1, "m", "b", tool_calls=(ToolCall("read_note", {"name": "d"}, "c1"),))
    again = ChatResult(**json.loads(json.dumps(asdict(result))))
    assert again == result and isinstance(again.tool_calls[0], ToolCall)
    assert ChatResult("x", 1, 1, 0.1, "m", "b").tool_calls == ()
    huge = ChatResult("", 1, 1, 0.1, "m", "b", tool_calls=(ToolCall("update_note", {"text": "x" * MAX_ANSWER_CHARS}),))
    with pytest.raises(LLMOversize, match="at most"):
        check_answer_size(huge, "the test")


# -- the rounds, on the fake backend ---------------------------------------------------------------------------

def test_the_fake_calls_one_tool_then_answers_the_same_way_each_time():
    first, second = NoteBox({"diary": "Monday"}), NoteBox({"diary": "Monday"})
    result, use = chat_with_tools(FakeBackend(), decision_request(seed=3), first)
    again, use_again = chat_with_tools(FakeBackend(), decision_request(seed=3), second)
    assert (result.text, use) == (again.text, use_again) and first.log == second.log
    assert use.rounds == 1 and len(use.calls) == 1 and use.results == [NoteBox({"diary": "Monday"}).call(use.calls[0])]
    jsonschema.validate(parse_decision(result.text), DECISION_SCHEMA)
    picked = {chat_with_tools(FakeBackend(), decision_request(seed=s), NoteBox())[1].calls[0].name for s in range(12)}
    assert picked == {"list_notes", "read_note", "update_note"}  # the seed picks among the tools


def test_a_scripted_fake_reads_before_it_writes_and_answers_with_what_it_read():
    box, seen = NoteBox({"diary": "Monday: rest"}), []
    result, use = chat_with_tools(FakeBackend(reply=diary_script(seen)), decision_request(), box)
    assert [(c.name, c.id) for c in use.calls] == [("read_note", "call_0"), ("update_note", "call_1")]
    assert use.results == ["Monday: rest", "saved 'diary'"] and box.notes == {"diary": "met Bo"}
    assert parse_decision(result.text) == {"action": "socialize", "reason": "Monday: rest"}
    assert result.tool_calls == () and use.rounds == 2 and len(seen) == 3
    assert seen[1].messages[-2:] == (
        {"role": "assistant", "content": "", "tool_calls": [{"name": "read_note", "arguments": {"name": "diary"},
                                                              "id": "call_0"}]},
        {"role": "tool", "content": "Monday: rest", "tool_name": "read_note", "tool_call_id": "call_0"})


@pytest.mark.parametrize("max_rounds", [1, 3, 8])
def test_the_rounds_are_bounded_and_the_last_has_no_tools(max_rounds):
    seen = []
    client = Recording(FakeBackend(reply=lambda r: seen.append(r) or always_list(r)))
    result, use = chat_with_tools(client, decision_request(), NoteBox(), max_rounds=max_rounds)
    assert [bool(r.tools) for r in seen] == [True] * (max_rounds - 1) + [False]
    assert use.rounds == len(use.calls) == max_rounds - 1
    assert (seen[-1].messages[-1] == {"role": "user", "content": TOOLS_CLOSED}) == (max_rounds > 1)
    assert parse_decision(result.text) == {"action": "rest", "reason": "done"}
    assert result.prompt_tokens == sum(r.prompt_tokens for r in client.results)  # summed over the rounds
    assert result.completion_tokens == sum(r.completion_tokens for r in client.results)
    with pytest.raises(ValueError, match="max_rounds must be >= 1"):
        chat_with_tools(client, decision_request(), NoteBox(), max_rounds=0)


# -- the official ollama client against our Ollama API server --------------------------------------------------

def test_official_client_gets_tool_calls_from_our_server(fake_server):  # noqa: F811
    server = fake_server(backend=FakeBackend(reply=diary_script()))
    client = ollama.Client(host=server.url)
    messages = [{"role": "user", "content": "Update your diary."}]
    response = client.chat(model="schema-example", messages=messages, tools=NoteBox().specs(), stream=False)
    assert [(c.function.name, dict(c.function.arguments)) for c in response.message.tool_calls] == [
        ("read_note", {"name": "diary"})]
    parts = list(client.chat(model="schema-example", messages=messages, tools=NoteBox().specs(), stream=True))
    calls = [c.function.name for p in parts for c in p.message.tool_calls or ()]
    assert calls == ["read_note"] and parts[-1].done
    assert "tools" in client.show("schema-example").capabilities


def test_ollama_backend_runs_the_rounds_through_our_server(fake_server):  # noqa: F811
    seen = []
    server = fake_server(backend=FakeBackend(reply=diary_script(seen)))
    box = NoteBox({"diary": "Monday: rest"})
    result, use = chat_with_tools(OllamaBackend("schema-example", server.url), decision_request(), box)
    assert [c.name for c in use.calls] == ["read_note", "update_note"] and box.notes == {"diary": "met Bo"}
    assert parse_decision(result.text) == {"action": "socialize", "reason": "Monday: rest"}  # the result crossed the wire
    assert result.backend == "ollama" and result.prompt_tokens > 0
    # The server saw the tools (what the official client keeps of them) and no format while they were offered.
    assert [[t["function"]["name"] for t in r.tools] for r in seen] == [["list_notes", "read_note", "update_note"]] * 3
    assert all(r.schema is None for r in seen)
    assert seen[2].messages[-1] == {"role": "tool", "content": "saved 'diary'", "tool_name": "update_note"}


def test_ollama_answer_round_sends_the_schema_and_a_retry_fixes_an_answer_given_with_tools(fake_server):  # noqa: F811
    seen = []
    server = fake_server(backend=FakeBackend(reply=diary_script(seen)))
    _, use = chat_with_tools(OllamaBackend("schema-example", server.url), decision_request(), NoteBox(), max_rounds=2)
    assert [(bool(r.tools), r.schema) for r in seen] == [(True, None), (False, DECISION_SCHEMA)]
    # The unscripted fake answers a tool round without a schema with "{}": the dispatcher retries the answer alone.
    box = NoteBox({"diary": "Monday"})
    (outcome,) = Dispatcher(backoff_s=0).run(
        [(OllamaBackend("schema-example", fake_server().url), decision_request(), parse_decision, box)])
    assert outcome.ok and outcome.attempts == 2 and outcome.texts[0] == "{}" and len(box.log) == 1
    jsonschema.validate(outcome.value, DECISION_SCHEMA)


def test_a_model_whose_template_has_no_tools_is_asked_in_the_json_convention_once_ollama_refuses_its_tools(fake_server):  # noqa: F811
    """Gemma 3 on Ollama (models/Modelfile.base, a Gemma fine-tune): Ollama answers HTTP 400 "does
    not support tools" to any chat offering tools; the backend then asks in the JSON convention."""
    seen = []

    def plain_script(request: ChatRequest) -> str:  # the diary script, as a model sees plain turns
        seen.append(request)
        results = [m["content"] for m in request.messages if m["content"].startswith("Result of ")]
        if request.schema and "anyOf" in request.schema and len(results) < len(STEPS):
            return json.dumps(STEPS[len(results)])
        old = results[0].split("\n", 1)[0].removeprefix("Result of read_note: ") if results else "none"
        return json.dumps({"action": "socialize", "reason": old})

    server = fake_server(backend=FakeBackend(reply=plain_script), tools=False)
    assert "tools" not in ollama.Client(host=server.url).show("schema-example").capabilities
    backend, box = OllamaBackend("schema-example", server.url), NoteBox({"diary": "Monday: rest"})
    result, use = chat_with_tools(backend, decision_request(), box)
    assert backend.json_tools and server.stats.calls == 3 == len(seen)  # three rounds answered (the refusal asks no model)
    assert [c.name for c in use.calls] == ["read_note", "update_note"] and box.notes == {"diary": "met Bo"}
    assert parse_decision(result.text) == {"action": "socialize", "reason": "Monday: rest"}
    assert all(not r.tools and r.schema == choice_schema(tuple(NoteBox().specs()), DECISION_SCHEMA) for r in seen[:2])
    assert all(m["role"] in ("system", "user", "assistant") for r in seen for m in r.messages)
    assert TOOLS_NOTE in seen[0].messages[0]["content"]
    plain = OllamaBackend("schema-example", server.url).chat(decision_request())  # no tools: asked as ever
    jsonschema.validate(parse_decision(plain.text), DECISION_SCHEMA)


# -- an OpenAI-compatible server -------------------------------------------------------------------------------

class OpenAIScript(BaseHTTPRequestHandler):
    """/v1/chat/completions: two tool calls in the first round, then the answer; bodies are kept."""

    bodies: list

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append(body)
        if not any(m["role"] == "tool" for m in body["messages"]):
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "read_note", "arguments": '{"name": "diary"}'}},
                {"id": "call_b", "type": "function", "function": {"name": "list_notes", "arguments": "{}"}}]}
        elif "/broken/" in self.path:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "x", "type": "function", "function": {"name": "read_note", "arguments": "{not json"}}]}
        else:
            message = {"role": "assistant", "content": json.dumps({"action": "study", "reason": "read it"})}
        data = json.dumps({"choices": [{"message": message}], "usage": {"prompt_tokens": 10, "completion_tokens": 4}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())


@pytest.fixture
def openai_script():
    bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (OpenAIScript,), {"bodies": bodies}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", bodies
    server.shutdown()
    server.server_close()


def test_openai_backend_sends_tools_and_reads_tool_calls(openai_script):
    url, bodies = openai_script
    box = NoteBox({"diary": "Monday"})
    result, use = chat_with_tools(OpenAIBackend(url, "m"), decision_request(), box, max_rounds=2)
    assert [(c.name, c.arguments, c.id) for c in use.calls] == [("read_note", {"name": "diary"}, "call_a"),
                                                                ("list_notes", {}, "call_b")]
    assert use.results == ["Monday", "diary"] and use.rounds == 1
    assert parse_decision(result.text) == {"action": "study", "reason": "read it"}
    assert result.prompt_tokens == 20 and result.completion_tokens == 8
    first, answer = bodies
    assert first["tool_choice"] == "auto" and [t["function"]["name"] for t in first["tools"]] == [
        "list_notes", "read_note", "update_note"] and "response_format" not in first
    assert "tools" not in answer and answer["response_format"]["json_schema"]["schema"] == DECISION_SCHEMA
    assert answer["messages"][2:] == [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "read_note", "arguments": '{"name": "diary"}'}},
            {"id": "call_b", "type": "function", "function": {"name": "list_notes", "arguments": "{}"}}]},
        {"role": "tool", "content": "Monday", "tool_call_id": "call_a"},
        {"role": "tool", "content": "diary", "tool_call_id": "call_b"},
        {"role": "user", "content": TOOLS_CLOSED}]


def test_openai_tool_call_arguments_that_are_not_an_object_are_a_bad_response(openai_script):
    url, _ = openai_script
    backend = OpenAIBackend(url + "/broken", "m")
    request = ChatRequest(messages=(*decision_request().messages, {"role": "tool", "content": "", "tool_name": "x"}),
                          tools=tuple(NoteBox().specs()))
    with pytest.raises(LLMBadResponse, match="a tool call we cannot read"):
        backend.chat(request)


# -- the dispatcher --------------------------------------------------------------------------------------------

def test_a_rejected_answer_is_retried_alone_without_repeating_the_tools():
    seen = []

    def reply(request):
        seen.append(request)
        if request.tools and not any(m["role"] == "tool" for m in request.messages):
            return json.dumps({"tool": "update_note", "arguments": {"name": "plans", "text": "see Bo"}})
        return "not json" if request.tools else json.dumps({"action": "work", "reason": "fixed"})

    box, dispatcher = NoteBox(), Dispatcher(backoff_s=0)
    (outcome,) = dispatcher.run([(FakeBackend(reply=reply), decision_request(), parse_decision, box)])
    assert outcome.value == {"action": "work", "reason": "fixed"} and outcome.texts == ["not json", outcome.texts[1]]
    assert outcome.attempts == 2 and outcome.tool_use.rounds == 1 and len(box.log) == 1  # one edit, not two
    assert box.notes == {"plans": "see Bo"}
    retry = seen[-1]
    assert not retry.tools and retry.messages[-4]["role"] == "tool" and retry.messages[-3:-1] == (
        {"role": "user", "content": TOOLS_CLOSED}, {"role": "assistant", "content": "not json"})
    assert retry.messages[-1]["content"].startswith(CORRECTION.split("{")[0])
    stats = SimpleNamespace(calls=0, retries=0, prompt_tokens=0, completion_tokens=0, faults=Counter())
    outcome.count_into(stats)
    assert (stats.calls, stats.retries, dispatcher.stats.calls) == (3, 1, 3)


def test_a_failed_tool_round_closes_the_tools_and_the_answer_still_comes():
    client = Recording(FakeBackend(reply=always_list), fail_at=2)
    box = NoteBox()
    (outcome,) = Dispatcher(backoff_s=0).run([(client, decision_request(), parse_decision, box)])
    assert outcome.ok and outcome.faults == {"timeout": 1} and outcome.attempts == 1
    assert outcome.tool_use.rounds == 2 and len(outcome.tool_use.calls) == 1 and len(box.log) == 1
    assert len(client.results) == 3 and outcome.value == {"action": "rest", "reason": "done"}


def test_jobs_with_and_without_toolboxes_share_a_run():
    box = NoteBox()
    plain, tooled = Dispatcher().run([(FakeBackend(), decision_request(seed=1), parse_decision),
                                      (FakeBackend(reply=always_list), decision_request(seed=1), parse_decision, box)])
    assert plain.tool_use is None and plain.ok and tooled.tool_use.rounds == 7 and len(box.log) == 7
    assert Dispatcher(max_rounds=2).run([(FakeBackend(reply=always_list), decision_request(), parse_decision,
                                          NoteBox())])[0].tool_use.rounds == 1


# -- cache and replay ------------------------------------------------------------------------------------------

def test_each_round_is_cached_with_its_tool_calls(tmp_path):
    cache, backend = ResponseCache(tmp_path / "c.sqlite"), FakeBackend(reply=diary_script())
    recorded, use = chat_with_tools(CachedClient(backend, cache), decision_request(), NoteBox({"diary": "Monday"}))
    replaying = CachedClient(None, cache, "replay", backend="fake", model="schema-example")
    box = NoteBox({"diary": "Monday"})
    again, use_again = chat_with_tools(replaying, decision_request(), box)
    assert (again.text, use_again) == (recorded.text, use) and box.notes == {"diary": "met Bo"}
    assert replaying.hits == 3 and backend.calls == 3 and again.cached


def test_a_cache_file_from_before_tools_gets_the_column(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL, "
                   "tag TEXT NOT NULL, text TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER "
                   "NOT NULL, latency_s REAL NOT NULL, created REAL NOT NULL, request TEXT NOT NULL)")
        db.execute("INSERT INTO responses VALUES ('old', 'fake', 'm', 't', '{}', 1, 1, 0.1, 0, '{}')")
    db.close()
    cache = ResponseCache(path)
    assert cache.get("old")["tool_calls"] == [] and cache.get("old")["text"] == "{}"
    result = ChatResult("", 1, 1, 0.1, "m", "fake", tool_calls=(ToolCall("list_notes", {}, "c"),))
    cache.put("new", decision_request(), result)
    assert cache.get("new")["tool_calls"] == [{"name": "list_notes", "arguments": {}, "id": "c"}]
    ResponseCache(path).close()  # a second opening finds the column there


def _review_jobs(client, boxes):
    return [(client, decision_request(seed=i, tag=f"review/R{i}/Y2020-W01"), parse_decision, box)
            for i, box in enumerate(boxes)]


def test_a_recorded_run_replays_the_tool_effects_with_no_model_call(tmp_path):
    cache, backend = ResponseCache(tmp_path / "c.sqlite"), FakeBackend(reply=diary_script())
    recording = CachedClient(backend, cache, "record")
    boxes = [NoteBox({"diary": f"day {i}"}) for i in range(4)]
    plain = (recording, decision_request(seed=9, tag="plan/P/Y2020-W01"), parse_decision)
    recorded = dispatch_recorded(Dispatcher(), [*_review_jobs(recording, boxes), plain])
    calls = backend.calls
    replaying = CachedClient(None, cache, "replay", backend="fake", model="schema-example")
    fresh = [NoteBox({"diary": f"day {i}"}) for i in range(4)]
    again = dispatch_recorded(Dispatcher(), [*_review_jobs(replaying, fresh), (replaying, *plain[1:])])
    assert backend.calls == calls == 4 * 3 + 1 and replaying.hits == replaying.misses == 0  # outcomes, not calls
    assert [o.value for o in again] == [o.value for o in recorded]
    assert [o.tool_use for o in again] == [o.tool_use for o in recorded] and again[-1].tool_use is None
    assert [b.notes for b in fresh] == [b.notes for b in boxes] == [{"diary": "met Bo"}] * 4
    assert [o.result for o in again] == [replace(o.result, cached=True) for o in recorded]


def test_replay_into_another_notebook_diverges_and_says_where(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    dispatch_recorded(Dispatcher(), _review_jobs(CachedClient(FakeBackend(reply=diary_script()), cache, "record"),
                                                 [NoteBox({"diary": "day 0"})]))
    replaying = CachedClient(None, cache, "replay", backend="fake", model="schema-example")
    with pytest.raises(ReplayDiverged, match=r"tool call 1 of 2 for review/R0/Y2020-W01 \(read_note .*now gives "
                                             r".refused.*but gave 'day 0'"):
        dispatch_recorded(Dispatcher(), _review_jobs(replaying, [NoteBox()]))
    # A job without its toolbox does not replay a decision recorded with tools (it is keyed by the tools).
    with pytest.raises(ReplayMiss, match="no recorded decision for review/R0"):
        dispatch_recorded(Dispatcher(), [_review_jobs(replaying, [None])[0][:3]])


def test_outcome_records_keep_tool_use_only_when_there_is_some():
    (outcome,) = Dispatcher().run([(FakeBackend(reply=always_list), decision_request(), parse_decision, NoteBox())])
    record = json.loads(json.dumps(outcome_record(outcome)))
    assert ToolUse.from_record(record["tool_use"]) == outcome.tool_use
    assert "tool_use" not in outcome_record(Dispatcher().run([(FakeBackend(), decision_request(), parse_decision)])[0])
    with pytest.raises(ReplayMiss, match="recorded with tool calls, but the job has no toolbox"):
        replayed_outcome(record, parse_decision, None, "plan/x")


# -- the JSON convention of the embedded and fake backends (no model is loaded) --------------------------------

def test_the_choice_schema_takes_a_call_or_the_answer_and_lifts_defs():
    tools = tuple(NoteBox().specs())
    schema = choice_schema(tools, DECISION_SCHEMA)
    jsonschema.validate({"tool": "read_note", "arguments": {"name": "diary"}}, schema)
    jsonschema.validate({"action": "rest", "reason": "tired"}, schema)
    for wrong in ({"tool": "delete_note", "arguments": {"name": "d"}}, {"tool": "read_note", "arguments": {}},
                  {"tool": "read_note", "arguments": {"name": "d"}, "why": "x"}, {"action": "fly", "reason": ""}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema)
    loose = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    jsonschema.validate({"tool": "f", "arguments": {}}, choice_schema((loose,), DECISION_SCHEMA))
    with pytest.raises(jsonschema.ValidationError):  # no invented keys unless the tool allows them
        jsonschema.validate({"tool": "f", "arguments": {"x": 1}}, choice_schema((loose,), DECISION_SCHEMA))
    loose["function"]["parameters"]["additionalProperties"] = True
    jsonschema.validate({"tool": "f", "arguments": {"x": 1}}, choice_schema((loose,), DECISION_SCHEMA))
    with_defs = {"type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "required": ["p"],
                 "$defs": {"P": {"type": "string", "enum": ["a"]}}}
    lifted = choice_schema(tools, with_defs)
    jsonschema.validate({"p": "a"}, lifted)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"p": "b"}, lifted)


def test_the_embedded_grammar_offers_the_choice_only_when_tools_are_offered():
    request = decision_request()
    assert answer_grammar(request) == json_grammar(DECISION_SCHEMA)
    assert answer_grammar(replace(request, schema=None)) is None
    tooled = replace(request, tools=tuple(NoteBox().specs()))
    assert answer_grammar(tooled) == json_grammar(choice_schema(tooled.tools, DECISION_SCHEMA))
    assert answer_grammar(tooled).startswith("%llguidance {}\nstart: %json {\"anyOf\"")


def test_plain_messages_describe_the_tools_and_alternate_turns():
    box = NoteBox({"diary": "Monday"})
    _, use = chat_with_tools(FakeBackend(reply=diary_script()), decision_request(), box, max_rounds=3)
    conversation = replace(decision_request(), messages=(
        *decision_request().messages,
        {"role": "assistant", "content": "", "tool_calls": [c.as_message_part() for c in use.calls[:1]]},
        {"role": "tool", "content": use.results[0], "tool_name": "read_note", "tool_call_id": "call_0"},
        {"role": "user", "content": TOOLS_CLOSED}), tools=tuple(box.specs()))
    turns = plain_messages(conversation)
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "user"]
    assert TOOLS_NOTE in turns[0]["content"] and "- read_note: Read one note." in turns[0]["content"]
    assert json.loads(turns[2]["content"]) == {"tool": "read_note", "arguments": {"name": "diary"}}
    assert turns[3]["content"] == f"Result of read_note: Monday\n\n{TOOLS_CLOSED}"
    assert uses_tools(conversation) and not uses_tools(decision_request())


def test_as_tool_call_reads_only_calls_of_offered_tools():
    tools = tuple(NoteBox().specs())
    assert as_tool_call('{"tool": "list_notes", "arguments": {}}', tools) == ToolCall("list_notes", {})
    for text in ('{"tool": "burn_notes", "arguments": {}}', '{"action": "rest", "reason": "x"}', "not json",
                 '{"tool": "list_notes", "arguments": []}', '{"tool": "list_notes", "arguments": {}, "x": 1}'):
        assert as_tool_call(text, tools) is None


# -- the conversation a recorded answer was given in (for training data) -----------------------------------------

class TwoCallsAtOnce:
    """A model with native tool calls that asks for two calls with a remark in its first round, then answers."""

    name, backend, model = "native:two", "native", "two"

    def __init__(self):
        self.seen = []

    def chat(self, request):
        self.seen.append(request)
        if request.tools and not any(m["role"] == "tool" for m in request.messages):
            calls = (ToolCall("list_notes", {}), ToolCall("read_note", {"name": "diary"}, "c7"))
            return ChatResult("Let me look first.", 5, 3, 0.0, "two", "native", tool_calls=calls)
        return ChatResult(json.dumps({"action": "rest", "reason": "done"}), 5, 3, 0.0, "two", "native")


@pytest.mark.parametrize("case", ["answered on a tool round", "tools closed", "two calls in one round"])
def test_a_recorded_tool_use_rebuilds_the_conversation_the_answer_was_given_in(case):
    seen: list = []
    client, max_rounds = {
        "answered on a tool round": (FakeBackend(reply=diary_script(seen)), 8),
        "tools closed": (FakeBackend(reply=lambda r: seen.append(r) or always_list(r)), 3),
        "two calls in one round": (TwoCallsAtOnce(), 8),
    }[case]
    request = decision_request()
    _, use = chat_with_tools(client, request, NoteBox({"diary": "Monday"}), max_rounds)
    last = (client.seen if isinstance(client, TwoCallsAtOnce) else seen)[-1]
    use = ToolUse.from_record(json.loads(json.dumps(use.record())))  # as decisions.jsonl keeps it
    assert use.on_round is (case != "tools closed") and use.tools == NoteBox().specs()
    assert use.conversation(list(request.messages), closed=not use.on_round) == list(last.messages)
    assert (last.messages[-1]["content"] == TOOLS_CLOSED) is (case == "tools closed")
    if case == "two calls in one round":
        assert use.sizes == [2] and use.texts == ["Let me look first."]
        assert [m["role"] for m in last.messages[-3:]] == ["assistant", "tool", "tool"]


def test_tool_use_recorded_before_round_sizes_were_kept_reads_as_one_call_per_round():
    old = {"calls": [{"name": "list_notes", "arguments": {}, "id": "call_0"}], "results": ["diary"], "rounds": 1}
    use = ToolUse.from_record(old)
    assert (use.sizes, use.texts, use.on_round) == ([1], [""], None)
    messages = use.conversation(list(decision_request().messages), closed=True)
    assert [m["role"] for m in messages[-3:]] == ["assistant", "tool", "user"] and messages[-1]["content"] == TOOLS_CLOSED
