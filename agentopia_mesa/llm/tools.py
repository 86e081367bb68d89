"""Tool calls: a job's model may call tools (e.g. a resident's notebook) for a few rounds, then answers.

The paper's residents edit their memory files through tool calls (list, read, update) during a
generation, for a bounded number of rounds, with the tools off on the last one. Here:

- a ``Toolbox`` is what one job's model may call: its ``specs()`` (OpenAI-style function specs)
  and ``call(ToolCall) -> str``, the result text shown to the model. A refused call (an unknown
  note, a write before a read) returns an explanation; it never raises for bad input;
- ``ToolRounds`` runs the tool phase of one generation: rounds 1 .. ``max_rounds`` - 1 offer the
  tools; each call the model asks for is executed at once, in order, and the round goes into the
  conversation (the assistant's ``tool_calls`` message, then one ``tool`` message per call, in the
  message forms of llm/client.py). The phase ends when the model answers with text (that text is
  the answer) or when the rounds run out: then the answer is asked for with the tools off, after a
  ``TOOLS_CLOSED`` turn, following the request's schema;
- ``chat_with_tools`` is that loop over one client; the dispatcher runs the same ``ToolRounds``
  with its timeouts, retries and circuit breaker (llm/dispatcher.py);
- ``ToolUse`` is what the rounds did (every call and result, in order), JSON-able: a recorded run
  stores it with the job's outcome, and replay applies the same calls to the job's toolbox again,
  so notebooks end up as recorded with no model call (llm/recorded.py).

Backends offer the tools natively where they can (Ollama ``tools``, OpenAI ``tools``), and by a
JSON convention where they cannot (embedded, fake: llm/json_tools.py). Every round is one
``client.chat`` call, so a ``CachedClient`` records and replays each round like any other call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from typing import Protocol, runtime_checkable

from agentopia_mesa.llm.client import ChatRequest, ChatResult, LLMClient, ToolCall

__all__ = ["DEFAULT_ROUNDS", "TOOLS_CLOSED", "ToolCall", "ToolRounds", "ToolUse", "Toolbox", "chat_with_tools"]

#: Rounds of one generation, the last one without tools (the paper's bound).
DEFAULT_ROUNDS = 8

#: The user turn that closes the tools once some were used: the next answer is the final one.
TOOLS_CLOSED = "The tools are closed now: give your answer as JSON only, following the schema."


@runtime_checkable
class Toolbox(Protocol):
    """What one job's model may call. One instance per job (per resident and question); not shared
    across threads."""

    def specs(self) -> list[dict]:
        """The tools, OpenAI-style: ``{"type": "function", "function": {"name", "description",
        "parameters": JSON schema}}``. Asked more than once per job: the same list each time."""
        ...

    def call(self, call: ToolCall) -> str:
        """Run ``call``; the result text shown to the model. A refused call returns an explanation
        (never raises for bad input)."""
        ...

    # A toolbox may also carry ``max_rounds``, its own bound on the job's calls (the answer's
    # included); without it the dispatcher's applies (``Dispatcher.rounds_for``).


@dataclass
class ToolUse:
    """What a job's tool rounds did: every ``calls`` in order over all rounds, the ``results`` shown
    for them, and ``rounds``: the calls to the model that offered tools and did not give the
    answer (each answered with tool calls, or failed). The model was called ``rounds`` times plus
    the answer's attempts. ``sizes`` and ``texts``: the number of calls and the assistant's text of
    each round that called tools (a failed round has neither); ``on_round``: the answer came on a
    round that offered tools, so no ``TOOLS_CLOSED`` turn preceded it; ``tools``: the specs offered.
    With the first request's messages they rebuild the conversation the answer was given in
    (``conversation``)."""

    calls: list[ToolCall] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    rounds: int = 0
    sizes: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    on_round: bool | None = None  # None: recorded before this was kept
    tools: list[dict] = field(default_factory=list)

    def record(self) -> dict:
        """As JSON-able data (``from_record`` reads it back)."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> ToolUse:
        """The ``ToolUse`` that ``record`` stored. Records from before ``sizes`` and ``texts`` were
        kept read as one call per round with empty texts (the JSON convention's rounds)."""
        calls = [ToolCall(**c) for c in record["calls"]]
        return cls(calls, list(record["results"]), record["rounds"], list(record.get("sizes", [1] * len(calls))),
                   list(record.get("texts", [""] * len(calls))), record.get("on_round"), list(record.get("tools", [])))

    def conversation(self, messages: list[dict], closed: bool) -> list[dict]:
        """The messages the answer was given after: ``messages`` (the first request's), each round's
        assistant ``tool_calls`` message and ``tool`` messages as ``ToolRounds`` built them, then the
        ``TOOLS_CLOSED`` turn if ``closed`` (the answer was asked for with the tools off) and there
        was a round."""
        rounds = ToolRounds(ChatRequest(tuple(messages)), _Recorded(self.results))
        calls = iter(self.calls)
        for size, text in zip(self.sizes, self.texts, strict=True):
            rounds.take(ChatResult(text, 0, 0, 0.0, "", "", tool_calls=tuple(islice(calls, size))))
        for _ in range(self.rounds - len(self.sizes)):
            rounds.failed()
        return list((rounds.answer_request() if closed else rounds.conversation).messages)


