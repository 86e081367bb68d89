"""Run directories as data sources: their rewards, decisions and provenance.

A source is a finished run directory read through the shared ``RunReader`` (``config.json`` +
``rewards.csv``; ``decisions.jsonl`` when its residents had LLM minds). A sweep directory stands
for all of its runs.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd

from agentopia_mesa.config import MemoryConfig
from agentopia_mesa.run.layout import expand_run_dirs
from agentopia_mesa.run.reader import RunReader, package_version

__all__ = ["RULES", "RunSource", "expand_run_dirs", "open_run", "open_runs", "package_version"]

RULES = "rules"  # the mind name of residents without an LLM (rewards.csv without a model column)


class RunSource(RunReader):
    """A run whose ``rewards`` always carry a ``model`` column (``rules`` for rule minds)."""

    @property
    def tool_rounds(self) -> int:
        """The run's ``memory.tool_rounds``: the most calls of one answer made with tools."""
        return int(self.meta.get("config", {}).get("memory", {}).get("tool_rounds", MemoryConfig().tool_rounds))

    @cached_property
    def rewards(self) -> pd.DataFrame:
        rewards = super().rewards.copy()  # checked: a run's columns, numbers where numbers belong
        if "model" not in rewards.columns:
            rewards["model"] = RULES
        rewards["model"] = rewards["model"].fillna(RULES).astype(str)
        return rewards


def open_run(run_dir: str | Path) -> RunSource:
    """A finished run's metadata and rewards; a one-line ``ValueError`` says what is missing."""
    source = RunSource(run_dir)
    if not source.has_rewards:
        raise ValueError(f"{source.path}: no {source.layout.rewards.name} yet; finish the run first "
                         f"(agentopia resume {source.path})")
    source.rewards  # read now: a broken file fails here, with its path
    return source


def open_runs(paths: list[str | Path]) -> list[RunSource]:
    sources = [open_run(p) for p in expand_run_dirs(paths)]
    ids = [s.run_id for s in sources]
    if len(set(ids)) != len(ids):
        # Two runs named alike (runs/a/seed0 and runs/b/seed0): fall back to their paths as ids.
        for s in sources:
            s.run_id = str(s.path)
    return sources
