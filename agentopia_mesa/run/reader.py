"""Reading a run directory back: the one reader that analysis, datasets, compare and the viewer share.

``RunReader(path)`` checks that ``path`` is a run directory and reads each file on first use, so
a caller pays only for what it looks at. Tables that a run has not written (yet) are ``None``
(``rewards`` is an empty frame before the first year end); the caller decides what it needs
and says so in its own words.
"""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from agentopia_mesa.config import RewardConfig
from agentopia_mesa.run.layout import CONFIG, RunLayout
from agentopia_mesa.run.run_files import check_meta, checked_table, world_spec
from agentopia_mesa.run.tables import read_csv, read_table
from agentopia_mesa.run.untrusted import UntrustedFileError, read_json


class RunReadError(ValueError):
    """A directory that is not a run directory, or a run file that cannot be read."""


def _read(read):
    """``read()``, with a damaged or hostile file's error as a ``RunReadError`` (one line naming it)."""
    try:
        return read()
    except UntrustedFileError as exc:
        raise RunReadError(str(exc)) from None


def package_version() -> str:
    try:
        return version("agentopia-mesa")
    except PackageNotFoundError:
        return "unknown"


class RunReader:
    """A run directory, read lazily (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.layout = RunLayout(path)
        if not self.layout.is_run():
            raise RunReadError(f"{self.path}: not a run directory (no {CONFIG})")

    @property
    def path(self) -> Path:
        return self.layout.root

    # -- what the run was -------------------------------------------------------------------
    @cached_property
    def meta(self) -> dict:
        """``config.json``: settings, seed, versions (see ``run.results.run_metadata``), its shape
        checked (``run/run_files.py``)."""
        return _read(lambda: check_meta(read_json(self.layout.config), self.layout.config))

    @cached_property
    def world(self) -> dict:
        """``world.json`` as plain data ({} if the run has none), checked against the world schema."""
        path = self.layout.world
        if not path.exists() and not path.is_symlink():
            return {}
        data = _read(lambda: read_json(path))
        _read(lambda: world_spec(data, path))  # checked, but given back as written
        return data

    def world_spec(self):
        """``world.json`` as a validated ``WorldSpec`` (None if the run has none)."""
        path = self.layout.world
        if not path.exists() and not path.is_symlink():
            return None
        return _read(lambda: world_spec(read_json(path), path))  # noqa: E731

    @cached_property
    def run_id(self) -> str:
        """The sweep's run id if it has one, else the run directory's name."""
        run_id = self.meta.get("run_id") or (self.meta.get("sweep_run") or {}).get("run_id")
        return str(run_id) if run_id else self.path.resolve().name

    @property
    def calendar(self) -> dict:
        return self.meta.get("config", {}).get("calendar", {})

    @property
    def start_year(self) -> int:
        return int(self.calendar["start_year"])

    @property
    def weeks_per_year(self) -> int:
        return int(self.calendar.get("weeks_per_year", 10))

    @property
    def years(self) -> int:
        return int(self.meta.get("years", 0))

    @property
    def gamma(self) -> float:
        return float(self.meta.get("config", {}).get("reward", {}).get("gamma", RewardConfig().gamma))

    @property
    def names(self) -> list[str]:
        return [r["name"] for r in self.world.get("residents", [])]

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

    # -- what happened ----------------------------------------------------------------------
    @cached_property
    def metrics(self) -> pd.DataFrame | None:
        return _read(lambda: checked_table(read_csv(self.layout.metrics), self.layout.metrics))

    @cached_property
    def residents(self) -> pd.DataFrame | None:
        """One row per resident per week."""
        return _read(lambda: checked_table(read_table(self.layout.residents, self.layout.residents_parquet),
                                           self.layout.residents))

    @cached_property
    def rewards(self) -> pd.DataFrame:
        """One row per resident per year (empty before the first year end)."""
        frame = _read(lambda: checked_table(read_csv(self.layout.rewards), self.layout.rewards))
        return frame if frame is not None else pd.DataFrame()

    @property
    def has_rewards(self) -> bool:
        return self.layout.rewards.is_file()

    @cached_property
    def residents_yearly(self) -> pd.DataFrame | None:
        return _read(lambda: checked_table(read_table(self.layout.residents_yearly, self.layout.residents_yearly_parquet),
                                           self.layout.residents_yearly))

    @cached_property
    def ties(self) -> pd.DataFrame | None:
        return _read(lambda: checked_table(read_table(self.layout.ties, self.layout.ties_parquet), self.layout.ties))

    @property
    def decisions(self) -> Path:
        """``decisions.jsonl`` (it exists for runs with LLM minds)."""
        return self.layout.decisions
