"""The ``[society]`` table of a sweep file: ``agentopia run``'s town options for every run.

```toml
[society]                  # keys are run's options without the dashes (--env-llm: env_llm)
mind = "llm"
llm = "ollama:agentopia-base"
profile = "paper"          # the paper's conversations, and the LLM environment it implies
env_llm = "ollama:qwen3:8b"
ratings = "environment"
max_concurrency = 32
```

Each run of the sweep becomes ``run.town_options.run_settings`` of these options, its parameters
(``world``, ``residents``, ``years``, configuration fields as ``set``) and its seed: the town
``agentopia run`` makes from the same flags. Options that vary from run to run have their places
elsewhere in the file (``ELSEWHERE``); ``LLMSettings`` fields without a flag (``max_tokens``,
``retries``, ...) are keys by their field name. A key may also be a run parameter, in ``[fixed]``,
``[grid]`` or ``[[points]]``, to vary it from run to run. A sweep with neither runs as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentopia_mesa.run.town_options import all_options, check_value, named_for, run_settings
from agentopia_mesa.sweeps.params import SweepConfigError

#: Town options a sweep file gives outside ``[society]``, and where.
ELSEWHERE = {
    "world": "[sweep] world, [grid] or [[points]]",
    "residents": "[sweep] residents, [grid] or [[points]]",
    "years": "[sweep] years, [grid] or [[points]]",
    "seed": "[sweep] seeds and seed (every run's seed is derived from them)",
    "weeks_per_year": "[fixed] calendar__weeks_per_year",
    "set": "[fixed], [grid] or [[points]] as section__field",
    "llm_cache": "[llm] cache (one cache shared by every run)",
}


def society_keys() -> list[str]:
    """The keys ``[society]`` takes: every town option not given elsewhere in the file."""
    return [key for key in all_options() if key not in ELSEWHERE]


def where(key: str) -> str:
    return f"society.{key}"


def check_society_value(place: str, key: str, value: Any) -> Any:
    """One society option's value, given at ``place`` (``society.env``, ``grid.env``); returns it."""
    try:
        check_value(all_options()[key], value)
    except ValueError as exc:
        raise SweepConfigError(named_for(str(exc), lambda _: place)) from None
    return value


def check_society(table: dict[str, Any]) -> dict[str, Any]:
    """``[society]`` checked key by key; raises ``SweepConfigError`` naming the key."""
    keys = society_keys()
    for key, value in table.items():
        if key in ELSEWHERE:
            raise SweepConfigError(f"{where(key)}: give it in {ELSEWHERE[key]}")
        if key not in keys:
            raise SweepConfigError(f"{where(key)}: unknown setting; use {', '.join(keys)}")
        check_society_value(where(key), key, value)
    return dict(table)


def society_settings(society: dict[str, Any], model_args: dict[str, Any], overrides: dict[str, Any], seed: int,
                     base_dir: str | Path, from_table: set[str] = frozenset()):
    """``RunSettings`` of one run of a sweep made from ``agentopia run``'s options: ``society``
    (the ``[society]`` table with the run's own society parameters on top), the run's model
    arguments, configuration overrides and seed; an ``assign`` file is read from ``base_dir``.
    A bad combination (``env_llm`` without ``env = "llm"``, the paper profile with no model to
    judge) names its key: ``society.KEY`` for a key ``from_table``, else ``KEY``."""
    options = dict(society)
    if isinstance(options.get("assign"), str):
        options["assign"] = str(Path(base_dir) / options["assign"])  # an absolute path stays as it is
    try:
        return run_settings({**options, **model_args, "set": overrides, "seed": seed})
    except ValueError as exc:
        raise SweepConfigError(named_for(str(exc), lambda key: where(key) if key in from_table else key)) from None
