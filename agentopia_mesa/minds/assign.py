"""Who thinks with what: assign minds (rules or LLM clients) to residents, mixed societies included.

A society is described by a mix such as ``ollama:qwen3:4b=0.5,ollama:agentopia-ft=0.5``: each
LLM spec takes that fraction of the residents, the rest keep the RuleMind. Residents are
assigned by a shuffle seeded from the run seed (not the model's random stream, so adding LLM
minds does not change the world's randomness), and the assignment is saved with the run.

``minds_for(settings, ...)`` builds a society's minds from a run's ``LLMSettings``, their clients
and dispatcher through the LLM wiring (``llm.wiring``); ``reattach_minds`` gives minds restored
from a checkpoint their clients back.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from agentopia_mesa.llm.settings import RULES, LLMSettings, MixEntry
from agentopia_mesa.llm.thinking import think_for
from agentopia_mesa.llm.wiring import client_for, dispatcher_for
from agentopia_mesa.minds.base import Mind
from agentopia_mesa.minds.llm_mind import LLMMind


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


def minds_for(settings: LLMSettings, n_residents: int, seed: int, names: list[str] | None = None):
    """The ``minds`` argument for ``AgentopiaModel`` and the spec assigned to each resident index.

    ``names`` (the residents' names, in order) is needed when ``settings.assign`` names residents.
    """
    if not settings.uses_llm:
        return None, [RULES] * n_residents
    specs = assignment(n_residents, settings.mix, seed)
    if settings.assign:
        specs = _assigned(specs, settings.assign, names)
    dispatcher = dispatcher_for(settings)

    def make(spec: str, model):
        client = client_for(spec, settings)
        return LLMMind(client, model.rule_mind, dispatcher, temperature=settings.temperature,
                       max_tokens=settings.max_tokens, seed=seed, spec=spec, think=think_for(spec, client, settings.think))

    return mind_factory(specs, make), specs


def _assigned(specs: list[str], assign: dict[str, str], names: list[str] | None) -> list[str]:
    """``specs`` with the explicitly assigned residents' specs put in; unknown names are an error."""
    if names is None:
        raise ValueError("--assign: the residents' names are needed to assign minds by name")
    unknown = sorted(set(assign) - set(names))
    if unknown:
        raise ValueError(f"--assign: no resident named {unknown[0]!r} in this world"
                         + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    return [assign.get(name, spec) for name, spec in zip(names, specs, strict=True)]


def llm_minds(model) -> list[LLMMind]:
    """The model's LLM minds, each once, in the order of the residents they decide for."""
    seen: dict[int, LLMMind] = {}
    for mind in model.minds.values():
        if isinstance(mind, LLMMind):
            seen.setdefault(id(mind), mind)
    return list(seen.values())


def reattach_minds(model, settings: LLMSettings, recorder=None) -> None:
    """After loading a checkpoint: new clients (same specs, same cache) for every LLM mind."""
    minds = llm_minds(model)
    if not minds:
        return
    dispatcher = dispatcher_for(settings)
    for mind in minds:
        mind.reattach(client_for(mind.spec, settings), dispatcher, recorder)