class _Recorded:
    """A toolbox that answers each call with the next recorded result (to rebuild a conversation)."""

    def __init__(self, results: list[str]):
        self._results = iter(results)

    def specs(self) -> list[dict]:
        return []

    def call(self, call: ToolCall) -> str:
        return next(self._results)


class ToolRounds:
    """The tool phase of one generation, driven round by round (see the module docstring).

    ``request``: the job's request (the tools it offers come from ``toolbox``); ``max_rounds``: the
    most calls of the generation, the answer's included (>= 1; 1 offers no tools at all).
    """

    def __init__(self, request: ChatRequest, toolbox: Toolbox, max_rounds: int = DEFAULT_ROUNDS):
        if max_rounds < 1:
            raise ValueError(f"max_rounds must be >= 1 (the answer's round), got {max_rounds}")
        self.toolbox = toolbox
        self.specs = tuple(toolbox.specs())
        self.max_rounds = max_rounds
        self.use = ToolUse(on_round=False, tools=list(self.specs))
        self._request = replace(request, tools=())  # the conversation so far
        self._spent: list[ChatResult] = []  # the rounds that called tools

    def offer(self) -> ChatRequest | None:
        """The next round's request, tools offered; None once the tools are off (none to offer,
        or only the answer's round is left)."""
        if not self.specs or self.use.rounds >= self.max_rounds - 1:
            return None
        return replace(self._request, tools=self.specs)

    def take(self, result: ChatResult) -> bool:
        """Execute the tool calls of ``result`` (the answer to ``offer()``) and add the round to the
        conversation: True. A result without tool calls is the answer: False."""
        if not result.tool_calls:
            self.use.on_round = True
            return False
        self.use.rounds += 1
        self.use.sizes.append(len(result.tool_calls))
        self.use.texts.append(result.text)
        self._spent.append(result)
        # Ids tie each tool message to its call (OpenAI needs them); backends without ids get stable ones.
        calls = [replace(c, id=c.id or f"call_{len(self.use.calls) + i}") for i, c in enumerate(result.tool_calls)]
        messages = [{"role": "assistant", "content": result.text, "tool_calls": [c.as_message_part() for c in calls]}]
        for call in calls:
            text = self.toolbox.call(call)
            self.use.calls.append(call)
            self.use.results.append(text)
            messages.append({"role": "tool", "content": text, "tool_name": call.name, "tool_call_id": call.id})
        self._request = replace(self._request, messages=(*self._request.messages, *messages))
        return True

    @property
    def conversation(self) -> ChatRequest:
        """The request with the rounds so far appended, tools off (what ``offer`` extends)."""
        return self._request

    def failed(self) -> None:
        """The call for ``offer()`` failed: it counts as a round, and the tools close."""
        self.use.rounds += 1
        self.max_rounds = self.use.rounds + 1

    def answer_request(self) -> ChatRequest:
        """The request for the answer, tools off: the conversation so far, closed by
        ``TOOLS_CLOSED`` if any round offered tools."""
        if not self.use.rounds:
            return self._request
        closed = {"role": "user", "content": TOOLS_CLOSED}
        return replace(self._request, messages=(*self._request.messages, closed))

    def total(self, answer: ChatResult) -> ChatResult:
        """``answer`` with the tokens and latency of the rounds that called tools added to its own."""
        spent = self._spent
        return replace(answer, prompt_tokens=answer.prompt_tokens + sum(r.prompt_tokens for r in spent),
                       completion_tokens=answer.completion_tokens + sum(r.completion_tokens for r in spent),
                       latency_s=answer.latency_s + sum(r.latency_s for r in spent))


def first_request(request: ChatRequest, toolbox: Toolbox | None, max_rounds: int = DEFAULT_ROUNDS) -> ChatRequest:
    """The first call a job makes: ``request`` with the toolbox's tools offered if it has any
    (recorded outcomes are keyed by it, so a job with tools never replays one recorded without)."""
    if toolbox is None:
        return request
    return ToolRounds(request, toolbox, max_rounds).offer() or request


def chat_with_tools(client: LLMClient, request: ChatRequest, toolbox: Toolbox,
                    max_rounds: int = DEFAULT_ROUNDS) -> tuple[ChatResult, ToolUse]:
    """Answer ``request`` after up to ``max_rounds`` - 1 rounds of tool calls on ``toolbox``.

    Returns the answer (tokens and latency summed over every round) and what the rounds did. Every
    round is one ``client.chat`` call; errors are raised as they come (the dispatcher, not this
    function, retries and falls back).
    """
    rounds = ToolRounds(request, toolbox, max_rounds)
    while (offered := rounds.offer()) is not None:
        result = client.chat(offered)
        if not rounds.take(result):
            return rounds.total(result), rounds.use
    return rounds.total(client.chat(rounds.answer_request())), rounds.use
