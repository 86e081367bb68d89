"""The sweep runner: validated configs, SeedSequence seeds, one directory per run, resume after a
killed worker without redoing finished runs, and Ray giving the same results as local processes."""

import json
import shutil
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prerequisites import require_modules

from agentopia_mesa.cli.analyze import standalone_main
from agentopia_mesa.config import EconomyConfig
from agentopia_mesa.sweeps import (
    SweepConfigError, WorkerLost, derive_seeds, load_sweep, run_sweep, scaled_living_standards, sweep_from_dict,
)
from agentopia_mesa.sweeps import runner as runner_module
from agentopia_mesa.cli.sweep import add_sweep_parser

TINY = {"sweep": {"name": "tiny", "world": "apartment", "years": 1, "residents": 6, "seeds": 2, "seed": 3},
        "grid": {"needs__decay": [0.1, 0.3]}}
RUN_FILES = {"params.json", "started.json", "config.json", "world.json", "metrics.csv", "residents.csv", "rewards.csv",
             "ties.csv", "residents_yearly.csv", "measures.csv", "correlations.csv", "done.json"}


def write_config(tmp_path: Path, data: dict, name: str = "sweep.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def done_times(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/done.json")}


# -- configuration ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "field"), [
    ({"oops": {}}, "oops: unknown section"),
    ({"sweep": {"executor": "cluster"}}, "sweep.executor"),
    ({"sweep": {"workers": 0}}, "sweep.workers"),
    ({"sweep": {"seeds": 0}}, "sweep.seeds"),
    ({"sweep": {"world": "atlantis"}}, "world: unknown world 'atlantis'"),
    ({"sweep": {"threads": 2}}, "sweep.threads"),
    ({"grid": {"needs__decayy": [0.1]}}, "needs__decayy"),
    ({"grid": {"needs__decay": []}}, "grid.needs__decay: give at least one value"),
    ({"grid": {"years": ["ten"]}}, "grid.years"),
    ({"grid": {"calendar__weeks_per_year": [2.5]}}, "grid.calendar__weeks_per_year"),
    ({"grid": {"happiness": [1]}}, "grid.happiness: not a model parameter"),
    ({"grid": {"living_cost_scale": [-1]}}, "grid.living_cost_scale"),
    ({"points": [{"needs__decay": 0.2}]}, "points[0].needs__decay: also in [grid]"),
])
def test_bad_configs_name_the_field(change, field):
    data = {**TINY, **{k: ({**TINY.get(k, {}), **v} if isinstance(v, dict) else v) for k, v in change.items()}}
    with pytest.raises(SweepConfigError) as exc:
        sweep_from_dict(data)
    assert field in str(exc.value)


