"""A backend with no model: deterministic, schema-valid answers made up from the JSON schema.

For tests, benchmarks and dry runs. The same request always gets the same answer; different
requests (other seed, other prompt) pick different enum values and numbers. Free texts are "ok",
except for the ``fake:varied`` spec, whose texts vary too (to sample distinct conversation replies,
e.g. ``agentopia dataset dpo --branch conversations --llm fake:varied``).

``fake:verbose`` behaves like a capable model that writes what it is asked to write, and like a
server: every free text is prose at about ``VERBOSE_FILL`` of the length its schema allows, the
items of a list differ where they can, and the answer stops at the request's ``max_tokens``
(counted by ``llm.budgets.estimate_tokens``), cut mid-text and marked ``truncated`` as a server's
``done_reason: "length"``. ``fake:thinking`` is verbose and reasons first, as a thinking model
does unless told not to (``ChatOptions.think`` 0): ``THINKING_TOKENS`` (or the request's thinking
budget) of reasoning, counted against ``max_tokens``, returned as ``ChatResult.reasoning``.

Tools follow the JSON convention of llm/json_tools.py, so the tool rounds run for real: while a
request offers tools and no tool result is in its messages yet, the answer calls one of them
(picked by the request's hash, arguments made up from its parameters schema); once a result is
in, or when no tools are offered, the answer follows the request's schema. A ``reply`` function
may answer with a call by the same convention.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable

from agentopia_mesa.llm.budgets import estimate_tokens
from agentopia_mesa.llm.client import ChatRequest, ChatResult
from agentopia_mesa.llm.json_tools import as_tool_call


#: Share of a free text's ``maxLength`` that the verbose fake fills.
VERBOSE_FILL = 0.9
#: Reasoning of ``fake:thinking`` when the request leaves thinking to the model, in tokens.
THINKING_TOKENS = 400
#: Words of the verbose fake's prose.
_PROSE = ("the", "morning", "walk", "to", "work", "felt", "calm", "and", "I", "thought", "about", "my", "friends",
          "plans", "for", "week", "with", "a", "cup", "of", "tea", "before", "class", "talked", "neighbour",
          "garden", "money", "was", "tight", "but", "still", "hopeful", "we", "laughed", "at", "old", "stories",
          "quietly", "practised", "piano", "evening", "study", "notes", "careful", "kind", "tired", "glad")

#: Free texts of the "varied" fake (``FakeBackend(varied=True)``), so sampled answers can differ.
VARIED_TEXTS = ("ok", "Sure, let us do that.", "(smiles) \"Tell me more.\"", "(shrugs) \"Maybe later.\"",
                "I would rather not.", "(laughs) \"That is a fine idea.\"")


def prose(rng: random.Random, length: int) -> str:
    """Sentences of ``_PROSE`` words, at most ``length`` characters (at least one word if it fits)."""
    words, size, sentence = [], 0, 0
    while True:
        word = rng.choice(_PROSE)
        if sentence == 0:
            word = word.capitalize()
        sentence += 1
        end = sentence >= 6 and rng.random() < 0.2
        piece = word + ("." if end else "")
        if size + len(piece) + (1 if words else 0) > length:
            break
        size += len(piece) + (1 if words else 0)
        words.append(piece)
        sentence = 0 if end else sentence
    text = " ".join(words)
    return text if not text or text.endswith(".") or len(text) >= length else text + "."


def example(schema: dict, rng: random.Random, root: dict | None = None, varied: bool = False,
            verbose: bool = False) -> object:
    """A value that satisfies ``schema`` (types, enum/const, bounds, required, $ref to $defs,
    anyOf/oneOf/allOf, min/max items and lengths; ``pattern`` is not honoured; a string with
    ``examples`` is one of them, as a model makes up a name where a schema shows some). ``varied``: free
    texts are drawn from ``VARIED_TEXTS`` (where their length allows) instead of always "ok".
    ``verbose``: free texts are prose at ``VERBOSE_FILL`` of their ``maxLength``, every optional
    property is given, and a list's enum items, and an object's properties with the same choices
    (a pair's two people), differ where they can."""
    root = root if root is not None else schema
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return example(node, rng, root, varied, verbose)
    if verbose:
        return _verbose(schema, rng, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return example(schema[combinator][0], rng, root, varied)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(props[name], rng, root, varied) for name in props if name in schema.get("required", props)}
    if kind == "array" and "prefixItems" in schema:  # a tuple: one value per position
        return [example(item, rng, root, varied) for item in schema["prefixItems"]]
    if kind == "array":
        n = min(schema.get("minItems", 0) + rng.randint(0, 1), schema.get("maxItems", 1))
        return [example(schema.get("items", {}), rng, root, varied) for _ in range(n)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 101) - 1)
        return rng.randint(int(low), int(high))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if schema.get("examples"):  # a name or title a model would make up: one of the schema's examples
        return rng.choice(schema["examples"])
    shortest = schema.get("minLength", 0)
    longest = schema.get("maxLength", max(shortest, 2))
    if varied:
        text = rng.choice(VARIED_TEXTS)
        if shortest <= len(text) <= schema.get("maxLength", len(text)):
            return text
    return ("ok" * (shortest + 1))[: max(shortest, min(2, longest))]


