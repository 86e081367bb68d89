"""Thinking models: whether a model reasons before it answers, and with how many tokens.

Qwen3 and other thinking models served by Ollama, vLLM or llama.cpp reason before they write a
word of the answer, and the reasoning counts against ``max_tokens``: with budgets sized for the
answer alone (llm/budgets.py) they are cut before the answer starts. So reasoning is a setting
of each model, given after its spec (``ollama:qwen3:8b#think=off``) or for every model of a run
(``agentopia run --think``):

- ``off`` (the default of both profiles): no reasoning; Ollama gets ``think: false``, an
  OpenAI-compatible server ``chat_template_kwargs: {"enable_thinking": false}`` (vLLM, SGLang,
  llama.cpp);
- ``on``: reasoning with ``DEFAULT_THINK_TOKENS`` of its own budget, added to each answer's;
- ``N`` (a whole number): reasoning with N tokens of budget;
- ``server``: nothing is sent; the server's default decides (budgets are the answer's alone).

The setting travels in ``ChatOptions.think`` (None: server, 0: off, N: on), so it is part of
every cache key: answers with and without reasoning never replace one another. Reasoning text
comes back apart from the answer (``ChatResult.reasoning``: Ollama ``message.thinking``, OpenAI
``reasoning_content``, or a leading ``<think>...</think>`` block), is recorded in
``decisions.jsonl`` beside the answer (``reasoning``), and is never sent back in a later prompt
but one: with ``memory.compaction`` on (the paper profile), the call that sums it up in a brief for
the week's later prompts (stages/compaction.py). The SFT data trains the answers, never the
reasoning (a brief's sample holds it in its prompt).
"""

from __future__ import annotations

import re

#: Tokens of reasoning for ``think=on``.
DEFAULT_THINK_TOKENS = 1024
#: The default of both profiles (``agentopia run --think``).
DEFAULT_THINK = "off"
#: Backends whose models may reason (and ``fake:thinking``, the project's test double).
THINKING_KINDS = ("ollama", "openai")
_LEADING_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)


def think_tokens(value: str) -> int | None:
    """``ChatOptions.think`` for a setting: "off" 0, "on" ``DEFAULT_THINK_TOKENS``, "N" N,
    "server" None; anything else is a ValueError naming the forms."""
    text = str(value).strip().lower()
    if text == "off":
        return 0
    if text == "on":
        return DEFAULT_THINK_TOKENS
    if text == "server":
        return None
    if text.isdigit() and 1 <= int(text) <= 100_000:
        return int(text)
    raise ValueError(f"think: must be off, on, server or a number of tokens in [1, 100000], got {value!r}")


def split_spec(spec: str) -> tuple[str, str | None]:
    """(the spec without its ``#think=...`` suffix, the suffix's value or None)."""
    base, sep, suffix = spec.strip().rpartition("#")
    if not sep:
        return spec.strip(), None
    key, eq, value = suffix.partition("=")
    if key.strip() != "think" or not eq:
        raise ValueError(f"bad LLM spec {spec!r}: after '#' only think=off|on|server|N is understood")
    think_tokens(value)  # checked now, with the spec in hand
    return base, value.strip()


def can_think(client) -> bool:
    """Whether ``client``'s model may reason: an Ollama or OpenAI-compatible server's (or a replay
    of one's recordings: a cached client names the recorded backend), or ``fake:thinking``."""
    backend, model = getattr(client, "backend", ""), getattr(client, "model", "")
    return backend in THINKING_KINDS or (backend, model) == ("fake", "thinking")


def think_for(spec: str, client, default: str = DEFAULT_THINK) -> int | None:
    """``ChatOptions.think`` for ``client``, built from ``spec``: the spec's own ``#think=`` if it
    has one, else ``default``; None for a model that cannot reason (nothing is sent, and its cache
    keys stay as they were)."""
    _, own = split_spec(spec)
    if not can_think(client):
        return None
    return think_tokens(own if own is not None else default)


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, answer) of a text that may open with a ``<think>...</think>`` block (servers
    without a reasoning parser leave it in the answer)."""
    match = _LEADING_THINK.match(text)
    if not match:
        return "", text
    return match.group(1).strip(), text[match.end():]
