"""Fault injection: every run completes, or stops cleanly with a resumable state, loses nothing
already completed, and counts each fault in summary.txt and faults.json.

The LLM faults come from our Ollama API server (``ServerFaults``) reached by ``agentopia run``
through the official ``ollama`` client. Already covered elsewhere and not repeated here: the
dispatcher's retries of each fault (test_llm_dispatcher), a server down before the run starts
(exit 2, test_llm_society) and kill -9 / SIGTERM on a big run (test_checkpoints, slow).
"""

import collections
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

import agentopia_mesa.run.results as runs
import agentopia_mesa.run.session as session
from agentopia_mesa.run.checkpoints import list_checkpoints
from agentopia_mesa.cli.main import main
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.ollama_api_server import OllamaAPIServer, ServerFaults
from agentopia_mesa.llm.ollama_backend import OllamaBackend
from agentopia_mesa.run.replay import ReplayRecorder
from agentopia_mesa.run.trajectories import read_trajectories

MODEL = "agentopia-test:1b"
SMALL = ["--world", "school", "--residents", "4", "--weeks-per-year", "2", "--seed", "1", "--quiet"]


def run(out, *args: str) -> int:
    return main(["run", *SMALL, "--out", str(out), *args])


def llm_run(out, url: str, *args: str) -> int:
    return run(out, "--years", "1", "--mind", "llm", "--llm", f"ollama:{MODEL}@{url}", *args)


def faults(out) -> tuple[dict, str]:
    """The run's faults.json and summary.txt."""
    return json.loads((out / "faults.json").read_text()), (out / "summary.txt").read_text()


def shim(backend=None, **faults) -> OllamaAPIServer:
    return OllamaAPIServer(backend or FakeBackend(), model=MODEL, faults=ServerFaults(**faults))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the LLM server misbehaves: the run completes, with fallbacks where it must ----------------

def test_server_refusing_connections_mid_run(tmp_path, monkeypatch):
    # The server answered the start-up check, then went away: every call is refused by the OS.
    monkeypatch.setattr(OllamaBackend, "check", lambda self: None)
    out = tmp_path / "run"
    assert llm_run(out, f"http://127.0.0.1:{_closed_port()}") == 0
    report, summary = faults(out)
    llm = report["llm"]
    assert llm["faults"]["unreachable"] >= 8  # then the circuit breaker stops calling ...
    assert llm["faults"]["skipped"] > 0  # ... and the remaining decisions fall back at once
    assert llm["fallbacks"] == llm["decisions"] > 0
    assert f"unreachable {llm['faults']['unreachable']}" in summary
    assert f"{llm['fallbacks']} fallbacks" in summary


