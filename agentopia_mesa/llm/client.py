"""The LLM client protocol: one chat call, typed request and result, errors that say what to do.

Every backend (Ollama, embedded llama.cpp, OpenAI-compatible, fake, replay) implements
``LLMClient``; the cache and the dispatcher wrap any of them. A backend is identified by
``backend`` (its kind, e.g. "ollama") and ``model`` (e.g. "qwen3:4b"); ``name`` is
"backend:model" and is what trajectories record.

Tool calls (llm/tools.py runs the rounds): a request may offer ``tools`` (OpenAI-style function
specs); the model then answers either with text or with ``ChatResult.tool_calls``. The rounds go
into the messages in one backend-neutral form, which each backend translates to its wire format:

- ``{"role": "assistant", "content": str, "tool_calls": [{"name", "arguments": dict, "id"}, ...]}``
- ``{"role": "tool", "content": str, "tool_name": str, "tool_call_id": str}`` (the id may be absent)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

ROLES = ("system", "user", "assistant", "tool")

#: The most characters of one answer. A longer answer is a failed call ("oversize"): it is never
#: parsed, cached or written to decisions.jsonl. Decisions need a few hundred characters.
MAX_ANSWER_CHARS = 64 * 1024


@dataclass(frozen=True)
class ChatOptions:
    """Sampling options. ``temperature`` >= 0 (0 is greedy); ``max_tokens`` caps the answer (the
    reasoning of a thinking model included, as servers count it). ``think``: a thinking model's
    reasoning: None leaves it to the server (nothing is sent), 0 turns it off, N > 0 turns it on
    (``max_tokens`` then holds N tokens of reasoning besides the answer; llm/thinking.py)."""

    temperature: float = 0.7
    seed: int | None = None
    max_tokens: int = 256
    top_p: float | None = None
    think: int | None = None

    def key_fields(self) -> dict:
        """The options that identify a request (cache and site keys): every field, except those
        added later while they hold their defaults, so keys recorded before they existed still match."""
        fields = dict(vars(self))
        if fields["think"] is None:
            del fields["think"]
        return fields


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for: the tool's ``name``, its ``arguments`` (a JSON object) and the
    backend's call ``id`` ("" if the backend gives none)."""

    name: str
    arguments: dict
    id: str = ""

    def as_message_part(self) -> dict:
        """The call as it goes into an assistant message's ``tool_calls``."""
        return {"name": self.name, "arguments": self.arguments, "id": self.id}


def _message_error(message: dict) -> str | None:
    """Why ``message`` is not a valid chat message, or None (see the module docstring)."""
    if message.get("role") not in ROLES or not isinstance(message.get("content"), str):
        return f"a role in {ROLES} and a string content"
    calls = message.get("tool_calls")
    if calls is not None and (message["role"] != "assistant" or not isinstance(calls, (list, tuple)) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("arguments"), dict)
            for c in calls)):
        return 'tool_calls only on an assistant message, each {"name": str, "arguments": dict}'
    if message["role"] == "tool" and not isinstance(message.get("tool_name"), str):
        return "a tool_name (a string) on a tool message"
    return None


