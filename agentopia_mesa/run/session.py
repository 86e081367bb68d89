"""Drive a model inside its run directory: recorders, checkpoints, clean stops, results.

``run_session`` is what ``agentopia run``, ``resume`` and ``branch`` share. It checkpoints at
week boundaries, so a run killed at any moment (kill -9 included) resumes from its last
checkpoint with identical results; SIGTERM or Ctrl-C finish the current week, checkpoint, and
stop cleanly with a message saying how to resume (a second Ctrl-C stops at once; the last
checkpoint still holds). A full disk (a checkpoint, a streamed file or a result that cannot be
written) stops the run the same way: the last good checkpoint holds, and ``agentopia resume``
finishes the run once there is space again.

Every interruption is logged in the run's ``faults.json`` (``run.faults.fault_report``): "signal",
"disk_full", and "unclean_exit" for a session that ended without either (kill -9, a crash, a
power cut), found when the run is resumed.
"""

from __future__ import annotations

import errno
import signal
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from agentopia_mesa.run.background import BackgroundWrites
from agentopia_mesa.run.checkpoints import (
    KEEP_NEWEST, checkpoint_path, list_checkpoints, save_checkpoint, truncate_streams,
)
from agentopia_mesa.run.faults import fault_report, read_faults
from agentopia_mesa.run.files import write_json
from agentopia_mesa.run.layout import RunLayout
from agentopia_mesa.run.lock import check_streams, run_lock
from agentopia_mesa.run.replay import ReplayRecorder
from agentopia_mesa.run.results import write_results
from agentopia_mesa.run.yearly import YearlyRecorder

#: Exit codes of a clean stop: 128 + SIGTERM, as a shell reports a process that SIGTERM ended,
#: and EX_TEMPFAIL (sysexits.h: "try again later") for a full disk.
SIGNAL_EXIT = 143
DISK_FULL_EXIT = 75
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class Stopped(RuntimeError):
    """The run stopped cleanly (a signal, a full disk); its last checkpoint can be resumed.
    ``exit_code`` is what the command exits with."""

    def __init__(self, message: str, exit_code: int = SIGNAL_EXIT):
        super().__init__(message)
        self.exit_code = exit_code


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


def attach_recorders(model, out: Path, fresh: bool, tables: str = "csv") -> None:
    """Recorders write into the run directory; a fresh run starts the replay with week 0.
    ``tables``: the per-resident tables' format (``run.tables``)."""
    replay, yearly = ReplayRecorder(out), YearlyRecorder(out, tables)
    if fresh:
        replay.start(model)
        yearly.attach(model)
    else:
        replay.resume(model)
        model.observers.append(yearly)
    model.observers.append(replay)


def checkpoint(model, out: Path, keep: int = KEEP_NEWEST, writes: BackgroundWrites | None = None) -> Path:
    """Checkpoint without the observers (they hold open files) and with stream sizes recorded;
    keep the newest ``keep`` (0: all) and each year end's. Observers writing in the background
    finish first, so a checkpoint never refers to a file that is not written yet. With ``writes``
    the checkpoint is pickled and written by a forked child while the caller goes on (``run.background``;
    ``writes.wait()`` says how it went); returns its path."""
    _flush(model.observers)
    observers, model.observers = model.observers, []
    model.stream_offsets = RunLayout(out).stream_sizes()
    path = checkpoint_path(out, model.weeks_done)
    try:
        def save() -> None:
            save_checkpoint(model, out, keep=keep, year_weeks=model.config.calendar.weeks_per_year)

        if writes is None:
            save()
        else:
            writes.start(save, str(path))  # the child's snapshot is taken now, without the observers
        return path
    finally:
        model.observers = observers


def _flush(observers) -> None:
    for observer in observers:
        flush = getattr(observer, "flush", None)
        if flush is not None:
            flush()


