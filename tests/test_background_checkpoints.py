"""Checkpoints written by a forked child (``run.background``): complete when the run returns,
failures reported as before, synchronous where forking is not safe."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.run import background
from agentopia_mesa.run.background import BackgroundWrites, WriterDied, can_fork
from agentopia_mesa.run.checkpoints import list_checkpoints, read_checkpoint

RUN = ["run", "--world", "apartment", "--residents", "10", "--years", "3", "--quiet"]  # a checkpoint a year: weeks 10, 20, 30

#: ``agentopia run`` in a fresh process (no thread left by another test), counting its forks.
COUNTING_FORKS = """
import json, os, sys
from agentopia_mesa.run import background
background.FORK = True  # fork however busy the cores are
forks = []
real_fork = os.fork
def fork():
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid
os.fork = fork
{patch}
from agentopia_mesa.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({{"code": code, "forks": len(forks), "pid": os.getpid()}}))
"""

#: The checkpoint of week 20 meets a full disk, in whichever process writes it.
FULL_DISK = """
import errno, os
from agentopia_mesa.run import session
save = session.save_checkpoint
def full(model, out, **kwargs):
    if model.weeks_done >= 20:
        with open(os.path.join(out, "writer.pid"), "w") as f:
            f.write(str(os.getpid()))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(session.checkpoint_path(out, model.weeks_done)))
    return save(model, out, **kwargs)
session.save_checkpoint = full
"""


def _agentopia(*args: str, patch: str = "") -> tuple[dict, subprocess.CompletedProcess]:
    done = subprocess.run([sys.executable, "-c", COUNTING_FORKS.format(patch=patch), *args],
                          capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1]), done


@pytest.fixture
def forking(monkeypatch):
    """Fork whatever threads other tests left running (these writes touch nothing shared) and
    however busy the cores are."""
    monkeypatch.setattr(background, "can_fork", lambda: True)
    monkeypatch.setattr(background, "FORK", True)


def test_a_run_returns_with_its_background_checkpoints_complete_and_loadable(tmp_path):
    out = tmp_path / "run"
    report, done = _agentopia(*RUN, "--out", str(out))
    assert (report["code"], report["forks"]) == (0, 3), done.stderr  # every checkpoint was written by a child
    assert [p.name for p in list_checkpoints(out)] == ["week-00010.ckpt", "week-00020.ckpt", "week-00030.ckpt"]
    assert not list(out.glob("**/*.tmp"))
    last = read_checkpoint(list_checkpoints(out)[-1])  # complete: its hash and HMAC check out
    assert last.weeks_done == 30 and not last.running
    written = pd.read_csv(out / "metrics.csv")
    pd.testing.assert_frame_equal(last.datacollector.get_model_vars_dataframe().reset_index(drop=True), written,
                                  check_dtype=False)
    assert main(["resume", str(out), "--quiet"]) == 0  # finished: nothing left to do

    branch = tmp_path / "branch"  # an earlier year's checkpoint continues as well
    assert main(["branch", str(out), "--week", "10", "--out", str(branch), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(branch / "metrics.csv"), written)


def test_a_full_disk_in_the_background_writer_stops_the_run_as_before(tmp_path):
    out = tmp_path / "run"
    report, done = _agentopia(*RUN, "--out", str(out), patch=FULL_DISK)
    assert (report["code"], report["forks"]) == (75, 2), done.stderr  # EX_TEMPFAIL, as when the run wrote it itself
    assert int((out / "writer.pid").read_text()) != report["pid"]  # the full disk met the child
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("agentopia: disk full: could not write ") and "week-00020.ckpt" in message
    assert "the checkpoint week-00010.ckpt holds" in message and f"agentopia resume {out}" in message
    assert [p.name for p in list_checkpoints(out)] == ["week-00010.ckpt"]
    assert not (out / "summary.txt").exists() and not list(out.glob("**/*.tmp"))
    assert json.loads((out / "faults.json").read_text())["interruptions"] == {"disk_full": 1}

    (out / "writer.pid").unlink()  # space is back
    assert main(["resume", str(out), "--quiet"]) == 0
    assert (out / "summary.txt").exists() and list_checkpoints(out)[-1].name == "week-00030.ckpt"


def test_a_failure_in_the_child_reaches_the_caller_with_its_errno_and_file(tmp_path, forking):
    wrote = tmp_path / "pid"

    def full_disk():
        wrote.write_text(str(os.getpid()))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "week-00007.ckpt")

    writes = BackgroundWrites()
    writes.start(full_disk, "week-00007.ckpt")
    with pytest.raises(OSError) as raised:
        writes.wait()
    assert int(wrote.read_text()) != os.getpid()  # it failed in a child
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == "week-00007.ckpt"
    assert any("forked child" in note for note in raised.value.__notes__)
    writes.wait()  # reported once


def test_the_next_write_waits_for_the_previous_one_and_raises_its_failure(tmp_path, forking):
    def broken():
        raise ValueError("cannot pickle this town")

    writes = BackgroundWrites()
    writes.start(broken, "week-00001.ckpt")
    with pytest.raises(ValueError, match="cannot pickle this town"):
        writes.start(lambda: (tmp_path / "never").write_text("x"), "week-00002.ckpt")
    assert not (tmp_path / "never").exists()


def test_a_writer_killed_mid_write_is_a_one_line_error(forking):
    writes = BackgroundWrites()
    writes.start(lambda: os.kill(os.getpid(), signal.SIGKILL), "week-00003.ckpt")
    with pytest.raises(WriterDied, match=r"week-00003.ckpt: the process writing it \(pid \d+\) was killed by SIGKILL"):
        writes.wait()
    assert issubclass(WriterDied, ValueError)  # the command prints it in one line


def test_ctrl_c_and_sigterm_let_the_child_finish_its_write(tmp_path, forking):
    written = tmp_path / "written"

    def slow_write():
        time.sleep(0.5)
        written.write_text("whole")

    with BackgroundWrites() as writes:
        writes.start(slow_write, "slow")
        pid = writes._child[0]
        time.sleep(0.1)
        os.kill(pid, signal.SIGINT)  # what a Ctrl-C at the terminal sends the whole process group
        os.kill(pid, signal.SIGTERM)
    assert written.read_text() == "whole"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_dies_with_its_parent(tmp_path):
    """A kill -9 of the run leaves what it always left: the child does not write on alone."""
    late = tmp_path / "late"
    script = textwrap.dedent(f"""
        import os, sys, time
        from agentopia_mesa.run.background import BackgroundWrites
        writes = BackgroundWrites()
        writes.start(lambda: (time.sleep(3), open({str(late)!r}, "w").write("late")), "late")
        print(writes._child[0], flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child) and not late.exists()  # gone well before its 3 s write


