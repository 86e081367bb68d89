"""An ``agentopia dataset sft`` file as training rows: each sample's last assistant turn is the
completion, everything before it the prompt, both rendered as the embedded backend renders a
request (``llm.json_tools.plain_messages``: tool calls as their JSON, tool results as user turns,
the offered tools described in the system message unless the answer came after the tools closed).
The model thus learns the exact text it will be prompted with, and TRL puts the loss on the
completion only. A file written with ``--tools json`` is already in that form and stays as it is.

Reads the ``chat`` layout (``{"messages": [...]}``) and ``prompt-completion``; ShareGPT keeps no
tool-call text beside the calls, so it is refused with the command that writes a readable file.
"""

from __future__ import annotations

import json
from pathlib import Path

from agentopia_mesa.llm.client import ChatRequest
from agentopia_mesa.llm.json_tools import plain_messages
from agentopia_mesa.llm.tools import TOOLS_CLOSED
from agentopia_mesa.run.untrusted import UntrustedFileError, json_lines

REWRITE_HINT = "write it with `agentopia dataset sft RUN_DIR --out FILE` (chat or prompt-completion layout)"


def _request_message(message: dict) -> dict:
    """A chat-format message (``datasets.formats.standard_message``) back in llm/client.py's form."""
    out = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("tool_calls"):
        out["tool_calls"] = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"]),
                              "id": c.get("id") or ""} for c in message["tool_calls"]]
    if message["role"] == "tool":
        out["tool_name"] = message.get("name") or ""
    return out


def training_row(sample: dict) -> dict:
    """One sample as TRL's conversational prompt-completion row ``{"prompt": [...], "completion":
    [assistant turn]}`` in plain system/user/assistant turns. Raises ``ValueError`` (why) if the
    sample has no final assistant turn or is in another layout."""
    if "messages" in sample:
        messages = sample["messages"]
    elif "prompt" in sample and "completion" in sample:
        messages = [*sample["prompt"], *sample["completion"]]
    else:
        raise ValueError(f"neither 'messages' nor 'prompt'/'completion' (keys: {', '.join(sorted(sample)) or 'none'})")
    if not messages or messages[-1].get("role") != "assistant":
        raise ValueError("the last message is not the assistant's answer")
    converted = [_request_message(m) for m in messages]
    # After the TOOLS_CLOSED turn the answer was asked for with the tools off: no tools note then.
    closed = len(converted) > 1 and converted[-2] == {"role": "user", "content": TOOLS_CLOSED}
    offered = () if closed else tuple(sample.get("tools") or ())
    prompt = plain_messages(ChatRequest(tuple(converted[:-1]), tools=offered))
    return {"prompt": prompt, "completion": plain_messages(ChatRequest((converted[-1],)))}


def read_samples(path: Path, convert, what: tuple[str, str] = ("an SFT sample", "samples"), hint: str = REWRITE_HINT) -> list:
    """``convert`` applied to every JSON line of the file at ``path``, read as an untrusted file (a
    regular file, each line one JSON object nested at most ``MAX_DEPTH`` deep: run/untrusted.py).
    Raises ``ValueError`` with the file, line and reason for a missing or unreadable file, a line
    ``convert`` refuses (it raises ``ValueError``, ``KeyError``, ``TypeError``, ``AttributeError``
    or ``IndexError``) or a file with none; ``what`` names a line and many lines, ``hint`` says
    how to write a good file."""
    if not path.exists() and not path.is_symlink():
        raise ValueError(f"{path} is not a file: {hint}")
    items = []
    try:
        for number, sample in json_lines(path, whole_last_line=True):
            try:
                items.append(convert(sample))
            except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                raise ValueError(f"{path}:{number}: not {what[0]} ({exc}): {hint}") from None
    except UntrustedFileError as exc:
        raise ValueError(f"{exc}: {hint}") from None
    if not items:
        raise ValueError(f"{path} holds no {what[1]}: {hint}")
    return items


def read_training_rows(path: Path) -> list[dict]:
    """Every sample of the JSON lines file at ``path`` as a training row (errors as ``read_samples``)."""
    return read_samples(path, training_row)
