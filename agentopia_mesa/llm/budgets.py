"""Token budgets derived from what a request asks for: room for the largest answer its schema allows.

A request's ``max_tokens`` is its budget. A fixed table per stage cuts exactly the answers that
matter most once a model writes what it is asked to write (a plan's two goal texts of up to 150
words each do not fit 192 tokens), and a setting such as ``memory.diary_words`` can outgrow any
table. So a budget is computed from the answer's JSON schema, whose free texts carry the lengths
the prompt asks for (``maxLength``, from words; minds/schemas.py):

    budget = ceil(HEADROOM * tokens(largest valid answer)) + MARGIN  [+ the thinking budget]

where the largest valid answer has every free text at its ``maxLength``, every array at its
``maxItems`` (``ITEMS_UNBOUNDED`` items where it has none), the longest enum value, every optional
property, and the JSON punctuation around them. Its tokens are estimated, not counted (the user's
tokenizer is not here): a free text of L characters holds at most L / ``CHARS_PER_WORD`` words,
each ``tokens_per_word(family)`` tokens; a name, key or enum value its words likewise; a digit,
quote, brace or other mark one token each. Tool rounds get the larger of the answer's budget and
the largest tool call's (llm/tools.py offers the same ``max_tokens`` on every round).

The estimate errs high on purpose. English prose averages about 4.7 letters a word (5.7
characters with its space) and 1.2-1.35 tokens a word in the BPE vocabularies of Llama 3, Qwen
2/3 and Gemma 3; a budget from 5 characters and 1.35-1.5 tokens a word leaves a model that writes
plain prose room even at every limit at once. ``tests/test_budgets.py`` checks every question
and task of both profiles (and the largest ``*_words`` settings) against the largest answer
written out and counted by ``estimate_tokens``.
"""

from __future__ import annotations

import json
import math
import re

#: Characters a word is taken to use with its space (short words give more words, so more tokens).
CHARS_PER_WORD = 5.0
#: Tokens per English word by model family (the BPE vocabularies of Llama 3, Qwen 2/3, Gemma 3
#: and Mistral hold most English words whole; rounded up from their 1.2-1.35).
TOKENS_PER_WORD = {"gemma": 1.35, "llama": 1.35, "qwen": 1.35, "mistral": 1.4, "phi": 1.4}
#: Tokens per word for a model of another or unknown family.
DEFAULT_TOKENS_PER_WORD = 1.5
#: Room above the estimate (a model writes its own words, not ours) and a fixed margin (the end
#: of the answer, a stray space or newline a server may add).
HEADROOM = 1.25
MARGIN = 16
#: Items assumed for an array whose schema sets no ``maxItems``.
ITEMS_UNBOUNDED = 10

_FAMILIES = tuple(TOKENS_PER_WORD)
_PIECE = re.compile(r"[A-Za-z]+|\d|[^\sA-Za-z\d]")


def family_of(model: str) -> str:
    """The model family named in ``model`` (e.g. "qwen" for "qwen3:8b" or "Qwen/Qwen3-8B"), or ""."""
    lowered = model.lower()
    return next((f for f in _FAMILIES if f in lowered), "")


def tokens_per_word(family: str = "") -> float:
    """Tokens per word for ``family`` (``TOKENS_PER_WORD``; ``DEFAULT_TOKENS_PER_WORD`` if unknown)."""
    return TOKENS_PER_WORD.get(family, DEFAULT_TOKENS_PER_WORD)


def estimate_tokens(text: str, family: str = "") -> int:
    """Tokens of ``text`` by the module's estimate: a run of letters ``tokens_per_word`` tokens
    (one more per 8 letters beyond the first 8), each digit and each other mark one token;
    whitespace joins the next piece. At least 0."""
    per_word = tokens_per_word(family)
    total = 0.0
    for piece in _PIECE.findall(text):
        if piece[0].isalpha():
            total += per_word + (len(piece) - 1) // 8
        else:
            total += 1
    return math.ceil(total)


def _text_tokens(characters: int, per_word: float) -> float:
    """A free text of at most ``characters`` characters, with its two quotes."""
    return math.ceil(characters / CHARS_PER_WORD) * per_word + 2


def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        node = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def largest_tokens(schema: dict, family: str = "", root: dict | None = None) -> float:
    """Estimated tokens of the largest answer that follows ``schema`` (module docstring)."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    per_word = tokens_per_word(family)
    if "const" in schema:
        return estimate_tokens(json.dumps(schema["const"]), family)
    if "enum" in schema:
        return max((estimate_tokens(json.dumps(v), family) for v in schema["enum"]), default=1)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return max(largest_tokens(s, family, root) for s in schema[combinator])
    if "allOf" in schema:
        return sum(largest_tokens(s, family, root) for s in schema["allOf"])
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        return max(largest_tokens({**schema, "type": k}, family, root) for k in kind)
    if kind == "object":
        props = schema.get("properties", {})
        keys = sum(estimate_tokens(json.dumps(name), family) + 2 for name in props)  # "name": ,
        return 2 + keys + sum(largest_tokens(p, family, root) for p in props.values())
    if kind == "array":
        if "prefixItems" in schema:
            return 2 + sum(largest_tokens(s, family, root) + 1 for s in schema["prefixItems"])
        items = schema.get("maxItems", ITEMS_UNBOUNDED)
        return 2 + items * (largest_tokens(schema.get("items", {}), family, root) + 1) if items else 2
    if kind in ("integer", "number"):
        bound = max(abs(schema.get(k, 0)) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"))
        digits = len(str(int(bound))) if bound else 6
        return digits + 1 + (3 if kind == "number" else 0)  # sign; a decimal point and digits
    if kind in ("boolean", "null"):
        return 1
    return _text_tokens(schema.get("maxLength", 200), per_word)


def answer_budget(schema: dict | None, family: str = "", tools: tuple[dict, ...] = ()) -> int:
    """The ``max_tokens`` of a request whose answer follows ``schema`` (None: a free answer of
    ``ITEMS_UNBOUNDED`` x 20 words), and whose rounds may call ``tools`` (OpenAI-style specs)."""
    largest = largest_tokens(schema, family) if schema is not None else _text_tokens(ITEMS_UNBOUNDED * 20 * 5, 1.5)
    for tool in tools:
        function = tool["function"]
        call = largest_tokens(function.get("parameters") or {"type": "object"}, family)
        largest = max(largest, call + estimate_tokens(json.dumps({"tool": function["name"], "arguments": {}})))
    return math.ceil(HEADROOM * largest) + MARGIN
