"""OpenAIBackend against a real OpenAI-compatible server: llama.cpp's own HTTP server, which the
embedded xllamacpp model starts at ``listening_address``."""

import httpx
import jsonschema
import pytest
from llm_fixtures import DECISION_SCHEMA, decision_request, parse_decision
from llm_fixtures import closed_port, embedded_backend  # noqa: F401 (fixtures)

from agentopia_mesa.llm import LLMUnavailable
from agentopia_mesa.llm.openai_backend import OpenAIBackend, api_base


@pytest.fixture(scope="module")
def llama_server(embedded_backend):  # noqa: F811
    """(base URL, served model id) of llama.cpp's OpenAI-compatible server."""
    url = embedded_backend.server.listening_address
    return url, httpx.get(f"{url}/v1/models").json()["data"][0]["id"]


@pytest.mark.slow
def test_chat_with_json_schema_response_format(llama_server):
    url, model = llama_server
    backend = OpenAIBackend(url, model)
    backend.check()
    result = backend.chat(decision_request(seed=21))
    jsonschema.validate(parse_decision(result.text), DECISION_SCHEMA)
    assert (result.backend, result.model) == ("openai", model)
    assert result.prompt_tokens > 20 and result.completion_tokens > 0


@pytest.mark.slow
def test_check_lists_the_served_models_when_ours_is_missing(llama_server):
    url, model = llama_server
    with pytest.raises(LLMUnavailable, match="model qwen3:4b is not served at .*it serves: .*gguf"):
        OpenAIBackend(url, "qwen3:4b").check()


def test_unreachable_server_says_so(closed_port):  # noqa: F811
    backend = OpenAIBackend(f"http://127.0.0.1:{closed_port}/v1", "m")
    with pytest.raises(LLMUnavailable, match=f"server at http://127.0.0.1:{closed_port}/v1 is not reachable"):
        backend.check()
    with pytest.raises(LLMUnavailable):
        backend.chat(decision_request())


def test_api_base_adds_v1_to_a_bare_address():
    assert api_base("http://localhost:8000") == "http://localhost:8000/v1"
    assert api_base("http://localhost:8000/") == "http://localhost:8000/v1"
    assert api_base("https://host/api/v1/") == "https://host/api/v1"
