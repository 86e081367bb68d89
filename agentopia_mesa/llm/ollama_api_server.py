"""A small server that speaks the Ollama HTTP API, backed by any object with ``chat(ChatRequest)``.

No Ollama binary can be installed on some machines (CI included), yet the Ollama code path
should run for real: the official ``ollama`` client talks to this server, which answers with the
embedded model (or a fake one). It is a test double for the wire protocol, not Ollama: streaming
splits the finished answer into token-like chunks; ``tools`` are passed through to the backend's
request and its tool calls come back in ``message.tool_calls`` (the backend decides how to call
them: llm/json_tools.py for the embedded and fake ones); an answer the backend cut at
``num_predict`` ends with ``done_reason: "length"``, and a backend's reasoning comes back in
``message.thinking`` (``think: false`` in the request turns it off); pulling is not emulated.

Fault injection (``ServerFaults``) lets tests and benchmarks add latency, limit parallel slots,
fail, drop or hang the first calls and truncate answers.

Run it by hand: ``python -m agentopia_mesa.llm.ollama_api_server --port 11434 --spec embedded``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agentopia_mesa.llm.client import ChatOptions, ChatRequest, ChatResult, LLMError

VERSION = "0.0.0-agentopia-shim"


@dataclass
class ServerFaults:
    """Misbehaviour on purpose. Counts refer to chat/generate calls in arrival order (1-based),
    each fault counted from the first call independently.

    ``latency_s`` (+ up to ``jitter_s`` random, seeded) is spent inside a slot; ``slots`` caps how
    many calls are answered at once (None: unlimited), like OLLAMA_NUM_PARALLEL; the first
    ``fail_first`` calls get HTTP ``fail_status``; the first ``drop_first`` calls get the
    connection closed with no answer; the first ``hang_first`` calls get no answer at all until
    the server stops (a hung server); the first ``truncate_first`` answers lose their second half.
    """

    latency_s: float = 0.0
    jitter_s: float = 0.0
    slots: int | None = None
    fail_first: int = 0
    fail_status: int = 500
    drop_first: int = 0
    hang_first: int = 0
    truncate_first: int = 0
    seed: int = 0


@dataclass
class ServerStats:
    """What the server saw: chat/generate ``calls``, and the most calls ever in flight at once."""

    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def chunks(text: str) -> list[str]:
    """``text`` in token-like pieces (words, single punctuation marks) for streaming; they join back to it."""
    return re.findall(r"\s*(?:\w+|[^\w\s])|\s+\Z", text) or [""]


class OllamaAPIServer:
    """Serve ``backend`` as Ollama model ``model`` (default ``backend.model``) on ``host:port``
    (port 0 picks a free one; see ``url``). Use ``with OllamaAPIServer(...) as server:`` or
    ``start()`` / ``stop()``. ``details`` fills the model details of /api/tags and /api/show.
    ``tools=False`` serves a model whose template has no tools, as Ollama does one: a chat that
    offers tools is refused with HTTP 400 "... does not support tools"."""

    def __init__(self, backend, model: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 faults: ServerFaults | None = None, details: dict | None = None, tools: bool = True):
        self.backend = backend
        self.tools = tools
        self.model = model or backend.model
        self.faults = faults or ServerFaults()
        self.details = {"format": "gguf", "family": self.model.split(":")[0], "parameter_size": "",
                        "quantization_level": "", **(details or {})}
        self.stats = ServerStats()
        self._address = (host, port)
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.faults.slots) if self.faults.slots else None
        self._rng = random.Random(self.faults.seed)
        self._stopping = threading.Event()  # wakes the hung calls
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:43117 (pass it as the ollama client's host)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> OllamaAPIServer:
        """Start serving in a background thread; returns self."""
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"api": self})
        self._httpd = _HTTPServer(self._address, handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="ollama-api-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = None

    def __enter__(self) -> OllamaAPIServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def model_entry(self) -> dict:
        """The model as /api/tags lists it."""
        return {"name": self.model, "model": self.model, "modified_at": _now(), "size": 0,
                "digest": "0" * 64, "details": self.details}

    def answer(self, request: ChatRequest) -> tuple[str, ChatResult | None]:
        """Apply the faults and ask the backend: ("ok", result), or ("fail" | "drop", None)."""
        with self._lock:
            self.stats.calls += 1
            n = self.stats.calls
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            delay = self.faults.latency_s + self._rng.uniform(0, self.faults.jitter_s)
        try:
            if n <= self.faults.hang_first:
                self._stopping.wait()
                return "drop", None
            if n <= self.faults.drop_first:
                return "drop", None
            if n <= self.faults.fail_first:
                return "fail", None
            if self._slots:
                self._slots.acquire()
            try:
                time.sleep(delay)
                result = self.backend.chat(request)
            finally:
                if self._slots:
                    self._slots.release()
            if n <= self.faults.truncate_first:
                result = replace(result, text=result.text[: len(result.text) // 2])
            return "ok", result
        finally:
            with self._lock:
                self.stats.in_flight -= 1


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many residents connect at once

    def handle_error(self, request, client_address) -> None:
        # A client that timed out and hung up is normal here; anything else is a bug worth a trace.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def our_message(message: dict) -> dict:
    """An Ollama chat message in our form (llm/client.py): tool calls and tool results included."""
    ours = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("tool_calls"):
        ours["tool_calls"] = [{"name": c["function"]["name"], "arguments": c["function"].get("arguments") or {},
                               "id": c.get("id") or ""} for c in message["tool_calls"]]
    if message["role"] == "tool":
        ours["tool_name"] = message.get("tool_name") or ""
    return ours


def chat_request(body: dict, messages: list[dict]) -> ChatRequest:
    """Our request from an Ollama /api/chat or /api/generate body (``format``, ``options``, ``tools``)."""
    fmt = body.get("format")
    schema = fmt if isinstance(fmt, dict) else ({"type": "object"} if fmt == "json" else None)
    opts = body.get("options") or {}
    return ChatRequest(
        messages=tuple(our_message(m) for m in messages),
        schema=schema,
        options=ChatOptions(temperature=opts.get("temperature", 0.8), seed=opts.get("seed"),
                            max_tokens=opts.get("num_predict") or 512, top_p=opts.get("top_p"),
                            think=None if body.get("think") in (None, True) else 0),
        tag="ollama-api",
        tools=tuple(body.get("tools") or ()),
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would add ~40 ms
    api: OllamaAPIServer

    def log_message(self, format, *args) -> None:  # quiet: tests and benchmarks read stdout
        pass

    def _send(self, status: int, payload: dict | str) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if isinstance(payload, dict) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        routes = {"/": "Ollama is running", "/api/version": {"version": VERSION},
                  "/api/tags": {"models": [self.api.model_entry()]}, "/api/ps": {"models": []}}
        if self.path in routes:
            self._send(200, routes[self.path])
        else:
            self._send(404, {"error": f"{self.path} not found"})

    def do_POST(self) -> None:
        try:
            body = self._body()
        except ValueError as exc:
            return self._send(400, {"error": f"invalid JSON body: {exc}"})
        if self.path not in ("/api/show", "/api/chat", "/api/generate"):
            return self._send(404, {"error": f"{self.path} not found"})
        model = body.get("model") or body.get("name") or ""
        if model != self.api.model:
            return self._send(404, {"error": f"model '{model}' not found"})
        if self.path == "/api/show":
            return self._send(200, {"modelfile": "", "parameters": "", "template": "", "details": self.api.details,
                                    "model_info": {}, "capabilities": ["completion", *(["tools"] if self.api.tools else [])],
                                    "modified_at": _now()})
        if body.get("tools") and not self.api.tools:
            return self._send(400, {"error": f"registry.ollama.ai/library/{model} does not support tools"})
        self._generate(body, chat=self.path == "/api/chat")

    def _generate(self, body: dict, chat: bool) -> None:
        if chat:
            messages = body.get("messages") or []
        else:
            messages = [{"role": "user", "content": body.get("prompt", "")}]
            if body.get("system"):
                messages.insert(0, {"role": "system", "content": body["system"]})
        try:
            status, result = self.api.answer(chat_request(body, messages))
        except LLMError as exc:  # a transient failure is the server's problem, anything else the request's
            return self._send(500 if exc.transient else 400, {"error": str(exc)})
        except (ValueError, KeyError) as exc:
            return self._send(400, {"error": f"bad request: {exc}"})
        if status == "drop":
            self.close_connection = True
            return
        if status == "fail":
            return self._send(self.api.faults.fail_status, {"error": "injected failure"})
        base = {"model": self.api.model, "created_at": _now()}
        final = {"done": True, "done_reason": "length" if result.truncated else "stop",
                 "total_duration": int(result.latency_s * 1e9),
                 "prompt_eval_count": result.prompt_tokens, "eval_count": result.completion_tokens}

        def piece(text: str, calls: tuple = (), thinking: str = "") -> dict:
            if not chat:
                return {"response": text, **({"thinking": thinking} if thinking else {})}
            message = {"role": "assistant", "content": text, **({"thinking": thinking} if thinking else {})}
            if calls:
                message["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in calls]
            return {"message": message}

        if body.get("stream", True):  # Ollama streams unless told not to; tool calls come in a chunk of their own
            lines = [{**base, **piece("", thinking=result.reasoning), "done": False}] if result.reasoning else []
            lines += [{**base, **piece(c), "done": False} for c in chunks(result.text)]
            if result.tool_calls:
                lines.append({**base, **piece("", result.tool_calls), "done": False})
            self._stream([*lines, {**base, **piece(""), **final}])
        else:
            self._send(200, {**base, **piece(result.text, result.tool_calls, result.reasoning), **final})

    def _stream(self, lines: list[dict]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for line in lines:
            self.wfile.write(json.dumps(line).encode() + b"\n")
            self.wfile.flush()


def main(argv: list[str] | None = None) -> None:
    """Serve a backend spec (default: the embedded model) as Ollama until Ctrl-C."""
    from agentopia_mesa.llm.factory import make_backend

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="embedded", help="backend spec, e.g. embedded or fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    args = parser.parse_args(argv)
    with OllamaAPIServer(make_backend(args.spec), host=args.host, port=args.port) as server:
        print(f"serving {server.model} as Ollama at {server.url} (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
