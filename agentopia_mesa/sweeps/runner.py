"""Running a sweep: plan, skip what is finished, run the rest, keep an index on disk.

The sweep directory::

    sweep.json        the configuration and the plan (every run's id, directory, parameters, seed)
    index.csv         one row per run: status, parameters, seed, wall time, final-year measures
    sweep.lock        while a sweep process works here (pid, host)
    llm-cache.sqlite  the LLM response cache every worker shares (when minds use an LLM)
    runs/<id>/        one run directory per run; finished when runs/<id>/done.json exists

``index.csv`` is rewritten (atomically) after every run, so it is always current, and only each
run's small summary is kept in memory: the data itself stays in the run directories.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agentopia_mesa.analysis.analyzer import HEADLINE
from agentopia_mesa.run.layout import SWEEP_RUNS, RunLayout, SweepLayout
from agentopia_mesa.run.untrusted import read_json, refuse_links_inside
from agentopia_mesa.sweeps.executors import WorkerLost, make_executor
from agentopia_mesa.sweeps.spec import RunPlan, SweepSpec, load_sweep
from agentopia_mesa.sweeps.worker import RunTask, execute_run, is_done

LOCK_FILE = "sweep.lock"


@dataclass
class SweepOutcome:
    out: Path
    planned: int
    skipped: int  # finished before this call
    finished: int = 0  # finished by this call
    failed: dict[str, str] = field(default_factory=dict)  # run id -> one-line reason

    @property
    def complete(self) -> bool:
        return not self.failed and self.skipped + self.finished == self.planned


class SweepLock:
    """Keeps two sweep processes out of one directory; a lock left by a dead process is taken over."""

    def __init__(self, out: Path):
        self.path = out / LOCK_FILE

    def __enter__(self):
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = self._holder()
                if holder and holder.get("host") == me["host"] and _alive(holder.get("pid")):
                    raise ValueError(f"out: another sweep (pid {holder['pid']}) is running in {self.path.parent}; "
                                     f"wait for it, or delete {self.path} if that process is gone") from None
                self.path.unlink(missing_ok=True)  # stale: its process died
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            return self
        raise ValueError(f"out: cannot lock {self.path.parent}; delete {self.path} and try again")

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def default_out(spec: SweepSpec) -> Path:
    return Path("runs") / spec.name


def run_sweep(
    spec: SweepSpec | str | Path,
    out: str | Path | None = None,
    *,
    executor: str | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
) -> SweepOutcome:
    """Run every unfinished run of ``spec`` (a ``SweepSpec`` or a config path) into ``out``.

    ``executor``, ``workers`` and ``ray_address`` override the configuration. Finished runs are
    never redone; interrupted ones start over. Returns what happened; ``outcome.failed`` names
    runs that raised (or whose worker died more than ``retries`` times): run again to retry.
    """
    from tqdm import tqdm

    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    out = Path(out or default_out(spec)).resolve()
    executor_name = executor or spec.executor
    workers = workers or spec.workers
    if workers < 1:
        raise ValueError(f"workers: must be at least 1, got {workers}")
    runner = make_executor(executor_name, workers, ray_address or spec.ray_address)
    plan = spec.plan()
    out.mkdir(parents=True, exist_ok=True)
    refuse_links_inside(out, (SWEEP_RUNS,))  # a sweep directory from someone else writes nothing through a link
    with SweepLock(out):
        write_plan(out, spec, plan)
        index = SweepIndex(out, plan)
        todo = [run for run in plan if not index.is_done(run)]
        outcome = SweepOutcome(out, planned=len(plan), skipped=len(plan) - len(todo))
        by_id = {run.id: run for run in plan}
        tasks = [task_for(spec, out, run) for run in todo]
        with tqdm(total=len(plan), initial=outcome.skipped, unit="run", desc=spec.name, disable=not progress) as bar:
            for attempt in range(spec.retries + 1):
                lost = []
                for task, result in runner.run(execute_run, tasks):
                    run = by_id[task.run_id]
                    if isinstance(result, WorkerLost) and attempt < spec.retries:
                        lost.append(task)
                        index.update(run, "retrying", error=str(result))
                    elif isinstance(result, BaseException):
                        outcome.failed[run.id] = f"{type(result).__name__}: {str(result).splitlines()[0] if str(result) else ''}"
                        index.update(run, "failed", error=outcome.failed[run.id])
                    else:
                        outcome.finished += 1
                        index.update(run, "done", result=result)
                        bar.update(1)
                    bar.set_postfix_str(f"failed {len(outcome.failed)}" if outcome.failed else "", refresh=False)
                if not lost:
                    break
                tasks = lost
    return outcome


def task_for(spec: SweepSpec, out: Path, run: RunPlan) -> RunTask:
    return RunTask(
        run_id=run.id, run_dir=str(out / run.dir), replicate=run.replicate, seed=run.seed, params=run.params,
        base_dir=spec.base_dir, llm_cache=str((out / spec.llm_cache).resolve()), llm_mix=spec.llm_mix,
        llm_max_concurrency=spec.llm_max_concurrency, minds=spec.minds, minds_options=spec.minds_options,
        society=spec.society,
    )


def write_plan(out: Path, spec: SweepSpec, plan: list[RunPlan]) -> None:
    """``sweep.json``: the configuration, the swept parameters and every run (what analysis reads)."""
    from agentopia_mesa.run.files import write_json

    write_json(SweepLayout(out).sweep, {
        **spec.to_dict(),
        "swept": spec.swept,
        "runs": [{"id": r.id, "dir": r.dir, "replicate": r.replicate, "seed": r.seed, "params": r.params} for r in plan],
    })


class SweepIndex:
    """``index.csv``: one row per planned run, rewritten atomically whenever a run changes state."""

    def __init__(self, out: Path, plan: list[RunPlan]):
        self.out = out
        self.rows: dict[str, dict] = {}
        for run in plan:
            row = {"run_id": run.id, "status": "pending", "replicate": run.replicate, "seed": run.seed,
                   **{k: _cell(v) for k, v in run.params.items()}, "wall_s": None, "error": ""}
            done = RunLayout(out / run.dir).done
            if done.is_file():
                row.update(_done_columns(read_json(done)))  # a damaged one: one line naming it
            self.rows[run.id] = row
        self.write()

    def is_done(self, run: RunPlan) -> bool:
        return is_done(self.out / run.dir)

    def update(self, run: RunPlan, status: str, result: dict | None = None, error: str = "") -> None:
        row = self.rows[run.id]
        row.update(status=status, error=error)
        if result is not None:
            row.update(_done_columns(result))
        self.write()

    def write(self) -> None:
        from agentopia_mesa.run.files import write_csv

        write_csv(SweepLayout(self.out).index, pd.DataFrame(list(self.rows.values())))


def _done_columns(done: dict) -> dict:
    final = done.get("final", {})
    return {"status": "done", "error": "", "wall_s": done.get("wall_s"), **{m: final.get(m) for m in HEADLINE}}


def _cell(value):
    return value if isinstance(value, str | int | float | bool) or value is None else json.dumps(value, sort_keys=True)
