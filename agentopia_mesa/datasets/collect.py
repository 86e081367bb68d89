"""Minds that record their trajectories, for runs started by the sweep runner.

A sweep names a minds factory in its ``[llm] minds`` (``package.module:factory``); each worker
calls it with the sweep's shared response cache and the run's seed. ``recording_minds`` builds
the same society ``agentopia run --mind llm --mix ...`` would, and records every decision into
the run directory's ``decisions.jsonl`` (the directory is known only once the worker has
attached its recorders, so the trajectory recorder opens on the first decision).
"""

from __future__ import annotations

from pathlib import Path

from agentopia_mesa.minds.assign import parse_mix
from agentopia_mesa.minds.llm_settings import LLMSettings, minds_for
from agentopia_mesa.run.trajectories import TrajectoryRecorder


class _RunDirRecorder:
    """A ``TrajectoryRecorder`` for the run directory of ``model``, found on the first decision
    among the model's observers (the sweep worker attaches its ``YearlyRecorder(run_dir)``)."""

    def __init__(self, model):
        self.model, self.recorder = model, None

    def __call__(self, entry: dict) -> None:
        if self.recorder is None:
            run_dirs = [o.run_dir for o in self.model.observers if getattr(o, "run_dir", None)]
            if not run_dirs:
                raise RuntimeError("recording_minds: the model has no recorder with a run_dir; "
                                   "attach one before running, or use attach_trajectories(model, run_dir)")
            self.recorder = TrajectoryRecorder(run_dirs[0])
        self.recorder(entry)


def recording_minds(cache: Path | None = None, seed: int = 0, mix: str = "fake=1", **options):
    """A ``minds`` factory for ``AgentopiaModel``: the LLM mix (e.g. ``"embedded=0.5"``) with
    every decision recorded; ``options`` are ``LLMSettings`` fields (temperature, max_concurrency...)."""
    settings = LLMSettings(mix=parse_mix(mix), cache=str(cache) if cache else None, **options)
    built: dict = {}

    def factory(model, profile, index: int):
        if "inner" not in built:  # the residents are known only now
            built["inner"], _ = minds_for(settings, len(model.world.residents), seed)
            built["recorder"] = _RunDirRecorder(model)
        mind = built["inner"](model, profile, index)
        if mind is not None and getattr(mind, "recorder", None) is None:
            mind.recorder = built["recorder"]
        return mind

    return factory
