"""A backend with no model: deterministic, schema-valid answers made up from the JSON schema.

For tests, benchmarks and dry runs. The same request always gets the same answer; different
requests (other seed, other prompt) pick different enum values and numbers. Free texts are "ok",
except for the ``fake:varied`` spec, whose texts vary too (to sample distinct conversation replies,
e.g. ``agentopia dataset dpo --branch conversations --llm fake:varied``).

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

from agentopia_mesa.llm.client import ChatRequest, ChatResult
from agentopia_mesa.llm.json_tools import as_tool_call


#: Free texts of the "varied" fake (``FakeBackend(varied=True)``), so sampled answers can differ.
VARIED_TEXTS = ("ok", "Sure, let us do that.", "(smiles) \"Tell me more.\"", "(shrugs) \"Maybe later.\"",
                "I would rather not.", "(laughs) \"That is a fine idea.\"")


def example(schema: dict, rng: random.Random, root: dict | None = None, varied: bool = False) -> object:
    """A value that satisfies ``schema`` (types, enum/const, bounds, required, $ref to $defs,
    anyOf/oneOf/allOf, min/max items and lengths; ``pattern`` is not honoured). ``varied``: free
    texts are drawn from ``VARIED_TEXTS`` (where their length allows) instead of always "ok"."""
    root = root if root is not None else schema
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return example(node, rng, root, varied)
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
    shortest = schema.get("minLength", 0)
    longest = schema.get("maxLength", max(shortest, 2))
    if varied:
        text = rng.choice(VARIED_TEXTS)
        if shortest <= len(text) <= schema.get("maxLength", len(text)):
            return text
    return ("ok" * (shortest + 1))[: max(shortest, min(2, longest))]


class FakeBackend:
    """Answers from the schema alone (or ``reply(request)`` if given), after ``latency_s`` seconds.

    ``calls`` counts the requests answered (thread-safe), which is how tests see whether a cache
    hit reached the backend.
    """

    backend = "fake"

    def __init__(self, model: str = "schema-example", latency_s: float = 0.0,
                 reply: Callable[[ChatRequest], str] | None = None, varied: bool = False):
        self.model = model
        self.varied = varied  # free texts from VARIED_TEXTS: sampled answers (other seeds) differ
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
        text = self.reply(request) if self.reply is not None else _made_up(request, self.varied)
        call = as_tool_call(text, request.tools) if request.tools else None
        prompt_tokens = sum(len(m["content"].split()) for m in request.messages)
        return ChatResult(text="" if call else text, prompt_tokens=prompt_tokens, completion_tokens=len(text.split()),
                          latency_s=time.perf_counter() - start, model=self.model, backend=self.backend,
                          tool_calls=(call,) if call else ())


def _made_up(request: ChatRequest, varied: bool = False) -> str:
    """The fake's own answer to ``request``: a tool call while tools are offered and none has
    answered yet, else JSON following the schema; the same request, the same answer."""
    digest = hashlib.sha256(json.dumps([request.messages, request.options.seed], sort_keys=True).encode())
    rng = random.Random(digest.digest())
    if request.tools and not any(m["role"] == "tool" for m in request.messages):
        function = rng.choice(request.tools)["function"]
        arguments = example(function.get("parameters") or {"type": "object"}, rng)
        return json.dumps({"tool": function["name"], "arguments": arguments})
    return json.dumps(example(request.schema, rng, varied=varied) if request.schema else {})
