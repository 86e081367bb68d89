"""The Ollama path for real: the official ``ollama`` client and our OllamaBackend against our
Ollama API server, backed by the embedded model (slow) or the fake backend (fast)."""

import re

import jsonschema
import ollama
import pytest
from hypothesis import given
from hypothesis import strategies as st
from llm_fixtures import DECISION_MESSAGES, DECISION_SCHEMA, decision_request, parse_decision
from llm_fixtures import closed_port, embedded_backend, embedded_ollama, fake_server  # noqa: F401 (fixtures)

from agentopia_mesa.llm import LLMBadResponse, LLMTimeout, LLMUnavailable
from agentopia_mesa.llm.ollama_api_server import chunks
from agentopia_mesa.llm.ollama_backend import OllamaBackend

MODEL = "gemma3:270m"


@pytest.mark.slow
def test_official_client_lists_and_shows_the_model(embedded_ollama):
    client = ollama.Client(host=embedded_ollama.url)
    assert [m.model for m in client.list().models] == [MODEL]
    shown = client.show(MODEL)
    assert shown.details.family == "gemma3" and shown.details.quantization_level == "Q4_K_M"
    with pytest.raises(ollama.ResponseError) as err:
        client.show("qwen3:4b")
    assert err.value.status_code == 404 and "qwen3:4b" in err.value.error


@pytest.mark.slow
def test_official_client_chat_with_schema_is_valid_json(embedded_ollama):
    client = ollama.Client(host=embedded_ollama.url)
    response = client.chat(model=MODEL, messages=list(DECISION_MESSAGES), format=DECISION_SCHEMA,
                           options={"temperature": 0.7, "seed": 3, "num_predict": 64}, stream=False)
    jsonschema.validate(parse_decision(response.message.content), DECISION_SCHEMA)
    assert response.done and response.prompt_eval_count > 20 and response.eval_count > 0


@pytest.mark.slow
def test_official_client_streams_ndjson_chunks(embedded_ollama):
    client = ollama.Client(host=embedded_ollama.url)
    parts = list(client.chat(model=MODEL, messages=list(DECISION_MESSAGES), format=DECISION_SCHEMA,
                             options={"seed": 4, "num_predict": 64}, stream=True))
    assert len(parts) >= 8 and parts[-1].done and not any(p.done for p in parts[:-1])
    parse_decision("".join(p.message.content for p in parts))


@pytest.mark.slow
def test_official_client_generate(embedded_ollama):
    client = ollama.Client(host=embedded_ollama.url)
    response = client.generate(model=MODEL, prompt=DECISION_MESSAGES[1]["content"], system=DECISION_MESSAGES[0]["content"],
                               format=DECISION_SCHEMA, options={"seed": 5, "num_predict": 64})
    parse_decision(response.response)


@pytest.mark.slow
def test_ollama_backend_returns_schema_valid_json_with_token_counts(embedded_ollama):
    backend = OllamaBackend(MODEL, embedded_ollama.url)
    backend.check()
    result = backend.chat(decision_request(seed=11))
    jsonschema.validate(parse_decision(result.text), DECISION_SCHEMA)
    assert (result.backend, result.model, backend.name) == ("ollama", MODEL, "ollama:gemma3:270m")
    assert result.prompt_tokens > 20 and result.completion_tokens > 0 and result.latency_s > 0
    assert backend.chat(decision_request(seed=11)).text == result.text  # same seed, same answer


def test_check_names_the_unreachable_host_and_what_to_do(closed_port):
    with pytest.raises(LLMUnavailable) as err:
        OllamaBackend("qwen3:4b", f"127.0.0.1:{closed_port}").check()
    assert str(err.value) == (f"Ollama is not reachable at http://127.0.0.1:{closed_port}: "
                              "start it with `ollama serve` or pass --llm embedded")
    assert err.value.transient


def test_check_names_the_missing_model_and_the_pull_command(fake_server):
    server = fake_server()
    with pytest.raises(LLMUnavailable) as err:
        OllamaBackend("qwen3:4b", server.url).check()
    assert str(err.value) == f"model qwen3:4b not found on {server.url}: run `ollama pull qwen3:4b`"
    assert not err.value.transient
    with pytest.raises(LLMUnavailable, match="ollama pull qwen3:4b"):
        OllamaBackend("qwen3:4b", server.url).chat(decision_request())


