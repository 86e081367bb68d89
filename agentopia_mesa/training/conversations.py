"""``agentopia dataset sft`` samples and ``dataset dpo`` pairs as conversations for a Hugging Face
base: the messages in transformers' chat form, the tools offered, and which assistant turns are
trained.

Trained turns: every assistant turn the data marks ``"weight": 1``; one without a mark counts as
1 (OpenAI's and axolotl's convention); ``"weight": 0`` turns (a reply the environment rejected, a
fallback's answer: ``datasets.history``) are context only.

Tool calls go in the template's own format where it has one (its source names ``tool_calls``):
assistant ``tool_calls`` with the arguments as an object and ``tool`` turns, and the ``tools``
list passed to the template, as vLLM and Ollama pass them. A template without tools (Gemma 3's)
gets the plain turns the embedded and fake backends send (``samples.training_row``:
``llm/json_tools.py``'s convention).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agentopia_mesa.training.samples import read_samples, training_row

PAIRS_HINT = "write it with `agentopia dataset dpo RUN_DIR --out FILE` (chat or prompt-completion layout)"


@dataclass(frozen=True)
class Conversation:
    """``messages`` (transformers' chat form), ``tools`` (OpenAI-style specs, or None) and
    ``trained``: per message, whether it is an assistant turn to put the loss on."""

    messages: list[dict]
    tools: list[dict] | None
    trained: list[bool]


def has_native_tools(tokenizer) -> bool:
    """Whether the tokenizer's chat template renders tool calls itself."""
    return "tool_calls" in (tokenizer.chat_template or "")


def _native_message(message: dict) -> dict:
    out = {"role": message["role"], "content": message.get("content") or ""}
    if message.get("tool_calls"):
        out["tool_calls"] = [{"type": "function", "id": c.get("id") or "", "function": {
            "name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"] or "{}")}}
            for c in message["tool_calls"]]
    if message["role"] == "tool":
        out.update(name=message.get("name") or "", tool_call_id=message.get("tool_call_id") or "")
    return out


def _weights(messages: list[dict]) -> list[int]:
    return [int(m.get("weight", 1)) for m in messages if m["role"] == "assistant"]


def _sample_messages(sample: dict) -> list[dict]:
    if "messages" in sample:
        return sample["messages"]
    return [*sample["prompt"], *sample["completion"]]


def conversation(sample: dict, native_tools: bool) -> Conversation:
    """One SFT sample (chat or prompt-completion layout) as a ``Conversation``. Raises
    ``ValueError`` (why) for a sample without a final assistant turn or in another layout."""
    row = training_row(sample)  # checks the layout and the final answer
    original = _sample_messages(sample)
    if native_tools:
        messages = [_native_message(m) for m in original]
        return Conversation(messages, list(sample.get("tools") or ()) or None,
                            [m["role"] == "assistant" and bool(m.get("weight", 1)) for m in original])
    messages = [*row["prompt"], *row["completion"]]
    weights = _weights(original)
    answers = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if len(answers) != len(weights):  # plain turns joined two replies: train the last answer only
        weights = [0] * (len(answers) - 1) + [weights[-1]]
    trained = [False] * len(messages)
    for i, weight in zip(answers, weights, strict=True):
        trained[i] = bool(weight)
    return Conversation(messages, None, trained)


def read_conversations(path: Path, native_tools: bool) -> list[Conversation]:
    """Every sample of the SFT file at ``path`` as a ``Conversation`` (errors as ``samples.read_samples``)."""
    return read_samples(path, lambda sample: conversation(sample, native_tools))


def preference_row(pair: dict, native_tools: bool) -> dict:
    """One ``dataset dpo`` pair as TRL's conversational ``{"prompt", "chosen", "rejected"}`` row
    in the template's form. Raises ``ValueError`` for a line that is no pair."""
    if not all(key in pair for key in ("prompt", "chosen", "rejected")):
        raise ValueError(f"no 'prompt'/'chosen'/'rejected' (keys: {', '.join(sorted(pair)) or 'none'})")
    answers = {key: [{"role": "assistant", "content": pair[key][-1]["content"]}] for key in ("chosen", "rejected")}
    if native_tools:
        return {"prompt": [_native_message(m) for m in pair["prompt"]], **answers}
    row = training_row({"messages": [*pair["prompt"], answers["chosen"][0]]})
    return {"prompt": row["prompt"], **answers}


def read_pairs(path: Path, native_tools: bool) -> list[dict]:
    """Every pair of the ``dataset dpo`` file at ``path`` as a TRL row. Raises ``ValueError`` with
    the file, line and reason for a missing file, a bad line or a file with no pairs."""
    return read_samples(path, lambda pair: preference_row(pair, native_tools), what=("a preference pair", "pairs"), hint=PAIRS_HINT)
