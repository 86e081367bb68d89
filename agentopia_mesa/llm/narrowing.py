"""Narrowing a request's JSON schema: free text capped, a string restricted to what exists.

Shared by the residents' schemas (``minds/schemas.py``) and the environment's
(``environment/answers.py``), so both ask a model the same way.
"""

from __future__ import annotations

import json

from agentopia_mesa.trimming import trim_text


def copied(schema: dict) -> dict:
    """A deep copy of a schema (JSON data) to narrow, through the C JSON codec: several times
    faster than ``copy.deepcopy``, and every LLM request narrows a fresh copy."""
    return json.loads(json.dumps(schema))


def cap_text(node, limit: int) -> None:
    """Lower every string's ``maxLength`` in ``node`` (a schema, nested dicts and lists) to ``limit``."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "maxLength" in node:
            node["maxLength"] = min(node["maxLength"], limit)
        for value in node.values():
            cap_text(value, limit)
    elif isinstance(node, list):
        for value in node:
            cap_text(value, limit)


def restrict(node: dict, values) -> None:
    """Make the string schema ``node`` an enum of ``values`` (in order, once each; [""] when none)."""
    for k in ("maxLength", "minLength", "pattern"):
        node.pop(k, None)
    node["enum"] = list(dict.fromkeys(values)) or [""]


def trim_to_schema(data, schema: dict, root: dict | None = None) -> tuple[object, int]:
    """``data`` (parsed JSON) with every string longer than its ``maxLength`` in ``schema`` cut
    at a sentence or word boundary (``trimming.trim_text``), and how many strings were cut.
    Follows ``$ref``, properties, items and ``prefixItems``; anything else is left as it is."""
    root = schema if root is None else root
    while "$ref" in schema:
        node = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    if isinstance(data, str):
        limit = schema.get("maxLength")
        if limit is not None and len(data) > limit:
            return trim_text(data, max_chars=limit), 1
        return data, 0
    count = 0
    if isinstance(data, dict):
        props = schema.get("properties", {})
        out = {}
        for key, value in data.items():
            out[key], n = trim_to_schema(value, props[key], root) if key in props else (value, 0)
            count += n
        return out, count
    if isinstance(data, list):
        positions = schema.get("prefixItems", [])
        out = []
        for i, value in enumerate(data):
            item = positions[i] if i < len(positions) else schema.get("items")
            value, n = trim_to_schema(value, item, root) if isinstance(item, dict) else (value, 0)
            out.append(value)
            count += n
        return out, count
    return data, count
