"""Hardening (issue 16): every bad value is one line naming the field, opening a run directory
never runs code, a dripping LLM server cannot hold the process, resources are bounded, nothing
is silently lost, and no path from a file escapes where it belongs."""

import json
import math
import os
import pickle
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.model import AgentopiaModel

SMALL = ["--world", "school", "--residents", "4", "--weeks-per-year", "2", "--seed", "1", "--quiet"]


def cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().err.splitlines()


def one_line_error(capsys, *argv: str) -> str:
    code, err = cli(capsys, *argv)
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("agentopia: error: "), err
    return err[0]


# -- 1. configuration values are validated by type and range ---------------------------------------

BAD_SETS = [
    ("needs__decay=abc", "needs.decay"),
    ("needs__decay=1e999", "needs.decay"),
    ("needs__decay=NaN", "needs.decay"),
    ("needs__decay=-0.1", "needs.decay"),
    ("needs__decay=Infinity", "needs.decay"),
    ("calendar__weeks_per_year=0", "calendar.weeks_per_year"),
    ("calendar__days_per_week=0", "calendar.days_per_week"),
    ("calendar__days_per_week=2.5", "calendar.days_per_week"),
    ("social__weekly_fade=true", "social.weekly_fade"),
    ("economy__shop_offers=[4,2]", "economy.shop_offers"),
    ("reward__gamma=2", "reward.gamma"),
    ("calendar__nonsense=1", "calendar__nonsense"),
    ("nonsense=1", "nonsense"),
]


@pytest.mark.parametrize(("item", "field"), BAD_SETS)
def test_a_bad_set_value_is_one_line_naming_the_field_and_leaves_no_run_dir(tmp_path, capsys, item, field):
    out = tmp_path / "run"
    line = one_line_error(capsys, "run", "--world", "school", "--residents", "4", "--quiet", "--years", "1",
                          "--out", str(out), "--set", "calendar__weeks_per_year=2", "--set", item)
    assert field in line
    assert not out.exists()


@pytest.mark.parametrize(("flag", "value"), [
    ("--llm-timeout", "-1"), ("--llm-timeout", "0"), ("--llm-timeout", "nan"), ("--llm-timeout", "inf"),
    ("--temperature", "nan"), ("--temperature", "-0.5"), ("--max-concurrency", "0"),
])
def test_bad_llm_options_are_one_line_and_leave_no_run_dir(tmp_path, capsys, flag, value):
    out = tmp_path / "run"
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(out), "--mind", "llm",
                          "--llm", "fake", flag, value)
    assert flag in line
    assert not out.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"needs__decay": "abc"}, "needs.decay"),
    ({"needs__decay": math.inf}, "needs.decay"),
    ({"needs__decay": {"mood": math.nan}}, "needs.decay.mood"),
    ({"calendar__weeks_per_year": 0}, "calendar.weeks_per_year"),
    ({"career__new_job_capacity": (0, 2)}, "career.new_job_capacity"),
    ({"economy__living_standards": [{"name": "x", "weekly_cost": -1, "material_change": 0}]},
     "economy.living_standards[0].weekly_cost"),
])
def test_python_callers_get_the_same_value_error(overrides, field):
    with pytest.raises(ValueError, match="^" + re.escape(field) + ": ") as caught:
        AgentopiaModel(world="school", residents=3, years=1, **overrides)
    assert "\n" not in str(caught.value)


def test_good_values_still_pass_and_lists_become_tuples():
    config = SimulationConfig().with_flat_overrides({"economy__shop_offers": [2, 5], "needs__decay": {"mood": 0.3}})
    assert config.economy.shop_offers == (2, 5)
    assert config.needs.decay == {"mood": 0.3, "social": 0.15, "esteem": 0.15, "material": 0.0}
    assert SimulationConfig().digest() == SimulationConfig().with_flat_overrides({}).digest()


