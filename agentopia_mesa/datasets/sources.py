"""Run directories as data sources: their rewards, decisions and provenance.

A source is a finished run directory (``config.json`` + ``rewards.csv``; ``decisions.jsonl``
when its residents had LLM minds). A sweep directory stands for all of its runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from agentopia_mesa.run.trajectories import DECISIONS_FILE, run_id_of

RULES = "rules"  # the mind name of residents without an LLM (rewards.csv without a model column)


def package_version() -> str:
    try:
        return version("agentopia-mesa")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class RunSource:
    """One run directory: ``run_id``, ``meta`` (its config.json) and ``rewards`` (rewards.csv)."""

    run_dir: Path
    run_id: str
    meta: dict
    rewards: pd.DataFrame

    @property
    def decisions(self) -> Path:
        return self.run_dir / DECISIONS_FILE

    @property
    def gamma(self) -> float:
        return float(self.meta.get("config", {}).get("reward", {}).get("gamma", 0.9))

    @property
    def provenance(self) -> dict:
        """What a training sample needs to be traced back: config hash, seed, versions, world."""
        versions = self.meta.get("versions") or {}
        return {
            "config_digest": str(self.meta.get("config_digest") or ""),
            "seed": self.meta.get("seed"),
            "package_version": str(versions.get("agentopia-mesa") or package_version()),
            "world": str(self.meta.get("world_name") or self.meta.get("world") or ""),
        }


def expand_run_dirs(paths: list[str | Path]) -> list[Path]:
    """Run directories from run or sweep directories (a sweep's ``runs/*`` in name order)."""
    runs = []
    for path in map(Path, paths):
        if (path / "config.json").is_file():
            runs.append(path)
        elif (path / "runs").is_dir() and any((p / "config.json").is_file() for p in (path / "runs").iterdir()):
            runs += sorted(p for p in (path / "runs").iterdir() if (p / "config.json").is_file())
        else:
            raise ValueError(f"{path}: not a run directory (no config.json) nor a sweep directory (no runs/*/config.json)")
    return runs


def open_run(run_dir: str | Path) -> RunSource:
    """Read a finished run's metadata and rewards; a one-line ``ValueError`` says what is missing."""
    run_dir = Path(run_dir)
    config = run_dir / "config.json"
    if not config.is_file():
        raise ValueError(f"{run_dir}: not a run directory (no config.json)")
    rewards_file = run_dir / "rewards.csv"
    if not rewards_file.is_file():
        raise ValueError(f"{run_dir}: no rewards.csv yet; finish the run first (agentopia resume {run_dir})")
    rewards = pd.read_csv(rewards_file)
    if "model" not in rewards.columns:
        rewards["model"] = RULES
    rewards["model"] = rewards["model"].fillna(RULES).astype(str)
    return RunSource(run_dir, run_id_of(run_dir), json.loads(config.read_text(encoding="utf-8")), rewards)


def open_runs(paths: list[str | Path]) -> list[RunSource]:
    sources = [open_run(p) for p in expand_run_dirs(paths)]
    ids = [s.run_id for s in sources]
    if len(set(ids)) != len(ids):
        # Two runs named alike (runs/a/seed0 and runs/b/seed0): fall back to their paths as ids.
        for s in sources:
            s.run_id = str(s.run_dir)
    return sources