def prepare_resume(model, out: Path, tables: str = "csv") -> None:
    """Cut streamed files back to the checkpoint and re-attach recorders; refuses (before changing
    anything) if a streamed file or world.json is missing or shorter than the checkpoint says."""
    check_streams(out, model)
    truncate_streams(out, getattr(model, "stream_offsets", {}))
    model.observers = []
    attach_recorders(model, out, fresh=False, tables=tables)


def run_session(
    model,
    out: Path,
    meta: dict,
    checkpoint_every: int = 1,
    progress: Callable | None = None,
) -> dict[str, Path]:
    """Run ``model`` to its end inside ``out``; returns the paths of the written results.
    Raises ``Stopped`` on a signal or a full disk, after logging it in ``faults.json``. Holds the
    run directory's lock (``run.lock``) throughout: a second writer is refused."""
    with run_lock(out), BackgroundWrites() as writes:  # no session ends with a checkpoint still being written
        return _run_session(model, out, meta, checkpoint_every, progress, writes)


def _run_session(model, out: Path, meta: dict, checkpoint_every: int, progress: Callable | None,
                 writes: BackgroundWrites) -> dict[str, Path]:
    started = time.perf_counter()
    interruptions: list[dict] = []
    try:
        interruptions = _open_fault_log(model, out)
        with _stop_requests() as stop:
            try:
                while model.running:
                    model.step()
                    if progress:
                        progress(model)
                    if checkpoint_every and (model.weeks_done % checkpoint_every == 0 or not model.running or stop):
                        checkpoint(model, out, keep=meta.get("keep_checkpoints", KEEP_NEWEST), writes=writes)
                    if stop:
                        writes.wait()  # the message says this checkpoint holds
                        name = signal.Signals(stop[0]).name
                        raise _stopped(model, out, interruptions, "signal", f"stopped by {name} after week "
                                       f"{model.weeks_done}; continue with: agentopia resume {out}", SIGNAL_EXIT)
            except KeyboardInterrupt:  # a second Ctrl-C: mid-week, so the last checkpoint is what holds
                writes.wait(quietly=True)
                raise _stopped(model, out, interruptions, "signal", "interrupted; continue from the last "
                               f"checkpoint with: agentopia resume {out}", SIGNAL_EXIT) from None
        _flush(model.observers)
        wall = time.perf_counter() - started + meta.get("wall_seconds_before", 0.0)
        meta = {**meta, "wall_seconds": wall}
        write_json(RunLayout(out).config, meta)
        return write_results(out, model, meta, wall, interruptions, before_summary=writes.wait)
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        writes.wait(quietly=True)  # the checkpoint being written, if any, counts as held
        held = list_checkpoints(out)
        resume = (f"the checkpoint {held[-1].name} holds; free some space, then continue with: agentopia resume {out}"
                  if held else "there is no checkpoint to resume from; free some space and start the run again")
        raise _stopped(model, out, interruptions, "disk_full", f"disk full: could not write "
                       f"{exc.filename or f'to {out}'} at week {model.weeks_done}; {resume}", DISK_FULL_EXIT) from None


def _open_fault_log(model, out: Path) -> list[dict]:
    """The run's interruptions so far, plus one if the last session ended without a clean stop;
    marks a session as running until it finishes or stops cleanly."""
    previous = read_faults(out)
    interruptions = list(previous.get("log", []))
    if previous.get("in_progress"):
        interruptions.append({"kind": "unclean_exit", "week": model.weeks_done, "message": (
            f"the last session ended without a clean stop (killed or crashed); resumed after week {model.weeks_done}")})
    write_json(RunLayout(out).faults, fault_report(model, interruptions, in_progress=True))
    return interruptions


def _stopped(model, out: Path, interruptions: list[dict], kind: str, message: str, exit_code: int) -> Stopped:
    """Log the interruption in ``faults.json`` and make the ``Stopped`` to raise. The log is
    best effort: on a full disk it may not be written, and the resumed run then counts an
    unclean exit instead."""
    interruptions.append({"kind": kind, "week": model.weeks_done, "message": message})
    try:
        write_json(RunLayout(out).faults, fault_report(model, interruptions))
    except OSError:
        pass
    return Stopped(message, exit_code)
