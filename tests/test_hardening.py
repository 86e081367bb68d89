"""Hardening (issue 16): every bad value is one line naming the field, opening a run directory
never runs code, a dripping LLM server cannot hold the process, resources are bounded, nothing
is silently lost, and no path from a file escapes where it belongs."""

import json
import math
import os
import pickle
import re
import socket
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
