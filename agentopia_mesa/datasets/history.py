"""Earlier turns of a running chat that are no training targets: ``"weight": 0`` on those assistant turns.

A conversation sample is the resident's running chat (``minds.prompts._chat_messages``): every
request repeats the one before and the answer used, so its earlier assistant turns are the
resident's earlier replies of that conversation. Some of those were not the model's accepted
work: a reply the environment rejected (it is not taken back, so it stays in the chat), or the
rule mind's answer after a fallback (the model failed or answered invalidly). The sample keeps
them, since they are what the model saw and what its later turns answer to, but marks them
``"weight": 0`` so they are context, not targets.

Why a mark and not a cut: dropping the exchange would leave later turns answering something the
sample no longer shows (the others' reactions to the rejected reply stay in the next user turn),
so the sample would no longer be the chat the model answered. Who honours the mark: OpenAI's
chat fine-tuning format (``weight`` 0 or 1 on assistant messages) and axolotl's ``chat_template``
datasets (``message_field_training: weight``). TRL's ``SFTTrainer`` has no per-message mask
(``assistant_only_loss`` trains every assistant turn), so for TRL use ``--format
prompt-completion``: the loss then falls on the last answer only and every earlier turn is
prompt; for LLaMA-Factory set ``mask_history: true`` (the last turn only), as models/README.md says.

An earlier turn is found by its request: the ``messages`` before it are exactly the ``messages``
of the call that produced it, recorded earlier in the same ``decisions.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter


def _key(resident: str, messages: list[dict]) -> bytes:
    return hashlib.sha256(json.dumps([resident, messages], ensure_ascii=False, sort_keys=True).encode()).digest()


class UnusedTurns:
    """The requests whose answers were not used, by resident and messages, in the order a run
    recorded them (``note`` each line before ``mark`` reads a later one)."""

    def __init__(self) -> None:
        self._reasons: dict[bytes, str] = {}

    def note(self, entry: dict, reason: str | None) -> None:
        """Remember a resident's call left out for ``reason`` ("rejected", "fallback", "no answer");
        a used call (None) needs no entry."""
        if reason:
            self._reasons[_key(entry["resident"], entry["messages"])] = reason

    def mark(self, entry: dict, messages: list[dict]) -> Counter:
        """Set ``"weight": 0`` on the assistant turns of ``messages`` (the sample of ``entry``, its
        first ``len(entry["messages"])`` messages being that request's) whose answers were not used,
        and ``"weight": 1`` on every other assistant turn of such a sample (so each of its turns says
        whether it is a target). Returns the reasons of the turns marked 0."""
        prompt, resident = entry["messages"], entry["resident"]
        unused = {i: reason for i, m in enumerate(prompt)
                  if m["role"] == "assistant" and (reason := self._reasons.get(_key(resident, prompt[:i])))}
        for i, m in enumerate(messages if unused else ()):
            if m["role"] == "assistant":
                m["weight"] = 0 if i in unused else 1
        return Counter(unused.values())
