"""A conversation as the tokens a server's chat template gives it, and the mask of the tokens
the loss falls on.

Each trained assistant turn i is rendered as it was generated: the prompt is the template's
rendering of the turns before it with the generation prompt (what vLLM and Ollama send),
``render(m[:i], add_generation_prompt=True)``, and the target is what the template adds for the
turn itself, ``render(m[:i+1])`` minus that prompt (its text, tool calls and end-of-turn marks).
Turns whose renderings extend one another share one sequence; a template that renders a turn
differently once others follow (Qwen3 drops the empty think block of earlier turns) starts a new
sequence, so every target is trained after exactly the prompt it answered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenRows:
    """``rows``: TRL's pre-tokenized rows ``{"input_ids", "assistant_masks"}`` (1 on a trained
    token); ``samples``: the conversations used; ``too_long``: those left out because one of their
    sequences exceeds the maximum length (tokens)."""

    rows: list[dict]
    samples: int = 0
    too_long: int = 0

    @property
    def tokens(self) -> int:
        """Tokens in all rows (what one epoch costs)."""
        return sum(len(row["input_ids"]) for row in self.rows)


#: Passed to the template as the servers pass it: the town asks thinking models not to reason by
#: default (``--think off``: vLLM's and llama.cpp's ``chat_template_kwargs``, llm/thinking.py), and
#: Qwen3's template then opens each answer after an empty think block; templates without the
#: variable ignore it.
TEMPLATE_KWARGS = {"enable_thinking": False}


def _render(tokenizer, messages: list[dict], tools, generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=generation_prompt,
                                         **TEMPLATE_KWARGS)


def sequences(tokenizer, conversation) -> list[tuple[str, list[tuple[int, int]]]]:
    """The texts to train on for ``conversation`` (``conversations.Conversation``), each with the
    character spans of its targets. Raises ``ValueError`` if the template's prompt for a turn is not
    the start of its rendering with the turn (no target can be cut out then)."""
    out: list[tuple[str, list[tuple[int, int]]]] = []
    messages, tools = conversation.messages, conversation.tools
    for i, trained in enumerate(conversation.trained):
        if not trained:
            continue
        prompt, text = _render(tokenizer, messages[:i], tools, True), _render(tokenizer, messages[: i + 1], tools, False)
        if not text.startswith(prompt):
            raise ValueError(f"the chat template's prompt for assistant turn {i} is not the start of the text with "
                             "the turn, so its target cannot be cut out")
        if out and text.startswith(out[-1][0]):
            out[-1] = (text, [*out[-1][1], (len(prompt), len(text))])
        else:
            out.append((text, [(len(prompt), len(text))]))
    return out


def token_rows(tokenizer, conversations: list, max_length: int) -> TokenRows:
    """Every conversation's ``sequences`` tokenized (the template writes the special tokens, so
    the tokenizer adds none), with the mask of the tokens that start inside a target span.
    Conversations with a sequence longer than ``max_length`` tokens are left out. Raises
    ``ValueError`` naming the sample (1-based) whose targets cannot be cut out."""
    result = TokenRows(rows=[])
    for number, conversation in enumerate(conversations, 1):
        rows = []
        try:
            texts = sequences(tokenizer, conversation)
        except ValueError as exc:
            raise ValueError(f"sample {number}: {exc}") from None
        for text, spans in texts:
            encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            mask = [int(any(start <= first < end for start, end in spans)) for first, _ in encoded["offset_mapping"]]
            rows.append({"input_ids": encoded["input_ids"], "assistant_masks": mask})
        if any(len(row["input_ids"]) > max_length for row in rows):
            result.too_long += 1
            continue
        result.rows.extend(rows)
        result.samples += 1
    return result
