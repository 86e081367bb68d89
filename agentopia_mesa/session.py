"""Drive a model inside its run directory: recorders, checkpoints, clean stops, results.

``run_session`` is what ``agentopia run``, ``resume`` and ``branch`` share. It checkpoints at
week boundaries, so a run killed at any moment (kill -9 included) resumes from its last
checkpoint with identical results; SIGTERM or Ctrl-C finish the current week, checkpoint, and
stop cleanly with a message saying how to resume (a second Ctrl-C stops at once; the last
checkpoint still holds).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from agentopia_mesa.analysis.recorder import YearlyRecorder
from agentopia_mesa.checkpoints import save_checkpoint, truncate_streams
from agentopia_mesa.replay import REPLAY_FILE, ReplayRecorder
from agentopia_mesa.runs import write_json, write_results

#: Files that grow week by week; a resumed run cuts them back to the checkpoint.
STREAM_FILES = (REPLAY_FILE, "decisions.jsonl", "ties.csv", "residents_yearly.csv")


class Stopped(RuntimeError):
    """The run stopped cleanly on a signal; its last checkpoint can be resumed."""


@contextmanager
def _stop_requests():
    """Turn SIGTERM and a first Ctrl-C into a request to stop after the current week."""
    requested: list[int] = []
    previous = {}

    def handler(signum, frame):
        if requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        requested.append(signum)

    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not in the main thread: no signal handling
        pass
    try:
        yield requested
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def attach_recorders(model, out: Path, fresh: bool) -> None:
    """Recorders write into the run directory; a fresh run starts the replay with week 0."""
    replay, yearly = ReplayRecorder(out), YearlyRecorder(out)
    if fresh:
        replay.start(model)
        yearly.attach(model)
    else:
        replay.resume(model)
        model.observers.append(yearly)
    model.observers.append(replay)


def checkpoint(model, out: Path, keep: int = 3) -> Path:
    """Checkpoint without the observers (they hold open files) and with stream sizes recorded."""
    observers, model.observers = model.observers, []
    model.stream_offsets = {name: (out / name).stat().st_size for name in STREAM_FILES if (out / name).exists()}
    try:
        return save_checkpoint(model, out, keep=keep)
    finally:
        model.observers = observers


def prepare_resume(model, out: Path) -> None:
    """Cut streamed files back to the checkpoint and re-attach recorders."""
    truncate_streams(out, getattr(model, "stream_offsets", {}))
    model.observers = []
    attach_recorders(model, out, fresh=False)


def run_session(
    model,
    out: Path,
    meta: dict,
    checkpoint_every: int = 1,
    progress: Callable | None = None,
) -> dict[str, Path]:
    """Run ``model`` to its end inside ``out``; returns the paths of the written results."""
    started = time.perf_counter()
    with _stop_requests() as stop:
        try:
            while model.running:
                model.step()
                if progress:
                    progress(model)
                if checkpoint_every and (model.weeks_done % checkpoint_every == 0 or not model.running or stop):
                    checkpoint(model, out)
                if stop:
                    raise Stopped(f"stopped after week {model.weeks_done}; continue with: agentopia resume {out}")
        except KeyboardInterrupt:  # a second Ctrl-C: mid-week, so the last checkpoint is what holds
            raise Stopped(f"interrupted; continue from the last checkpoint with: agentopia resume {out}") from None
    wall = time.perf_counter() - started + meta.get("wall_seconds_before", 0.0)
    meta = {**meta, "wall_seconds": wall}
    write_json(out / "config.json", meta)
    return write_results(out, model, meta, wall)
