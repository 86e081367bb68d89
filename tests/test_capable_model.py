"""A capable model's words survive: budgets from what is asked, cut answers known as cut, lengths
trimmed rather than rejected, thinking models, and the verbose fake that writes at the asked lengths."""

import dataclasses
import json
import random
from collections import Counter

import httpx
import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.config import RANGES, MemoryConfig, PROFILES, SimulationConfig
from agentopia_mesa.contract import questions as q
from agentopia_mesa.environment import answers
from agentopia_mesa.llm.budgets import answer_budget, estimate_tokens
from agentopia_mesa.llm.client import ChatOptions, ChatRequest
from agentopia_mesa.llm.dispatcher import SHORTER, Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend, prose
from agentopia_mesa.llm.ollama_api_server import OllamaAPIServer
from agentopia_mesa.llm.ollama_backend import OllamaBackend
from agentopia_mesa.llm.openai_backend import OpenAIBackend
from agentopia_mesa.llm.thinking import DEFAULT_THINK_TOKENS, split_reasoning, split_spec, think_for
from agentopia_mesa.minds.llm_mind import checked_decision
from agentopia_mesa.minds.notebook_tools import TOOL_ACCESS, specs_for
from agentopia_mesa.minds.schemas import budget_for, lengths_schema, schema_for
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.trimming import trim_text

QUESTIONS = [q.PlanQuestion, q.ContactQuestion, q.ContactSummaryQuestion, q.SignupQuestion, q.SoloQuestion, q.SoloReflectionQuestion, q.PublicEventQuestion,
             q.PurchaseQuestion, q.EntryQuestion, q.TurnQuestion, q.ExitQuestion, q.ReviewQuestion, q.DiscardQuestion,
             q.JobWishQuestion, q.RatingQuestion, q.CompactionQuestion]


def _memory(profile: str, largest: bool) -> MemoryConfig:
    config = SimulationConfig().with_flat_overrides(PROFILES[profile])
    memory = config.memory
    if largest:  # every *_words setting at the top of its range
        memory = dataclasses.replace(memory, **{k.split(".")[1]: int(RANGES[k][1]) for k in RANGES
                                                if k.startswith("memory.") and k.endswith("_words")})
    return memory


def _largest(schema: dict, root: dict, rng: random.Random) -> object:
    """The largest answer ``schema`` allows, written out: every text prose at its maxLength."""
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return max(schema["enum"], key=lambda v: len(json.dumps(v)))
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return max((_largest(s, root, rng) for s in schema[combinator]), key=lambda v: len(json.dumps(v)))
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if kind == "object":
        return {name: _largest(p, root, rng) for name, p in schema.get("properties", {}).items()}
    if kind == "array":
        if "prefixItems" in schema:
            return [_largest(s, root, rng) for s in schema["prefixItems"]]
        return [_largest(schema.get("items", {}), root, rng) for _ in range(schema.get("maxItems", 10))]
    if kind in ("integer", "number"):
        return -abs(int(schema.get("minimum", -99999))) if schema.get("minimum", 0) < 0 else int(schema.get("maximum", 99999))
    if kind == "boolean":
        return False
    return prose(rng, schema.get("maxLength", 200))


def _question(kind, model, memory: MemoryConfig):
    situation = q.Situation(2020, 1, 0, "T", model.config.economy, model.config.career, memory)
    extra = {"words": 200} if kind is q.PublicEventQuestion else {}
    question = kind(model.residents[0], situation=situation, **extra)
    if kind is q.SoloQuestion:
        question.describe = True
    if kind is q.TurnQuestion:
        question.chat.reply_words = int(RANGES["activity.reply_words"][1]) if memory.plan_words > 1000 else 200
    return question


