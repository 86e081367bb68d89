"""Tool calls as JSON answers, for models without a tool-call API of their own (embedded, fake).

The convention: when a request offers tools, the answer is constrained (``choice_schema``) to a
JSON object that is EITHER a call of one offered tool, ``{"tool": NAME, "arguments": {...}}``
with the arguments following that tool's parameters schema, OR the answer itself, following the
request's schema (any JSON object without one). ``as_tool_call`` turns a call into the
``ToolCall`` the backend returns in ``ChatResult.tool_calls`` (with text ""): one call per round.

The model learns the tools from a note (``TOOLS_NOTE`` and one line per tool) added to the system
message, and the rounds go into the prompt as plain turns (``plain_messages``): a call as its
JSON, a tool's result as a user turn "Result of NAME: ...", consecutive turns of one role merged,
since chat templates such as Gemma's require user and assistant to alternate.
"""

from __future__ import annotations

import json

from agentopia_mesa.llm.client import ChatRequest, ToolCall

#: Tells a model without native tools how to call one (the tools follow, one per line).
TOOLS_NOTE = ("Tools: before you answer, you may call one tool at a time by answering only "
              '{"tool": NAME, "arguments": {...}}; you then get its result and may call another or answer. '
              "The tools:")


def _function(spec: dict) -> dict:
    return spec["function"]


def _strict(function: dict) -> dict:
    """The parameters schema of ``function``, with no keys beyond its properties unless it says so:
    left free, Gemma 3 270M spent its whole answer on invented keys inside "arguments"."""
    return {"additionalProperties": False, **(function.get("parameters") or {"type": "object"})}


def choice_schema(tools: tuple[dict, ...], schema: dict | None) -> dict:
    """The schema of an answer to a request offering ``tools``: a call of one of them (arguments
    with no keys the tool's parameters do not name, unless they allow them), or an answer following
    ``schema``. ``$defs`` of the answer's schema and of the tools' parameters move to the top, where
    their "#/$defs/..." references point."""
    defs: dict = {}

    def lifted(part: dict) -> dict:
        part = dict(part)
        for name, definition in part.pop("$defs", {}).items():
            if defs.setdefault(name, definition) != definition:
                raise ValueError(f"two different $defs named {name!r} in the answer schema and the tools")
        return part

    calls = [{"type": "object",
              "properties": {"tool": {"const": _function(t)["name"]}, "arguments": lifted(_strict(_function(t)))},
              "required": ["tool", "arguments"], "additionalProperties": False} for t in tools]
    choice = {"anyOf": [*calls, lifted(schema or {"type": "object"})]}
    return {**choice, "$defs": defs} if defs else choice


def as_tool_call(text: str, tools: tuple[dict, ...]) -> ToolCall | None:
    """The call ``text`` makes by the convention (a JSON object of exactly "tool", naming one of
    ``tools``, and "arguments", an object), or None: the text is an answer."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != {"tool", "arguments"} or not isinstance(value["arguments"], dict):
        return None
    if value["tool"] not in {_function(t)["name"] for t in tools}:
        return None
    return ToolCall(value["tool"], value["arguments"])


def uses_tools(request: ChatRequest) -> bool:
    """Whether ``request`` offers tools or carries tool rounds (then ``plain_messages`` applies)."""
    return bool(request.tools) or any(m["role"] == "tool" or m.get("tool_calls") for m in request.messages)


def _note(tools: tuple[dict, ...]) -> str:
    lines = [TOOLS_NOTE]
    for tool in tools:
        function = _function(tool)
        parameters = json.dumps(function.get("parameters") or {}, separators=(",", ":"))
        lines.append(f"- {function['name']}: {function.get('description', '')} Arguments (JSON schema): {parameters}")
    return "\n".join(lines)


def plain_messages(request: ChatRequest) -> list[dict]:
    """``request``'s messages in plain system/user/assistant turns, with the tools it offers
    described in the system message (see the module docstring)."""
    turns: list[dict] = []
    for message in request.messages:
        role, content = message["role"], message["content"]
        if message.get("tool_calls"):
            calls = [json.dumps({"tool": c["name"], "arguments": c["arguments"]}) for c in message["tool_calls"]]
            content = "\n".join([content, *calls] if content else calls)
        elif role == "tool":
            role, content = "user", f"Result of {message['tool_name']}: {content}"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + content
        else:
            turns.append({"role": role, "content": content})
    if request.tools:
        if turns and turns[0]["role"] == "system":
            turns[0]["content"] += "\n\n" + _note(request.tools)
        else:
            turns.insert(0, {"role": "system", "content": _note(request.tools)})
    return turns
