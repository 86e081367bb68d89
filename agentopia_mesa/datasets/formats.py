"""Sample layouts the fine-tuning tools read directly.

- ``chat`` (default): ``{"messages": [{"role", "content"}, ...], "metadata": {...}}``, the
  conversational format of TRL's SFTTrainer, Unsloth and LLaMA-Factory (``formatting:
  sharegpt`` with role/content tags, see models/llamafactory/dataset_info.json).
- ``sharegpt``: ``{"conversations": [{"from": "system"|"human"|"gpt", "value"}], "metadata"}``.
- ``prompt-completion``: ``{"prompt": [messages], "completion": [the assistant message], "metadata"}``,
  TRL's conversational prompt-completion format: its SFTTrainer then computes the loss on the
  answer only (``completion_only_loss``); with ``messages`` that takes ``assistant_only_loss``,
  which needs TRL 1.4.0 or newer for Gemma 3 (models/README.md).

Preference pairs use TRL's conversational preference format: ``prompt`` (messages),
``chosen`` and ``rejected`` (one assistant message each); in ShareGPT layout
``conversations``, ``chosen`` and ``rejected`` as LLaMA-Factory's ranking datasets expect.
"""

from __future__ import annotations

FORMATS = ("chat", "sharegpt", "prompt-completion")
ROLES = ("system", "user", "assistant")
SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


def chat_messages(prompt: list[dict], answer: str) -> list[dict]:
    """The prompt messages plus the model's answer as the assistant turn (only role and content)."""
    messages = [{"role": m["role"], "content": m["content"]} for m in prompt]
    for i, m in enumerate(messages):
        if m["role"] not in ROLES or not isinstance(m["content"], str):
            raise ValueError(f"message {i}: role {m['role']!r} is not one of {ROLES} or its content is not text")
    return [*messages, {"role": "assistant", "content": answer}]


def sharegpt_turns(messages: list[dict]) -> list[dict]:
    return [{"from": SHAREGPT_FROM[m["role"]], "value": m["content"]} for m in messages]


def sft_sample(messages: list[dict], metadata: dict, layout: str = "chat") -> dict:
    if layout == "sharegpt":
        return {"conversations": sharegpt_turns(messages), "metadata": metadata}
    if layout == "prompt-completion":
        return {"prompt": messages[:-1], "completion": messages[-1:], "metadata": metadata}
    return {"messages": messages, "metadata": metadata}


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
