"""The LLM client protocol: one chat call, typed request and result, errors that say what to do.

Every backend (Ollama, embedded llama.cpp, OpenAI-compatible, fake, replay) implements
``LLMClient``; the cache and the dispatcher wrap any of them. A backend is identified by
``backend`` (its kind, e.g. "ollama") and ``model`` (e.g. "qwen3:4b"); ``name`` is
"backend:model" and is what trajectories record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

ROLES = ("system", "user", "assistant")

#: The most characters of one answer. A longer answer is a failed call ("oversize"): it is never
#: parsed, cached or written to decisions.jsonl. Decisions need a few hundred characters.
MAX_ANSWER_CHARS = 64 * 1024


@dataclass(frozen=True)
class ChatOptions:
    """Sampling options. ``temperature`` >= 0 (0 is greedy); ``max_tokens`` caps the answer."""

    temperature: float = 0.7
    seed: int | None = None
    max_tokens: int = 256
    top_p: float | None = None


@dataclass(frozen=True)
class ChatRequest:
    """One chat call: ``messages`` ({"role", "content"} dicts), an optional JSON ``schema`` the
    answer must follow (constrained decoding where the backend supports it), ``options`` and a
    ``tag`` naming the call site (e.g. "plan/Ana Lopez/Y2020-W03") for logs and cache misses."""

    messages: tuple[dict, ...]
    schema: dict | None = None
    options: ChatOptions = field(default_factory=ChatOptions)
    tag: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        for i, message in enumerate(self.messages):
            if message.get("role") not in ROLES or not isinstance(message.get("content"), str):
                raise ValueError(f"message {i} needs a role in {ROLES} and a string content, got {message!r}")


@dataclass(frozen=True)
class ChatResult:
    """The answer ``text`` (raw, unparsed), token counts, wall-clock ``latency_s`` of the call,
    which ``model`` and ``backend`` answered, and whether it came from the cache."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    model: str
    backend: str
    cached: bool = False


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
    """``result`` if its text is at most ``MAX_ANSWER_CHARS``; else raise ``LLMOversize``."""
    if len(result.text) > MAX_ANSWER_CHARS:
        raise LLMOversize(f"{where} sent an answer of {len(result.text)} characters; at most {MAX_ANSWER_CHARS} "
                          "are accepted")
    return result


class CacheMiss(LLMError):
    """Replay mode found no recorded answer for a request."""


def status_error(status: int, detail: str, where: str) -> LLMError:
    """The error for an HTTP error ``status`` from ``where``: 429 and 5xx are transient."""
    transient = status == 429 or status >= 500
    hint = "; the server is busy or failing, retry later" if transient else ""
    return LLMBadResponse(f"{where} answered HTTP {status}: {detail}{hint}", status=status, transient=transient)

