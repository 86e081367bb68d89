"""Where runs execute: in this process, in local worker processes, or on a Ray cluster.

Every executor has one method, ``run(fn, tasks)``, yielding ``(task, result)`` as runs finish, in
completion order; a run that raised yields the exception instead, and a run whose worker died
(killed, out of memory, node lost) yields ``WorkerLost`` so the sweep can run it again.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

Outcome = Iterator[tuple[Any, Any]]


class WorkerLost(RuntimeError):
    """The process running a task died before returning (its run is incomplete, not wrong)."""


class Sequential:
    """One run after another in this process: simplest to debug, no start-up cost."""

    name = "sequential"

    def run(self, fn: Callable, tasks: Sequence) -> Outcome:
        for task in tasks:
            try:
                yield task, fn(task)
            except Exception as exc:  # noqa: BLE001 - reported per run, the sweep goes on
                yield task, exc


def _die_with_parent(parent_pid: int, every_s: float = 0.5) -> None:
    """Worker initializer: end this worker as soon as the sweep process that started it is gone
    (kill -9 included, which gives the pool no chance to stop its workers). The interrupted run
    starts over when the sweep is run again."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


class Processes:
    """``workers`` local processes. Started with ``spawn`` (like ``mesa.batch_run``): no state
    leaks from the parent and it behaves the same on Linux, macOS and Windows. A worker ends
    itself when the sweep process dies (``_die_with_parent``)."""

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers

    def run(self, fn: Callable, tasks: Sequence) -> Outcome:
        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=context,
                                 initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(fn, task): task for task in tasks}
            try:
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        yield task, future.result()
                    except BrokenProcessPool as exc:
                        yield task, WorkerLost(f"worker process died ({exc})")
                    except Exception as exc:  # noqa: BLE001
                        yield task, exc
            finally:
                for future in futures:
                    future.cancel()


class Ray:
    """Runs as Ray tasks (one CPU each). Without ``address`` a local Ray with ``workers`` CPUs is
    started for the sweep; with ``address="auto"`` (or ``ray://host:port``) a running cluster is
    used. Every node must have agentopia-mesa installed and see the sweep directory (a shared
    file system), since each run writes its own directory."""

    name = "ray"

    def __init__(self, workers: int, address: str | None = None):
        if importlib.util.find_spec("ray") is None:
            raise ValueError("executor: ray is not installed; pip install 'agentopia-mesa[ray]' "
                             "or use executor = \"processes\"")
        self.workers = workers
        self.address = address

    def run(self, fn: Callable, tasks: Sequence) -> Outcome:
        import ray

        if not tasks:
            return
        started_here = not ray.is_initialized()
        if started_here:
            where = {"address": self.address} if self.address else {"num_cpus": self.workers}
            ray.init(include_dashboard=False, log_to_driver=False, **where)
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        pending = {remote.remote(task): task for task in tasks}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(ready[0])
                try:
                    yield task, ray.get(ready[0])
                except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
                    yield task, WorkerLost(f"ray worker died ({type(exc).__name__})")
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.as_instanceof_cause()
                    yield task, cause if isinstance(cause, Exception) else exc
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()


def make_executor(name: str, workers: int = 1, ray_address: str | None = None):
    if name == "sequential":
        return Sequential()
    if name == "processes":
        return Processes(workers)
    if name == "ray":
        return Ray(workers, ray_address)
    raise ValueError(f"executor: {name!r} is not one of sequential, processes, ray")