def test_a_sweep_file_with_a_bad_value_is_refused_naming_the_field(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('[sweep]\nworld = "school"\nyears = 1\n[grid]\ncalendar__days_per_week = [5, 0]\n')
    line = one_line_error(capsys, "sweep", str(spec), "--out", str(tmp_path / "sweep"))
    assert "grid.calendar__days_per_week" in line and "[1, 7]" in line


# -- 2. opening a run directory never runs code ----------------------------------------------------

class _Payload:
    """Unpickling this creates ``marker``: what a crafted checkpoint could do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted_run(tmp_path, header: bytes, mac: bytes | None) -> tuple[Path, Path]:
    import hashlib

    run_dir, marker = tmp_path / "shared-run", tmp_path / "pwned"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.json").write_text("{}")
    payload = pickle.dumps(_Payload(marker))
    body = header + hashlib.sha256(payload).digest() + (mac if mac is not None else b"") + payload
    (run_dir / "checkpoints" / "week-00001.ckpt").write_bytes(body)
    return run_dir, marker


@pytest.mark.parametrize("command", ["resume", "branch"])
@pytest.mark.parametrize("version", ["current", "old"])
def test_a_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path, capsys, command, version):
    header, mac = (b"AGENTOPIA-CKPT-2\n", os.urandom(32)) if version == "current" else (b"AGENTOPIA-CKPT-1\n", None)
    run_dir, marker = _crafted_run(tmp_path, header, mac)
    extra = ["--week", "1", "--out", str(tmp_path / "fork")] if command == "branch" else []
    line = one_line_error(capsys, command, str(run_dir), "--quiet", *extra)
    assert "it could run code if loaded, so it is not loaded" in line
    assert not marker.exists()
    assert not (tmp_path / "fork").exists()


def test_checkpoints_of_another_key_are_refused_and_our_own_resume(tmp_path, capsys, monkeypatch, checkpoint_key):
    from agentopia_mesa.run.checkpoints import CheckpointNotTrusted, load_latest

    out = tmp_path / "run"
    assert main(["run", *SMALL, "--years", "2", "--checkpoint-every", "1", "--out", str(out)]) == 0
    model, _ = load_latest(out)  # our own key: loads
    assert model.weeks_done == 4
    assert oct(checkpoint_key.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("AGENTOPIA_SECRET_FILE", str(tmp_path / "someone-else.key"))
    with pytest.raises(CheckpointNotTrusted, match="not written by this user/machine"):
        load_latest(out)
    assert oct((tmp_path / "someone-else.key").stat().st_mode & 0o777) == "0o600"


# -- 3. a server that drips bytes cannot hold a call or the process -------------------------------

class DripServer:
    """A loopback HTTP server that answers every POST with headers, then one body byte every
    ``every_s`` seconds for at most ``max_bytes`` bytes (a bounded loop); GETs of the model lists
    answer at once, so start-up checks pass."""

    def __init__(self, every_s: float = 0.5, max_bytes: int = 120, where: str = "body"):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.every_s, self.max_bytes, self.stop = every_s, max_bytes, threading.Event()
        self.where = where

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def drip_headers(self):
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                try:
                    for _ in range(outer.max_bytes):
                        if outer.stop.wait(outer.every_s):
                            break
                        self.wfile.write(b"a")
                        self.wfile.flush()
                except OSError:
                    pass
                self.close_connection = True

            def do_GET(self):
                if outer.where == "headers":
                    return self.drip_headers()
                body = json.dumps({"data": [], "models": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.where == "headers":
                    return self.drip_headers()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(10 * outer.max_bytes))
                self.end_headers()
                try:
                    for _ in range(outer.max_bytes):
                        if outer.stop.wait(outer.every_s):
                            break
                        self.wfile.write(b" ")
                        self.wfile.flush()
                except OSError:
                    pass
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("where", ["body", "headers"])
@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_a_dripping_server_times_out_within_the_total_deadline(backend, where):
    from agentopia_mesa.llm.client import ChatRequest, LLMTimeout
    from agentopia_mesa.llm.ollama_backend import OllamaBackend
    from agentopia_mesa.llm.openai_backend import OpenAIBackend

    with DripServer(where=where) as server:
        client = (OllamaBackend("m", hosts=server.url, timeout_s=1.0) if backend == "ollama"
                  else OpenAIBackend(server.url, "m", timeout_s=1.0))
        start = time.monotonic()
        with pytest.raises(LLMTimeout):
            client.chat(ChatRequest(messages=({"role": "user", "content": "hi"},)))
        assert time.monotonic() - start < 1.0 + 2.0  # the deadline plus one drip and some slack
        if where == "headers":  # the start-up check too: it does not go through the dispatcher
            start = time.monotonic()
            with pytest.raises(LLMTimeout):
                client.check()
            assert time.monotonic() - start < 1.0 + 2.0


def test_a_hung_call_does_not_keep_the_process_alive_at_exit(tmp_path):
    script = (
        "import threading, time\n"
        "from agentopia_mesa.llm.client import ChatRequest\n"
        "from agentopia_mesa.llm.dispatcher import Dispatcher\n"
        "class Hung:\n"
        "    name = 'hung'\n"
        "    def chat(self, request):\n"
        "        time.sleep(60)\n"
        "dispatcher = Dispatcher(timeout_s=0.5, retries=0)\n"
        "request = ChatRequest(messages=({'role': 'user', 'content': 'hi'},))\n"
        "outcome, = dispatcher.run([(Hung(), request, str)])\n"
        "print(outcome.faults['timeout'])\n"
    )
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    except subprocess.TimeoutExpired:
        pytest.fail("the process waited for a hung LLM call at exit")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert time.monotonic() - start < 15


def test_a_run_against_a_dripping_server_ends_in_bounded_time(tmp_path):
    out = tmp_path / "run"
    with DripServer(max_bytes=240) as server:  # 120 s of drip per call if nothing stopped it
        start = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "agentopia_mesa", "run", *SMALL, "--years", "1", "--out", str(out),
                 "--mind", "llm", "--llm", f"openai:{server.url}:m", "--llm-timeout", "1"],
                capture_output=True, text=True, timeout=90, env={**os.environ, "PYTHONPATH": os.getcwd()})
        except subprocess.TimeoutExpired:
            pytest.fail("the run did not end while the server dripped")
    assert done.returncode == 0, done.stderr
    assert (out / "summary.txt").exists()
    report = json.loads((out / "faults.json").read_text())
    assert report["llm"]["faults"].get("timeout", 0) > 0
    assert time.monotonic() - start < 60


# -- 4. bounded resources ---------------------------------------------------------------------------

def test_an_oversize_answer_is_a_counted_fault_and_is_never_cached_or_recorded(tmp_path):
    import sqlite3

    from agentopia_mesa.llm.client import MAX_ANSWER_CHARS
    from agentopia_mesa.llm.fake_backend import FakeBackend
    from agentopia_mesa.llm.ollama_api_server import OllamaAPIServer

    huge = '{"x": "' + "A" * (MAX_ANSWER_CHARS + 10) + '"}'
    out = tmp_path / "run"
    with OllamaAPIServer(FakeBackend(reply=lambda request: huge), model="big:1b") as server:
        assert main(["run", *SMALL, "--years", "1", "--out", str(out), "--mind", "llm",
                     "--llm", f"ollama:big:1b@{server.url}"]) == 0
    report = json.loads((out / "faults.json").read_text())
    assert report["llm"]["faults"].get("oversize", 0) > 0
    assert "oversize" in (out / "summary.txt").read_text()
    assert report["llm"]["fallbacks"] == report["llm"]["decisions"] > 0
    with sqlite3.connect(out / "llm-cache.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM responses WHERE length(text) > ?", (MAX_ANSWER_CHARS,)).fetchone()[0] == 0
    decisions = out / "decisions.jsonl"
    assert not decisions.exists() or "A" * 1000 not in decisions.read_text()


def test_world_new_is_bounded_and_refuses_a_directory(tmp_path, capsys):
    line = one_line_error(capsys, "world", "new", "--residents", "100000000", "--out", str(tmp_path / "w.json"))
    assert "at most 10000" in line
    assert not (tmp_path / "w.json").exists()
    folder = tmp_path / "existing"
    folder.mkdir()
    line = one_line_error(capsys, "world", "new", "--residents", "5", "--out", str(folder))
    assert "is a directory" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]  # no stray .tmp
    assert list(folder.iterdir()) == []


def test_an_atomic_write_onto_a_directory_leaves_no_temporary_file(tmp_path):
    from agentopia_mesa.run.results import write_json

    (tmp_path / "d").mkdir()
    with pytest.raises(OSError):
        write_json(tmp_path / "d", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


# -- 5. no silent loss: --overwrite, one writer at a time, incomplete files ------------------------

@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run checkpointed every week (4 weeks); copied by tests that change it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert main(["run", *SMALL, "--years", "2", "--checkpoint-every", "1", "--out", str(out)]) == 0
    return out


def _copy(run: Path, to: Path) -> Path:
    import shutil

    shutil.copytree(run, to)
    return to


def _unfinished(finished, tmp_path) -> Path:
    """The run as if killed after week 2: newer checkpoints and the results gone."""
    run = _copy(finished, tmp_path / "run")
    for week in (3, 4):
        (run / "checkpoints" / f"week-{week:05d}.ckpt").unlink()
    (run / "summary.txt").unlink()
    return run


def test_overwrite_refuses_a_directory_that_is_not_a_run(tmp_path, capsys):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(precious), "--overwrite")
    assert "not a run directory" in line
    assert (precious / "chapter1.tex").read_text() == "years of work"


def test_overwrite_refuses_a_run_directory_holding_foreign_files(tmp_path, capsys, finished):
    run = _copy(finished, tmp_path / "run")
    (run / "notes.docx").write_text("mine")
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(run), "--overwrite")
    assert "notes.docx" in line
    assert (run / "notes.docx").exists()


def test_overwrite_refuses_a_symlink(tmp_path, capsys, finished):
    run = _copy(finished, tmp_path / "run")
    link = tmp_path / "link"
    link.symlink_to(run)
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(link), "--overwrite")
    assert "symbolic link" in line and (run / "config.json").exists()


def test_overwrite_still_replaces_a_run_directory(tmp_path, capsys, finished):
    run = _copy(finished, tmp_path / "run")
    assert main(["run", *SMALL, "--years", "1", "--out", str(run), "--overwrite"]) == 0
    assert json.loads((run / "config.json").read_text())["years"] == 1
    assert not (run / ".lock").exists()  # released at the end of the session


def _hold_lock_elsewhere(run: Path):
    """Another process holding the run's lock, as a writing session does."""
    proc = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom agentopia_mesa.run.lock import hold_run_lock\n"
        f"hold_run_lock({str(run)!r})\nprint('held', flush=True)\ntime.sleep(60)\n")],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_of_a_run_is_refused_naming_the_first(tmp_path, capsys, finished):
    run = _unfinished(finished, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != ".lock"}
    proc = _hold_lock_elsewhere(run)
    try:
        line = one_line_error(capsys, "resume", str(run), "--quiet")
        assert f"is being written by another process (pid {proc.pid})" in line
        line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(run), "--overwrite")
        assert f"pid {proc.pid}" in line
    finally:
        proc.kill()
        proc.wait()
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != ".lock"}
    assert after == before  # nothing cut back, nothing written
    assert main(["resume", str(run), "--quiet"]) == 0  # the holder died: its stale lock is taken over
    assert (run / "summary.txt").exists()


