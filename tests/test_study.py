"""``agentopia study`` (issue #28): study files checked to the key, the plan's cost table, and the
loop end to end on the fake backend: every step's outputs, a changed setting redoing only what
depends on it, kills at random moments giving the same report with no finished town run twice,
and the built-in trainer as the training step."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prerequisites import require_embedded, require_modules

from agentopia_mesa.cli.main import main
from agentopia_mesa.study.costs import measured_costs, per_agent_week

MICRO = """
[study]
name = "micro"

[generation0]
worlds = ["school"]
seeds = [1, 2]
residents = 3
years = 1
weeks_per_year = 2

[society]
profile = "lean"
set = { calendar__days_per_week = 1, calendar__contact_rounds = 1 }

[models]
role = "fake"

[selection]
top_fraction = 0.5

[training]
backend = "command"
command = "{python} -c \\"import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])\\" {data} {out}"
model = "fake:verbose"

[evaluation]
judge = "fake"
scenes = 2
rounds = 1

[ablations.paper]
society = { profile = "paper" }
"""


def write_study(tmp_path: Path, text: str = MICRO, name: str = "micro.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "message"), [
    (("residents = 3", "residents = 0"), "generation0.residents: a whole number of at least 2, got 0"),
    (("top_fraction = 0.5", "top_fraction = 1.5"), "selection.top_fraction: a number in (0, 1], got 1.5"),
    (('role = "fake"', 'rol = "fake"'), "models.rol: unknown key"),
    (('role = "fake"', ""), "models.role: a model spec"),
    (('profile = "lean"', 'profile = "lean"\nbogus = 1'), "society.bogus: not an option of a town"),
    (('profile = "lean"', 'profile = "lean"\nllm = "fake"'), "society.llm: the study sets it"),
    (('model = "fake:verbose"', ""), "training.model: the tuned model's spec"),
    (('backend = "command"', 'backend = "external"'), "training.command: only with backend"),
    (('backend = "command"', 'backend = "gpu"'), "training.backend: 'gpu' is not one of"),
    (('[ablations.paper]', '[ablations.paper]\nfixed = 1'), "ablations.paper.fixed: unknown key"),
    (('profile = "lean"', 'profile = "paper"'), "models.environment: the paper profile judges with an LLM"),
    (("[study]", "[stduy]"), "stduy: unknown section"),
    (('name = "micro"', 'name = "../x"'), "study.name: letters, digits"),
])
def test_a_bad_study_file_is_one_line_naming_the_key_and_makes_nothing(tmp_path, capsys, change, message):
    study = write_study(tmp_path, MICRO.replace(*change))
    assert main(["study", "run", str(study), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_plan_prints_the_cost_table_by_step_beside_the_papers_run(tmp_path, capsys):
    assert main(["study", "plan", str(write_study(tmp_path)), "--tokens-per-second", "1000"]) == 0
    out = capsys.readouterr().out
    for step in ("| generation0 | 2 | 12 |", "| ablation paper | 2 | 12 |", "| generation1 | 2 | 12 |", "| evaluation |",
                 "| **total** | 6 | 36 |", "| paper: one 100 x 10 run | 1 | 10,000 | 567,000 | 13.7 B"):
        assert step in out
    calls, prompt, completion = per_agent_week("lean", False)
    assert f"| generation0 | 2 | 12 | {12 * calls:,.0f} |" in out
    assert "1.37 M tokens per agent-week" in out and measured_costs()["command"] in out


def test_the_plan_takes_its_hours_from_the_serving_model_per_profile_and_sums_them(tmp_path, capsys):
    from agentopia_mesa.study.costs import servers

    study = write_study(tmp_path)
    assert main(["study", "plan", str(study), "--server", "h100-8b"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line.split("|") for line in out.splitlines() if line.startswith("| ")}
    lean = servers()["h100-8b"]["lean"] / measured_costs()["serving"]["agent_weeks_per_town"]  # hours an agent-week, lean
    assert float(rows["generation0"][7]) == pytest.approx(12 * lean, rel=0.05)
    hours = [float(rows[step][7]) for step in ("generation0", "ablation paper", "generation1", "evaluation")]
    assert float(rows["**total**"][7]) == pytest.approx(sum(hours), rel=0.05)
    assert float(rows["ablation paper"][7]) > float(rows["generation0"][7])  # the paper profile costs more a week
    assert "serving model's prediction on Llama-3.1-8B" in out and "bench_serving.py" in out
    assert main(["study", "plan", str(study), "--server", "h100-1b"]) == 2
    assert "--server: unknown server 'h100-1b'" in capsys.readouterr().err


def test_the_measured_costs_name_their_command_and_date_and_cover_both_profiles():
    data = measured_costs()
    assert "fake:verbose" in data["command"] and data["date"]
    assert set(data["profiles"]) == {"lean", "paper"}
    assert per_agent_week("paper", True)[1] > per_agent_week("lean", False)[1] > 0


# -- the loop end to end (fake backend) -----------------------------------------------------------

def _run(study: Path, out: Path) -> None:
    assert main(["study", "run", str(study), "--out", str(out), "--quiet"]) == 0


def _finished_towns(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.glob("*/runs/*/done.json")}


def _status(study: Path, out: Path, capsys) -> dict[str, str]:
    capsys.readouterr()
    assert main(["study", "status", str(study), "--out", str(out)]) == 0
    return dict(line.split()[:2] for line in capsys.readouterr().out.splitlines())


@pytest.mark.slow
def test_a_micro_study_runs_every_step_and_a_changed_setting_redoes_only_what_depends_on_it(tmp_path, capsys):
    study, out = write_study(tmp_path), tmp_path / "out"
    _run(study, out)
    assert set(_status(study, out, capsys).values()) == {"done"}
    assert len(list((out / "generation0" / "runs").glob("*/done.json"))) == 2
    assert len(list((out / "generation1" / "runs").glob("*/done.json"))) == 2
    assert len(list((out / "ablation.paper" / "runs").glob("*/done.json"))) == 2
    assert (out / "data" / "sft.jsonl").stat().st_size > 0
    assert (out / "training" / "sft.jsonl").read_bytes() == (out / "data" / "sft.jsonl").read_bytes()  # the command ran
    assert (out / "evaluation" / "summary.md").exists() and (out / "generation0.png").exists()
    report = (out / "report.md").read_text()
    for heading in ("## Cost: planned and spent", "## Generation 0: the emergent society", "## Data and training",
                    "## Generation 1: tuned minus base", "## Role-play evaluation", "## Ablations"):
        assert heading in report
    assert "| liked by |" in report and "+15.9 %" in report and "+24.2 %" in report and "| respected by |" in report
    assert "| paper | " in report and "| school | " in report

    towns = _finished_towns(out)
    study.write_text(MICRO.replace("top_fraction = 0.5", "top_fraction = 0.34"))
    state = _status(study, out, capsys)
    assert state["generation0"] == state["ablation.paper"] == "done" and state["data"] == "stale"
    _run(study, out)
    assert _finished_towns(out) == towns  # the same tuned model: no town ran again


@pytest.mark.slow
def test_killed_at_random_moments_the_study_gives_the_same_report_and_never_reruns_a_finished_town(tmp_path):
    study = write_study(tmp_path)
    whole = tmp_path / "whole"
    _run(study, whole)
    out, rng, seen = tmp_path / "killed", random.Random(28), {}
    command = [sys.executable, "-m", "agentopia_mesa", "study", "run", str(study), "--out", str(out), "--quiet"]
    kills = 0
    for attempt in range(12):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.5, 6.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL if attempt % 3 else signal.SIGTERM)
            kills += 1
        process.wait()
        for town, stamp in _finished_towns(out).items():
            assert seen.setdefault(town, stamp) == stamp, f"{town} ran again"
        if process.returncode == 0:
            break
    assert kills >= 5
    if process.returncode != 0:
        _run(study, out)
    for town, stamp in _finished_towns(out).items():
        assert seen.get(town, stamp) == stamp, f"{town} ran again"
    report = (out / "report.md").read_text().replace(str(out), "DIR")
    assert report == (whole / "report.md").read_text().replace(str(whole), "DIR")


@pytest.mark.slow
def test_the_built_in_trainer_is_the_training_step_and_its_model_lives_in_generation1(tmp_path, capsys):
    require_modules("torch", "transformers", "trl", "peft", "gguf", "datasets", hint="pip install 'agentopia-mesa[train]'")
    require_embedded()
    text = MICRO.replace("seeds = [1, 2]", "seeds = [1]").replace("weeks_per_year = 2", "weeks_per_year = 1")
    text = text[:text.index("[training]")] + '[training]\nbackend = "agentopia"\nsteps = 2\nlr = 0.001\n'
    study, out = write_study(tmp_path, text), tmp_path / "out"
    _run(study, out)
    assert (out / "training" / "model.gguf").exists() and (out / "training" / "card.json").exists()
    report = (out / "report.md").read_text()
    assert f"tuned model `embedded:{(out / 'training' / 'model.gguf').resolve()}`" in report
    assert "| liked by |" in report


@pytest.mark.slow
def test_a_tiny_hugging_face_base_trains_on_the_cpu_through_the_study_and_its_gguf_lives_in_generation1(tmp_path):
    """The study's built-in trainer on a Hugging Face folder (a tiny random Qwen3): LoRA on the CPU,
    merged, written as a GGUF, and that GGUF is the tuned half of generation 1."""
    require_modules("torch", "transformers", "trl", "peft", "gguf", "datasets", hint="pip install 'agentopia-mesa[train]'")
    require_embedded()
    from tiny_hf_models import save_tiny_model

    base = save_tiny_model("qwen3", tmp_path / "qwen3-base")
    text = MICRO.replace("seeds = [1, 2]", "seeds = [1]").replace("weeks_per_year = 2", "weeks_per_year = 1")
    text = text[:text.index("[training]")] + f'[training]\nbackend = "agentopia"\nbase = "{base}"\nsteps = 2\nlr = 0.01\n'
    study, out = write_study(tmp_path, text), tmp_path / "out"
    _run(study, out)
    card = json.loads((out / "training" / "card.json").read_text())
    assert str(base) in json.dumps(card) and (out / "training" / "model.gguf").stat().st_size > 0
    tuned = f"embedded:{(out / 'training' / 'model.gguf').resolve()}"
    assert f"tuned model `{tuned}`" in (out / "report.md").read_text()
    runs = list((out / "generation1").glob("runs/*/config.json"))
    assert runs and all(tuned in path.read_text() for path in runs)  # generation 1's towns name the tuned GGUF


@pytest.mark.slow
def test_a_failing_command_stops_at_training_keeps_the_towns_and_an_external_step_waits_for_its_model(tmp_path, capsys):
    failing = MICRO.replace("shutil.copy(sys.argv[1], sys.argv[2])", "sys.exit(3)").replace("[ablations.paper]\nsociety = { profile = \\\"paper\\\" }", "")
    failing = failing[:failing.index("[ablations.paper]")]
    study, out = write_study(tmp_path, failing), tmp_path / "out"
    assert main(["study", "run", str(study), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "training.command: exited with 3" in err and "command.log" in err
    towns = _finished_towns(out)
    assert len(towns) == 2
    text = failing[:failing.index("[training]")] + '[training]\nbackend = "external"\n' + failing[failing.index("[evaluation]"):]
    study.write_text(text)
    assert main(["study", "run", str(study), "--out", str(out), "--quiet"]) == 0
    assert "the study waits for a model tuned on" in capsys.readouterr().out
    assert _status(study, out, capsys)["training"] == "pending"
    study.write_text(text.replace('backend = "external"', 'backend = "external"\nmodel = "fake:verbose"'))
    _run(study, out)
    assert _finished_towns(out).items() >= towns.items() and (out / "report.md").exists()


def test_the_report_says_whether_spent_tokens_are_words_or_tokens():
    from agentopia_mesa.study.report import _counted_as

    assert _counted_as("fake:verbose", None) == "the fake backend counts words, not tokens"
    assert _counted_as("embedded", None) == "tokens as the servers report them"
    assert "fake backend's are words" in _counted_as("embedded", "fake")
