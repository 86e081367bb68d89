"""Writes off the simulation's critical path: a checkpoint pickled and written by a forked child.

Pickling a 100-resident town and writing it (hash, HMAC, fsync) takes 50-90 ms, once a simulated
year in rules mode: 0.7 s of a ten-year run. ``BackgroundWrites.start`` forks instead: the child
holds a copy-on-write snapshot of the process at that instant, runs the write (``save_checkpoint``,
the same function as always) and leaves with ``os._exit`` (no atexit handlers, no flushing of
stdio buffers it shares with the parent, no unwinding into the parent's code); the parent goes on
with the next week. One write at a time: ``start`` waits for the previous child first, so
checkpoints are written and pruned in order. ``wait`` returns once the child has finished and
raises what it raised (a full disk's ``OSError``, with its errno and file name), so the caller
reports it as it would a write of its own; the session waits before anything needs the file on
disk (the next checkpoint, the summary, a clean stop, the end of the session).

When a write is forked, and when it runs here instead (``can_fork``):

- Two CPU cores or more, and (Linux) at least ``SPARE_CORES`` of them idle on average since the
  last write, as ``/proc/stat`` counts: the child's work overlaps the weeks only on a core of its
  own. It costs more CPU than writing here (the pickler touches every object, so the child copies
  the pages it reads: about 0.3 s more for the ten checkpoints of a 100-resident, ten-year run),
  so on a machine whose cores are all busy it would make the run slower, not faster
  (benchmarks/RESULTS.md, "The command around the weeks").

- POSIX with ``os.fork``, not macOS (its system frameworks are not safe to use in a forked child
  that does not exec) and not Windows (no fork): there every write is synchronous, as before.
- One Python thread only (``threading.active_count() == 1``). A thread of ours (an LLM run's
  dispatcher, a sweep's worker, a progress bar's monitor) may hold a lock at the instant of the
  fork that the child would then wait on forever; such runs write synchronously. The native
  threads that numpy and pyarrow start at import (OpenBLAS's pool, jemalloc's purger, Arrow's
  pools) do not count: the child calls none of them, and jemalloc and Arrow register fork
  handlers of their own (glibc's malloc too). Python 3.12 warns of every fork in a process with
  more than one OS thread (a ``DeprecationWarning``); that warning is silenced for this fork.
- SIGINT and SIGTERM are blocked around the fork and stay blocked in the child: a Ctrl-C at the
  terminal reaches the whole process group, and the parent then finishes its week and checkpoints
  (waiting for the child) while the child finishes its write (tens of milliseconds) rather than
  die leaving a temporary file. A kill -9 of either leaves what a kill -9 always left: the older
  checkpoints, perhaps a ``.tmp`` file that is never read.
- The child dies with the parent (Linux: ``PR_SET_PDEATHSIG``) and closes its copy of the run
  directory's lock: a kill -9 of the run leaves what a kill -9 always left, and the next
  ``resume`` can start at once. Elsewhere a child whose parent was killed finishes its write.

Memory: the parent's pages are shared with the child until one of them writes to a page; the
pickler touches every object's reference count, so the child ends up with a copy of most of the
town (a few hundred MB at 1000 residents) for the tens of milliseconds it lives.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from agentopia_mesa.run.lock import held_lock_fds

#: When a write is forked: None when a core sat idle since the last write (``_core_to_spare``),
#: True whenever ``can_fork`` allows, False never (every write runs in this process, as before).
FORK: bool | None = None
#: Idle cores (on average, since the last write) that make a forked write worth its extra CPU.
SPARE_CORES = 0.5
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def can_fork() -> bool:
    """Whether a write may run in a forked child now (see the module's docstring)."""
    return (FORK is not False and hasattr(os, "fork") and sys.platform != "darwin"
            and threading.active_count() == 1 and _cores() > 1)


def _cpu_times() -> tuple[int, int] | None:
    """Idle (idle + iowait) and total CPU time of all cores since boot, in clock ticks (Linux's
    ``/proc/stat``); None where there is none."""
    try:
        with open("/proc/stat", "rb") as f:
            ticks = [int(value) for value in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    return ticks[3] + ticks[4], sum(ticks)


def _cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class WriterDied(ValueError):
    """The forked writer ended without saying how its write went (killed, out of memory); a
    ``ValueError``, so the command reports it in one line."""


class BackgroundWrites:
    """At most one write running in a forked child; use as a context manager, so the session
    never ends with a child still writing."""

    def __init__(self):
        self._child: tuple[int, int, str] | None = None  # pid, read end of its report pipe, what it writes
        self._cpu = _cpu_times()  # idle and total CPU time so far, for _core_to_spare

    def start(self, write: Callable[[], object], what: str) -> None:
        """Run ``write()`` in a forked child, or here if ``can_fork()`` says no; ``what`` (a path)
        names it in errors. Waits for the previous write first, raising what it raised."""
        self.wait()
        if not (can_fork() and self._core_to_spare()):
            write()
            return
        read_end, write_end = os.pipe()
        parent = os.getpid()
        with _stop_signals_blocked():
            try:
                with warnings.catch_warnings():  # Python warns of any native thread; see can_fork
                    warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
                    pid = os.fork()
            except OSError:  # no memory or no process left for a child: write here
                pid = None
            if pid == 0:  # the child: never returns from here
                _write_and_exit(write, read_end, write_end, parent)
            os.close(write_end)
            if pid is not None:  # recorded before a Ctrl-C can interrupt: it will be waited for
                self._child = (pid, read_end, what)
        if pid is None:
            os.close(read_end)
            write()

    def wait(self, quietly: bool = False) -> None:
        """Wait for the write in progress (if any); raise what it raised, unless ``quietly`` (the
        caller is reporting another failure already)."""
        if self._child is None:
            return
        with _stop_signals_blocked():  # a Ctrl-C counts once the child is done
            pid, read_end, what = self._child
            with os.fdopen(read_end, "rb") as report:
                failure = report.read()
            _, status = os.waitpid(pid, 0)
            self._child = None
        if quietly:
            return
        if failure:
            exc = _unpickled(failure)
            exc.add_note(f"raised while writing {what} in a forked child (pid {pid})")
            raise exc
        if os.waitstatus_to_exitcode(status) != 0:
            code = os.waitstatus_to_exitcode(status)
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
            raise WriterDied(f"{what}: the process writing it (pid {pid}) {how} before it finished; "
                             "the previous checkpoint holds")

    def _core_to_spare(self) -> bool:
        """Whether ``SPARE_CORES`` sat idle on average since the last write (or since this object
        was made); where ``/proc/stat`` is missing, yes. ``FORK = True`` skips the question."""
        before, self._cpu = self._cpu, _cpu_times()
        if FORK is True or before is None or self._cpu is None:
            return True
        idle, total = self._cpu[0] - before[0], self._cpu[1] - before[1]
        return total <= 0 or (os.cpu_count() or 1) * idle / total >= SPARE_CORES

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        """Wait for the write in progress; if the block raised, its error wins over the write's."""
        self.wait(quietly=kind is not None)


@contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back (delivered when the block ends) in this thread; a child forked
    inside inherits the mask, and keeps it."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _write_and_exit(write: Callable[[], object], read_end: int, write_end: int, parent: int) -> None:
    """In the child: run ``write``, report a failure on ``write_end``, and leave at once.
    The stop signals stay blocked: the child finishes its write whatever the terminal sends."""
    code = 1
    try:
        os.close(read_end)
        for fd in held_lock_fds():  # the run's lock is the parent's alone: it ends when the parent ends
            os.close(fd)
        try:
            _die_with(parent)
            write()
            code = 0
        except BaseException as exc:  # noqa: BLE001  (everything goes back to the parent)
            with os.fdopen(write_end, "wb") as report:
                report.write(_pickled(exc))
    finally:
        os._exit(code)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def _pickled(exc: BaseException) -> bytes:
    """The exception as the parent will raise it: itself if it pickles, else its text."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:  # noqa: BLE001  (an exception holding something unpicklable)
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _unpickled(data: bytes) -> BaseException:
    exc = pickle.loads(data)  # from our own child, through a pipe only it and we hold
    return exc if isinstance(exc, BaseException) else RuntimeError(repr(exc))
