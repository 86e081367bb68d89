"""The embedded backend: the real Gemma 3 270M in-process through xllamacpp."""

import sys

import jsonschema
import pytest
from llm_fixtures import DECISION_SCHEMA, decision_request, parse_decision
from llm_fixtures import embedded_backend  # noqa: F401 (fixtures)

from agentopia_mesa.llm import LLMBadResponse, LLMUnavailable
from agentopia_mesa.llm.client import ChatRequest
from agentopia_mesa.llm.embedded_backend import EXTRA_HINT, EmbeddedBackend, cache_dir, gemma_path


@pytest.mark.slow
def test_schema_valid_json_and_determinism(embedded_backend):  # noqa: F811
    first = embedded_backend.chat(decision_request(seed=1))
    jsonschema.validate(parse_decision(first.text), DECISION_SCHEMA)
    assert (first.backend, first.model) == ("embedded", "gemma3:270m")
    assert first.prompt_tokens > 20 and 0 < first.completion_tokens <= 64
    assert embedded_backend.chat(decision_request(seed=1)).text == first.text


@pytest.mark.slow
def test_one_loaded_model_per_process(embedded_backend):  # noqa: F811
    assert EmbeddedBackend(n_ctx=2048).server is embedded_backend.server
    assert gemma_path().parent == cache_dir()


@pytest.mark.slow
def test_prompt_longer_than_the_context_is_a_clear_error(embedded_backend):  # noqa: F811
    request = ChatRequest(messages=({"role": "user", "content": "word " * 3000},), tag="review/Ana/Y1-W1")
    with pytest.raises(LLMBadResponse, match="exceeds the available context size.*raise n_ctx"):
        embedded_backend.chat(request)


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENTOPIA_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path


def test_missing_model_file_says_so(tmp_path):
    with pytest.raises(LLMUnavailable, match="does not exist"):
        EmbeddedBackend(model_path=tmp_path / "nope.gguf").check()


def test_missing_extra_names_the_install_command(monkeypatch, tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # as if the extra were not installed
    with pytest.raises(LLMUnavailable) as err:
        EmbeddedBackend(model_path=model).check()
    assert str(err.value) == EXTRA_HINT == "the embedded model needs the extra: pip install 'agentopia-mesa[embedded]'"
    assert not err.value.transient