def test_cli_bad_config_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('[sweep]\nexecutor = "cluster"\n')
    assert standalone_main(add_sweep_parser, "sweep", [str(config), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sweep.executor" in err
    assert not (tmp_path / "never").exists()
    config.write_text("[sweep\n")
    assert standalone_main(add_sweep_parser, "sweep", [str(config)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_plan_seeds_come_from_seedsequence_and_ids_are_stable():
    spec = sweep_from_dict(TINY)
    expected = [int(np.random.SeedSequence(3, spawn_key=(i,)).generate_state(1)[0]) for i in range(2)]
    assert spec.replicate_seeds == expected == derive_seeds(3, 2)
    plan = spec.plan()
    assert len(plan) == 4 and len({r.id for r in plan}) == 4
    assert spec.swept == ["needs__decay"]
    # More seeds later: the existing runs keep their ids (and so are not redone).
    grown = sweep_from_dict({**TINY, "sweep": {**TINY["sweep"], "seeds": 3}}).plan()
    assert {r.id for r in plan} < {r.id for r in grown} and len(grown) == 6
    explicit = sweep_from_dict({**TINY, "sweep": {**TINY["sweep"], "seeds": [7, 8]}})
    assert explicit.replicate_seeds == [7, 8]


def test_living_cost_scale_scales_every_standard():
    scaled = scaled_living_standards(1.5)
    base = EconomyConfig().living_standards
    assert [s.weekly_cost for s in scaled] == [150, 300, 450, 750]
    assert [s.material_change for s in scaled] == [s.material_change for s in base]


def test_toml_config_and_experiments_validate(tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text('[sweep]\nyears = 1\nresidents = 5\nseeds = 2\n[grid]\nliving_cost_scale = [0.5, 2.0]\n'
                      'needs__decay = [0.1, 0.2]\n[[points]]\nworld = "school"\n[[points]]\nworld = "rivertown"\n')
    spec = load_sweep(config)
    assert spec.name == "grid" and len(spec.plan()) == 2 * 2 * 2 * 2
    assert spec.swept == ["world", "living_cost_scale", "needs__decay"]
    experiments = sorted((Path(__file__).parent.parent / "experiments").glob("*.toml"))
    assert len(experiments) >= 3
    for path in experiments:
        if "[generation0]" in path.read_text():  # a study file (agentopia study, tests/test_study.py)
            from agentopia_mesa.study.spec import load_study

            assert load_study(path).towns_per_generation, path
        else:
            assert load_sweep(path).plan(), path


# -- running and resuming --------------------------------------------------------------------------
def test_sequential_sweep_writes_run_directories_and_skips_finished_runs(tmp_path):
    out = tmp_path / "sweep"
    outcome = run_sweep(sweep_from_dict(TINY), out, progress=False)
    assert outcome.complete and (outcome.finished, outcome.skipped) == (4, 0)
    sweep = json.loads((out / "sweep.json").read_text())
    assert [r["id"] for r in sweep["runs"]] == [r.id for r in sweep_from_dict(TINY).plan()]
    for entry in sweep["runs"]:
        assert RUN_FILES <= {p.name for p in (out / entry["dir"]).iterdir()}
    index = pd.read_csv(out / "index.csv")
    assert list(index["status"]) == ["done"] * 4 and index["gini_deposit"].between(0, 1).all()
    assert not (out / "sweep.lock").exists()

    before = done_times(out)
    again = run_sweep(sweep_from_dict(TINY), out, progress=False)
    assert (again.finished, again.skipped) == (0, 4) and done_times(out) == before

    # An interrupted run continues from its last checkpoint (here: the last week, so nothing is
    # lived again); one interrupted before its first checkpoint is started over; the others stay.
    resumed_victim, restarted_victim = out / sweep["runs"][1]["dir"], out / sweep["runs"][2]["dir"]
    lived = (resumed_victim / "metrics.csv").stat().st_mtime_ns
    for victim in (resumed_victim, restarted_victim):
        (victim / "done.json").unlink()
        (victim / "half-written.tmp").write_text("x")
    shutil.rmtree(restarted_victim / "checkpoints")
    resumed = run_sweep(sweep_from_dict(TINY), out, progress=False)
    assert (resumed.finished, resumed.skipped) == (2, 2)
    assert (resumed_victim / "metrics.csv").stat().st_mtime_ns == lived and (resumed_victim / "done.json").is_file()
    assert not (restarted_victim / "half-written.tmp").exists() and (restarted_victim / "done.json").is_file()
    victims = (resumed_victim.name, restarted_victim.name)
    assert {k: v for k, v in done_times(out).items() if k not in victims} == {k: v for k, v in before.items() if k not in victims}


def test_runner_resumes_after_a_killed_worker_without_redoing_finished_runs(tmp_path):
    config = write_config(tmp_path, {**TINY, "sweep": {**TINY["sweep"], "residents": 12,
                                                       "executor": "processes", "workers": 1, "retries": 0}})
    out = tmp_path / "sweep"
    sweep = subprocess.Popen([sys.executable, "-m", "agentopia_mesa.sweeps", str(config), "--out", str(out), "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline and sweep.poll() is None:
        if done_times(out):
            running = [p for p in out.glob("runs/*/started.json") if not (p.parent / "done.json").exists()]
            if running:
                victim = json.loads(running[0].read_text())["pid"]
        time.sleep(0.01)
    assert victim is not None and victim != sweep.pid, "the sweep never had a finished run and a running one"
    os.kill(victim, signal.SIGKILL)  # the worker process, not the sweep
    stdout, _ = sweep.communicate(timeout=60)
    assert sweep.returncode == 1 and "run the same command again" in stdout

    finished = done_times(out)
    interrupted = [p.parent.name for p in out.glob("runs/*/started.json") if p.parent.name not in finished]
    assert finished and interrupted and len(finished) < 4
    index = pd.read_csv(out / "index.csv")
    assert set(index.loc[index["status"] == "failed", "run_id"]) >= set(interrupted)

    resumed = run_sweep(load_sweep(config), out, executor="sequential", progress=False)
    assert resumed.complete and resumed.skipped == len(finished) and resumed.finished == 4 - len(finished)
    assert {k: v for k, v in done_times(out).items() if k in finished} == finished  # not redone
    for run_id in interrupted:
        assert json.loads((out / "runs" / run_id / "started.json").read_text())["pid"] != victim


def test_a_lost_worker_is_retried_once(tmp_path, monkeypatch):
    from agentopia_mesa.sweeps.executors import Sequential

    class DropsTheFirst(Sequential):
        dropped = False

        def run(self, fn, tasks):
            for task in tasks:
                if not DropsTheFirst.dropped:
                    DropsTheFirst.dropped = True
                    yield task, WorkerLost("worker process died (test)")
                else:
                    yield task, fn(task)

    monkeypatch.setattr(runner_module, "make_executor", lambda *a, **k: DropsTheFirst())
    outcome = run_sweep(sweep_from_dict({**TINY, "grid": {}}), tmp_path / "sweep", progress=False)
    assert outcome.complete and outcome.finished == 2 and DropsTheFirst.dropped


def test_a_second_sweep_in_the_same_directory_is_refused(tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "sweep.lock").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename}))
    with pytest.raises(ValueError, match="another sweep"):
        run_sweep(sweep_from_dict(TINY), out, progress=False)
    (out / "sweep.lock").write_text(json.dumps({"pid": 2**22 + 12345, "host": os.uname().nodename}))  # long gone
    one_run = {**TINY, "grid": {}, "sweep": {**TINY["sweep"], "seeds": 1}}
    assert run_sweep(sweep_from_dict(one_run), out, progress=False).complete


SEEN = {}


def recording_minds(cache, seed, **options):
    """A minds factory as an LLM sweep would name it in [llm] minds; None = the rule minds."""
    SEEN.update(cache=cache, seed=seed, env=os.environ.get("AGENTOPIA_LLM_CACHE"), **options)
    return None


def test_every_run_gets_the_shared_llm_cache_and_the_minds_factory(tmp_path):
    data = {**TINY, "grid": {}, "sweep": {**TINY["sweep"], "seeds": 1},
            "llm": {"cache": "shared.sqlite", "minds": f"{__name__}:recording_minds", "options": {"model": "gemma3:270m"}}}
    out = tmp_path / "sweep"
    assert run_sweep(sweep_from_dict(data), out, progress=False).complete
    assert SEEN["cache"] == out.resolve() / "shared.sqlite" and SEEN["env"] == str(SEEN["cache"])
    assert SEEN["model"] == "gemma3:270m" and SEEN["seed"] == derive_seeds(3, 1)[0]


def minds_that_break_replicate_one(cache, seed, **options):
    if seed == derive_seeds(3, 2)[1]:
        raise RuntimeError("this mind cannot start")
    return None


def test_a_failing_run_is_reported_and_the_others_finish(tmp_path, capsys):
    data = {**TINY, "grid": {}, "llm": {"minds": f"{__name__}:minds_that_break_replicate_one"}}
    config = write_config(tmp_path, data)
    out = tmp_path / "sweep"
    assert standalone_main(add_sweep_parser, "sweep", [str(config), "--out", str(out), "--quiet"]) == 1
    captured = capsys.readouterr()
    printed = captured.out
    assert "RuntimeError: this mind cannot start" in printed and "run the same command again" in printed
    err = captured.err.strip().splitlines()  # under --quiet too, the failure is one line on stderr (issue #32)
    assert len(err) == 1 and err[0].startswith("agentopia: sweep tiny: 1 of 2 runs not finished") and "cannot start" in err[0]
    index = pd.read_csv(out / "index.csv").set_index("replicate")
    assert list(index["status"]) == ["done", "failed"] and "cannot start" in index.loc[1, "error"]


# -- Ray -------------------------------------------------------------------------------------------
def test_ray_gives_the_same_results_as_local_processes(tmp_path):
    require_modules("ray", hint="pip install 'agentopia-mesa[ray]'")
    spec = sweep_from_dict({**TINY, "grid": {"needs__decay": [0.2]}})
    local = run_sweep(spec, tmp_path / "processes", executor="processes", workers=2, progress=False)
    ray = run_sweep(spec, tmp_path / "ray", executor="ray", workers=2, progress=False)
    assert local.complete and ray.complete and local.finished == ray.finished == 2
    for run in spec.plan():
        for name in ("metrics.csv", "rewards.csv", "residents.csv", "ties.csv", "measures.csv"):
            a = (tmp_path / "processes" / run.dir / name).read_bytes()
            b = (tmp_path / "ray" / run.dir / name).read_bytes()
            assert a == b, f"{run.id}/{name} differs between processes and Ray"


def test_a_sweep_run_is_a_run_directory_like_any_other(tmp_path):
    """Resume, branch, replay in the viewer and datasets work on a sweep's runs (issue 11)."""
    from agentopia_mesa.cli.main import main
    from agentopia_mesa.datasets.sft import export_sft
    from agentopia_mesa.run.checkpoints import list_checkpoints
    from agentopia_mesa.run.layout import RunLayout
    from agentopia_mesa.run.replay import load_replay
    from visualization.sources import ReplayTown

    config = {"sweep": {"name": "llm", "world": "school", "years": 2, "residents": 6, "seeds": 1, "seed": 5},
              "fixed": {"calendar__weeks_per_year": 2, "calendar__days_per_week": 2, "calendar__contact_rounds": 1},
              "llm": {"mix": "fake=0.5"}}
    out = tmp_path / "sweep"
    assert run_sweep(sweep_from_dict(config), out, progress=False).complete
    (entry,) = json.loads((out / "sweep.json").read_text())["runs"]
    run = RunLayout(out / entry["dir"])
    assert run.replay.is_file() and run.decisions.is_file() and list_checkpoints(run.root)
    metrics = run.metrics.read_bytes()

    # the viewer opens it
    replay = load_replay(run.root)
    assert replay.weeks == list(range(5)) and replay.world.name == "school"
    assert ReplayTown.open(run.root).frame(4)["week"] == 4

    # datasets read the sweep (its runs' decisions and rewards), ranking the LLM-minded half: whether a
    # rule-minded resident tops a year would otherwise decide whether there is anything to export
    stats = export_sft([out], tmp_path / "sft.jsonl", models=["fake:schema-example"])
    assert stats.samples > 0 and len(stats.runs) == 1

    # a run killed after week 2 resumes to the same results
    for path in list_checkpoints(run.root)[1:]:
        path.unlink()
    for name in ("summary.txt", "metrics.csv", "done.json"):
        (run.root / name).unlink()
    assert main(["resume", str(run.root), "--quiet"]) == 0
    assert run.metrics.read_bytes() == metrics

    # and branches like any run
    assert main(["branch", str(run.root), "--week", "2", "--out", str(tmp_path / "branch"), "--quiet"]) == 0
    assert RunLayout(tmp_path / "branch").metrics.read_bytes() == metrics


# -- the command line: --dry-run, --analyze, --ray-address ------------------------------------------
def test_cli_dry_run_lists_the_plan_runs_nothing_and_analyze_writes_the_report(tmp_path, capsys):
    from agentopia_mesa.cli.main import main

    data = {**TINY, "sweep": {**TINY["sweep"], "seeds": 1}}
    config, out = write_config(tmp_path, data), tmp_path / "sweep"
    plan = sweep_from_dict(data).plan()
    # --ray-address is accepted with the plan it would run on a cluster; nothing starts
    assert main(["sweep", str(config), "--out", str(out), "--dry-run", "--executor", "ray", "--ray-address", "auto"]) == 0
    printed = capsys.readouterr().out
    assert f"sweep tiny: 2 runs (2 parameter sets x 1 seeds), 0 already done; executor ray, 1 worker(s); directory {out}" in printed
    for run in plan:
        assert (f"  {run.id}  to run  seed {run.seed:>10d}  world=apartment years=1 residents=6 "
                f"needs__decay={run.params['needs__decay']}") in printed
    assert not out.exists()

    assert main(["sweep", str(config), "--out", str(out), "--executor", "sequential", "--analyze", "--quiet"]) == 0
    printed = capsys.readouterr().out
    report = out / "analysis" / "report.html"
    assert f"report: {report}" in printed and "finished 2 now, 0 before" in printed
    assert report.stat().st_size > 1000 and "needs__decay" in (out / "analysis" / "report.md").read_text()
    assert all((out / run.dir / "done.json").is_file() for run in plan)

    assert main(["sweep", str(config), "--out", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "2 already done" in printed and all(f"  {run.id}  done  " in printed for run in plan)


# -- an LLM mix's calls in flight per run (a server with many slots, several runs side by side) -----
def test_a_mixs_calls_in_flight_reach_every_run(tmp_path):
    from agentopia_mesa.sweeps.runner import task_for
    from agentopia_mesa.sweeps.worker import settings_for

    spec = sweep_from_dict({**TINY, "llm": {"mix": "fake=0.5", "max_concurrency": 64}})
    tasks = [task_for(spec, tmp_path, run) for run in spec.plan()]
    assert len(tasks) == 4 and {settings_for(t).llm.max_concurrency for t in tasks} == {64}
    default = sweep_from_dict({**TINY, "llm": {"mix": "fake=0.5"}})
    assert settings_for(task_for(default, tmp_path, default.plan()[0])).llm.max_concurrency == 8


@pytest.mark.parametrize("llm, says", [({"mix": "fake=1", "max_concurrency": 0}, "at least 1"),
                                       ({"mix": "fake=1", "max_concurrency": 2000}, "at most 1024"),
                                       ({"max_concurrency": 16}, "only with llm.mix")])
def test_bad_calls_in_flight_are_refused_naming_the_field(llm, says):
    with pytest.raises(SweepConfigError, match=f"llm.max_concurrency: .*{says}"):
        sweep_from_dict({**TINY, "llm": llm})
