"""Run directories: who may write one, and what ``--overwrite`` may delete.

A session (``run``, ``resume``, ``branch``, a sweep's run) holds an exclusive ``fcntl.flock`` on
``<run dir>/.lock`` while it writes, with its pid in the file; a second writer fails at once with
one line naming that pid, so two resumes of one run cannot interleave rows. The lock file is
removed when the session ends (a kill -9 leaves it behind, unlocked, and the next session takes it
over). ``--overwrite`` deletes only a directory a run wrote, holding nothing but a run's files
(``run/ownership.py``), that is not a symbolic link and is not locked.

Before a resume or branch continues a run, ``check_streams`` makes sure the files that grow week
by week are at least as long as the checkpoint recorded and ``world.json`` is there: a resume
after one was deleted or cut short would otherwise report success with incomplete files.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from agentopia_mesa.run.layout import CHECKPOINTS, LOCK, RESIDENTS_YEARLY_PARQUET, TIES_PARQUET, RunLayout
from agentopia_mesa.run.ownership import run_files, written_by_a_run
from agentopia_mesa.run.untrusted import UntrustedFileError, check_stream, read_json, refuse_links_inside

LOCK_FILE = LOCK

_held: dict[str, int] = {}  # resolved run dir -> fd of its lock file, for locks this process holds


class RunLocked(ValueError):
    """Another process is writing the run directory."""


def _key(run_dir: Path) -> str:
    return str(Path(run_dir).resolve())


def _owner(path: Path) -> str:
    try:
        pid = path.read_text(encoding="utf-8").split()[0]
        return f"pid {int(pid)}"
    except (OSError, ValueError, IndexError):
        return "pid unknown"


def hold_run_lock(run_dir: Path) -> None:
    """Take the run directory's lock for this process (a no-op if it holds it already); raise
    ``RunLocked`` naming the holder's pid if another process has it."""
    run_dir = Path(run_dir)
    key = _key(run_dir)
    if key in _held:
        return
    path = run_dir / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLocked(f"{run_dir}: is being written by another process ({_owner(path)}); "
                            "wait for it to finish or stop it first") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file its last holder removed while we opened it
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = fd


def release_run_lock(run_dir: Path) -> None:
    """Give the lock back and remove the lock file (nothing if this process does not hold it)."""
    key = _key(run_dir)
    fd = _held.pop(key, None)
    if fd is None:
        return
    try:
        Path(key, LOCK_FILE).unlink(missing_ok=True)
    finally:
        os.close(fd)


def held_lock_fds() -> list[int]:
    """The open lock files of the run locks this process holds (a forked checkpoint writer closes
    its copies, so a lock ends with the process that took it)."""
    return list(_held.values())


def release_all_run_locks() -> None:
    for key in list(_held):
        release_run_lock(Path(key))


@contextmanager
def run_lock(run_dir: Path):
    """Hold the run directory's lock for the block; a lock this process already held is kept
    until ``release_run_lock`` (so ``resume`` can take it before cutting its files back)."""
    held_before = _key(run_dir) in _held
    hold_run_lock(run_dir)
    try:
        yield
    finally:
        if not held_before:
            release_run_lock(run_dir)


def check_overwritable(out: Path) -> list[Path]:
    """The files ``--overwrite`` may delete in ``out`` (``run/ownership.py``); raise unless ``out`` is
    a run directory a run wrote (its ``config.json`` hashes its config), holding only a run's files,
    not a symbolic link, not being written by another process."""
    out = Path(out)
    if out.is_symlink():
        raise ValueError(f"out: {out} is a symbolic link; --overwrite only deletes a real run directory")
    config = RunLayout(out).config
    try:
        is_run = written_by_a_run(read_json(config))  # a regular file, no link, capped (run/untrusted.py)
    except (OSError, ValueError):
        is_run = False
    if not is_run:
        raise ValueError(f"out: {out} is not a run directory (no config.json a run wrote); --overwrite will not delete it")
    files = run_files(out)
    if (out / LOCK_FILE).exists():
        hold_run_lock(out)  # raises RunLocked if another process writes it
        release_run_lock(out)
    return files


def check_streams(run_dir: Path, model) -> None:
    """Raise if the run directory holds a symbolic link (a resume writes nothing through one), a streamed file is missing, shorter than the checkpoint recorded or damaged in the part
    a resume keeps (a line that is not JSON or not UTF-8, a CSV row with other columns: one line naming
    file and line), or ``world.json`` is missing or unreadable: resuming would leave broken files."""
    run_dir = Path(run_dir)
    try:
        refuse_links_inside(run_dir, (CHECKPOINTS, TIES_PARQUET, RESIDENTS_YEARLY_PARQUET))
    except UntrustedFileError as exc:
        raise ValueError(str(exc)) from None
    for name, size in sorted(getattr(model, "stream_offsets", {}).items()):
        path = run_dir / name
        actual = path.stat().st_size if path.is_file() else None
        if size and (actual is None or actual < size):
            state = "is missing" if actual is None else f"has {actual} bytes"
            raise ValueError(f"{path}: {state}, but the checkpoint at week {model.weeks_done} recorded {size}; the run "
                             "cannot be continued with incomplete files (restore the file or start the run again)")
        if size:
            try:
                check_stream(path, size)
            except UntrustedFileError as exc:
                raise ValueError(f"{exc}; the run cannot be continued with a damaged file (restore it or start "
                                 "the run again)") from None
    world = RunLayout(run_dir).world
    try:
        read_json(world)
    except UntrustedFileError as exc:
        raise ValueError(f"{exc}; the run cannot be continued without its world.json (restore it "
                         "or start the run again)") from None


def check_branch(run_dir: Path, out: Path, seed: int | None) -> None:
    """Refuse a branch before anything is made: a negative seed, or an ``--out`` inside the run it
    forks (its checkpoints or files would be mixed with the new run's)."""
    if seed is not None and not 0 <= seed < 2**63:
        raise ValueError(f"--seed: must be a whole number in [0, 2**63), got {seed}")
    source, target = Path(run_dir).resolve(), Path(out).resolve()
    if target == source or target.is_relative_to(source):
        raise ValueError(f"--out: {out} is inside the run being branched ({run_dir}); choose a directory outside it")
