"""Who thinks with what: assign minds (rules or LLM clients) to residents, mixed societies included.

A society is described by a mix such as ``ollama:qwen3:4b=0.5,ollama:agentopia-ft=0.5``: each
LLM spec takes that fraction of the residents, the rest keep the RuleMind. Residents are
assigned by a shuffle seeded from the run seed (not the model's random stream, so adding LLM
minds does not change the world's randomness), and the assignment is saved with the run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from agentopia_mesa.minds.base import Mind

RULES = "rules"


@dataclass(frozen=True)
class MixEntry:
    spec: str  # "rules" or an LLM client spec (embedded, ollama:MODEL, openai:URL:MODEL, replay)
    fraction: float


def parse_mix(text: str) -> list[MixEntry]:
    """``SPEC=FRACTION,SPEC=FRACTION``; fractions in (0, 1] summing to at most 1.

    Model names contain ':' and URLs contain '=' rarely, so each item splits at its last '='.
    """
    entries = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        spec, sep, fraction = item.rpartition("=")
        if not sep or not spec:
            raise ValueError(f"--mix: {item!r} is not SPEC=FRACTION (e.g. ollama:qwen3:4b=0.5)")
        try:
            value = float(fraction)
        except ValueError:
            raise ValueError(f"--mix: {fraction!r} in {item!r} is not a number") from None
        if not 0 < value <= 1:
            raise ValueError(f"--mix: fraction {value} for {spec!r} must be in (0, 1]")
        entries.append(MixEntry(spec, value))
    if not entries:
        raise ValueError("--mix: give at least one SPEC=FRACTION")
    if sum(e.fraction for e in entries) > 1 + 1e-9:
        raise ValueError(f"--mix: fractions add up to {sum(e.fraction for e in entries):g}, more than 1")
    return entries


def assignment(n_residents: int, mix: list[MixEntry], seed: int) -> list[str]:
    """The spec each resident (by index) gets: seeded shuffle, rounded counts, rest rules."""
    order = list(range(n_residents))
    random.Random(f"minds/{seed}").shuffle(order)
    specs = [RULES] * n_residents
    start = 0
    for entry in mix:
        count = round(entry.fraction * n_residents)
        for index in order[start:start + count]:
            specs[index] = entry.spec
        start += count
    return specs


def mind_factory(specs: list[str], make_llm_mind: Callable[[str, object], Mind]) -> Callable:
    """A factory for ``AgentopiaModel(minds=...)``: one shared mind per spec, rules by default.

    ``make_llm_mind(spec, model)`` builds the LLM mind for a spec once; the rule mind is the
    model's own (``None`` from the factory means "use the RuleMind").
    """
    built: dict[str, Mind] = {}

    def factory(model, profile, index: int) -> Mind | None:
        spec = specs[index]
        if spec == RULES:
            return None
        if spec not in built:
            built[spec] = make_llm_mind(spec, model)
        return built[spec]

    return factory
