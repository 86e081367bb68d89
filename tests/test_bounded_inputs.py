"""Bounded before busy, and files from outside read with caps (issue #32): counts and numbers are
checked with ranges before any work, a sweep file is a regular file of bounded size and nesting,
its LLM cache stays inside the sweep, and a configuration the economy cannot live with is one line.
Each case failed on main (a traceback, a hang, a run folder left behind, or a file made elsewhere)."""

import json
import os

import pytest

from agentopia_mesa.sweeps import SweepConfigError, load_sweep, sweep_from_dict
from tests.test_hardening import SMALL, one_line_error

TINY = {"sweep": {"name": "tiny", "world": "apartment", "years": 1, "residents": 6, "seeds": 2, "seed": 3}}


@pytest.mark.parametrize(("item", "field"), [
    ("economy__living_standards=[]", "economy.living_standards"),
    ("economy__extra_work_tiers=[]", "economy.extra_work_tiers"),
    ('economy__living_standards=[["a",100,0],["a",200,0]]', "economy.living_standards"),
])
def test_an_economy_without_its_lists_is_one_line_and_leaves_no_run_dir(tmp_path, capsys, item, field):
    out = tmp_path / "run"
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(out), "--set", item)
    assert field in line and not out.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"sweep": {**TINY["sweep"], "seeds": 10**12}}, "sweep.seeds"),
    ({"sweep": {**TINY["sweep"], "seeds": list(range(200_000))}}, "sweep.seeds"),
    ({"sweep": {**TINY["sweep"], "seed": 2**70}}, "sweep.seed"),
    ({"sweep": {**TINY["sweep"], "workers": 10**9}}, "sweep.workers"),
    ({"grid": {f"needs__decay": [0.1 + i / 1e6 for i in range(400)],
               "social__weekly_fade": [0.01 + i / 1e6 for i in range(400)]}}, "more than 100,000 runs"),
    ({"llm": {"cache": "../../../x.sqlite", "mix": "fake=1"}}, "llm.cache"),
    ({"llm": {"cache": "/tmp/x.sqlite", "mix": "fake=1"}}, "llm.cache"),
])
def test_absurd_sweeps_are_refused_before_any_work(change, field):
    with pytest.raises(SweepConfigError, match=field.replace(".", r"\.")):
        sweep_from_dict({**TINY, **change})


def test_a_sweep_file_nested_too_deeply_or_not_a_file_is_one_line(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SweepConfigError, match="nested more than"):
        load_sweep(deep)
    deep_toml = tmp_path / "deep.toml"
    deep_toml.write_text("a = " + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(SweepConfigError, match="nested more than|not valid TOML"):
        load_sweep(deep_toml)
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(SweepConfigError, match="dir.json: is a directory"):
        load_sweep(tmp_path / "dir.json")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(SweepConfigError, match="FIFO"):  # on main: open() blocked for ever
        load_sweep(fifo)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"sweep": {"name": "\xff\xfe"}}')
    with pytest.raises(SweepConfigError, match=r"binary.json:1: not UTF-8"):
        load_sweep(binary)
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([TINY]))
    with pytest.raises(SweepConfigError, match="must hold a JSON object"):
        load_sweep(listed)
