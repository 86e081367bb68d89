"""One run of a sweep, in whatever process the executor gives it.

``execute_run(task)`` owns the run directory ``<sweep>/runs/<id>/``:

1. a run with ``done.json`` is finished: it is skipped, never redone;
2. anything else there is what an interrupted attempt left: it is cleared and the run starts over;
3. ``params.json`` and ``started.json`` (pid, host) first; then the usual run directory
   (``config.json``, ``world.json``; ``ties.csv`` and ``residents_yearly.csv`` appended every
   year by the ``YearlyRecorder``; ``metrics.csv``, ``residents.csv``, ``rewards.csv``,
   ``summary.txt``, ``overview.png`` at the end), then ``measures.csv`` / ``correlations.csv``;
4. ``done.json`` last, written atomically, with the run's headline measures.

Only that small summary travels back to the sweep process; the data stays on disk.
"""

from __future__ import annotations

import importlib
import math
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentopia_mesa.analysis.analyzer import DONE_MARKER, HEADLINE, analyse_run, write_run_tables
from agentopia_mesa.run.yearly import YearlyRecorder
from agentopia_mesa.analysis.run_data import load_run
from agentopia_mesa.sweeps.params import model_kwargs

LLM_CACHE_ENV = "AGENTOPIA_LLM_CACHE"


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs, as plain picklable data (process pools and Ray ship it)."""

    run_id: str
    run_dir: str  # absolute
    replicate: int
    seed: int
    params: dict[str, Any]
    base_dir: str = "."
    llm_cache: str = ""  # absolute path of the sweep's shared LLM response cache
    minds: str | None = None  # "package.module:factory"
    minds_options: dict[str, Any] = field(default_factory=dict)


def is_done(run_dir: Path) -> bool:
    return (Path(run_dir) / DONE_MARKER).is_file()


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run ``task`` to completion in its run directory; returns the contents of ``done.json``."""
    from agentopia_mesa.run.results import run_metadata, write_json, write_results, write_start

    out = Path(task.run_dir)
    if is_done(out):
        import json

        return {**json.loads((out / DONE_MARKER).read_text(encoding="utf-8")), "skipped": True}
    if out.exists():
        shutil.rmtree(out)  # an interrupted attempt: start over
    out.mkdir(parents=True)
    write_json(out / "params.json", {"run_id": task.run_id, "replicate": task.replicate, "seed": task.seed, "params": task.params})
    write_json(out / "started.json", {"pid": os.getpid(), "host": socket.gethostname(), "started_at": time.time()})

    started = time.perf_counter()
    model = _build_model(task)
    meta = run_metadata(model, str(task.params.get("world", "apartment")), task.seed)
    meta["sweep_run"] = {"run_id": task.run_id, "replicate": task.replicate, "params": task.params}
    write_start(out, model, meta)
    YearlyRecorder(out).attach(model)
    model.run()
    wall = time.perf_counter() - started
    write_results(out, model, meta, wall)
    analysis = analyse_run(load_run(out))
    write_run_tables(out, analysis)
    done = {
        "run_id": task.run_id,
        "wall_s": round(wall, 3),
        "weeks": model.weeks_done,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "finished_at": time.time(),
        "final": _final_year(analysis.measures),
    }
    write_json(out / DONE_MARKER, done)
    return done


def _build_model(task: RunTask):
    from agentopia_mesa.model import AgentopiaModel

    kwargs = model_kwargs(task.params, task.base_dir)
    if task.llm_cache:
        # Every worker of a sweep, on any machine, shares one response cache (LLM clients read it).
        os.environ[LLM_CACHE_ENV] = task.llm_cache
    if task.minds:
        module, _, name = task.minds.partition(":")
        factory = getattr(importlib.import_module(module), name)
        kwargs["minds"] = factory(cache=Path(task.llm_cache) if task.llm_cache else None, seed=task.seed, **task.minds_options)
    return AgentopiaModel(seed=task.seed, **kwargs)


def _final_year(measures) -> dict[str, float | None]:
    if measures.empty:
        return {}
    last = measures.iloc[-1]
    return {m: (None if m not in last or _nan(last[m]) else float(last[m])) for m in HEADLINE}


def _nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)
