"""Reading a run directory (``agentopia run`` or one run of a sweep) back for analysis.

Everything a run directory holds is optional here except ``config.json`` and ``metrics.csv``:
what is missing leaves the measures that need it out (NaN), and ``missing`` says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agentopia_mesa.run.yearly import RESIDENTS_YEARLY_FILE, TIES_FILE

RUN_MARKERS = ("config.json", "metrics.csv")
SWEEP_MARKER = "sweep.json"


class AnalysisError(ValueError):
    """A directory that cannot be analysed; the message names the path and what it lacks."""


def is_run_dir(path: Path) -> bool:
    return all((Path(path) / name).is_file() for name in RUN_MARKERS)


def is_sweep_dir(path: Path) -> bool:
    return (Path(path) / SWEEP_MARKER).is_file()


@dataclass
class RunData:
    path: Path
    meta: dict
    metrics: pd.DataFrame
    rewards: pd.DataFrame
    world: dict
    residents: pd.DataFrame | None = None  # residents.csv: one row per resident per week
    residents_yearly: pd.DataFrame | None = None  # from YearlyRecorder, else rebuilt from residents.csv
    ties: pd.DataFrame | None = None  # from YearlyRecorder
    missing: list[str] = field(default_factory=list)

    @property
    def start_year(self) -> int:
        return int(self.meta["config"]["calendar"]["start_year"])

    @property
    def weeks_per_year(self) -> int:
        return int(self.meta["config"]["calendar"]["weeks_per_year"])

    @property
    def years(self) -> int:
        return int(self.meta["years"])

    @property
    def names(self) -> list[str]:
        return [r["name"] for r in self.world.get("residents", [])]


def _read_csv(path: Path, default: pd.DataFrame | None = None) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size > 0 else default


def load_run(path: str | Path) -> RunData:
    """Load what a run directory holds; raises ``AnalysisError`` naming the missing file."""
    path = Path(path)
    for name in RUN_MARKERS:
        if not (path / name).is_file():
            raise AnalysisError(f"{path}: no {name}; not a finished run directory (run it again to complete it)")
    meta = json.loads((path / "config.json").read_text(encoding="utf-8"))
    world = json.loads((path / "world.json").read_text(encoding="utf-8")) if (path / "world.json").is_file() else {}
    run = RunData(
        path=path,
        meta=meta,
        metrics=pd.read_csv(path / "metrics.csv"),
        rewards=_read_csv(path / "rewards.csv", default=pd.DataFrame()),
        world=world,
        residents=_read_csv(path / "residents.csv"),
        residents_yearly=_read_csv(path / RESIDENTS_YEARLY_FILE),
        ties=_read_csv(path / TIES_FILE),
    )
    if run.ties is None:
        run.missing.append(f"{TIES_FILE} (network density, clustering, communities, affection ties formed and lost)")
    if run.residents_yearly is None:
        run.residents_yearly = _yearly_from_weekly(run)
        if run.residents_yearly is None:
            run.missing.append(f"{RESIDENTS_YEARLY_FILE} and residents.csv (mobility, innate fields)")
    return run


def _yearly_from_weekly(run: RunData) -> pd.DataFrame | None:
    """Year-end rows rebuilt from ``residents.csv`` and the world's job list.

    Jobs created during the run are not in ``world.json``; their income is unknown (NaN), so
    residents holding them drop out of the mobility measures for those years.
    """
    weekly = run.residents
    if weekly is None or "job" not in weekly or not run.world:
        return None
    jobs = {j["key"]: (j["weekly_income"] if j.get("work", True) else 0) for j in run.world.get("jobs", [])}
    allowance = {j["key"]: j["weekly_income"] for j in run.world.get("jobs", [])}
    extra = {r["name"]: r.get("extra_income", 0) for r in run.world.get("residents", [])}
    step = "Step" if "Step" in weekly else "week"
    year_ends = {k * run.weeks_per_year: k for k in range(run.years + 1)}
    rows = weekly[weekly[step].isin(year_ends)].copy()
    rows["year_index"] = rows[step].map(year_ends)
    rows["year"] = run.start_year + rows["year_index"] - 1
    job = rows["job"].fillna("")
    rows["job"] = job
    rows["job_income"] = [0 if not k else jobs.get(k, float("nan")) for k in job]
    rows["weekly_income"] = [(0 if not k else allowance.get(k, float("nan"))) + extra.get(n, 0) for k, n in zip(job, rows["name"], strict=True)]
    return rows[["year_index", "year", "name", "job", "job_income", "weekly_income", "deposit", "acquaintances"]].reset_index(drop=True)
