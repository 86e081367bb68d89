"""``make_client`` specs, the fake backend's schema examples, and the request/error types."""

import hashlib
import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from llm_fixtures import DECISION_SCHEMA, decision_request
from llm_fixtures import closed_port, fake_server  # noqa: F401 (fixtures)
from pydantic import BaseModel, Field

from agentopia_mesa.llm import (
    CachedClient, ChatRequest, LLMBadResponse, LLMClient, LLMTimeout, LLMUnavailable, make_client,
)
from agentopia_mesa.llm.cache import ResponseCache
from agentopia_mesa.llm.client import ChatResult, status_error
from agentopia_mesa.llm.embedded_backend import EmbeddedBackend
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.ollama_backend import OllamaBackend
from agentopia_mesa.llm.openai_backend import OpenAIBackend


def test_ollama_specs():
    client = make_client("ollama:qwen3:4b")
    assert isinstance(client, OllamaBackend) and client.model == "qwen3:4b" and client.name == "ollama:qwen3:4b"
    two = make_client("ollama:qwen3:4b@http://gpu1:11434,gpu2:11434")
    assert two.model == "qwen3:4b" and two.hosts == ["http://gpu1:11434", "http://gpu2:11434"]
    assert make_client("ollama:llama3", hosts=["h:1"]).hosts == ["http://h:1"]


@pytest.mark.parametrize(("spec", "url", "model"), [
    ("openai:http://127.0.0.1:8000/v1:Qwen/Qwen3-4B", "http://127.0.0.1:8000/v1", "Qwen/Qwen3-4B"),
    ("openai:http://localhost:1234:qwen3:4b", "http://localhost:1234/v1", "qwen3:4b"),
    ("openai:https://llm.example.org/api/v1:gpt-4o-mini", "https://llm.example.org/api/v1", "gpt-4o-mini"),
    ("openai:http://[::1]:8080/v1:m", "http://[::1]:8080/v1", "m"),
])
def test_openai_specs(spec, url, model):
    client = make_client(spec)
    assert isinstance(client, OpenAIBackend) and (client.base_url, client.model) == (url, model)


@given(host=st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z]{2,5})?", fullmatch=True),
       port=st.integers(1, 65535), path=st.sampled_from(["", "/v1", "/api/v1"]),
       model=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/:-]{0,30}", fullmatch=True))
def test_openai_spec_round_trip(host, port, path, model):
    client = make_client(f"openai:http://{host}:{port}{path}:{model}")
    assert client.model == model and client.base_url == f"http://{host}:{port}{path or '/v1'}"


def test_embedded_and_fake_specs_build_lazily():
    embedded = make_client("embedded", n_parallel=2)
    assert isinstance(embedded, EmbeddedBackend) and embedded.params["n_parallel"] == 2  # nothing loaded yet
    assert isinstance(make_client("fake"), FakeBackend)


def test_embedded_spec_takes_a_gguf_file(tmp_path):
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    tuned = make_client(f"embedded:{tmp_path / 'model.gguf'}")
    digest = hashlib.sha256(b"GGUF").hexdigest()
    assert tuned.model_path == tmp_path / "model.gguf" and tuned.name == f"embedded:{tmp_path.name}@{digest[:8]}"  # nothing loaded yet


def test_two_gguf_files_never_share_a_model_name(tmp_path):
    """Names key the response cache: two fine-tunes written as DIR/model.gguf must differ."""
    for folder, data in (("ft-a", b"GGUF a"), ("ft-b", b"GGUF b"), ("ft-c", b"GGUF a")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "model.gguf").write_bytes(data)
    names = [make_client(f"embedded:{tmp_path / folder / 'model.gguf'}").name for folder in ("ft-a", "ft-b", "ft-c")]
    assert names[0].startswith("embedded:ft-a@") and len(set(names)) == 3
    assert names[0].split("@")[1] == names[2].split("@")[1]  # same bytes, same digest; the folder tells them apart
    renamed = tmp_path / "ft-a" / "small.gguf"
    renamed.write_bytes(b"GGUF b")  # any other stem names itself
    assert make_client(f"embedded:{renamed}").name == f"embedded:small@{names[1].split('@')[1]}"
    # the digest is kept beside the file and reused while size and modification time hold; a new file is hashed again
    model = tmp_path / "ft-a" / "model.gguf"
    marker = model.with_name("model.gguf.digest")
    stamp = marker.read_text().split()[:2]
    marker.write_text(" ".join([*stamp, "f" * 64]))
    assert make_client(f"embedded:{model}").name == "embedded:ft-a@ffffffff"
    model.write_bytes(b"GGUF a, trained again")
    assert make_client(f"embedded:{model}").name == f"embedded:ft-a@{hashlib.sha256(b'GGUF a, trained again').hexdigest()[:8]}"


def test_the_varied_fake_gives_free_texts_that_differ_between_seeds():
    from agentopia_mesa.llm.client import ChatOptions, ChatRequest

    schema = {"type": "object", "properties": {"speech": {"type": "string"}}, "required": ["speech"]}
    messages = ({"role": "user", "content": "Your turn."},)
    varied, plain = make_client("fake:varied"), make_client("fake")
    assert varied.name == "fake:varied"
    texts = {varied.chat(ChatRequest(messages, schema, ChatOptions(seed=seed))).text for seed in range(8)}
    assert len(texts) > 1 and all("speech" in json.loads(t) for t in texts)
    assert {plain.chat(ChatRequest(messages, schema, ChatOptions(seed=seed))).text for seed in range(8)} == {'{"speech": "ok"}'}