@pytest.mark.parametrize("name", ["replay.jsonl", "ties.csv", "residents_yearly.csv", "world.json"])
@pytest.mark.parametrize("how", ["deleted", "shortened"])
def test_resume_refuses_when_a_file_is_missing_or_shorter_than_the_checkpoint(tmp_path, capsys, finished, name, how):
    run = _unfinished(finished, tmp_path)
    path = run / name
    if how == "deleted":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[: 10])
    code, err = cli(capsys, "resume", str(run), "--quiet")
    errors = [line for line in err if line.startswith("agentopia: error: ")]
    assert code == 2 and len(errors) == 1 and err[-1] == errors[0], err
    assert name in errors[0]
    assert not (run / "summary.txt").exists()


def test_branch_checks_its_arguments_before_making_anything(tmp_path, capsys, finished):
    line = one_line_error(capsys, "branch", str(finished), "--week", "2", "--out", str(tmp_path / "b"), "--seed", "-5")
    assert "--seed" in line and not (tmp_path / "b").exists()
    inside = finished / "checkpoints" / "fork"
    line = one_line_error(capsys, "branch", str(finished), "--week", "2", "--out", str(inside))
    assert "inside the run" in line and not inside.exists()


def test_a_kill_during_the_final_plot_counts_as_an_unclean_exit(tmp_path, monkeypatch, finished):
    import agentopia_mesa.run.results as results

    run = _unfinished(finished, tmp_path)

    def killed(*args, **kwargs):
        raise SystemExit(137)  # as if killed while drawing: no clean stop, no summary

    monkeypatch.setattr(results, "overview_figure", killed)
    with pytest.raises(SystemExit):
        main(["resume", str(run), "--quiet"])
    assert json.loads((run / "faults.json").read_text())["in_progress"] is True
    assert not (run / "summary.txt").exists()
    monkeypatch.undo()
    assert main(["resume", str(run), "--quiet"]) == 0
    report = json.loads((run / "faults.json").read_text())
    assert report["interruptions"].get("unclean_exit") == 1 and report["in_progress"] is False


