"""Sample layouts the fine-tuning tools read directly.

- ``chat`` (default): ``{"messages": [{"role", "content"}, ...], "metadata": {...}}`` (tool
  rounds as assistant ``tool_calls`` and ``tool`` messages, ``standard_message``), the
  conversational format of TRL's SFTTrainer, Unsloth and LLaMA-Factory (``formatting:
  sharegpt`` with role/content tags, see models/llamafactory/dataset_info.json).
- ``sharegpt``: ``{"conversations": [{"from": "system"|"human"|"gpt"|"function_call"|"observation", "value"}],
  "tools", "metadata"}``, LLaMA-Factory's layout with tools (``sharegpt_turns``); an assistant's text
  beside its tool calls has no place in it (the export refuses, naming ``--format chat``).
- ``prompt-completion``: ``{"prompt": [messages], "completion": [the assistant message], "metadata"}``,
  TRL's conversational prompt-completion format: its SFTTrainer then computes the loss on the
  answer only (``completion_only_loss``); with ``messages`` that takes ``assistant_only_loss``,
  which needs TRL 1.4.0 or newer for Gemma 3 (models/README.md).

Preference pairs use TRL's conversational preference format: ``prompt`` (messages),
``chosen`` and ``rejected`` (one assistant message each); in ShareGPT layout
``conversations``, ``chosen`` and ``rejected`` as LLaMA-Factory's ranking datasets expect.
"""

from __future__ import annotations

import json

FORMATS = ("chat", "sharegpt", "prompt-completion")
ROLES = ("system", "user", "assistant", "tool")
SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


def standard_message(message: dict) -> dict:
    """One message of a request (llm/client.py's backend-neutral form) in the OpenAI / Hugging Face
    chat format: ``{"role", "content"}``; an assistant's tool calls as ``"tool_calls": [{"id",
    "type": "function", "function": {"name", "arguments": JSON text}}]`` (text, as OpenAI sends
    them: one column type for every tool's arguments when ``datasets`` loads the file); a tool's
    result as ``{"role": "tool", "content", "tool_call_id", "name"}``."""
    role, content = message.get("role"), message.get("content")
    if role not in ROLES or not isinstance(content, str):
        raise ValueError(f"role {role!r} is not one of {ROLES} or its content is not text")
    out = {"role": role, "content": content}
    if role == "assistant" and message.get("tool_calls"):
        out["tool_calls"] = [{"id": c.get("id") or "", "type": "function",
                              "function": {"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)}}
                             for c in message["tool_calls"]]
    if role == "tool":
        out.update(tool_call_id=message.get("tool_call_id") or "", name=message.get("tool_name") or "")
    return out


def chat_messages(prompt: list[dict], answer: str) -> list[dict]:
    """The prompt messages (``standard_message``) plus the model's answer as the assistant turn."""
    messages = []
    for i, m in enumerate(prompt):
        try:
            messages.append(standard_message(m))
        except ValueError as exc:
            raise ValueError(f"message {i}: {exc}") from None
    return [*messages, {"role": "assistant", "content": answer}]


#: LLaMA-Factory's ShareGPT reader wants these tags at odd and even places after the system turn
#: (a sample that breaks the alternation is dropped with "Invalid role tag").
_ASKING = ("human", "observation")  # the odd places; "gpt" and "function_call" take the even ones


def sharegpt_turns(messages: list[dict]) -> list[dict]:
    """ShareGPT turns as LLaMA-Factory reads them: tool calls as a ``function_call`` turn (a JSON list
    of ``{"name", "arguments"}``) and results as an ``observation`` turn. The turns must alternate,
    so the results of one round (several calls) and a user turn after them (``TOOLS_CLOSED``) become
    one observation turn, their texts joined by a blank line, as the JSON convention's plain turns
    join them (llm/json_tools.py). An earlier turn's ``weight`` (``datasets.history``) goes along.
    An assistant text beside tool calls has no place in this layout: a ``ValueError`` says to use
    ``--format chat``."""
    turns: list[dict] = []
    for m in messages:
        if m.get("tool_calls"):
            if m["content"]:
                raise ValueError("--format sharegpt: an assistant turn has text beside its tool calls, which "
                                 "LLaMA-Factory's ShareGPT layout cannot hold; use --format chat")
            calls = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])} for c in m["tool_calls"]]
            turn = {"from": "function_call", "value": json.dumps(calls, ensure_ascii=False)}
        else:
            turn = {"from": SHAREGPT_FROM[m["role"]], "value": m["content"]}
        if "weight" in m:
            turn["weight"] = m["weight"]
        if turns and turns[-1]["from"] == "observation" and turn["from"] in _ASKING:
            turns[-1]["value"] += "\n\n" + turn["value"]
        else:
            turns.append(turn)
    return turns


def sft_sample(messages: list[dict], metadata: dict, layout: str = "chat", tools: list[dict] | None = None) -> dict:
    """One sample; ``tools`` (the OpenAI-style specs the model was offered) as a ``tools`` list
    (TRL, transformers' chat templates) or, in ShareGPT layout, as LLaMA-Factory's JSON text."""
    if layout == "sharegpt":
        sample = {"conversations": sharegpt_turns(messages)}
        if tools:
            sample["tools"] = json.dumps([t["function"] for t in tools], ensure_ascii=False)
        return {**sample, "metadata": metadata}
    sample = {"prompt": messages[:-1], "completion": messages[-1:]} if layout == "prompt-completion" else {"messages": messages}
    if tools:
        sample["tools"] = tools
    return {**sample, "metadata": metadata}


def preference_pair(prompt: list[dict], chosen: str, rejected: str, metadata: dict, layout: str = "chat") -> dict:
    """One preference pair; "chat" and "prompt-completion" both give TRL's conversational layout."""
    prompt = chat_messages(prompt, "")[:-1]
    if layout == "sharegpt":
        return {"conversations": sharegpt_turns(prompt), "chosen": {"from": "gpt", "value": chosen},
                "rejected": {"from": "gpt", "value": rejected}, "metadata": metadata}
    return {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}], "metadata": metadata}


def check_layout(layout: str) -> str:
    if layout not in FORMATS:
        raise ValueError(f"--format: {layout!r} is not one of {', '.join(FORMATS)}")
    return layout
