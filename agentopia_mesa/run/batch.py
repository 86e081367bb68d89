"""A town's ``RunSettings`` as ``mesa.batch_run`` parameters: Mesa users sweep the towns that
``agentopia run`` and sweeps make from the same options.

```python
from mesa.batchrunner import batch_run
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.run.batch import batch_parameters
from agentopia_mesa.run.town_options import run_settings

town = run_settings({"world": "school", "residents": 10, "years": 1, "mind": "llm", "llm": "fake", "profile": "paper"})
rows = batch_run(AgentopiaModel, parameters={**batch_parameters(town), "needs__decay": [0.1, 0.2]}, rng=[1, 2],
                 max_steps=10, number_processes=2)
```

Every value is picklable (the minds and the environment are factories that make their clients in
the process that runs the model) and a one-item list, so ``batch_run`` never takes a world or a
tuple of living standards for values to sweep. LLM minds and an LLM environment sample with the
model's seed (``batch_run``'s ``rng``), as a run's do with its ``--seed``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentopia_mesa.environment.llm_environment import environment_for
from agentopia_mesa.llm.settings import RULES, LLMSettings
from agentopia_mesa.minds.assign import minds_for
from agentopia_mesa.run.builder import RunSettings


def model_seed(model) -> int:
    """The seed a model was made with (Mesa keeps it as ``_seed``); 0 for a generator."""
    seed = getattr(model, "_seed", 0)
    return seed if isinstance(seed, int) else 0


@dataclass
class SettingsMinds:
    """``AgentopiaModel(minds=...)`` for ``llm``: the society's minds, made for each model on first use."""

    llm: LLMSettings
    _made: tuple[weakref.ref, Callable] | None = field(default=None, init=False, repr=False, compare=False)

    def __call__(self, model, profile, index: int):
        if self._made is None or self._made[0]() is not model:  # batch_run may run several models in one process
            names = [r.name for r in model.world.residents]
            self._made = (weakref.ref(model), minds_for(self.llm, len(names), model_seed(model), names)[0])
        return self._made[1](model, profile, index)

    def __getstate__(self) -> dict:
        return {"llm": self.llm, "_made": None}


@dataclass(frozen=True)
class SettingsEnvironment:
    """``AgentopiaModel(environment=...)`` for ``llm``: the LLM environment, made for each model."""

    llm: LLMSettings

    def __call__(self, model):
        return environment_for(self.llm, model_seed(model))(model)


def batch_parameters(settings: RunSettings) -> dict[str, list[Any]]:
    """``mesa.batch_run`` parameters of ``settings`` (its seed aside: give seeds as ``rng``), each
    a one-item list; add lists of your own to sweep them."""
    if settings.minds is not None:
        raise ValueError("batch_parameters: a minds factory (RunSettings.minds) is called with a run's cache; "
                         "pass its minds to batch_run yourself")
    llm = settings.llm
    parameters: dict[str, Any] = {"world": settings.world, "residents": settings.residents, "years": settings.years,
                                  **settings.overrides}
    if llm.mix or any(spec != RULES for spec in llm.assign.values()):
        parameters["minds"] = SettingsMinds(llm)
    if llm.env_spec is not None:
        parameters["environment"] = SettingsEnvironment(llm)
    if llm.ratings_by != "self":
        parameters["ratings"] = llm.ratings_by
    return {name: [value] for name, value in parameters.items()}