# -- 6. paths from files and forms stay where they belong -------------------------------------------

@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "..", ".", "a/b", "a\\b", "", "x\x00y"])
def test_a_sweep_name_cannot_be_a_path(name):
    from agentopia_mesa.sweeps.spec import sweep_from_dict

    with pytest.raises(ValueError, match="^sweep.name: "):
        sweep_from_dict({"sweep": {"name": name, "world": "school", "years": 1}})


def test_the_sweep_cli_refuses_a_traversing_name_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a" / "b").mkdir(parents=True)
    spec = tmp_path / "a" / "b" / "s.toml"
    spec.write_text('[sweep]\nname = "../../escaped"\nworld = "school"\nyears = 1\nresidents = 3\n')
    monkeypatch.chdir(tmp_path / "a" / "b")
    line = one_line_error(capsys, "sweep", str(spec), "--quiet")
    assert "sweep.name" in line
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "a" / "escaped").exists()


def test_the_viewer_opens_only_run_directories_under_its_root(tmp_path, finished):
    from visualization.sources import viewer_run_dir

    root = finished.parent
    assert viewer_run_dir(str(finished), [root]) == finished.resolve()
    assert viewer_run_dir(finished.name, [root]) == finished.resolve()  # relative to the root
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    link = root / "link-out"
    link.symlink_to(tmp_path)
    messages = set()
    for text in ["/etc/passwd", "/etc", str(secret), str(tmp_path / "nothing-here"), "../" * 10 + "etc",
                 str(finished / "replay.jsonl"), str(finished / "checkpoints"), str(link)]:
        with pytest.raises(ValueError) as caught:
            viewer_run_dir(text, [root])
        messages.add(str(caught.value).replace(repr(text.strip()[:200]), "X"))
    assert len(messages) == 1  # the same answer whether the path exists or not


