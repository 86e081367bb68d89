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
``retries``, ...) are keys by their field name. A sweep without ``[society]`` runs as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentopia_mesa.run.town_options import all_options, check_value, named_for, read_assign, run_settings
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


def check_society(table: dict[str, Any], llm: dict[str, Any], base_dir: str | Path) -> dict[str, Any]:
    """``[society]`` checked key by key, with an ``assign`` file read from ``base_dir`` (kept as
    its absolute path); raises ``SweepConfigError`` naming the key."""
    keys, options = society_keys(), all_options()
    for key, value in table.items():
        if key in ELSEWHERE:
            raise SweepConfigError(f"{where(key)}: give it in {ELSEWHERE[key]}")
        if key not in keys:
            raise SweepConfigError(f"{where(key)}: unknown setting; use {', '.join(keys)}")
        try:
            check_value(options[key], value)
        except ValueError as exc:
            raise SweepConfigError(named_for(str(exc), where)) from None
    for key in ("mix", "max_concurrency"):
        if key in llm and table:
            raise SweepConfigError(f"llm.{key}: with a [society] table give the residents' minds there "
                                   f"(society.mind = \"llm\", society.{key} = ...)")
    society = dict(table)
    if isinstance(society.get("assign"), str):
        path = Path(society["assign"])
        society["assign"] = str(path if path.is_absolute() else (Path(base_dir) / path).resolve())
        try:
            read_assign(society["assign"])
        except ValueError as exc:
            raise SweepConfigError(named_for(str(exc), where)) from None
    return society


def society_settings(society: dict[str, Any], model_args: dict[str, Any], overrides: dict[str, Any], seed: int):
    """``RunSettings`` of one run of a sweep with a ``[society]``; a bad combination (``env_llm``
    without ``env = "llm"``, the paper profile with no model to judge) names its key."""
    try:
        return run_settings({**society, **model_args, "set": overrides, "seed": seed})
    except ValueError as exc:
        raise SweepConfigError(named_for(str(exc), where)) from None
