"""Role-play samples: each used LLM call of a resident as the model saw it, its answer last.

A call's ``decisions.jsonl`` line keeps the first request's ``messages``: for a conversation stage
(``joint_entry``, ``joint``, ``joint_exit``) that is already the resident's running chat (its
system prompt, the feedback and turns it could see as user turns, its earlier replies as assistant
turns), so the sample is a multi-turn chat. A call made with notebook tools also keeps its
``tool_use``; the rounds are rebuilt with ``llm.tools`` (``ToolUse.conversation``): an assistant
message with ``tool_calls``, one ``tool`` message per call, and the ``TOOLS_CLOSED`` turn when the
answer was asked for with the tools off; the tools offered go with the sample (``offered_tools``). Retries after an invalid answer are not part of the
sample: the accepted answer follows the clean request, as if given at once.
"""

from __future__ import annotations

from agentopia_mesa.datasets.formats import chat_messages
from agentopia_mesa.llm.tools import ToolUse


def offered_tools(entry: dict) -> list[dict]:
    """The tool specs offered for the call (none for calls without tools, or recorded before they were kept)."""
    return list((entry.get("tool_use") or {}).get("tools") or [])


def roleplay_messages(entry: dict, tool_rounds: int) -> list[dict]:
    """The chat of one used call (``entry``, a ``decisions.jsonl`` line): what the model saw when it
    gave the answer used, then that answer. ``tool_rounds``: the run's ``memory.tool_rounds`` (the
    most calls of one answer), used only for lines recorded before ``ToolUse.on_round`` was kept."""
    prompt = entry["messages"]
    if entry.get("tool_use"):
        use = ToolUse.from_record(entry["tool_use"])
        prompt = use.conversation(prompt, closed=_tools_closed(use, int(entry.get("invalid_attempts") or 0), tool_rounds))
    return chat_messages(prompt, entry["response"])


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


def has_tool_calls(messages: list[dict]) -> bool:
    return any(m.get("tool_calls") for m in messages)