# -- smaller: a bad --llm-cache is one line --------------------------------------------------------

@pytest.mark.parametrize("kind", ["corrupt", "directory"])
def test_a_corrupt_or_directory_llm_cache_is_one_line_and_leaves_no_run_dir(tmp_path, capsys, kind):
    cache = tmp_path / "cache.sqlite"
    if kind == "corrupt":
        cache.write_bytes(b"not a database" * 100)
    else:
        cache.mkdir()
    out = tmp_path / "run"
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(out), "--mind", "llm", "--llm", "fake",
                          "--llm-cache", str(cache))
    assert "--llm-cache" in line and str(cache) in line
    assert not out.exists()


def _unfinished_llm_run(tmp_path) -> Path:
    run = tmp_path / "run"
    assert main(["run", *SMALL, "--years", "2", "--out", str(run), "--mind", "llm", "--llm", "fake"]) == 0
    for week in (3, 4):
        (run / "checkpoints" / f"week-{week:05d}.ckpt").unlink()
    (run / "summary.txt").unlink()
    return run


def test_a_run_directory_cannot_make_resume_create_a_cache_elsewhere(tmp_path, capsys):
    run = _unfinished_llm_run(tmp_path)
    meta = json.loads((run / "config.json").read_text())
    elsewhere = tmp_path / "elsewhere" / "planted.sqlite"
    meta["llm"]["cache"] = str(elsewhere)
    (run / "config.json").write_text(json.dumps(meta))
    line = one_line_error(capsys, "resume", str(run), "--quiet")
    assert "outside the run directory" in line
    assert not elsewhere.parent.exists()


