"""A study's towns as sweeps: generation 0 (and each ablation) and generation 1, on the same worlds and seeds.

Each generation is one sweep (``sweeps/``) in its own folder under the study directory, so towns
run on the sweep executors (sequential, processes, Ray), a finished town (``done.json``) is never
run again, an interrupted one continues from its last checkpoint, and a changed setting makes new
towns (a run's id hashes its options). Every sweep shares the study's one response cache.
"""

from __future__ import annotations

import dataclasses

from pathlib import Path
from typing import Any

from agentopia_mesa.run.layout import LLM_CACHE
from agentopia_mesa.study.spec import StudySpec



def town_options(spec: StudySpec, world: str, seed: int, society: dict[str, Any], tuned: str | None) -> dict[str, Any]:
    """``agentopia run``'s options of one town: the study's society, its minds (the role model, or
    with ``tuned`` a mix of the tuned model and the role model) and the environment's model."""
    g = spec.generation0
    options = {**society, "world": world, "seed": seed, "residents": g.residents, "years": g.years, "mind": "llm"}
    if g.weeks_per_year is not None:
        options["weeks_per_year"] = g.weeks_per_year
    if tuned is None:
        options["llm"] = spec.role
    else:
        options["mix"] = f"{tuned}={spec.tuned_share:g},{spec.role}={1 - spec.tuned_share:g}"
    if spec.environment is not None and society.get("env") != "rules":  # a rule environment takes no model
        options["env_llm"] = spec.environment
    return options


def merged(society: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The study's society with an ablation's overrides on top (``set`` tables merged key by key)."""
    out = {**society, **overrides}
    if "set" in society and "set" in overrides:
        out["set"] = {**society["set"], **overrides["set"]}
    return out


def sweep_table(spec: StudySpec, name: str, study_dir: Path, society: dict[str, Any], tuned: str | None = None) -> dict:
    """The sweep (as a parsed sweep file) of one generation: every world x every seed."""
    g = spec.generation0
    options = town_options(spec, g.worlds[0], g.seeds[0], society, tuned)
    for key in ("world", "seed", "residents", "years"):
        options.pop(key)
    fixed = dict(options.pop("set", None) or {})  # a sweep takes configuration fields as parameters
    if "weeks_per_year" in options:
        fixed["calendar__weeks_per_year"] = options.pop("weeks_per_year")
    return {
        "sweep": {"name": name, "years": g.years, "residents": g.residents, "seeds": list(g.seeds),
                  "executor": spec.executor, "workers": spec.workers},
        "fixed": fixed,
        "grid": {"world": list(g.worlds)},
        "society": options,
    }


def run_generation(spec: StudySpec, name: str, study_dir: Path, society: dict[str, Any], tuned: str | None = None,
                   progress: bool = True) -> list[dict]:
    """Run (or finish) one generation's towns into ``study_dir/name``; return each town's ``dir``
    (relative to ``study_dir``), ``world`` and ``seed``.
    Raises ``RuntimeError`` naming the step when a town failed."""
    from agentopia_mesa.sweeps.runner import run_sweep
    from agentopia_mesa.sweeps.spec import sweep_from_dict

    sweep = sweep_from_dict(sweep_table(spec, name, study_dir, society, tuned), name=name, base_dir=spec.base_dir)
    # Every generation shares the study's one cache, beside the sweeps: set here, after the sweep
    # file's checks (which keep a sweep file's own cache inside its sweep directory).
    sweep = dataclasses.replace(sweep, llm_cache=str((study_dir / LLM_CACHE).resolve()))
    out = study_dir / name
    outcome = run_sweep(sweep, out, progress=progress)
    if outcome.failed:
        run_id, reason = next(iter(outcome.failed.items()))
        raise RuntimeError(f"{name}: town {run_id} failed ({reason}); run the study again to retry it")
    return [{"dir": f"{name}/{run.dir}", "world": run.params["world"], "seed": run.seed} for run in sweep.plan()]
