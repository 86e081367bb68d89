"""Runs never lose work: checkpoints, kill -9 and resume, branches, corrupt checkpoints."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from agentopia_mesa.run.checkpoints import MAGIC, list_checkpoints, load_latest
from agentopia_mesa.cli.main import main

RUN = ["run", "--world", "rivertown", "--residents", "25", "--years", "3", "--quiet", "--checkpoint-every", "1"]


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "agentopia_mesa", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _weeks_checkpointed(run_dir: Path) -> int:
    names = [p.name for p in list_checkpoints(run_dir)]
    return int(names[-1][5:10]) if names else 0


def _kill_at_week(run_dir: Path, args: list[str], week: int, sig=signal.SIGKILL) -> subprocess.Popen:
    proc = _cli(*args)
    deadline = time.monotonic() + 120
    while _weeks_checkpointed(run_dir) < week and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    return proc


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    assert main([*RUN, "--seed", "11", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kill_seed", [1, 2, 3])
def test_kill_9_then_resume_gives_identical_results(tmp_path, uninterrupted, kill_seed):
    out = tmp_path / "run"
    week = random.Random(kill_seed).randint(2, 25)
    proc = _kill_at_week(out, [*RUN, "--seed", "11", "--out", str(out)], week)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert not (out / "summary.txt").exists()
    assert main(["resume", str(out), "--quiet"]) == 0
    for name in ("metrics.csv", "residents.csv", "rewards.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(uninterrupted / name), check_exact=True)
    replay = (out / "replay.jsonl").read_text().splitlines()
    assert replay == (uninterrupted / "replay.jsonl").read_text().splitlines()


@pytest.mark.slow
def test_sigterm_stops_cleanly_and_resumes(tmp_path, uninterrupted):
    out = tmp_path / "run"
    proc = _kill_at_week(out, [*RUN, "--seed", "11", "--out", str(out)], 5, sig=signal.SIGTERM)
    assert proc.returncode == 143
    assert "agentopia resume" in proc.stderr.read()
    assert main(["resume", str(out), "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "metrics.csv"), pd.read_csv(uninterrupted / "metrics.csv"))


def test_corrupt_latest_checkpoint_falls_back_to_the_previous(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "8", "--years", "1", "--seed", "3", "--out", str(out), "--quiet", "--checkpoint-every", "1"]) == 0
    checkpoints = list_checkpoints(out)
    assert len(checkpoints) == 3  # the newest three are kept
    newest = checkpoints[-1]
    newest.write_bytes(newest.read_bytes()[: len(MAGIC) + 100])  # truncated
    with pytest.warns(UserWarning, match="skipping checkpoint"):
        model, path = load_latest(out)
    assert path == checkpoints[-2]
    assert model.weeks_done == 9


def test_branch_forks_a_run_and_changes_its_future(tmp_path):
    base = tmp_path / "base"
    assert main(["run", "--world", "school", "--residents", "12", "--years", "1", "--seed", "3", "--out", str(base), "--quiet",
                 "--checkpoint-every", "1"]) == 0
    same, other = tmp_path / "same", tmp_path / "other"
    # keep every checkpoint: branch from week 8, which is among the newest three
    assert main(["branch", str(base), "--week", "8", "--out", str(same), "--quiet"]) == 0
    assert main(["branch", str(base), "--week", "8", "--out", str(other), "--seed", "99", "--quiet"]) == 0
    base_m = pd.read_csv(base / "metrics.csv")
    pd.testing.assert_frame_equal(pd.read_csv(same / "metrics.csv"), base_m)
    other_m = pd.read_csv(other / "metrics.csv")
    pd.testing.assert_frame_equal(other_m.iloc[:9], base_m.iloc[:9])
    assert not other_m.iloc[9:].equals(base_m.iloc[9:])
    assert main(["branch", str(base), "--week", "2", "--out", str(tmp_path / "x"), "--quiet"]) == 2


LLM_RUN = ["run", "--world", "school", "--residents", "6", "--years", "2", "--weeks-per-year", "5", "--quiet",
           "--mind", "llm", "--llm", "fake", "--seed", "4"]


def _decisions(run_dir: Path) -> list[dict]:
    import json

    lines = (run_dir / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    # A decision re-made after the resume may come from the cache the killed run filled: same answer, cached=True.
    return [{k: v for k, v in json.loads(line).items() if k not in ("cached", "run")} for line in lines]


@pytest.mark.slow
@pytest.mark.parametrize("kill_seed", [1, 2])
def test_kill_9_an_llm_run_then_resume_gives_identical_results_and_trajectories(tmp_path, kill_seed):
    whole = tmp_path / "whole"
    assert main([*LLM_RUN, "--out", str(whole)]) == 0
    out = tmp_path / "run"
    week = random.Random(kill_seed).randint(2, 8)
    proc = _kill_at_week(out, [*LLM_RUN, "--out", str(out)], week)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert main(["resume", str(out), "--quiet"]) == 0
    for name in ("metrics.csv", "residents.csv", "rewards.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(whole / name), check_exact=True)
    assert _decisions(out) == _decisions(whole)
    assert (out / "replay.jsonl").read_text() == (whole / "replay.jsonl").read_text()


def test_checkpoints_kept_per_year_plus_the_newest_and_branch_names_the_weeks(tmp_path, capsys):
    import json

    common = ["run", "--world", "school", "--residents", "6", "--years", "3", "--weeks-per-year", "3", "--quiet",
              "--checkpoint-every", "1"]
    base = tmp_path / "base"
    assert main([*common, "--out", str(base)]) == 0
    weeks = [int(p.name[5:10]) for p in list_checkpoints(base)]
    assert weeks == [3, 6, 7, 8, 9]  # each year end, and the newest three
    assert "keep_checkpoints" not in json.loads((base / "config.json").read_text())  # the default is not recorded
    assert main(["branch", str(base), "--week", "3", "--out", str(tmp_path / "year1"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["branch", str(base), "--week", "4", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "weeks that can be branched: 3, 6, 7, 8, 9" in capsys.readouterr().err
    every = tmp_path / "every"
    assert main([*common, "--keep-checkpoints", "all", "--out", str(every)]) == 0
    assert len(list_checkpoints(every)) == 9
    assert json.loads((every / "config.json").read_text())["keep_checkpoints"] == 0
    newest = tmp_path / "newest"
    assert main([*common, "--keep-checkpoints", "1", "--out", str(newest)]) == 0
    assert [int(p.name[5:10]) for p in list_checkpoints(newest)] == [3, 6, 9]
    with pytest.raises(SystemExit) as stop:
        main([*common, "--keep-checkpoints", "0", "--out", str(tmp_path / "bad")])
    assert stop.value.code == 2 and "or 'all'" in capsys.readouterr().err