def test_a_write_is_forked_only_when_a_core_sat_idle_since_the_last(monkeypatch):
    idle, total = background._cpu_times() or (0, 0)  # this machine's, where it has /proc/stat
    assert 0 <= idle <= total
    samples = iter([(1000, 5000), (1000, 5200), (1100, 5400), (1100, 5400)])  # (idle, total) ticks
    monkeypatch.setattr(background, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(background.os, "cpu_count", lambda: 2)
    writes = BackgroundWrites()
    assert not writes._core_to_spare()  # 0 of 200 ticks idle: both cores were busy
    assert writes._core_to_spare()  # 100 of 200 on 2 cores: one idle
    assert writes._core_to_spare()  # no time passed: nothing says no
    monkeypatch.setattr(background, "_cpu_times", lambda: (0, 100))
    monkeypatch.setattr(background, "FORK", True)
    assert writes._core_to_spare()  # told to fork however busy
    monkeypatch.setattr(background, "FORK", None)
    monkeypatch.setattr(background, "_cpu_times", lambda: None)
    assert BackgroundWrites()._core_to_spare()  # no /proc/stat: cannot tell, so fork


def test_one_core_writes_here(monkeypatch):
    assert background._cores() >= 1
    monkeypatch.setattr(background, "_cores", lambda: 1)
    assert not can_fork()
    monkeypatch.setattr(background, "_cores", lambda: 2)
    assert can_fork() == (background.threading.active_count() == 1)


def test_with_a_thread_running_writes_are_synchronous(tmp_path):
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not can_fork()
        writes = BackgroundWrites()
        pids = []
        writes.start(lambda: pids.append(os.getpid()), "here")
        assert pids == [os.getpid()]  # ran in this process, before start returned

        def full_disk():
            raise OSError(errno.ENOSPC, "No space left on device", "week-00004.ckpt")

        with pytest.raises(OSError, match="No space left"):  # raised by start itself, as before
            writes.start(full_disk, "week-00004.ckpt")
    finally:
        release.set()
        thread.join()
