"""Ollama through the official ``ollama`` Python client, with structured output, tools and several hosts.

Tools go in Ollama's ``tools``; the calls come back in ``message.tool_calls``. Ollama cannot be
relied on to combine a ``format`` schema with tool calls, so a request that offers tools is sent
without its schema (an answer given then is checked by the caller's parser, and a retry has the
tools off); requests without tools (the answer's round) send the schema in ``format`` as ever.
The official client keeps only ``type``, ``items``, ``description`` and ``enum`` of each
parameter (and the ``required`` list): bounds such as ``maxLength`` do not reach the server.

A model whose template has no tools (Gemma 3, ``models/Modelfile.base``, a fine-tune whose family
has no tool-call layout) makes Ollama refuse any request that offers tools ("... does not support
tools", HTTP 400). The backend then asks that model in the JSON convention of the embedded and
fake backends (``llm/json_tools.py``: the tools described in the system message, the rounds as
plain turns, the answer constrained in ``format`` to a call or the answer), and keeps doing so.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Sequence

import httpx
import ollama

from agentopia_mesa.llm.client import (
    ChatRequest, ChatResult, LLMBadResponse, LLMError, LLMOversize, LLMTimeout, LLMUnavailable, ToolCall,
    check_answer_size, status_error,
)
from agentopia_mesa.llm.concurrency import Slots, is_local
from agentopia_mesa.llm.json_tools import as_tool_call, choice_schema, plain_messages, uses_tools
from agentopia_mesa.llm.http_limits import LimitedTransport, ResponseTooLarge, counted_tool_calls
from agentopia_mesa.llm.thinking import split_reasoning

DEFAULT_HOST = "http://127.0.0.1:11434"


def _normalise_host(host: str) -> str:
    return host if "://" in host else f"http://{host}"


def ollama_message(message: dict) -> dict:
    """One of our messages (llm/client.py's forms) as Ollama's /api/chat takes it."""
    if message.get("tool_calls"):
        calls = [{"function": {"name": c["name"], "arguments": c["arguments"]}} for c in message["tool_calls"]]
        return {"role": "assistant", "content": message["content"], "tool_calls": calls}
    if message["role"] == "tool":
        return {"role": "tool", "content": message["content"], "tool_name": message["tool_name"]}
    return message


def _same_model(wanted: str, listed: str) -> bool:
    # Ollama lists "llama3" as "llama3:latest".
    return listed == wanted or (":" not in wanted and listed == f"{wanted}:latest")


class OllamaBackend:
    """Chat with ``model`` on one or more Ollama hosts (round-robin across calls, thread-safe).

    ``hosts``: a host, a list of hosts, or None for ``$OLLAMA_HOST`` or http://127.0.0.1:11434.
    ``timeout_s``: per HTTP request, in all (a server that drips bytes cannot stretch it). ``think``: passed to Ollama for reasoning models if set.
    """

    backend = "ollama"

    def __init__(self, model: str, hosts: str | Sequence[str] | None = None, timeout_s: float = 120.0,
                 think: bool | None = None):
        if isinstance(hosts, str):
            hosts = [hosts]
        hosts = list(hosts or [os.environ.get("OLLAMA_HOST") or DEFAULT_HOST])
        self.model = model
        self.name = f"{self.backend}:{model}"
        self.hosts = [_normalise_host(h) for h in hosts]
        self.timeout_s = timeout_s
        self.think = think
        self._clients = [ollama.Client(host=h, timeout=timeout_s, transport=LimitedTransport(timeout_s))
                         for h in self.hosts]
        self._next = itertools.cycle(range(len(self.hosts)))
        self._lock = threading.Lock()
        self.json_tools = False  # set once Ollama says the model does not support tools (module docstring)

    def _pick(self) -> tuple[str, ollama.Client]:
        with self._lock:
            i = next(self._next)
        return self.hosts[i], self._clients[i]

    def check(self) -> None:
        """Every host must be reachable and have the model pulled."""
        for host, client in zip(self.hosts, self._clients, strict=True):
            listed = self._call(host, client.list).models
            if not any(_same_model(self.model, m.model or "") for m in listed):
                raise LLMUnavailable(
                    f"model {self.model} not found on {host}: run `ollama pull {self.model}`", transient=False)

    def slots(self) -> Slots:
        """The parallel slots of every host together: Ollama's API does not report
        ``OLLAMA_NUM_PARALLEL``, so it is read from our environment when every host is on this
        machine (llm/concurrency.py); otherwise unknown."""
        value = os.environ.get("OLLAMA_NUM_PARALLEL", "").strip()
        if not all(is_local(host) for host in self.hosts):
            return Slots(None, "Ollama does not report its parallel slots (OLLAMA_NUM_PARALLEL) through its API")
        if not value.isdigit() or int(value) < 1:
            return Slots(None, "Ollama does not report its parallel slots through its API, and OLLAMA_NUM_PARALLEL "
                               "is not set here")
        return Slots(int(value) * len(self.hosts), f"OLLAMA_NUM_PARALLEL={value} x {len(self.hosts)} host(s)")

    def chat(self, request: ChatRequest) -> ChatResult:
        """One non-streaming chat call; the JSON schema goes in ``format``, or the tools in ``tools``
        (see the module docstring)."""
        host, client = self._pick()
        start = time.perf_counter()
        if self.json_tools and uses_tools(request):
            response = self._ask(host, client, request, json_tools=True)
        else:
            try:
                response = self._ask(host, client, request, json_tools=False)
            except LLMError as exc:
                if not (request.tools and exc.status == 400 and "does not support tools" in str(exc)):
                    raise
                self.json_tools = True
                response = self._ask(host, client, request, json_tools=True)
        calls = tuple(ToolCall(c.function.name, dict(c.function.arguments))
                      for c in counted_tool_calls(response.message.tool_calls, host))  # counted before any is read
        reasoning, text = split_reasoning(response.message.content or "")
        if self.json_tools and request.tools:
            call = as_tool_call(text, request.tools)
            calls, text = ((call,), "") if call else (calls, text)
        return check_answer_size(ChatResult(
            text=text,
            prompt_tokens=response.prompt_eval_count or 0,
            completion_tokens=response.eval_count or 0,
            latency_s=time.perf_counter() - start,
            model=self.model,
            backend=self.backend,
            tool_calls=calls,
            truncated=response.done_reason == "length",
            reasoning=(getattr(response.message, "thinking", None) or reasoning or "").strip(),
        ), f"Ollama at {host}")

    def _ask(self, host: str, client: ollama.Client, request: ChatRequest, json_tools: bool):
        """Ollama's answer to ``request``: with its tools in ``tools``, or in the JSON convention."""
        o = request.options
        options = {"temperature": o.temperature, "seed": o.seed, "num_predict": o.max_tokens, "top_p": o.top_p}
        if json_tools:
            messages = plain_messages(request)
            tools, schema = None, choice_schema(request.tools, request.schema) if request.tools else request.schema
        else:
            messages = [ollama_message(m) for m in request.messages]
            tools, schema = list(request.tools) or None, None if request.tools else request.schema
        return self._call(host, client.chat, model=self.model, messages=messages, tools=tools, format=schema,
                          options={k: v for k, v in options.items() if v is not None},
                          think=self.think if o.think is None else o.think > 0, stream=False)

    def _call(self, host: str, fn, **kwargs):
        """Run one client call, translating the client's and httpx's errors into ours."""
        try:
            return fn(**kwargs)
        except ConnectionError:
            raise LLMUnavailable(
                f"Ollama is not reachable at {host}: start it with `ollama serve` or pass --llm embedded") from None
        except httpx.TimeoutException:
            raise LLMTimeout(f"Ollama at {host} did not answer within {self.timeout_s:g} s: "
                             "use a smaller model, fewer parallel calls or a longer timeout") from None
        except ResponseTooLarge as exc:
            raise LLMOversize(f"Ollama at {host}: {exc}") from None
        except httpx.TransportError as exc:
            raise LLMUnavailable(f"the connection to Ollama at {host} failed ({type(exc).__name__}: {exc}); "
                                 "is the server restarting?") from None
        except ollama.ResponseError as exc:
            if exc.status_code == 404 and "not found" in str(exc.error):
                raise LLMUnavailable(f"model {self.model} not found on {host}: run `ollama pull {self.model}`",
                                     status=404, transient=False) from None
            raise status_error(exc.status_code, str(exc.error), f"Ollama at {host}") from None
        except ValueError as exc:  # an unreadable body (JSON or pydantic validation)
            raise LLMBadResponse(f"Ollama at {host} sent a body we cannot read: {str(exc).splitlines()[0]}") from None
