"""The `agentopia` command: a real run writes a run directory; bad input is one line and exit 2."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from agentopia_mesa.cli.main import main


def test_run_writes_a_complete_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "20", "--years", "2", "--seed", "5", "--out", str(out), "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "world.json", "metrics.csv", "residents.csv", "rewards.csv", "summary.txt", "overview.png"} <= names
    config = json.loads((out / "config.json").read_text())
    assert (config["residents"], config["years"], config["seed"]) == (20, 2, 5)
    metrics = pd.read_csv(out / "metrics.csv")
    assert len(metrics) == 2 * 10 + 1
    rewards = pd.read_csv(out / "rewards.csv")
    assert len(rewards) == 20 * 2 and set(rewards["year"]) == {2020, 2021}
    assert (out / "overview.png").stat().st_size > 10_000
    assert "life reward by year" in (out / "summary.txt").read_text()
    assert f"run directory: {out}" in capsys.readouterr().out


def test_existing_run_directory_is_not_overwritten_by_accident(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["run", "--residents", "3", "--years", "1", "--out", str(out), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize(("args", "field"), [
    (["--world", "atlantis"], "unknown world 'atlantis'"),
    (["--residents", "0"], "--residents"),
    (["--years", "-1"], "--years"),
    (["--weeks-per-year", "0"], "--weeks-per-year"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, capsys, args, field):
    out = tmp_path / "never"
    assert main(["run", "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("agentopia: error:")
    assert field in err
    assert not out.exists()


def test_broken_world_file_names_the_field(tmp_path, capsys):
    world = json.loads(subprocess.run(
        [sys.executable, "-c", "from agentopia_mesa.world.loader import load_world; print(load_world('apartment').model_dump_json())"],
        capture_output=True, text=True, check=True).stdout)
    world["jobs"][3]["place"] = "bakery-that-does-not-exist"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(world))
    out = tmp_path / "never"
    assert main(["run", "--world", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "jobs[3].place" in err and "bakery-that-does-not-exist" in err
    assert "Traceback" not in err and not out.exists()


def test_world_new_and_check(tmp_path, capsys):
    path = tmp_path / "town.json"
    assert main(["world", "new", "--theme", "rivertown", "--residents", "37", "--seed", "9", "--out", str(path)]) == 0
    assert main(["world", "check", str(path)]) == 0
    assert "37 residents" in capsys.readouterr().out
    assert main(["world", "new", "--theme", "mars", "--out", str(tmp_path / "x.json")]) == 2


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "agentopia_mesa", "world", "list"], capture_output=True, text=True)
    assert result.returncode == 0
    assert {"apartment", "school", "rivertown"} <= {line.split()[0] for line in result.stdout.splitlines()}


def test_set_changes_the_configuration_and_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "4", "--years", "2", "--seed", "3", "--out", str(out), "--quiet",
                 "--set", "calendar__weeks_per_year=3", "--set", "needs__decay=0.4"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["overrides"] == {"calendar__weeks_per_year": 3, "needs__decay": 0.4}
    assert config["config"]["calendar"]["weeks_per_year"] == 3 and config["config"]["needs"]["decay"] == {
        "mood": 0.4, "social": 0.4, "esteem": 0.4, "material": 0.0}  # one number sets the three decaying needs
    assert list(pd.read_csv(out / "metrics.csv")["week"]) == list(range(2 * 3 + 1))  # 3-week years
    # the same run without the decay override: its town is in better spirits
    plain = tmp_path / "plain"
    assert main(["run", "--world", "school", "--residents", "4", "--years", "2", "--seed", "3", "--out", str(plain), "--quiet",
                 "--set", "calendar__weeks_per_year=3"]) == 0
    assert pd.read_csv(plain / "metrics.csv")["mean_mood"].iloc[1:].mean() > pd.read_csv(out / "metrics.csv")["mean_mood"].iloc[1:].mean()


@pytest.mark.parametrize(("setting", "field"), [("needs__decayy=0.2", "needs__decayy"), ("needs__decay", "--set")])
def test_bad_set_is_one_line_and_leaves_nothing(tmp_path, capsys, setting, field):
    out = tmp_path / "never"
    assert main(["run", "--residents", "3", "--years", "1", "--out", str(out), "--quiet", "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and field in err and not out.exists()


def test_overwrite_replaces_the_old_run_entirely(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "5", "--years", "2", "--weeks-per-year", "2", "--seed", "1",
                 "--checkpoint-every", "1", "--out", str(out), "--quiet"]) == 0
    (out / "decisions.jsonl").write_text("{}\n")  # a run's file the new (rules) run does not write
    old_checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert main(["run", "--world", "school", "--residents", "3", "--years", "1", "--weeks-per-year", "2", "--seed", "2",
                 "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert not (out / "decisions.jsonl").exists()  # (a file of the user's stops --overwrite: test_run_ownership.py)
    config = json.loads((out / "config.json").read_text())
    assert (config["residents"], config["years"], config["seed"]) == (3, 1, 2)
    assert set(pd.read_csv(out / "rewards.csv")["year"]) == {2020} and len(pd.read_csv(out / "rewards.csv")) == 3
    assert len(pd.read_csv(out / "metrics.csv")) == 2 + 1
    new_checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert "week-00004.ckpt" in old_checkpoints and new_checkpoints == ["week-00002.ckpt"]  # the new run's only
    assert main(["resume", str(out), "--quiet"]) == 0  # resuming finds the new run, already finished


def test_llm_spec_without_mind_llm_is_an_error_and_other_llm_options_warn(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["run", "--residents", "3", "--years", "1", "--llm", "ollama:foo", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--llm ollama:foo: only with --mind llm" in err and not out.exists()
    assert main(["run", "--residents", "3", "--years", "1", "--weeks-per-year", "1", "--temperature", "0.2",
                 "--out", str(tmp_path / "rules"), "--quiet"]) == 0
    assert "warning: --temperature only apply with --mind llm" in capsys.readouterr().err


def test_world_resident_without_traits_fails_world_check(tmp_path, capsys):
    from agentopia_mesa.world.loader import load_world

    world = json.loads(load_world("school").model_dump_json())
    del world["residents"][2]["traits"]
    path = tmp_path / "no-traits.json"
    path.write_text(json.dumps(world))
    assert main(["world", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "residents[2].traits" in err
    for name in ("apartment", "school", "rivertown"):  # every built-in world has traits
        assert all(r.traits for r in load_world(name).residents)


def test_dataset_sft_with_an_unknown_model_lists_the_runs_minds(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "4", "--years", "1", "--weeks-per-year", "1",
                 "--mind", "llm", "--mix", "fake=0.5", "--out", str(run), "--quiet"]) == 0
    capsys.readouterr()
    out = tmp_path / "sft.jsonl"
    assert main(["dataset", "sft", str(run), "--model", "embedded:gemma-3-270m-q4_k_m", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'embedded:gemma-3-270m-q4_k_m'" in err and "fake:schema-example, rules" in err and not out.exists()
    assert main(["dataset", "sft", str(run), "--model", "fake:schema-example", "--out", str(out)]) == 0


def test_summary_shows_what_moves_in_the_social_reward(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "20", "--years", "2", "--weeks-per-year", "3",
                 "--seed", "2", "--out", str(out), "--quiet"]) == 0
    rewards = pd.read_csv(out / "rewards.csv")
    years = [line for line in (out / "summary.txt").read_text().splitlines() if line.startswith("  202")]
    assert len(years) == 2
    for line, (_, g) in zip(years, rewards.groupby("year"), strict=True):
        # the mean share (~1/residents every year) is not printed; its sd and the counts behind it are
        assert f"social sd {g['social'].std(ddof=0):.4f}" in line
        assert f"liked-by {g['liked_by'].mean():.2f}+-{g['liked_by'].std(ddof=0):.2f}" in line
        assert f"respected-by {g['respected_by'].mean():.2f}+-" in line
        assert f"social {g['social'].mean():.4f}" not in line
