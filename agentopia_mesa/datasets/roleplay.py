"""Role-play samples: each used LLM call of a resident as the model saw it, its answer last.

A call's ``decisions.jsonl`` line keeps the first request's ``messages``: for a conversation stage
(``joint_entry``, ``joint``, ``joint_exit``) that is already the resident's running chat (its
system prompt, the feedback and turns it could see as user turns, its earlier replies as assistant
turns), so the sample is a multi-turn chat. A call made with notebook tools also keeps its
``tool_use``; the rounds are rebuilt with ``llm.tools`` (``ToolUse.conversation``): an assistant
message with ``tool_calls``, one ``tool`` message per call, and the ``TOOLS_CLOSED`` turn when the
answer was asked for with the tools off; the tools offered go with the sample (``offered_tools``).
With ``tools="json"`` the rounds are written in the JSON convention the embedded and fake backends
used instead (llm/json_tools.py), so a Gemma 3 fine-tune trains on the very turns Gemma saw.
Retries after an invalid answer are not part of the sample: the accepted answer follows the clean
request, as if given at once.
"""

from __future__ import annotations

from agentopia_mesa.datasets.formats import chat_messages
from agentopia_mesa.llm.client import ChatRequest
from agentopia_mesa.llm.json_tools import plain_messages, uses_tools
from agentopia_mesa.llm.tools import ToolUse

#: How tool rounds are written: "standard" (``tool_calls`` / ``tool`` messages, the tools as a
#: ``tools`` field) or "json" (the plain turns of llm/json_tools.py, as the embedded and fake
#: backends sent them: the tools described in the system message, a call as its JSON, a result as
#: a user turn; the form a chat template without a tool role, such as Gemma 3's, can render).
TOOL_FORMATS = ("standard", "json")


def offered_tools(entry: dict) -> list[dict]:
    """The tool specs offered for the call (none for calls without tools, or recorded before they were kept)."""
    return list((entry.get("tool_use") or {}).get("tools") or [])


def roleplay_messages(entry: dict, tool_rounds: int, tools: str = "standard") -> list[dict]:
    """The chat of one used call (``entry``, a ``decisions.jsonl`` line): what the model saw when it
    gave the answer used, then that answer. ``tool_rounds``: the run's ``memory.tool_rounds`` (the
    most calls of one answer), used only for lines recorded before ``ToolUse.on_round`` was kept.
    ``tools``: one of ``TOOL_FORMATS``; with "json" the chat is the request the embedded and fake
    backends built for the answer (``plain_messages``), its tools described in the system message
    when that request offered them."""
    prompt, offered = entry["messages"], ()
    if entry.get("tool_use"):
        use = ToolUse.from_record(entry["tool_use"])
        closed = _tools_closed(use, int(entry.get("invalid_attempts") or 0), tool_rounds)
        prompt = use.conversation(prompt, closed=closed)
        offered = () if closed else tuple(use.tools)  # an answer given on a round was asked for with the tools on
    if tools == "json":
        request = ChatRequest(tuple(prompt), tools=offered)
        prompt = plain_messages(request) if uses_tools(request) else prompt
    return chat_messages(prompt, entry["response"])


def check_tools(tools: str) -> str:
    if tools not in TOOL_FORMATS:
        raise ValueError(f"--tools: {tools!r} is not one of {', '.join(TOOL_FORMATS)}")
    return tools


def _tools_closed(use: ToolUse, invalid_attempts: int, tool_rounds: int) -> bool:
    """Whether the answer used was asked for with the tools off (after ``TOOLS_CLOSED``)."""
    if invalid_attempts:  # every retry follows the closed conversation (llm/dispatcher.py)
        return True
    if use.on_round is not None:
        return not use.on_round
    # Older lines: the answer came on a tool round unless a round failed or the rounds ran out.
    return len(use.sizes) < use.rounds or use.rounds >= tool_rounds - 1


def is_multi_turn(messages: list[dict]) -> bool:
    """More than one assistant turn: a conversation's running chat or tool rounds."""
    return sum(m["role"] == "assistant" for m in messages) > 1