@pytest.mark.parametrize("profile, largest", [("lean", False), ("paper", False), ("paper", True)])
@pytest.mark.parametrize("family", ["", "qwen", "gemma"])
def test_the_largest_valid_answer_of_every_question_fits_its_budget(profile, largest, family):
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    memory = _memory(profile, largest)
    rng = random.Random(0)
    for kind in QUESTIONS:
        question = _question(kind, model, memory)
        schema = lengths_schema(question)
        answer = json.dumps(_largest(schema, schema, rng))
        budget = budget_for(question, family)
        assert estimate_tokens(answer, family) <= budget, (kind.__name__, profile, largest)
        narrowed = schema_for(question)  # narrowing names never makes an answer larger than the lengths allow
        assert estimate_tokens(json.dumps(_largest(narrowed, narrowed, rng)), family) <= budget, kind.__name__
        access = TOOL_ACCESS.get(kind) if memory.notes == "tools" else None
        for tool in specs_for(access == "write", memory.summary_words, memory.note_words) if access else ():
            parameters = tool["function"]["parameters"]
            call = json.dumps({"tool": tool["function"]["name"], "arguments": _largest(parameters, parameters, rng)})
            assert estimate_tokens(call, family) <= budget, (kind.__name__, tool["function"]["name"])
        assert budget_for(question, family, think=500) == budget + 500


def test_a_words_setting_cannot_outgrow_the_schema_the_decision_or_the_budget():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    memory = _memory("paper", largest=True)
    review = _question(q.ReviewQuestion, model, memory)
    limit = lengths_schema(review)["properties"]["summary"]["maxLength"]
    assert limit == 7 * memory.diary_words == 14_000
    text = prose(random.Random(1), limit)
    decision, trimmed = checked_decision(review, json.dumps({"summary": text, "reflection": text, "notes": []}))
    assert decision.summary == text and trimmed == 0
    assert budget_for(review) > 2 * estimate_tokens(text)


@pytest.mark.parametrize("task", list(answers.ANSWERS))
def test_the_largest_answer_of_every_environment_task_fits_its_budget(task):
    schema = answers._base(answers.ANSWERS[task])
    answer = json.dumps(_largest(schema, schema, random.Random(2)))
    assert estimate_tokens(answer) <= answer_budget(schema)


def test_a_one_word_overshoot_is_trimmed_not_rejected():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    event = _question(q.PublicEventQuestion, model, MemoryConfig())
    event.words = 100
    said = " ".join(["word"] * 60) + ". " + " ".join(["more"] * 40) + " over."  # 101 words
    decision, trimmed = checked_decision(event, json.dumps({"description": said, "noticed": []}))
    assert trimmed == 1 and len(decision.description.split()) <= 100
    assert decision.description.startswith("word word") and decision.description.endswith("more")


def test_a_reply_over_its_words_loses_thoughts_first_and_keeps_what_the_others_hear():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    turn = _question(q.TurnQuestion, model, MemoryConfig())
    turn.chat.reply_words = 20
    reply = {"speech": "\"" + " ".join(["hello"] * 15) + "\"", "thoughts": " ".join(["hmm"] * 10)}
    decision, trimmed = checked_decision(turn, json.dumps(reply))
    assert trimmed == 1 and decision.speech == reply["speech"] and len(decision.thoughts.split()) == 5