def test_hanging_server_times_out_and_the_run_ends_in_bounded_time(tmp_path):
    out = tmp_path / "run"
    with shim(hang_first=10**9) as server:  # no call is ever answered
        # A process of its own, so it must also exit with calls still hung. The bound is generous
        # (a loaded machine must not fail it): only a hang, or the 120 s HTTP default in place of
        # --llm-timeout, would reach it. That the run waited on only 8 calls is counted below.
        done = subprocess.run([sys.executable, "-m", "agentopia_mesa", "run", *SMALL, "--out", str(out), "--years", "1",
                               "--mind", "llm", "--llm", f"ollama:{MODEL}@{server.url}", "--llm-timeout", "0.3"],
                              capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr
    assert "calls paused for 30 s" in done.stderr  # the circuit breaker said so, with the README's default pause
    report, summary = faults(out)
    llm = report["llm"]
    assert llm["faults"]["timeout"] == 8  # two rounds of four, then the breaker opens ...
    assert llm["faults"]["skipped"] > 0  # ... and the other decisions did not wait on the server
    assert llm["fallbacks"] == llm["decisions"] > llm["faults"]["timeout"]
    assert "timeout 8" in summary


@pytest.mark.parametrize(("status", "kind"), [(500, "http_5xx"), (429, "http_429")])
def test_server_errors_are_retried_and_counted(tmp_path, status, kind):
    out = tmp_path / "run"
    with shim(fail_first=4, fail_status=status) as server:
        assert llm_run(out, server.url) == 0
    report, summary = faults(out)
    llm = report["llm"]
    assert llm["faults"] == {kind: 4} and report["total"] == 4
    assert llm["retries"] == 4 and llm["fallbacks"] == 0
    assert f"failed LLM calls by kind: {kind} 4" in summary
    assert "faults in all: 4" in summary


def test_truncated_json_is_retried_and_counted(tmp_path):
    out = tmp_path / "run"
    # Two truncations: whichever jobs they hit (the order of concurrent calls varies), no job can
    # spend its two retries on them and fall back, so every one is retried (with four, one job
    # could be truncated three times in a row and fall back, and the counts depend on timing).
    with shim(truncate_first=2) as server:
        assert llm_run(out, server.url) == 0
    report, summary = faults(out)
    assert report["llm"]["faults"] == {"invalid_json": 2}
    assert report["llm"]["retries"] == 2 and report["llm"]["fallbacks"] == 0
    assert "invalid_json 2" in summary


def inventive(request) -> str:
    """Schema-shaped answers that name a stranger, a place and an item that do not exist."""
    answer = json.loads(FakeBackend().chat(request).text)
    if "messages" in answer:
        answer["messages"] = [{"to": "Zork the Unknown", "text": "hello"}]
    elif "activity" in answer:  # a solo activity
        answer["place"] = "atlantis"
    elif "item" in answer:
        answer["item"] = "unicorn"
    return json.dumps(answer)


def test_answers_naming_what_does_not_exist_fall_back_and_are_counted(tmp_path):
    out = tmp_path / "run"
    with shim(FakeBackend(reply=inventive)) as server:
        assert llm_run(out, server.url) == 0
    report, summary = faults(out)
    llm = report["llm"]
    assert llm["faults"] == {"invalid_answer": 3 * llm["fallbacks"]}  # each tried three times
    rejected = [e for e in read_trajectories(out) if e["fallback"]]
    assert len(rejected) == llm["fallbacks"] > 0 and all(e["rejected"] for e in rejected)
    assert {e["stage"] for e in rejected} <= {"contact", "solo", "purchase"}
    assert {"contact", "solo"} <= {e["stage"] for e in rejected}
    assert any("Zork" in e["error"] for e in rejected) and any("atlantis" in e["error"] for e in rejected)
    assert f"invalid_answer {3 * llm['fallbacks']}" in summary


# -- the run is interrupted: it stops cleanly, and resuming finishes it with nothing lost ------

@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """An uninterrupted two-year rules run to compare with."""
    out = tmp_path_factory.mktemp("whole") / "run"
    assert run(out, "--years", "2", "--checkpoint-every", "1") == 0
    return out


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _disk_full(monkeypatch, where: str) -> None:
    """Make one kind of write fail with ENOSPC from week 3 on. No small filesystem can be mounted
    here (no root), so the failing write is patched in; the session sees the same OSError."""
    if where == "checkpoint":
        save = session.save_checkpoint
        monkeypatch.setattr(session, "save_checkpoint",
                            lambda model, *a, **k: _no_space() if model.weeks_done >= 3 else save(model, *a, **k))
    elif where == "replay-stream":
        record = ReplayRecorder.__call__

        def half_a_line(self, model):  # the write that fails leaves half a line behind
            if model.weeks_done >= 3:
                with self.path.open("a") as f:
                    f.write('{"week":3,"resid')
                _no_space()
            record(self, model)

        monkeypatch.setattr(ReplayRecorder, "__call__", half_a_line)
    else:  # the results, after the last week: metrics.csv cannot be written
        monkeypatch.setattr(runs, "write_csv", _no_space)


@pytest.mark.parametrize(("where", "held"), [("checkpoint", 2), ("replay-stream", 2), ("results", 4)])
def test_disk_full_stops_cleanly_and_resume_finishes_the_run(tmp_path, monkeypatch, capsys, whole, where, held):
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _disk_full(patch, where)
        assert run(out, "--years", "2", "--checkpoint-every", "1") == 75  # the README's exit code (EX_TEMPFAIL)
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("agentopia: disk full") and f"agentopia resume {out}" in err
    assert list_checkpoints(out)[-1].name == f"week-{held:05d}.ckpt"  # the last good one holds
    assert not list(out.glob("**/*.tmp")) and not (out / "summary.txt").exists()

    assert main(["resume", str(out), "--quiet"]) == 0  # space is back
    for name in ("metrics.csv", "residents.csv", "rewards.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(whole / name), check_exact=True)
    assert (out / "replay.jsonl").read_text() == (whole / "replay.jsonl").read_text()
    report, summary = faults(out)
    assert report["interruptions"] == {"disk_full": 1} and report["total"] == 1
    assert "interruptions: disk_full 1" in summary and "disk full" in summary
    assert "LLM and faults" not in (whole / "summary.txt").read_text()  # no LLM, no fault: no block


def test_a_crash_is_counted_as_an_unclean_exit_on_resume(tmp_path, monkeypatch, whole):
    def crash(*args, **kwargs):
        raise RuntimeError("crash")

    out = tmp_path / "run"
    with monkeypatch.context() as patch:  # the process dies mid-run, leaving what kill -9 would
        save = session.save_checkpoint
        patch.setattr(session, "save_checkpoint",
                      lambda model, *a, **k: crash() if model.weeks_done == 3 else save(model, *a, **k))
        with pytest.raises(RuntimeError, match="crash"):
            run(out, "--years", "2", "--checkpoint-every", "1")
    assert main(["resume", str(out), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "metrics.csv"), pd.read_csv(whole / "metrics.csv"))
    report, summary = faults(out)
    assert report["interruptions"] == {"unclean_exit": 1} and not report["in_progress"]
    assert "unclean_exit 1" in summary


class SignalOnce(FakeBackend):
    """Sends this process ``signum`` while answering call ``at`` (in the middle of a week)."""

    def __init__(self, at: int, signum: int = signal.SIGTERM):
        super().__init__()
        self.at, self.signum = at, signum

    def chat(self, request):
        if self.calls + 1 == self.at:
            os.kill(os.getpid(), self.signum)
        return super().chat(request)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_week_finishes_the_week_and_resumes(tmp_path, capsys, signum):
    with shim() as server:
        whole = tmp_path / "whole"
        assert llm_run(whole, server.url) == 0
    calls_per_week = faults(whole)[0]["llm"]["calls"] // 2
    out = tmp_path / "run"
    with shim(SignalOnce(at=calls_per_week // 2, signum=signum)) as server:
        assert llm_run(out, server.url) == 143  # the README's exit code for Ctrl-C and SIGTERM alike
        assert "agentopia resume" in capsys.readouterr().err
        assert list_checkpoints(out)[-1].name == "week-00001.ckpt"  # the week in progress was finished
        assert main(["resume", str(out), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "metrics.csv"), pd.read_csv(whole / "metrics.csv"))
    report, summary = faults(out)
    assert report["interruptions"] == {"signal": 1} and report["total"] == 1
    assert report["llm"]["calls"] == faults(whole)[0]["llm"]["calls"]  # the counts cover the whole run
    assert "interruptions: signal 1" in summary and f"stopped by {signal.Signals(signum).name} after week 1" in summary


def test_the_circuit_breaker_opens_on_failures_in_a_row_and_closes_on_an_answer():
    from agentopia_mesa.llm.client import ChatRequest, LLMUnavailable
    from agentopia_mesa.llm.dispatcher import Dispatcher

    class Flaky(FakeBackend):
        down = True

        def chat(self, request):
            if self.down:
                raise LLMUnavailable("connection refused")
            return super().chat(request)

    backend, request = Flaky(), ChatRequest(messages=({"role": "user", "content": "hi"},))
    dispatcher = Dispatcher(retries=0, breaker_after=2, breaker_s=1.0)
    outcomes = dispatcher.run([(backend, request, json.loads)] * 3)
    outcomes += dispatcher.run([(backend, request, json.loads)])
    kinds = sum((o.faults for o in outcomes), start=collections.Counter())
    assert kinds["unreachable"] >= 2 and kinds["skipped"] >= 1 and not any(o.ok for o in outcomes)
    time.sleep(1.05)  # the pause is over: calls are tried again, and an answer closes the breaker
    backend.down = False
    assert all(o.ok for o in dispatcher.run([(backend, request, json.loads)] * 3))
    assert dispatcher.stats.faults == kinds


def test_the_circuit_breaker_pauses_30_s_after_8_failures_by_default():
    from agentopia_mesa.llm.client import ChatRequest, LLMUnavailable
    from agentopia_mesa.llm.dispatcher import Dispatcher
    from agentopia_mesa.llm.settings import LLMSettings
    from agentopia_mesa.llm.wiring import dispatcher_for

    class Down(FakeBackend):
        def chat(self, request):
            super().chat(request)
            raise LLMUnavailable("connection refused")

    # What `agentopia run` builds, and a bare Dispatcher: the README's 8 failures and 30 s.
    for dispatcher in (dispatcher_for(LLMSettings()), Dispatcher(retries=0)):
        assert (dispatcher.breaker_after, dispatcher.breaker_s) == (8, 30.0)
    backend, request = Down(), ChatRequest(messages=({"role": "user", "content": "hi"},))
    dispatcher = Dispatcher(max_concurrency=1, retries=0)
    outcomes = dispatcher.run([(backend, request, json.loads)] * 10)
    assert backend.calls == 8 and [o.faults["unreachable"] for o in outcomes[:8]] == [1] * 8
    assert all(o.faults == {"skipped": 1} and "tried again in 30 s" in o.error for o in outcomes[8:])
