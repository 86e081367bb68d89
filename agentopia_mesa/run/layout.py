"""The run directory's layout: every file a run or a sweep writes, named once.

A **run directory** (``agentopia run``, ``resume``, ``branch``, and each run of a sweep)::

    config.json            everything needed to repeat the run (settings, seed, versions)
    world.json             the world it lived in
    metrics.csv            one row per week (town means, Gini, ties, activity counts)
    residents.csv          one row per resident per week
    rewards.csv            one row per resident per year: life reward, return, advantage
    residents_yearly.csv   jobs, incomes, deposits at the start and every year end (streamed)
    ties.csv               the three tie graphs at the start and every year end (streamed)
                           (with --tables parquet: residents.parquet, and ties/ and
                           residents_yearly/ holding one year-NN.parquet per snapshot)
    replay.jsonl           one frame per week for the viewer (streamed)
    decisions.jsonl        every decision of an LLM mind (streamed; LLM runs only)
    dialogues.jsonl        every conversation, turn by turn (streamed; LLM runs only)
    notebooks.jsonl        every resident's notebook at the end: notes, versions, reads and
                           writes, diary (LLM runs only; run/notebooks.py)
    llm-cache.sqlite       every LLM answer (LLM runs only, unless --llm-cache points elsewhere)
    faults.json            what went wrong: failed calls by kind, interruptions
    summary.txt            written last: a run with a summary is finished
    overview.png           needs, money, ties and life reward at a glance
    checkpoints/           week-NNNNN.ckpt, for resume and branch
    .lock                  while a session writes the run (``run.lock``)

A sweep's run also holds ``params.json``, ``started.json``, ``measures.csv``,
``correlations.csv``, ``innate.csv`` and, last, ``done.json``. A **sweep directory** holds ``sweep.json`` (the
plan), ``index.csv`` (each run's state) and its runs under ``runs/``, plus the sweep-level
``measures.csv`` / ``correlations.csv`` and report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG = "config.json"
WORLD = "world.json"
METRICS = "metrics.csv"
RESIDENTS = "residents.csv"
REWARDS = "rewards.csv"
RESIDENTS_YEARLY = "residents_yearly.csv"
TIES = "ties.csv"
RESIDENTS_PARQUET = "residents.parquet"  # the Parquet forms (--tables parquet, run/tables.py)
RESIDENTS_YEARLY_PARQUET = "residents_yearly"
TIES_PARQUET = "ties"
REPLAY = "replay.jsonl"
DECISIONS = "decisions.jsonl"
DIALOGUES = "dialogues.jsonl"
NOTEBOOKS = "notebooks.jsonl"
LLM_CACHE = "llm-cache.sqlite"
FAULTS = "faults.json"
SUMMARY = "summary.txt"
OVERVIEW = "overview.png"
CHECKPOINTS = "checkpoints"
LOCK = ".lock"  # held while a session writes the run (run.lock)

# a run of a sweep
PARAMS = "params.json"
STARTED = "started.json"
DONE = "done.json"
MEASURES = "measures.csv"
CORRELATIONS = "correlations.csv"
INNATE = "innate.csv"

# a sweep directory
SWEEP = "sweep.json"
SWEEP_INDEX = "index.csv"
SWEEP_RUNS = "runs"

#: Files that grow week by week; a resumed run cuts them back to its checkpoint's sizes.
STREAM_FILES = (REPLAY, DECISIONS, DIALOGUES, TIES, RESIDENTS_YEARLY)


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run directory (nothing is read or created by making one).
    ``RunLayout(path)`` takes a path or another layout, so functions can accept either."""

    root: Path

    def __init__(self, root: str | Path | RunLayout):
        object.__setattr__(self, "root", root.root if isinstance(root, RunLayout) else Path(root))

    def __truediv__(self, name: str) -> Path:
        return self.root / name

    config = property(lambda self: self.root / CONFIG)
    world = property(lambda self: self.root / WORLD)
    metrics = property(lambda self: self.root / METRICS)
    residents = property(lambda self: self.root / RESIDENTS)
    rewards = property(lambda self: self.root / REWARDS)
    residents_yearly = property(lambda self: self.root / RESIDENTS_YEARLY)
    ties = property(lambda self: self.root / TIES)
    residents_parquet = property(lambda self: self.root / RESIDENTS_PARQUET)
    residents_yearly_parquet = property(lambda self: self.root / RESIDENTS_YEARLY_PARQUET)
    ties_parquet = property(lambda self: self.root / TIES_PARQUET)
    replay = property(lambda self: self.root / REPLAY)
    decisions = property(lambda self: self.root / DECISIONS)
    dialogues = property(lambda self: self.root / DIALOGUES)
    notebooks = property(lambda self: self.root / NOTEBOOKS)
    llm_cache = property(lambda self: self.root / LLM_CACHE)
    faults = property(lambda self: self.root / FAULTS)
    summary = property(lambda self: self.root / SUMMARY)
    overview = property(lambda self: self.root / OVERVIEW)
    checkpoints = property(lambda self: self.root / CHECKPOINTS)
    done = property(lambda self: self.root / DONE)

    def is_run(self) -> bool:
        """A run directory: it has its ``config.json`` (a run writes it first)."""
        return self.config.is_file()

    def is_finished(self) -> bool:
        """Every result is written (``summary.txt`` comes last)."""
        return self.summary.is_file()

    def stream_sizes(self) -> dict[str, int]:
        """The current size of every streamed file that exists, for a checkpoint to record."""
        return {name: (self.root / name).stat().st_size for name in STREAM_FILES if (self.root / name).exists()}


@dataclass(frozen=True)
class SweepLayout:
    """The paths of one sweep directory."""

    root: Path

    def __init__(self, root: str | Path):
        object.__setattr__(self, "root", Path(root))

    sweep = property(lambda self: self.root / SWEEP)
    index = property(lambda self: self.root / SWEEP_INDEX)
    runs = property(lambda self: self.root / SWEEP_RUNS)

    def is_sweep(self) -> bool:
        return self.sweep.is_file()

    def run_dirs(self) -> list[Path]:
        """The sweep's run directories that have started (``config.json``), in name order."""
        if not self.runs.is_dir():
            return []
        return sorted(p for p in self.runs.iterdir() if RunLayout(p).is_run())


def is_run_dir(path: str | Path) -> bool:
    return RunLayout(path).is_run()


def expand_run_dirs(paths: list[str | Path]) -> list[Path]:
    """Run directories from run or sweep directories (a sweep's runs in name order)."""
    runs = []
    for path in map(Path, paths):
        if is_run_dir(path):
            runs.append(path)
        elif SweepLayout(path).run_dirs():
            runs += SweepLayout(path).run_dirs()
        else:
            raise ValueError(f"{path}: not a run directory (no {CONFIG}) nor a sweep directory "
                             f"(no {SWEEP_RUNS}/*/{CONFIG})")
    return runs
