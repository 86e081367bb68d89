"""``--max-concurrency auto``: twice the server's parallel slots where it says so, else 8.

The servers are ours: a tiny llama.cpp-like HTTP server answering ``GET /props`` (in this file)
and the Ollama API server over the fake model. No external server, no model.
"""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from llm_fixtures import closed_port  # noqa: F401 (fixture)

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm.concurrency import FALLBACK, Slots, auto_concurrency, is_local
from agentopia_mesa.llm.embedded_backend import EmbeddedBackend
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.ollama_api_server import OllamaAPIServer
from agentopia_mesa.llm.ollama_backend import OllamaBackend
from agentopia_mesa.llm.openai_backend import OpenAIBackend
from agentopia_mesa.llm.settings import LLMSettings, MixEntry
from agentopia_mesa.llm.wiring import resolved_concurrency


class _Props(BaseHTTPRequestHandler):
    """``GET /props`` answers with the server's ``props`` (None: 404, as vLLM)."""

    props: dict | None = None

    def do_GET(self):  # noqa: N802 - http.server's name
        body = json.dumps(self.props).encode() if self.path == "/props" and self.props is not None else None
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def props_server():
    """Start a server answering ``/props`` with the given dict (None: 404); yields its URL maker."""
    servers = []

    def start(props: dict | None) -> str:
        handler = type("Handler", (_Props,), {"props": props})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_llama_cpp_server_reports_its_slots_and_auto_is_twice_them(props_server):
    url = props_server({"total_slots": 3, "model_path": "m.gguf"})
    backend = OpenAIBackend(f"{url}/v1", "m")
    assert backend.slots() == Slots(3, f"total_slots=3 at {url}/props")
    assert auto_concurrency([backend]) == 6
    assert auto_concurrency([backend, backend]) == 6  # one server counted once
    assert auto_concurrency([backend, OpenAIBackend(url, "other")]) == 12  # two clients: their slots add up


@pytest.mark.parametrize("props", [None, {"total_slots": 0}, {"total_slots": "4"}, {"model_path": "m"}])
def test_a_server_that_does_not_say_gets_eight_and_one_warning(props_server, caplog, props):
    backend = OpenAIBackend(props_server(props), "m")
    assert backend.slots().count is None
    with caplog.at_level(logging.WARNING, logger="agentopia_mesa.llm.concurrency"):
        assert auto_concurrency([backend]) == FALLBACK == 8
    [record] = caplog.records
    assert "reports no total_slots" in record.getMessage() and "--max-concurrency N" in record.getMessage()


def test_an_unreachable_server_is_unknown_not_an_error(closed_port):
    assert OpenAIBackend(f"http://127.0.0.1:{closed_port}", "m", timeout_s=2).slots().count is None


def test_ollama_slots_come_from_the_environment_for_local_hosts_only(monkeypatch):
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "4")
    assert OllamaBackend("m", "http://127.0.0.1:11434").slots().count == 4
    assert OllamaBackend("m", ["localhost:1", "http://127.0.0.1:2"]).slots().count == 8
    assert OllamaBackend("m", "http://gpu1:11434").slots().count is None  # not this machine's variable
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "0")
    assert OllamaBackend("m", "http://127.0.0.1:11434").slots().count is None
    monkeypatch.delenv("OLLAMA_NUM_PARALLEL")
    assert "not set here" in OllamaBackend("m", "http://127.0.0.1:11434").slots().source


def test_embedded_knows_its_own_slots_without_loading_the_model():
    backend = EmbeddedBackend(n_parallel=3)
    assert backend.slots().count == 3 and backend._server is None


def test_is_local():
    assert is_local("http://127.0.0.1:11434") and is_local("localhost:1") and is_local("http://[::1]:8000")
    assert not is_local("http://gpu1:11434") and not is_local("http://10.0.0.2")


def test_settings_resolve_auto_only_where_a_server_is_called(monkeypatch):
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "5")
    ollama = LLMSettings(mix=[MixEntry("ollama:m@http://127.0.0.1:1", 1.0)], max_concurrency="auto")
    assert resolved_concurrency(ollama).max_concurrency == 10
    assert resolved_concurrency(LLMSettings(max_concurrency="auto")).max_concurrency == 8  # rules
    fake = LLMSettings(mix=[MixEntry("fake", 1.0)], max_concurrency="auto")
    assert resolved_concurrency(fake).max_concurrency == 8
    replaying = LLMSettings(mix=[MixEntry("ollama:m@http://127.0.0.1:1", 1.0)], max_concurrency="auto",
                            cache_mode="replay")
    assert resolved_concurrency(replaying).max_concurrency == 8  # calls no server
    assert resolved_concurrency(LLMSettings(mix=ollama.mix, max_concurrency=3)).max_concurrency == 3
    with pytest.raises(ValueError, match="--max-concurrency: must be auto or a whole number"):
        LLMSettings(max_concurrency="many")


SMALL = ["run", "--world", "school", "--residents", "3", "--years", "1", "--weeks-per-year", "1", "--seed", "2",
         "--quiet", "--checkpoint-every", "0"]


def test_a_run_records_the_concurrency_it_used(tmp_path, monkeypatch):
    monkeypatch.setenv("OLLAMA_NUM_PARALLEL", "3")
    with OllamaAPIServer(FakeBackend(), model="auto-test:1b") as server:
        assert main([*SMALL, "--out", str(tmp_path / "auto"), "--mind", "llm",
                     "--llm", f"ollama:auto-test:1b@{server.url}"]) == 0
    config = json.loads((tmp_path / "auto" / "config.json").read_text())
    assert config["llm"]["max_concurrency"] == 6  # the number, not "auto": a resumed run keeps it
    assert main([*SMALL, "--out", str(tmp_path / "fake"), "--mind", "llm", "--llm", "fake"]) == 0
    assert json.loads((tmp_path / "fake" / "config.json").read_text())["llm"]["max_concurrency"] == 8


def test_the_flag_takes_auto_or_a_number(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([*SMALL, "--out", str(tmp_path / "x"), "--mind", "llm", "--llm", "fake", "--max-concurrency", "some"])
    assert "must be auto or a whole number" in capsys.readouterr().err
    assert main([*SMALL, "--out", str(tmp_path / "n"), "--mind", "llm", "--llm", "fake", "--max-concurrency", "3"]) == 0
    assert json.loads((tmp_path / "n" / "config.json").read_text())["llm"]["max_concurrency"] == 3