def test_host_from_environment_and_round_robin(fake_server, monkeypatch):
    a, b = fake_server(), fake_server()
    monkeypatch.setenv("OLLAMA_HOST", a.url)
    assert OllamaBackend("m").hosts == [a.url]
    monkeypatch.delenv("OLLAMA_HOST")
    assert OllamaBackend("m").hosts == ["http://127.0.0.1:11434"]
    backend = OllamaBackend("schema-example", [a.url, b.url])
    for seed in range(6):
        backend.chat(decision_request(seed=seed))
    assert a.stats.calls == b.stats.calls == 3


@pytest.mark.parametrize(("faults", "error", "transient"), [
    ({"fail_first": 1, "fail_status": 500}, LLMBadResponse, True),
    ({"fail_first": 1, "fail_status": 429}, LLMBadResponse, True),
    ({"fail_first": 1, "fail_status": 400}, LLMBadResponse, False),
    ({"drop_first": 1}, LLMUnavailable, True),
])
def test_server_errors_map_to_our_errors(fake_server, faults, error, transient):
    server = fake_server(**faults)
    backend = OllamaBackend("schema-example", server.url)
    with pytest.raises(error) as err:
        backend.chat(decision_request())
    assert err.value.transient is transient
    parse_decision(backend.chat(decision_request()).text)  # the next call is fine


def test_slow_server_raises_timeout(fake_server):
    server = fake_server(latency_s=1.0)
    with pytest.raises(LLMTimeout, match="did not answer within 0.2 s"):
        OllamaBackend("schema-example", server.url, timeout_s=0.2).chat(decision_request())


@given(st.text())
def test_stream_chunks_join_back_to_the_answer(text):
    assert "".join(chunks(text)) == text


TOKEN = re.compile(r"\s*(\w+|[^\w\s])|\s+")  # one word or one mark, after its leading space; or trailing space


def test_stream_chunks_are_token_like_pieces():
    answer = '{"action": "rest", "reason": "tired today"}'
    assert chunks(answer) == ['{', '"', 'action', '"', ':', ' "', 'rest', '"', ',', ' "', 'reason', '"', ':', ' "',
                              'tired', ' today', '"', '}']
    assert chunks("hello  world \n") == ["hello", "  world", " \n"]
    assert chunks("") == [""]


@given(st.lists(st.from_regex(r"[a-z]{1,8}|[{}\":,.!?]", fullmatch=True), min_size=2, max_size=30),
       st.sampled_from(["", " ", "  ", "\n"]))
def test_stream_chunks_hold_one_word_or_mark_each(tokens, gap):
    text = gap.join(tokens)
    pieces = chunks(text)
    assert "".join(pieces) == text
    assert all(TOKEN.fullmatch(p) for p in pieces), pieces
    assert len(pieces) == len(re.findall(r"\w+|[^\w\s]", text))  # one per word or mark
    if gap:  # (without a gap neighbouring words run together into one)
        assert len(pieces) == len(tokens) >= 2


def test_a_streamed_answer_arrives_in_many_chunks(fake_server):  # noqa: F811
    server = fake_server()
    client = ollama.Client(host=server.url)
    parts = list(client.chat(model="schema-example", messages=list(DECISION_MESSAGES), format=DECISION_SCHEMA,
                             options={"seed": 4}, stream=True))
    text = "".join(p.message.content for p in parts)
    parse_decision(text)
    assert parts[-1].done and not any(p.done for p in parts[:-1])
    assert [p.message.content for p in parts[:-1]] == chunks(text) and len(parts) > 8


@pytest.mark.slow
def test_a_short_town_run_through_the_official_client_and_the_embedded_model(embedded_ollama, tmp_path):
    import json

    from agentopia_mesa.cli.main import main

    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "2", "--years", "1", "--weeks-per-year", "1",
                 "--mind", "llm", "--llm", f"ollama:{MODEL}@{embedded_ollama.url}", "--max-concurrency", "1",
                 "--llm-timeout", "300", "--out", str(out), "--quiet"]) == 0
    rows = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    assert {r["model"] for r in rows} == {f"ollama:{MODEL}"}
    assert {"plan", "contact", "review", "rating"} <= {r["stage"] for r in rows}
    answered = [r for r in rows if not r["fallback"]]
    assert len(answered) >= len(rows) // 2 and all(r["prompt_tokens"] > 0 for r in answered)
    assert (out / "summary.txt").read_text().count("LLM and faults") == 1