def _verbose(schema: dict, rng: random.Random, root: dict) -> object:
    """``example`` of a verbose model: the same choices, with texts, optional properties and
    distinct list items as the ``verbose`` flag says."""
    if "const" in schema or "enum" in schema or "$ref" in schema:
        return example(schema, rng, root)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = schema[combinator]
            return example(options[rng.randrange(len(options))] if combinator != "allOf" else options[0],
                           rng, root, verbose=True)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":  # optional choices that may be "" are made together or left together (a gift's two halves)
        props, required = schema.get("properties", {}), set(schema.get("required", ()))
        optional = [n for n, p in props.items() if n not in required and "" in p.get("enum", ())]
        choose = rng.random() < 0.5 and all(len(props[n]["enum"]) > 1 for n in optional)
        taken: dict[tuple, set] = {}  # two properties of one choice list name two things (a pair's a and b)
        made = {}
        for name, prop in props.items():
            if name in optional:
                made[name] = rng.choice([v for v in prop["enum"] if v != ""] or [""]) if choose else ""
            elif "enum" in prop and (key := tuple(map(json.dumps, prop["enum"]))) in taken:
                left = [v for v in prop["enum"] if json.dumps(v) not in taken[key]]
                made[name] = rng.choice(left or prop["enum"])
                taken[key].add(json.dumps(made[name]))
            else:
                made[name] = example(prop, rng, root, verbose=True)
                if "enum" in prop:
                    taken[tuple(map(json.dumps, prop["enum"]))] = {json.dumps(made[name])}
        return made
    if kind == "array" and "prefixItems" not in schema:
        n = min(schema.get("minItems", 0) + rng.randint(0, 1), schema.get("maxItems", 1))
        item = schema.get("items", {})
        values = item.get("enum")
        if values and n <= len(set(values)):  # a capable model names each thing once
            return rng.sample(list(dict.fromkeys(values)), n)
        return [example(item, rng, root, verbose=True) for _ in range(n)]
    if kind == "string" and schema.get("examples"):
        return example(schema, rng, root)
    if kind == "string" and "maxLength" in schema:
        text = prose(rng, int(VERBOSE_FILL * schema["maxLength"]))
        return text if len(text) >= schema.get("minLength", 0) else example(schema, rng, root)
    if kind == "string":
        return prose(rng, 60)
    return example(schema, rng, root)


