"""One run of a sweep, in whatever process the executor gives it.

``execute_run(task)`` owns the run directory ``<sweep>/runs/<id>/``, a run directory like any
other (``run.layout``), built by the same ``run.builder`` as ``agentopia run``, so it has its
checkpoints, ``replay.jsonl`` and (with LLM minds) ``decisions.jsonl``, and can be resumed,
branched, replayed in the viewer and turned into datasets:

1. a run with ``done.json`` is finished: it is skipped, never redone;
2. a run that was interrupted after a checkpoint continues from it; anything else there is
   what an attempt left before its first checkpoint: it is cleared and the run starts over;
3. the run directory, then ``params.json`` and ``started.json`` (pid, host); the run lives to
   its end (results, ``summary.txt``), then ``measures.csv`` / ``correlations.csv``;
4. ``done.json`` last, written atomically, with the run's headline measures.

Only that small summary travels back to the sweep process; the data stays on disk.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentopia_mesa.analysis.analyzer import HEADLINE, analyse_run, write_run_tables
from agentopia_mesa.analysis.run_data import load_run
from agentopia_mesa.run.layout import PARAMS, STARTED, RunLayout
from agentopia_mesa.run.untrusted import read_json
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
    llm_mix: str | None = None  # "SPEC=FRACTION,..." as `agentopia run --mix`
    llm_max_concurrency: int = 8  # the mix's calls in flight, as `agentopia run --max-concurrency`
    minds: str | None = None  # "package.module:factory"
    minds_options: dict[str, Any] = field(default_factory=dict)
    society: dict[str, Any] = field(default_factory=dict)  # agentopia run's town options ([society])


def is_done(run_dir: Path) -> bool:
    return RunLayout(run_dir).done.is_file()


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run ``task`` to completion in its run directory; returns the contents of ``done.json``."""
    from agentopia_mesa.run.files import write_json

    layout = RunLayout(task.run_dir)
    if is_done(layout.root):
        return {**read_json(layout.done), "skipped": True}
    if task.llm_cache:
        # Every worker of a sweep, on any machine, shares one response cache (LLM clients read it).
        os.environ[LLM_CACHE_ENV] = task.llm_cache
    started = time.perf_counter()
    run = _resumed(layout) or _started(task, layout)
    if not run.finished:
        run.live()
    wall = time.perf_counter() - started
    analysis = analyse_run(load_run(layout.root))
    write_run_tables(layout.root, analysis)
    done = {
        "run_id": task.run_id,
        "wall_s": round(wall, 3),
        "weeks": run.model.weeks_done,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "finished_at": time.time(),
        "final": _final_year(analysis.measures),
    }
    write_json(layout.done, done)
    return done


def _resumed(layout: RunLayout):
    """The run continued from its last checkpoint, or None when there is none to continue from."""
    from agentopia_mesa.run.builder import resume_run
    from agentopia_mesa.run.checkpoints import CheckpointError, list_checkpoints

    if not (layout.is_run() and list_checkpoints(layout.root)):
        return None
    try:
        return resume_run(layout.root)[0]
    except (CheckpointError, ValueError):
        return None


def _started(task: RunTask, layout: RunLayout):
    from agentopia_mesa.run.builder import start_run
    from agentopia_mesa.run.files import write_json

    if layout.root.exists():
        shutil.rmtree(layout.root)  # an attempt that left no checkpoint: start over
    run = start_run(settings_for(task), layout.root, world_label=str(task.params.get("world", "apartment")),
                    extra_meta={"sweep_run": {"run_id": task.run_id, "replicate": task.replicate, "params": task.params}})
    write_json(layout / PARAMS, {"run_id": task.run_id, "replicate": task.replicate, "seed": task.seed, "params": task.params})
    write_json(layout / STARTED, {"pid": os.getpid(), "host": socket.gethostname(), "started_at": time.time()})
    return run


def settings_for(task: RunTask):
    """The ``RunSettings`` of one run of a sweep: with a ``[society]``, the town ``agentopia run``
    makes of its options and the run's parameters; without one, as sweeps always made them."""
    from dataclasses import replace

    from agentopia_mesa.llm.settings import LLMSettings, parse_mix
    from agentopia_mesa.run.builder import RunSettings
    from agentopia_mesa.sweeps.society import society_keys, society_settings

    overrides = model_kwargs(task.params, task.base_dir)
    model_args = {k: overrides.pop(k) for k in ("world", "residents", "years") if k in overrides}
    society_params = {k: overrides.pop(k) for k in society_keys() if k in overrides}
    cache = task.llm_cache or None
    if task.society or society_params:
        settings = society_settings({**task.society, **society_params}, model_args, overrides, task.seed, task.base_dir,
                                    from_table=set(task.society))
        llm = replace(settings.llm, cache=cache) if settings.llm.uses_llm or task.minds else settings.llm
        return replace(settings, llm=llm, minds=task.minds, minds_options=task.minds_options)
    if task.llm_mix:
        llm = LLMSettings(mix=parse_mix(task.llm_mix), cache=cache, max_concurrency=task.llm_max_concurrency)
    else:  # rules, or a minds factory that is handed the cache
        llm = LLMSettings(cache=cache if task.minds else None)
    return RunSettings(seed=task.seed, overrides=overrides, llm=llm, minds=task.minds, minds_options=task.minds_options,
                       **model_args)


def _final_year(measures) -> dict[str, float | None]:
    if measures.empty:
        return {}
    last = measures.iloc[-1]
    return {m: (None if m not in last or _nan(last[m]) else float(last[m])) for m in HEADLINE}


def _nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)
