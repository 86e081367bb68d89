"""One definition of a town's settings (issue 28, item 1): every option of ``agentopia run`` that
shapes a town is a key a sweep file can give, and a sweep's ``[society]`` makes the town the
command makes from the same options."""

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from agentopia_mesa.cli.analyze import standalone_main
from agentopia_mesa.cli.main import RUN_ONLY, _parser, main
from agentopia_mesa.cli.sweep import add_sweep_parser
from agentopia_mesa.llm.settings import LLMSettings
from agentopia_mesa.run.builder import RunSettings
from agentopia_mesa.run.town_options import TOWN_OPTIONS, all_options, run_settings
from agentopia_mesa.sweeps import SweepConfigError, run_sweep, sweep_from_dict
from agentopia_mesa.sweeps.society import ELSEWHERE, society_keys

#: Options of ``agentopia run`` that say where and how it writes, not what town it makes: a
#: sweep decides them itself (each run's directory under the sweep's, no progress bar per run).
NOT_TOWN = {"out", "overwrite", "quiet"}

TOWN = {"world": "school", "years": 1, "residents": 4, "seeds": [7]}
FIXED = {"calendar__weeks_per_year": 1, "calendar__days_per_week": 2}
PAPER = {"mind": "llm", "llm": "fake", "profile": "paper"}