def cut_at(text: str, max_tokens: int, family: str = "") -> str | None:
    """``text`` cut where it passes ``max_tokens`` (``estimate_tokens``), or None if it fits."""
    if estimate_tokens(text, family) <= max_tokens:
        return None
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle], family) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return text[:low]


class FakeBackend:
    """Answers from the schema alone (or ``reply(request)`` if given), after ``latency_s`` seconds.

    ``calls`` counts the requests answered (thread-safe), which is how tests see whether a cache
    hit reached the backend.
    """

    backend = "fake"

    def __init__(self, model: str = "schema-example", latency_s: float = 0.0,
                 reply: Callable[[ChatRequest], str] | None = None, varied: bool = False,
                 verbose: bool = False, thinking: bool = False):
        self.model = model
        self.varied = varied  # free texts from VARIED_TEXTS: sampled answers (other seeds) differ
        self.thinking = thinking  # reasons before answering unless told not to (module docstring)
        self.verbose = verbose or thinking  # writes at the asked lengths, stops at max_tokens
        self.name = f"{self.backend}:{model}"
        self.latency_s = latency_s
        self.reply = reply
        self.calls = 0
        self._lock = threading.Lock()

    def check(self) -> None:
        """Always available."""

    def chat(self, request: ChatRequest) -> ChatResult:
        """A deterministic answer: JSON following ``request.schema`` ("{}" without one), or a tool
        call (see the module docstring)."""
        with self._lock:
            self.calls += 1
        start = time.perf_counter()
        if self.latency_s:
            time.sleep(self.latency_s)
        text = self.reply(request) if self.reply is not None else _made_up(request, self.varied, self.verbose)
        prompt_tokens = sum(len(m["content"].split()) for m in request.messages)
        if self.verbose:
            return self._as_server(request, text, prompt_tokens, start)
        call = as_tool_call(text, request.tools) if request.tools else None
        return ChatResult(text="" if call else text, prompt_tokens=prompt_tokens, completion_tokens=len(text.split()),
                          latency_s=time.perf_counter() - start, model=self.model, backend=self.backend,
                          tool_calls=(call,) if call else ())

    def _as_server(self, request: ChatRequest, text: str, prompt_tokens: int, start: float) -> ChatResult:
        """``text`` as a server returns it: after the reasoning of a thinking model, counted in
        tokens and cut at ``max_tokens`` (then ``truncated``, and never a tool call)."""
        budget, think = request.options.max_tokens, request.options.think
        reasoning = ""
        if self.thinking and think != 0:
            wanted = THINKING_TOKENS if think is None else think
            reasoning = prose(random.Random(text), 8 * wanted)
            reasoning = cut_at(reasoning, min(wanted, budget)) or reasoning
        spent = estimate_tokens(reasoning)
        cut = cut_at(text, budget - spent)
        answer = text if cut is None else cut
        call = as_tool_call(answer, request.tools) if request.tools and cut is None else None
        return ChatResult(text="" if call else answer, prompt_tokens=prompt_tokens,
                          completion_tokens=spent + estimate_tokens(answer), latency_s=time.perf_counter() - start,
                          model=self.model, backend=self.backend, tool_calls=(call,) if call else (),
                          truncated=cut is not None, reasoning=reasoning)


def _made_up(request: ChatRequest, varied: bool = False, verbose: bool = False) -> str:
    """The fake's own answer to ``request``: a tool call while tools are offered and none has
    answered yet, else JSON following the schema; the same request, the same answer."""
    digest = hashlib.sha256(json.dumps([request.messages, request.options.seed], sort_keys=True).encode())
    rng = random.Random(digest.digest())
    if request.tools and not any(m["role"] == "tool" for m in request.messages):
        function = rng.choice(request.tools)["function"]
        arguments = example(function.get("parameters") or {"type": "object"}, rng, verbose=verbose)
        return json.dumps({"tool": function["name"], "arguments": arguments})
    return json.dumps(example(request.schema, rng, varied=varied, verbose=verbose) if request.schema else {})
