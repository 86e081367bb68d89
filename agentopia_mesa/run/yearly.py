"""What analysis needs beyond the run directory: a yearly snapshot of the town's graphs and jobs.

``YearlyRecorder(run_dir).attach(model)`` is a model observer. At the start and after every year
end it appends to the run directory:

- ``ties.csv``: every edge of the acquaintance (weight = familiarity 0-100, with sentiment -1..1),
  affection and respect (weight = rating 0-100) graphs, one row per edge per snapshot;
- ``residents_yearly.csv``: each resident's job, the job's weekly income, total weekly income,
  deposit and number of acquaintances.

Rows are appended as the run goes (nothing accumulates in memory), keyed by ``year_index``:
0 = the start, k = the end of the k-th simulated year. With ``tables="parquet"`` each snapshot is
a Parquet file instead (``ties/year-03.parquet``, ``residents_yearly/year-03.parquet``), written
in the background (``run.tables.TableWriter``); ``flush`` waits for them.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from agentopia_mesa.run.layout import RunLayout
from agentopia_mesa.run.tables import FORMATS, TableWriter, snapshot_path
from agentopia_mesa.run.untrusted import open_to_write

GRAPHS = ("acquaintance", "affection", "respect")


class YearlyRecorder:
    def __init__(self, run_dir: str | Path, tables: str = "csv"):
        if tables not in FORMATS:
            raise ValueError(f"tables: one of {', '.join(FORMATS)}, got {tables!r}")
        self.run_dir = Path(run_dir)
        self.tables = tables
        self._writer = TableWriter() if tables == "parquet" else None

    def attach(self, model) -> YearlyRecorder:
        """Record the start now and every year end from here on."""
        self.record(model, year_index=0)
        model.observers.append(self)
        return self

    def __call__(self, model) -> None:
        per_year = model.config.calendar.weeks_per_year
        if model.weeks_done and model.weeks_done % per_year == 0:
            self.record(model, model.weeks_done // per_year)

    def record(self, model, year_index: int) -> None:
        year = model.config.calendar.start_year + year_index - 1  # the calendar year just ended
        ties = []
        for a, b, d in model.ties.acquaintance.edges(data=True):
            ties.append((year_index, "acquaintance", a, b, d["familiarity"], d["sentiment"]))
        for graph in GRAPHS[1:]:
            for a, b, score in getattr(model.ties, graph).edges(data="score"):
                ties.append((year_index, graph, a, b, score, None))
        residents = [
            (year_index, year, r.name, r.job_key or "", _job_income(r), r.weekly_income, r.state.deposit,
             model.ties.acquaintance.out_degree(r.name))
            for r in model.residents
        ]
        layout = RunLayout(self.run_dir)
        ties_frame = pd.DataFrame(ties, columns=["year_index", "graph", "source", "target", "weight", "sentiment"])
        residents_frame = pd.DataFrame(residents, columns=[
            "year_index", "year", "name", "job", "job_income", "weekly_income", "deposit", "acquaintances"])
        if self._writer is not None:
            self._writer.submit(snapshot_path(layout.ties_parquet, year_index), ties_frame)
            self._writer.submit(snapshot_path(layout.residents_yearly_parquet, year_index), residents_frame)
            if not model.running:
                self._writer.close()
            return
        _append(layout.ties, ties_frame)
        _append(layout.residents_yearly, residents_frame)

    def flush(self) -> None:
        """Wait until every snapshot is on disk (Parquet is written in the background)."""
        if self._writer is not None:
            self._writer.flush()


def _job_income(resident) -> int:
    """Weekly income of the resident's paid position; 0 without one (students, retirees)."""
    job = resident.job
    return job.weekly_income if job is not None and job.work else 0


def _append(path: Path, frame: pd.DataFrame) -> None:
    header = not path.exists()
    with io.TextIOWrapper(open_to_write(path), encoding="utf-8", newline="") as f:
        frame.to_csv(f, header=header, index=False)