def run_parser() -> argparse.ArgumentParser:
    (commands,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices["run"]


def run_dests() -> set[str]:
    return {a.dest for a in run_parser()._actions if a.dest != "help"}


def test_every_option_of_run_that_shapes_a_town_is_a_sweep_key():
    """A new flag of ``agentopia run`` fails here until a sweep file can say it too (a [society]
    key, or its place elsewhere in the file), or it is listed above as not shaping the town."""
    assert set(RUN_ONLY) == NOT_TOWN
    expressible = set(society_keys()) | set(ELSEWHERE)
    missing = sorted(run_dests() - NOT_TOWN - expressible)
    assert not missing, f"agentopia run options a sweep file cannot express: {missing}"
    assert set(society_keys()).isdisjoint(ELSEWHERE) and set(ELSEWHERE) <= set(TOWN_OPTIONS)
    # ... and no option is defined without a flag, except settings fields, which are keys by name
    fields = {f.name for f in dataclasses.fields(LLMSettings)} | {f.name for f in dataclasses.fields(RunSettings)}
    assert set(all_options()) - run_dests() <= fields


def test_settings_fields_reach_sweeps_by_name(monkeypatch):
    """A field added to LLMSettings or RunSettings is a [society] key without an edit (derived from
    the dataclasses)."""
    decided = {"mix", "assign", "env", "env_llm", "ratings", "cache", "cache_mode", "temperature",
               "max_concurrency", "timeout_s"}
    for field in dataclasses.fields(LLMSettings):
        assert field.name in decided or field.name in society_keys(), field.name
    spec = sweep_from_dict({"sweep": TOWN, "fixed": FIXED, "society": {**PAPER, "max_tokens": 300, "retries": 0}})
    from agentopia_mesa.sweeps.runner import task_for
    from agentopia_mesa.sweeps.worker import settings_for

    llm = settings_for(task_for(spec, Path("/tmp"), spec.plan()[0])).llm
    assert (llm.max_tokens, llm.retries, llm.env) == (300, 0, "llm")

    @dataclasses.dataclass
    class Later(RunSettings):  # as if RunSettings had a new field
        later: int = 1

    monkeypatch.setattr("agentopia_mesa.run.builder.RunSettings", Later)
    assert "later" in society_keys()
    spec = sweep_from_dict({"sweep": TOWN, "society": {"later": 5}})
    assert settings_for(task_for(spec, Path("/tmp"), spec.plan()[0])).later == 5
    with pytest.raises(SweepConfigError, match=r"society.later: a whole number, got 'five'"):
        sweep_from_dict({"sweep": TOWN, "society": {"later": "five"}})


def test_the_commands_defaults_are_the_options_defaults():
    args = run_parser().parse_args([])
    for key, option in TOWN_OPTIONS.items():
        if key != "set":  # --set is a list of SECTION__FIELD=VALUE, the option the table it parses to
            assert getattr(args, key) == option.default, key
        assert option.flag in run_parser()._option_string_actions, key


def test_a_sweep_runs_paper_profile_towns_judged_by_the_llm_environment(tmp_path):
    """Done means: a sweep file runs paper-profile towns with the LLM environment on the fake backend."""
    config = tmp_path / "paper.toml"
    config.write_text('[sweep]\nname = "paper"\nworld = "school"\nyears = 1\nresidents = 4\nseeds = 1\n'
                      '[fixed]\ncalendar__weeks_per_year = 1\ncalendar__days_per_week = 2\n'
                      '[society]\nmind = "llm"\nllm = "fake"\nprofile = "paper"\n')
    out = tmp_path / "sweep"
    assert standalone_main(add_sweep_parser, "sweep", [str(config), "--out", str(out), "--quiet"]) == 0
    (run,) = [p for p in (out / "runs").iterdir()]
    lines = [json.loads(line) for line in (run / "decisions.jsonl").read_text().splitlines()]
    judged = [line for line in lines if line.get("role") == "environment"]
    assert judged and {line["stage"] for line in judged} >= {"ratings", "profile"}  # the environment rates, as the paper
    meta = json.loads((run / "config.json").read_text())
    assert meta["profile"] == "paper" and meta["llm"]["env"] == "llm"
    assert meta["llm"]["cache"] == str(out.resolve() / "llm-cache.sqlite")  # the sweep's shared cache
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["society"] == PAPER


def test_a_society_sweep_town_is_the_town_agentopia_run_makes(tmp_path):
    society = {**PAPER, "profile": "lean", "env": "llm", "ratings": "self", "temperature": 0.5}
    out = tmp_path / "sweep"
    assert run_sweep(sweep_from_dict({"sweep": TOWN, "fixed": FIXED, "society": society}), out, progress=False).complete
    (swept,) = [p for p in (out / "runs").iterdir()]
    alone = tmp_path / "alone"
    assert main(["run", "--world", "school", "--years", "1", "--residents", "4", "--seed", "7", "--weeks-per-year", "1",
                 "--set", "calendar__days_per_week=2", "--mind", "llm", "--llm", "fake", "--profile", "lean",
                 "--env", "llm", "--ratings", "self", "--temperature", "0.5", "--out", str(alone), "--quiet"]) == 0
    for name in ("metrics.csv", "rewards.csv", "residents.csv", "replay.jsonl", "dialogues.jsonl"):
        assert (swept / name).read_bytes() == (alone / name).read_bytes(), name
    a, b = (json.loads((d / "config.json").read_text()) for d in (swept, alone))
    assert a["overrides"] == b["overrides"] and a["profile"] == b["profile"] == "lean"
    assert {k: v for k, v in a["llm"].items() if k != "cache"} == {k: v for k, v in b["llm"].items() if k != "cache"}


def test_run_settings_by_the_commands_rules():
    lean = run_settings({"mind": "llm", "llm": "fake", "set": {"activity__max_turns": 9}})
    assert lean.profile == "lean" and lean.llm.env == "rules"
    assert lean.overrides["activity__max_turns"] == 9 and lean.overrides["memory__notes"] == "json"  # set over profile
    paper = run_settings({"mind": "llm", "llm": "fake", "profile": "paper"})
    assert paper.llm.env == "llm" and paper.llm.ratings_by == "environment" and paper.overrides == {}
    assert run_settings({"keep_checkpoints": "all"}).keep_checkpoints == 0 == run_settings({"keep_checkpoints": 0}).keep_checkpoints
    rules = run_settings({"years": 2, "weeks_per_year": 3})
    assert rules.profile is None and not rules.uses_llm and rules.overrides == {"calendar__weeks_per_year": 3}
    with pytest.raises(ValueError, match="nonsense: not an option of a town"):
        run_settings({"nonsense": 1})


def test_a_society_changes_run_ids_and_a_sweep_without_one_keeps_them():
    plain = sweep_from_dict({"sweep": TOWN, "fixed": FIXED}).plan()
    social = sweep_from_dict({"sweep": TOWN, "fixed": FIXED, "society": PAPER}).plan()
    assert [r.params for r in plain] == [r.params for r in social] and {r.id for r in plain}.isdisjoint(r.id for r in social)


@pytest.mark.parametrize(("society", "says"), [
    ({"envv": "llm"}, "society.envv: unknown setting; use "),
    ({"env": "judge"}, "society.env: must be one of rules, llm, got 'judge'"),
    ({**PAPER, "temperature": "hot"}, "society.temperature: a number, got 'hot'"),
    ({**PAPER, "temperature": 99}, "society.temperature: must be a number in [0, 10]"),
    ({**PAPER, "max_tokens": 0}, "society.max_tokens: must be a whole number in [1, 1000000]"),
    ({**PAPER, "check": "yes"}, "society.check: true or false, got 'yes'"),
    ({"world": "school"}, "society.world: give it in [sweep] world, [grid] or [[points]]"),
    ({"set": {"needs__decay": 0.2}}, "society.set: give it in [fixed], [grid] or [[points]]"),
    ({"llm": "fake"}, "society.llm fake: only with --mind llm"),
    ({"profile": "paper"}, "society.profile paper: the environment is an LLM"),
    ({"env": "rules", "env_llm": "fake"}, "society.env_llm: only with --env llm"),
    ({"mind": "llm", "mix": "fake=2"}, "society.mix: fraction 2.0 for 'fake' must be in (0, 1]"),
    ({"mind": "llm", "assign": "nowhere.json"}, "society.assign: no file"),
    ({"keep_checkpoints": -1}, "society.keep_checkpoints: a number of newest checkpoints"),
    ({"keep_checkpoints": "some"}, "society.keep_checkpoints: a number of newest checkpoints"),
])
def test_bad_society_keys_and_values_name_the_key(society, says):
    with pytest.raises(SweepConfigError) as exc:
        sweep_from_dict({"sweep": TOWN, "fixed": FIXED, "society": society})
    assert str(exc.value).startswith(says), str(exc.value)


def test_a_society_and_an_llm_mix_are_not_given_together():
    with pytest.raises(SweepConfigError, match=r"llm.mix: with society options \(\[society\], or its keys as parameters\) give the residents' minds"):
        sweep_from_dict({"sweep": TOWN, "llm": {"mix": "fake=1"}, "society": {"env": "llm", "env_llm": "fake"}})


def test_cli_bad_society_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('[sweep]\nyears = 1\n[society]\nenv = "judge"\n')
    assert main(["sweep", str(config), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("agentopia: error: society.env: must be one of rules, llm")
    assert not (tmp_path / "never").exists()


def test_assign_in_a_society_is_a_table_or_a_file_next_to_the_sweep_file(tmp_path):
    from agentopia_mesa.sweeps.runner import task_for
    from agentopia_mesa.sweeps.worker import settings_for
    from agentopia_mesa.world.loader import load_world, resize_world

    name = resize_world(load_world("school"), 4).residents[1].name
    (tmp_path / "minds.json").write_text(json.dumps({name: "fake"}))
    for assign in ({name: "fake"}, "minds.json"):
        spec = sweep_from_dict({"sweep": TOWN, "society": {"mind": "llm", "assign": assign}}, base_dir=tmp_path)
        assert settings_for(task_for(spec, tmp_path, spec.plan()[0])).llm.assign == {name: "fake"}


def test_the_gpu_recipes_sweeps_are_paper_towns_judged_by_an_llm_environment():
    from agentopia_mesa.sweeps import load_sweep
    from agentopia_mesa.sweeps.runner import task_for
    from agentopia_mesa.sweeps.worker import settings_for

    models = Path(__file__).resolve().parent.parent / "models"
    for name in ("live_base.toml", "mixed.toml"):
        spec = load_sweep(models / name)
        settings = settings_for(task_for(spec, Path("/tmp"), spec.plan()[0]))
        assert settings.profile == "paper" and settings.llm.env == "llm" and settings.llm.ratings_by == "environment", name
        assert settings.llm.env_spec.startswith("ollama:") and settings.llm.mix, name


def test_society_options_vary_from_run_to_run_as_parameters(tmp_path):
    """The study's comparisons in one sweep: the lean and the paper profile, side by side."""
    import pandas as pd

    data = {"sweep": {**TOWN, "seeds": [7]}, "fixed": FIXED, "society": {"mind": "llm", "llm": "fake"},
            "grid": {"profile": ["lean", "paper"]}}
    spec = sweep_from_dict(data)
    assert spec.swept == ["profile"] and spec.has_society
    out = tmp_path / "sweep"
    assert run_sweep(spec, out, progress=False).complete
    index = pd.read_csv(out / "index.csv").set_index("profile")
    for profile, env in (("lean", "rules"), ("paper", "llm")):
        run = out / "runs" / index.loc[profile, "run_id"]
        meta = json.loads((run / "config.json").read_text())
        assert (meta["profile"], meta["llm"].get("env", "rules")) == (profile, env)
        judged = any(json.loads(line).get("role") == "environment" for line in (run / "decisions.jsonl").open())
        assert judged == (env == "llm")
    # without a [society] table too: the parameters alone make the town from run's options
    alone = sweep_from_dict({"sweep": TOWN, "fixed": FIXED, "points": [{"mind": "llm", "llm": "fake", "profile": "paper"}]})
    assert alone.has_society and not alone.society


@pytest.mark.parametrize(("data", "says"), [
    ({"grid": {"env": ["judge"]}}, "grid.env: must be one of rules, llm, got 'judge'"),
    ({"society": {"env": "rules"}, "grid": {"env": ["llm"]}}, "society.env: also a run parameter"),
    ({"grid": {"env_llm": ["fake"]}}, "env_llm: only with --env llm"),
    ({"society": {"env_llm": "fake"}}, "society.env_llm: only with --env llm"),
    ({"points": [{"env": "llm", "env_llm": "fake"}], "llm": {"mix": "fake=1"}}, "llm.mix: with society options"),
])
def test_society_parameters_are_checked_like_the_table(data, says):
    with pytest.raises(SweepConfigError) as exc:
        sweep_from_dict({"sweep": TOWN, "fixed": FIXED, **data})
    assert str(exc.value).startswith(says), str(exc.value)


#: A value, other than the default, of every [society] key (LLMSettings fields added later are
#: keys too; they need an example here only to be part of the round trip below).
EXAMPLES = {"mind": "llm", "llm": "fake", "mix": "fake=0.5", "profile": "paper", "env": "llm", "env_llm": "fake:varied",
            "ratings": "self", "cache_mode": "record", "temperature": 0.3, "max_concurrency": 5, "llm_timeout": 30.0,
            "checkpoint_every": 2, "keep_checkpoints": 1, "tables": "parquet", "max_tokens": 99, "retries": 1,
            "check": False}


def test_every_society_key_makes_the_settings_its_flag_makes(tmp_path):
    """One definition: the RunSettings of a sweep run's [society] equal those of agentopia run's
    flags, key for key (assign as a JSON file for the command, a table for the sweep)."""
    from agentopia_mesa.cli.main import run_options
    from agentopia_mesa.sweeps.runner import task_for
    from agentopia_mesa.sweeps.worker import settings_for
    from agentopia_mesa.world.loader import load_world, resize_world

    name = resize_world(load_world("school"), 4).residents[2].name
    society = {**{k: v for k, v in EXAMPLES.items() if k in society_keys()}, "assign": {name: "fake:varied"}}
    spec = sweep_from_dict({"sweep": TOWN, "fixed": FIXED, "society": society})
    swept = settings_for(task_for(spec, tmp_path, spec.plan()[0]))
    (tmp_path / "minds.json").write_text(json.dumps({name: "fake:varied"}))
    flags = ["--world", "school", "--years", "1", "--residents", "4", "--seed", "7", "--weeks-per-year", "1",
             "--set", "calendar__days_per_week=2", "--assign", str(tmp_path / "minds.json")]
    generic = {}
    for key, value in society.items():
        if key == "assign":
            continue
        if key in run_dests():
            flags += [TOWN_OPTIONS[key].flag, str(value)]
        else:  # an LLMSettings field without a flag
            generic[key] = value
    alone = run_settings({**run_options(run_parser().parse_args(flags)), **generic})
    assert dataclasses.replace(swept, llm=dataclasses.replace(swept.llm, cache=None)) == alone
    for key, value in EXAMPLES.items():  # and every example reached the settings
        option = all_options()[key]
        if option.llm_field:
            assert getattr(alone.llm, option.llm_field) == value, key
    assert (alone.profile, alone.checkpoint_every, alone.keep_checkpoints, alone.tables) == ("paper", 2, 1, "parquet")
    assert (alone.llm.env, alone.llm.env_llm, alone.llm.ratings, alone.llm.assign) == ("llm", "fake:varied", "self",
                                                                                       {name: "fake:varied"})