def test_a_text_over_its_schema_length_is_cut_at_a_sentence_and_counted():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    review = _question(q.ReviewQuestion, model, _memory("paper", False))
    limit = lengths_schema(review)["properties"]["summary"]["maxLength"]
    long = "I rested. " * (limit // 10 + 5)
    decision, trimmed = checked_decision(review, json.dumps({"summary": long, "reflection": "ok", "notes": []}))
    assert trimmed == 1 and len(decision.summary) <= limit and decision.summary.endswith("I rested.")


def test_trim_text_prefers_a_sentence_end_then_a_word_end():
    text = "One two three. Four five six seven eight nine ten"
    assert trim_text(text, max_words=9) == "One two three. Four five six seven eight nine"
    assert trim_text(text, max_chars=17) == "One two three."  # a sentence end that keeps most of the room
    assert trim_text(text, max_chars=20) == "One two three. Four"  # else the last whole word
    assert trim_text("abcdefgh", max_chars=3) == "abc"
    assert trim_text(text) == text


def test_a_cut_answer_is_a_fault_of_its_own_and_the_retry_asks_for_a_shorter_one():
    seen = []
    verbose = FakeBackend("verbose", verbose=True)

    class Watching:
        name, backend, model = "fake:verbose", "fake", "verbose"

        def chat(self, request):
            seen.append(request)
            return verbose.chat(request)

    schema = {"type": "object", "properties": {"diary": {"type": "string", "maxLength": 2000}}, "required": ["diary"]}
    request = ChatRequest(({"role": "user", "content": "Write."},), schema, ChatOptions(max_tokens=60, seed=1), "review/x")
    [outcome] = Dispatcher(retries=1).run([(Watching(), request, json.loads)])
    assert outcome.value is None and outcome.faults == Counter(truncated=2)
    assert outcome.error.startswith("truncated: the answer reached its budget of 60 tokens")
    assert seen[1].messages[-1]["content"] == SHORTER.format(max_tokens=60, thinking="")
    # with room, the same answer comes through whole
    [whole] = Dispatcher().run([(verbose, ChatRequest(request.messages, schema, ChatOptions(max_tokens=answer_budget(schema), seed=1)), json.loads)])
    assert whole.ok and not whole.result.truncated and len(whole.value["diary"]) >= 1700


def test_servers_say_when_they_cut_an_answer_and_give_reasoning_apart():
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 1500}}}
    request = ChatRequest(({"role": "user", "content": "Go."},), schema, ChatOptions(max_tokens=40, seed=2, think=None))
    with OllamaAPIServer(FakeBackend("thinking", thinking=True)) as server:
        cut = OllamaBackend("thinking", server.url).chat(request)
        assert cut.truncated and cut.reasoning  # the reasoning spent the budget first
        roomy = dataclasses.replace(request, options=ChatOptions(max_tokens=2000, seed=2, think=0))
        whole = OllamaBackend("thinking", server.url).chat(roomy)
        assert not whole.truncated and whole.reasoning == "" and json.loads(whole.text)["a"]

    sent = []

    def handler(http_request):
        sent.append(json.loads(http_request.content))
        message = {"content": "<think>why not</think>{\"a\": \"b\"}"} if len(sent) == 1 else \
            {"content": "{\"a\": ", "reasoning_content": "hmm"}
        return httpx.Response(200, json={"choices": [{"message": message, "finish_reason": "stop" if len(sent) == 1 else "length"}],
                                         "usage": {"prompt_tokens": 5, "completion_tokens": 7}})

    backend = OpenAIBackend("http://127.0.0.1:9/v1", "Qwen/Qwen3-8B")
    backend._http = httpx.Client(base_url=backend.base_url, transport=httpx.MockTransport(handler))
    first = backend.chat(dataclasses.replace(request, options=ChatOptions(max_tokens=40, think=0)))
    assert (first.text, first.reasoning, first.truncated) == ('{"a": "b"}', "why not", False)
    assert sent[0]["chat_template_kwargs"] == {"enable_thinking": False}
    second = backend.chat(request)
    assert second.truncated and second.reasoning == "hmm" and "chat_template_kwargs" not in sent[1]


def test_thinking_settings_per_model_and_for_the_run():
    ollama, openai = OllamaBackend("qwen3:8b"), OpenAIBackend("http://h:8000/v1", "Qwen/Qwen3-8B")
    assert think_for("ollama:qwen3:8b", ollama) == 0  # the default: off
    assert think_for("ollama:qwen3:8b#think=on", ollama) == DEFAULT_THINK_TOKENS
    assert think_for("openai:http://h:8000/v1:Qwen/Qwen3-8B#think=512", openai, "off") == 512
    assert think_for("ollama:qwen3:8b", ollama, "server") is None
    assert think_for("fake", FakeBackend()) is None  # nothing to turn off: keys stay as they were
    assert think_for("fake:thinking", FakeBackend("thinking", thinking=True)) == 0

    class Replaying:  # a replay names the recorded backend: its requests are made as they were recorded
        backend, model = "ollama", "qwen3:8b"

    assert think_for("replay", Replaying(), "on") == DEFAULT_THINK_TOKENS
    assert split_spec("ollama:a@http://h:1#think=off") == ("ollama:a@http://h:1", "off")
    assert split_reasoning("<think>\nx\n</think>\n{}") == ("x", "{}")
    with pytest.raises(ValueError, match="think=off"):
        split_spec("ollama:a#temperature=1")
    assert main(["run", "--world", "school", "--residents", "2", "--years", "1", "--mind", "llm", "--llm", "fake",
                 "--think", "lots", "--out", "/nonexistent/x"]) == 2


