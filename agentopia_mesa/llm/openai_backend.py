"""OpenAI-compatible servers (vLLM, llama.cpp server, LM Studio) via ``/v1/chat/completions``.

Tools go in ``tools`` with ``tool_choice: "auto"``; the calls come back in
``choices[0].message.tool_calls``, their arguments a JSON string. As with Ollama, a request that
offers tools goes without ``response_format``: servers that constrain the answer to the schema
(vLLM, llama.cpp) would leave the model no way to call a tool. The answer's round, tools off,
sends the schema as ever.
"""

from __future__ import annotations

import json
import os
import time
from urllib.parse import urlsplit

import httpx

from agentopia_mesa.llm.client import (
    ChatRequest, ChatResult, LLMBadResponse, LLMOversize, LLMTimeout, LLMUnavailable, ToolCall, check_answer_size,
    status_error,
)
from agentopia_mesa.llm.concurrency import Slots
from agentopia_mesa.llm.http_limits import LimitedTransport, ResponseTooLarge, counted_tool_calls
from agentopia_mesa.llm.thinking import split_reasoning


def api_base(url: str) -> str:
    """The API base for ``url``: a bare server address gets "/v1" (http://h:8000 -> http://h:8000/v1)."""
    url = url.rstrip("/")
    return url if urlsplit(url).path else f"{url}/v1"


def openai_message(message: dict) -> dict:
    """One of our messages (llm/client.py's forms) as the chat completions API takes it."""
    if message.get("tool_calls"):
        calls = [{"id": c.get("id", ""), "type": "function",
                  "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
                 for c in message["tool_calls"]]
        return {"role": "assistant", "content": message["content"], "tool_calls": calls}
    if message["role"] == "tool":
        return {"role": "tool", "content": message["content"], "tool_call_id": message.get("tool_call_id", "")}
    return message


class OpenAIBackend:
    """Chat with ``model`` at ``base_url`` (e.g. http://127.0.0.1:8000/v1); thread-safe.

    The JSON schema goes in ``response_format`` as ``{"type": "json_schema", ...}``.
    ``api_key`` defaults to ``$OPENAI_API_KEY`` (local servers usually need none).
    """

    backend = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 120.0):
        self.base_url = api_base(base_url)
        self.model = model
        self.name = f"{self.backend}:{model}"
        self.timeout_s = timeout_s
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # timeout_s is a total deadline per request: a server that drips bytes cannot stretch it.
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, headers=headers,
                                  transport=LimitedTransport(timeout_s))

    def check(self) -> None:
        """The server must answer ``/models``; if it lists models, ours must be among them."""
        served = [m.get("id") for m in self._request("GET", "/models").get("data", [])]
        if served and self.model not in served:
            raise LLMUnavailable(f"model {self.model} is not served at {self.base_url} "
                                 f"(it serves: {', '.join(map(str, served))}): pass one of those names",
                                 transient=False)

    def slots(self) -> Slots:
        """The server's parallel slots where it reports them: llama.cpp's server gives
        ``total_slots`` at ``GET /props`` (beside ``/v1``); vLLM and others do not (unknown)."""
        url = f"{self.server_url}/props"
        try:
            response = self._http.get(url)
            total = response.json().get("total_slots") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            total = None
        if isinstance(total, int) and not isinstance(total, bool) and total >= 1:
            return Slots(total, f"total_slots={total} at {url}")
        return Slots(None, f"{url} reports no total_slots (llama.cpp's server does; vLLM does not report its "
                           "--max-num-seqs)")

    @property
    def server_url(self) -> str:
        """The server's address without the API path (http://h:8000/v1 -> http://h:8000)."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def chat(self, request: ChatRequest) -> ChatResult:
        """One chat completion; reads the first choice (its text or tool calls) and the ``usage``
        token counts."""
        o = request.options
        body = {"model": self.model, "messages": [openai_message(m) for m in request.messages],
                "temperature": o.temperature, "max_tokens": o.max_tokens, "seed": o.seed, "top_p": o.top_p}
        if o.think is not None:  # vLLM, SGLang and llama.cpp pass these to the chat template (Qwen3's reads it)
            body["chat_template_kwargs"] = {"enable_thinking": o.think > 0}
        if request.tools:
            body.update(tools=list(request.tools), tool_choice="auto")
        elif request.schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": request.schema, "strict": True}}
        start = time.perf_counter()
        data = self._request("POST", "/chat/completions", json={k: v for k, v in body.items() if v is not None})
        try:
            choice = data["choices"][0]
            message = choice["message"]
            calls = message.get("tool_calls") or []
            text = message["content"] if not calls else message.get("content")
            thought = message.get("reasoning_content") or message.get("reasoning") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LLMBadResponse(f"{self.base_url} sent a completion without choices[0].message.content: "
                                 f"{str(data)[:200]}") from None
        usage = data.get("usage") or {}
        inline, text = split_reasoning(text or "")
        return check_answer_size(ChatResult(text=text, prompt_tokens=usage.get("prompt_tokens", 0),
                                            completion_tokens=usage.get("completion_tokens", 0),
                                            latency_s=time.perf_counter() - start, model=self.model,
                                            backend=self.backend, tool_calls=self._tool_calls(calls),
                                            truncated=choice.get("finish_reason") == "length",
                                            reasoning=(str(thought) or inline).strip()),
                                 self.base_url)

    def _tool_calls(self, calls: list) -> tuple[ToolCall, ...]:
        """The completion's ``tool_calls``, their JSON-string arguments read (a dict is taken as is)."""
        out = []
        for call in counted_tool_calls(calls, self.base_url):  # counted before any is read
            try:
                function = call["function"]
                arguments = function.get("arguments") or {}
                arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
                if not isinstance(arguments, dict):
                    raise ValueError("not a JSON object")
                out.append(ToolCall(function["name"], arguments, call.get("id") or ""))
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                raise LLMBadResponse(f"{self.base_url} sent a tool call we cannot read ({exc}): "
                                     f"{str(call)[:200]}") from None
        return tuple(out)

    def _request(self, method: str, path: str, **kwargs) -> dict:
        where = f"{self.base_url}{path}"
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise LLMTimeout(f"{where} did not answer within {self.timeout_s:g} s") from None
        except ResponseTooLarge as exc:
            raise LLMOversize(f"{where}: {exc}") from None
        except httpx.TransportError as exc:
            raise LLMUnavailable(f"the OpenAI-compatible server at {self.base_url} is not reachable "
                                 f"({type(exc).__name__}): start it or fix the URL") from None
        if response.status_code >= 400:
            raise status_error(response.status_code, response.text[:300], where)
        try:
            return response.json()
        except ValueError:
            raise LLMBadResponse(f"{where} sent a body that is not JSON: {response.text[:200]!r}") from None