@dataclass(frozen=True)
class ChatRequest:
    """One chat call: ``messages`` ({"role", "content"} dicts, plus the tool-round forms of the
    module docstring), an optional JSON ``schema`` the answer must follow (constrained decoding
    where the backend supports it), ``options``, the ``tools`` offered on this call (OpenAI-style
    ``{"type": "function", "function": {"name", "description", "parameters"}}`` specs; none by
    default) and a ``tag`` naming the call site (e.g. "plan/Ana Lopez/Y2020-W03") for logs and
    cache misses."""

    messages: tuple[dict, ...]
    schema: dict | None = None
    options: ChatOptions = field(default_factory=ChatOptions)
    tag: str = ""
    tools: tuple[dict, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        object.__setattr__(self, "tools", tuple(self.tools))
        for i, message in enumerate(self.messages):
            if (why := _message_error(message)) is not None:
                raise ValueError(f"message {i} needs {why}, got {message!r}")
        for i, tool in enumerate(self.tools):
            if not isinstance(tool, dict) or not isinstance((tool.get("function") or {}).get("name"), str):
                raise ValueError(f'tool {i} needs the form {{"type": "function", "function": {{"name": ...}}}}, '
                                 f"got {tool!r}")


@dataclass(frozen=True)
class ChatResult:
    """The answer ``text`` (raw, unparsed), token counts, wall-clock ``latency_s`` of the call,
    which ``model`` and ``backend`` answered, whether it came from the cache, and the
    ``tool_calls`` the model asked for instead of answering (empty for a text answer). Tool calls
    given as dicts (``asdict`` of a result, read back from JSON) are turned into ``ToolCall``.
    ``truncated``: the server stopped at ``max_tokens`` (Ollama ``done_reason``, OpenAI
    ``finish_reason`` "length"), so the text may be cut; ``reasoning``: a thinking model's
    reasoning, kept apart from the answer (recorded; sent back only to the call that compacts it, stages/compaction.py)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    model: str
    backend: str
    cached: bool = False
    tool_calls: tuple[ToolCall, ...] = ()
    truncated: bool = False
    reasoning: str = ""

    def __post_init__(self) -> None:
        calls = tuple(c if isinstance(c, ToolCall) else ToolCall(**c) for c in self.tool_calls)
        object.__setattr__(self, "tool_calls", calls)

    def record(self) -> dict:
        """As JSON-able data (``ChatResult(**record)`` reads it back); ``truncated`` and
        ``reasoning`` only when set, so records of answers that have neither read as before."""
        data = asdict(self)
        for name in ("truncated", "reasoning"):
            if not data[name]:
                del data[name]
        return data


@runtime_checkable
class LLMClient(Protocol):
    """Anything that answers chat requests."""

    name: str

    def chat(self, request: ChatRequest) -> ChatResult:
        """Answer one request; raises an ``LLMError`` subclass on failure."""
        ...

    def check(self) -> None:
        """Raise ``LLMUnavailable`` with a one-line, actionable message if chat cannot work."""
        ...


class LLMError(Exception):
    """Base of every error the LLM layer raises. ``transient`` errors are worth retrying later
    (the dispatcher backs off and retries them); ``status`` is the HTTP status if there was one."""

    transient = False

    def __init__(self, message: str, *, status: int | None = None, transient: bool | None = None):
        super().__init__(message)
        self.status = status
        if transient is not None:
            self.transient = transient


class LLMUnavailable(LLMError):
    """The backend cannot be reached or cannot serve this model."""

    transient = True


class LLMTimeout(LLMError):
    """The backend did not answer in time."""

    transient = True


class LLMBadResponse(LLMError):
    """The backend answered with an error status or a body we cannot read."""


class LLMOversize(LLMBadResponse):
    """The answer was longer than ``MAX_ANSWER_CHARS`` (or its HTTP body too large)."""


def check_answer_size(result: ChatResult, where: str) -> ChatResult:
    """``result`` if its text and tool calls' arguments (as JSON) are at most ``MAX_ANSWER_CHARS``
    together; else raise ``LLMOversize``."""
    size = len(result.text) + sum(len(json.dumps(c.arguments)) for c in result.tool_calls)
    if size > MAX_ANSWER_CHARS:
        raise LLMOversize(f"{where} sent an answer of {size} characters; at most {MAX_ANSWER_CHARS} "
                          "are accepted")
    return result


class CacheMiss(LLMError):
    """Replay mode found no recorded answer for a request."""


def status_error(status: int, detail: str, where: str) -> LLMError:
    """The error for an HTTP error ``status`` from ``where``: 429 and 5xx are transient."""
    transient = status == 429 or status >= 500
    hint = "; the server is busy or failing, retry later" if transient else ""
    return LLMBadResponse(f"{where} answered HTTP {status}: {detail}{hint}", status=status, transient=transient)