def _run(tmp_path, name: str, *args: str) -> dict:
    out = tmp_path / name
    code = main(["run", "--world", "school", "--residents", "6", "--years", "1", "--weeks-per-year", "2", "--seed", "3",
                 "--mind", "llm", "--quiet", "--out", str(out), *args])
    assert code == 0
    return json.loads((out / "faults.json").read_text())


@pytest.mark.parametrize("profile", ["paper", "lean"])
@pytest.mark.parametrize("llm", ["fake:verbose", "fake"])
def test_both_profiles_keep_a_capable_models_answers(tmp_path, profile, llm):
    """The verbose fake writes every text at about 0.9 of its allowed length and is cut at its
    budget like a server: fewer than 2 % of decisions fall back, in every stage with enough of them."""
    faults = _run(tmp_path, "run", "--llm", llm, "--profile", profile)
    for block, key in ((faults["llm"], "by_stage"), (faults.get("environment") or {}, "by_task_detail")):
        stages = dict(block.get(key, {}))
        if llm == "fake":  # the terse fake names every new event "ok": the second is refused by design
            stages.pop("events", None)
        decisions = sum(s["decisions"] for s in stages.values())
        fallbacks = sum(s["fallbacks"] for s in stages.values())
        assert fallbacks <= 0.02 * decisions, stages
        assert not any(s["faults"].get("truncated") for s in stages.values()), stages
    if llm == "fake:verbose" and profile == "paper":
        stages = faults["llm"]["by_stage"]
        assert {"plan", "solo", "review", "public"} <= set(stages)
        assert stages["public"]["trimmed"] > 0  # 0.9 of the characters is more words than asked: trimmed, kept


def test_a_thinking_model_left_to_think_is_cut_counted_and_warned_about(tmp_path, capsys):
    faults = _run(tmp_path, "server", "--llm", "fake:thinking", "--think", "server", "--profile", "paper")
    assert faults["llm"]["by_stage"]["solo"]["faults"]["truncated"] > 0
    assert faults["llm"]["by_stage"]["solo"]["fallbacks"] == faults["llm"]["by_stage"]["solo"]["decisions"]
    summary = (tmp_path / "server" / "summary.txt").read_text()
    assert "warning: solo:" in summary and "top fault: truncated" in summary
    assert "solo:" in capsys.readouterr().err  # said when it happens, not only at the end
    faults = _run(tmp_path, "on", "--llm", "fake:thinking", "--think", "on", "--profile", "paper")
    assert faults["llm"]["fallbacks"] == 0
    lines = [json.loads(line) for line in (tmp_path / "on" / "decisions.jsonl").open()]
    thought = [line for line in lines if line.get("reasoning")]
    assert len(thought) > 100
    prompts = "\n".join(m["content"] for line in lines if line["stage"] != "compact" for m in line["messages"])
    assert not any(line["reasoning"][:80] in prompts for line in thought)  # never sent back in a later prompt...
    briefs = "\n".join(line["messages"][-1]["content"] for line in lines if line["stage"] == "compact")
    assert any(line["reasoning"][:80] in briefs for line in thought)  # ...but to the call that sums it up (compaction)
    sft = tmp_path / "sft.jsonl"
    assert main(["dataset", "sft", str(tmp_path / "on"), "--model", "fake:thinking", "--top", "1", "--out", str(sft)]) == 0
    trained = [m["content"] for line in sft.read_text().splitlines() for m in json.loads(line)["messages"]
               if m["role"] == "assistant"]
    assert trained and not any(line["reasoning"][:80] in text for line in thought for text in trained)  # the answers are trained, not the reasoning
