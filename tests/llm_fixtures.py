"""Fixtures and helpers for the LLM layer's tests (import the fixtures you use into the test module).

No mocks: the embedded model is the real Gemma 3 270M in-process, the Ollama API is our real
HTTP server, and the fake backend is a real class that makes up schema-valid answers.
"""

from __future__ import annotations

import json

import pytest
from prerequisites import require_embedded

from agentopia_mesa.llm.client import ChatOptions, ChatRequest
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.ollama_api_server import OllamaAPIServer, ServerFaults

# A decision the size of the simulation's: an enum and a short free-text reason.
DECISION_SCHEMA = {
    "type": "object",
    "properties": {
        "action": {"type": "string", "enum": ["work", "rest", "socialize", "study"]},
        "reason": {"type": "string", "maxLength": 40},
    },
    "required": ["action", "reason"],
    "additionalProperties": False,
}
DECISION_MESSAGES = (
    {"role": "system", "content": "You are Ana Lopez, a nurse in a small town. Reply only with JSON: "
                                  '{"action": "work" | "rest" | "socialize" | "study", "reason": "..."}'},
    {"role": "user", "content": "It is Monday. Your vitality is 35/100 and your social need is 80/100. "
                                "What do you do today?"},
)
GEMMA_DETAILS = {"family": "gemma3", "parameter_size": "268M", "quantization_level": "Q4_K_M"}


def decision_request(seed: int = 7, tag: str = "plan/Ana Lopez/Y2020-W03", max_tokens: int = 64) -> ChatRequest:
    """The standard decision request used across the LLM tests."""
    return ChatRequest(messages=DECISION_MESSAGES, schema=DECISION_SCHEMA,
                       options=ChatOptions(temperature=0.7, seed=seed, max_tokens=max_tokens), tag=tag)


def parse_decision(text: str) -> dict:
    """Parse like a mind does: JSON that follows DECISION_SCHEMA, else raise."""
    value = json.loads(text)
    if not isinstance(value, dict) or value.get("action") not in DECISION_SCHEMA["properties"]["action"]["enum"]:
        raise ValueError(f"action must be one of the enum, got {value!r}")
    return value


@pytest.fixture(scope="session")
def embedded_backend():
    """The real embedded model, loaded once per test session."""
    require_embedded()  # skips on a machine without the extra; fails under CI=true
    from agentopia_mesa.llm.embedded_backend import EmbeddedBackend

    backend = EmbeddedBackend(n_ctx=2048)
    backend.check()  # loads it
    return backend


@pytest.fixture(scope="session")
def embedded_ollama(embedded_backend):
    """Our Ollama API server in front of the embedded model, for the official client."""
    with OllamaAPIServer(embedded_backend, details=GEMMA_DETAILS) as server:
        yield server


@pytest.fixture
def fake_server():
    """Start an Ollama API server over a ``FakeBackend``: ``fake_server(backend=..., tools=..., **faults)``."""
    servers = []

    def start(backend=None, tools: bool = True, **faults) -> OllamaAPIServer:
        server = OllamaAPIServer(backend or FakeBackend(), faults=ServerFaults(**faults), tools=tools).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening on it."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record_in_process(path: str, worker: int, n: int) -> dict[int, str]:
    """Worker for the multi-process cache test: record ``n`` shared and ``n`` private answers."""
    from agentopia_mesa.llm.cache import CachedClient, ResponseCache

    client = CachedClient(FakeBackend(), ResponseCache(path), "replay-or-record")
    seeds = [*range(n), *range(1000 * (worker + 1), 1000 * (worker + 1) + n)]
    return {seed: client.chat(decision_request(seed=seed)).text for seed in seeds}


def open_cache_at(path: str, start: float) -> str:
    """Worker for the cache-opening race: wait until ``start`` (time.time), then open ``path``;
    "ok" or the error's text."""
    import time

    from agentopia_mesa.llm.cache import ResponseCache

    while time.time() < start:
        pass
    try:
        ResponseCache(path).close()
    except ValueError as exc:
        return str(exc)
    return "ok"