def test_cache_path_wraps_the_backend(tmp_path):
    client = make_client("fake", cache_path=tmp_path / "c.sqlite", cache_mode="record")
    assert isinstance(client, CachedClient) and client.mode == "record" and client.name == "fake:schema-example"
    client.chat(decision_request())
    replay = make_client("replay", cache_path=tmp_path / "c.sqlite")
    assert replay.chat(decision_request()).cached
    named = make_client("replay:fake:schema-example", cache_path=tmp_path / "c.sqlite")
    assert named.name == "fake:schema-example" and named.mode == "replay"


@pytest.mark.parametrize(("spec", "why"), [
    ("", "unknown backend ''"),
    ("llama:qwen3", "unknown backend 'llama'"),
    ("ollama", "ollama needs a model name"),
    ("ollama:", "ollama needs a model name"),
    ("openai:localhost:8000:m", "openai needs a URL with http://"),
    ("openai:http://localhost:8000/v1", "openai needs a URL"),
    ("embedded:big", "embedded takes an existing .gguf file"),
    ("embedded:nowhere/model.gguf", "embedded takes an existing .gguf file"),
    ("replay", "replay needs an existing cache file"),
])
def test_bad_specs_list_the_forms(spec, why):
    with pytest.raises(ValueError) as err:
        make_client(spec)
    message = str(err.value)
    assert why in message and "ollama:MODEL[@HOST[,HOST...]]" in message and "openai:URL:MODEL" in message


def test_replay_of_a_cache_with_several_models_must_name_one(tmp_path):
    path = tmp_path / "c.sqlite"
    for model in ("a", "b"):
        make_client("fake", cache_path=path, model=model).chat(decision_request())
    with pytest.raises(ValueError, match="it holds: replay:fake:a, replay:fake:b"):
        make_client("replay", cache_path=path)
    with pytest.raises(ValueError, match="replay takes BACKEND:MODEL"):
        make_client("replay:fake", cache_path=path)
    assert make_client("replay:fake:b", cache_path=path).chat(decision_request()).cached


class Reply(BaseModel):
    to: str = Field(max_length=10)
    accept: bool
    day: int = Field(ge=1, le=7)


class Answer(BaseModel):
    replies: list[Reply] = Field(min_length=1, max_length=3)
    mood: str | None = None
    note: str = Field(default="", min_length=0, max_length=0)


@pytest.mark.parametrize("schema", [DECISION_SCHEMA, Answer.model_json_schema()])
def test_fake_answers_follow_the_schema_and_are_deterministic(schema):
    backend = FakeBackend()
    for seed in range(20):
        request = ChatRequest(messages=decision_request().messages, schema=schema,
                              options=decision_request(seed=seed).options)
        text = backend.chat(request).text
        jsonschema.validate(json.loads(text), schema)
        assert backend.chat(request).text == text


def _answers_as_the_protocol_says(client: LLMClient, request: ChatRequest) -> ChatResult:
    """``check()`` returns None and ``chat()`` a ``ChatResult`` of the declared types, named as ``client.name``."""
    assert isinstance(client, LLMClient)
    assert client.check() is None
    result = client.chat(request)
    assert type(result) is ChatResult
    assert isinstance(result.text, str) and result.text
    assert all(isinstance(n, int) and n >= 0 for n in (result.prompt_tokens, result.completion_tokens))
    assert isinstance(result.latency_s, float) and result.latency_s >= 0 and isinstance(result.cached, bool)
    assert f"{result.backend}:{result.model}" == client.name
    jsonschema.validate(json.loads(result.text), DECISION_SCHEMA)  # the request's schema
    return result


def test_backends_implement_the_protocol(fake_server, tmp_path, closed_port):  # noqa: F811
    request = decision_request(seed=3)
    fake = _answers_as_the_protocol_says(FakeBackend(), request)
    assert (fake.backend, fake.model, fake.cached) == ("fake", "schema-example", False)
    # Ollama: our real HTTP server, spoken to by the official client inside OllamaBackend
    ollama = _answers_as_the_protocol_says(OllamaBackend("schema-example", fake_server().url), request)
    assert ollama.backend == "ollama" and ollama.text == fake.text  # the same backend behind it
    cached = CachedClient(FakeBackend(), ResponseCache(tmp_path / "c.sqlite"), "replay-or-record")
    assert not _answers_as_the_protocol_says(cached, request).cached
    again = _answers_as_the_protocol_says(cached, request)
    assert again.cached and again.text == fake.text
    # No server for these here: the protocol's error, saying what to do, instead of an answer.
    for client in (OpenAIBackend(f"http://127.0.0.1:{closed_port}/v1", "m"), EmbeddedBackend(model_path=tmp_path / "none.gguf")):
        assert isinstance(client, LLMClient)
        for call in (client.check, lambda c=client: c.chat(request)):
            with pytest.raises(LLMUnavailable):
                call()


def test_requests_are_checked_and_frozen():
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}])
    assert request.messages == ({"role": "user", "content": "hi"},) and request.options.max_tokens == 256
    with pytest.raises(ValueError, match="message 0 needs a role"):
        ChatRequest(messages=({"role": "robot", "content": "hi"},))
    with pytest.raises(AttributeError):
        request.tag = "x"


def test_error_kinds():
    assert LLMUnavailable("x").transient and LLMTimeout("x").transient and not LLMBadResponse("x").transient
    assert not LLMUnavailable("x", transient=False).transient
    assert status_error(503, "busy", "h").transient and status_error(429, "slow down", "h").status == 429
    assert not status_error(400, "bad", "h").transient