def test_a_moved_run_resumes_with_its_own_cache(tmp_path):
    run = _unfinished_llm_run(tmp_path)
    moved = run.rename(tmp_path / "moved")
    assert main(["resume", str(moved), "--quiet"]) == 0
    assert not run.exists() and (moved / "summary.txt").exists()


# -- smaller: sweep workers do not outlive a kill -9 of the sweep ----------------------------------

def _children(pid: int) -> set[int]:
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
def test_sweep_workers_end_when_the_sweep_is_killed(tmp_path):
    import signal

    spec = tmp_path / "long.toml"
    spec.write_text('[sweep]\nname = "long"\nworld = "apartment"\nyears = 50\nresidents = 60\nseeds = 2\n'
                    'executor = "processes"\nworkers = 1\n')
    sweep = subprocess.Popen([sys.executable, "-m", "agentopia_mesa", "sweep", str(spec), "--out", str(tmp_path / "s"),
                              "--quiet"], env={**os.environ, "PYTHONPATH": os.getcwd()},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((tmp_path / "s").glob("runs/*/config.json")):
            time.sleep(0.2)  # a worker has started a run
        workers = _children(sweep.pid)
        assert workers, "no worker process started"
    finally:
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    survivors = [w for w in workers if _alive(w)]
    for w in survivors:
        os.kill(w, signal.SIGKILL)
    assert not survivors, "sweep workers outlived the sweep"


def test_edited_llm_settings_in_config_json_are_one_line(tmp_path, capsys):
    run = _unfinished_llm_run(tmp_path)
    meta = json.loads((run / "config.json").read_text())
    meta["llm"]["nonsense"] = 1
    (run / "config.json").write_text(json.dumps(meta))
    line = one_line_error(capsys, "resume", str(run), "--quiet")
    assert "llm settings" in line


def test_numpy_numbers_from_batch_run_parameter_lists_are_accepted():
    np = pytest.importorskip("numpy")
    config = SimulationConfig().with_flat_overrides({"calendar__weeks_per_year": np.int64(3),
                                                     "needs__decay": np.float64(0.2)})
    assert type(config.calendar.weeks_per_year) is int and config.calendar.weeks_per_year == 3
    assert config.digest() == SimulationConfig().with_flat_overrides({"calendar__weeks_per_year": 3,
                                                                      "needs__decay": 0.2}).digest()


def test_a_negative_run_seed_is_one_line_naming_the_flag(tmp_path, capsys):
    from agentopia_mesa.cli.main import main

    out = tmp_path / "never"
    assert main(["run", "--residents", "3", "--years", "1", "--seed", "-5", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed: must be 0 or more, got -5" in err and not out.exists()
