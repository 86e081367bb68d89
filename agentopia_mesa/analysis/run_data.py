"""Reading a run directory (``agentopia run`` or one run of a sweep) back for analysis.

Everything a run directory holds is optional here except ``config.json`` and ``metrics.csv``:
what is missing leaves the measures that need it out (NaN), and ``missing`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agentopia_mesa.run.layout import RESIDENTS_YEARLY, TIES, RunLayout
from agentopia_mesa.run.reader import RunReader, RunReadError


class AnalysisError(ValueError):
    """A directory that cannot be analysed; the message names the path and what it lacks."""


def is_run_dir(path: Path) -> bool:
    """A run directory with its weekly metrics written (analysis needs them)."""
    layout = RunLayout(path)
    return layout.is_run() and layout.metrics.is_file()


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


def load_run(path: str | Path) -> RunData:
    """Load what a run directory holds; raises ``AnalysisError`` naming the missing file."""
    path = Path(path)
    try:
        reader = RunReader(path)
    except RunReadError:
        reader = None
    if reader is None or reader.metrics is None:
        missing = reader.layout.metrics.name if reader else RunLayout(path).config.name
        raise AnalysisError(f"{path}: no {missing}; not a finished run directory (run it again to complete it)")
    run = RunData(
        path=path,
        meta=reader.meta,
        metrics=reader.metrics,
        rewards=reader.rewards,
        world=reader.world,
        residents=reader.residents,
        residents_yearly=reader.residents_yearly,
        ties=reader.ties,
    )
    if run.ties is None:
        run.missing.append(f"{TIES} (network density, clustering, communities, affection ties formed and lost)")
    if run.residents_yearly is None:
        run.residents_yearly = _yearly_from_weekly(run)
        if run.residents_yearly is None:
            run.missing.append(f"{RESIDENTS_YEARLY} and residents.csv (mobility, innate fields)")
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
