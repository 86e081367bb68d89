"""The scripts in experiments/ run as their docstrings show, at tiny sizes (each a few seconds)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def script(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python experiments/NAME ARGS...`` from the repository root, as a user runs it."""
    return subprocess.run([sys.executable, str(REPO / "experiments" / name), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_batch_run_example_runs_in_two_processes():
    done = script("batch_run_example.py", "--residents", "5", "--years", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    table = done.stdout.splitlines()
    assert table[0].split() == ["gini_deposit", "mean_mood", "reward_subjective", "reward_economic"]
    assert table[1].split() == ["needs__decay"]
    rates = {float(line.split()[0]): float(line.split()[2]) for line in table[2:]}
    assert set(rates) == {0.1, 0.2} and rates[0.2] < rates[0.1]  # faster decay, lower mean mood


def test_collect_trajectories_builds_one_dataset_from_several_worlds(tmp_path):
    out = tmp_path / "collect"
    done = script("collect_trajectories.py", "--worlds", "school", "apartment", "--seeds", "1", "--residents", "4",
                  "--years", "2", "--weeks-per-year", "1", "--mix", "fake=1", "--executor", "sequential",
                  "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    runs = sorted(p for p in (out / "runs").iterdir() if p.is_dir())
    assert len(runs) == 2 and all((run / "decisions.jsonl").stat().st_size > 0 for run in runs)
    assert {json.loads((run / "config.json").read_text())["world_name"] for run in runs} == {
        json.loads((REPO / "agentopia_mesa" / "world" / "builtin" / f"{w}.json").read_text())["name"] for w in ("school", "apartment")}
    samples = [json.loads(line) for line in (out / "dataset" / "sft.jsonl").read_text().splitlines()]
    # per run and year the top 25 % of 4 residents: one agent-year each, 2 runs x 2 years
    assert {(s["metadata"]["run"], s["metadata"]["year"]) for s in samples} == {(r.name, y) for r in runs for y in (2020, 2021)}
    assert all(s["messages"][-1]["role"] == "assistant" for s in samples)
    assert done.stdout.startswith(f"2 runs -> {out / 'dataset' / 'sft.jsonl'}: {len(samples)} samples from 4 of 16 agent-years")
    assert (out / "dataset" / "sft.md").is_file()


def test_collect_trajectories_bad_input_is_one_line_and_exit_2(tmp_path):
    done = script("collect_trajectories.py", "--worlds", "atlantis", "--seeds", "1", "--out", str(tmp_path / "never"), "--quiet")
    assert done.returncode == 2 and not (tmp_path / "never").exists()
    assert done.stderr.count("\n") == 1 and "collect_trajectories: error: world: unknown world 'atlantis'" in done.stderr


def test_collect_trajectories_takes_the_society_options_of_agentopia_run(tmp_path):
    """The paper's society: its profile, an LLM environment on its own model, ratings and --set overrides."""
    out = tmp_path / "collect"
    done = script("collect_trajectories.py", "--worlds", "school", "--seeds", "1", "--residents", "4", "--years", "1",
                  "--weeks-per-year", "1", "--set", "calendar__days_per_week=2", "--llm", "fake", "--profile", "paper",
                  "--env-llm", "fake:varied", "--ratings", "self", "--executor", "sequential", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    (run,) = [p for p in (out / "runs").iterdir() if p.is_dir()]
    meta = json.loads((run / "config.json").read_text())
    assert meta["profile"] == "paper" and meta["overrides"]["calendar__days_per_week"] == 2
    assert (meta["llm"]["env"], meta["llm"]["env_llm"], meta["llm"]["ratings"]) == ("llm", "fake:varied", "self")
    lines = [json.loads(line) for line in (run / "decisions.jsonl").read_text().splitlines()]
    assert any(line.get("role") == "environment" for line in lines)
    bad = script("collect_trajectories.py", "--worlds", "school", "--env-llm", "fake", "--env", "rules",
                 "--out", str(tmp_path / "never"), "--quiet")
    assert bad.returncode == 2 and "collect_trajectories: error: society.env_llm: only with --env llm" in bad.stderr
