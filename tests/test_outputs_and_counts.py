"""Outputs may not name an input of the same command, nor go through a link; counts and numbers of
``dataset`` are checked with ranges before any work (issue #32). On main ``dataset sft --out``
naming the run's own ``decisions.jsonl`` overwrote it (exit 0), a dangling symbolic link as
``--out`` was a traceback, and ``--samples 10**9`` or a NaN margin started the work."""

import pytest

from agentopia_mesa.cli.main import main
from tests.test_hardening import finished, one_line_error  # noqa: F401 (a fixture)


@pytest.mark.parametrize("name", ["decisions.jsonl", "replay.jsonl", "config.json", "sft.jsonl", "analysis/sft.jsonl"])
def test_a_dataset_may_not_be_written_over_or_into_its_input_run(capsys, finished, name):
    before = {p: p.read_bytes() for p in finished.rglob("*") if p.is_file()}
    line = one_line_error(capsys, "dataset", "sft", str(finished), "--out", str(finished / name))
    assert "--out" in line and "input of this command" in line
    assert {p: p.read_bytes() for p in finished.rglob("*") if p.is_file()} == before


def test_a_dangling_link_as_out_is_one_line(tmp_path, capsys, finished):
    link = tmp_path / "out.jsonl"
    link.symlink_to(tmp_path / "nowhere" / "x.jsonl")
    line = one_line_error(capsys, "dataset", "sft", str(finished), "--out", str(link))
    assert "symbolic link" in line and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(("flag", "value"), [
    ("--samples", "1000000000"), ("--samples", "1"), ("--prompts", "1000000000"), ("--prompts", "0"),
    ("--temperature", "nan"), ("--temperature", "inf"), ("--temperature", "0"), ("--min-margin", "nan"),
    ("--min-margin", "-1"), ("--horizon", "100000000"), ("--seed", "-3"), ("--week", "-1"),
])
def test_dpo_numbers_are_checked_before_any_work(tmp_path, capsys, finished, flag, value):
    out = tmp_path / "dpo.jsonl"
    line = one_line_error(capsys, "dataset", "dpo", str(finished), "--out", str(out), flag, value)
    assert flag in line and not out.exists() and not (tmp_path / "dpo.cache.sqlite").exists()


@pytest.mark.parametrize(("flag", "value"), [("--env-mix", "nan"), ("--years", "0"), ("--seed", "-1"), ("--top", "nan")])
def test_sft_numbers_are_checked_before_any_work(tmp_path, capsys, finished, flag, value):
    out = tmp_path / "sft.jsonl"
    line = one_line_error(capsys, "dataset", "sft", str(finished), "--out", str(out), flag, value)
    assert flag in line and not out.exists()


@pytest.mark.parametrize(("flag", "value"), [("--temperature", "nan"), ("--temperature", "-1"), ("--rounds", "100000000"),
                                             ("--scenes", "1000000000"), ("--llm-timeout", "nan"), ("--seed", "-1")])
def test_eval_numbers_are_checked_before_any_work(tmp_path, capsys, flag, value):
    out = tmp_path / "eval"
    line = one_line_error(capsys, "eval", "roleplay", "--model", "fake", "--judge", "fake", "--quiet", "--out", str(out),
                          flag, value)
    assert flag in line and not out.exists()


@pytest.mark.parametrize(("flag", "value"), [("--years", "1000000000"), ("--seed", str(10**23)),
                                             ("--checkpoint-every", str(10**21))])
def test_run_counts_are_checked_before_any_work(tmp_path, capsys, flag, value):
    from tests.test_hardening import SMALL

    out = tmp_path / "run"
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(out), flag, value)  # the last --years wins
    assert flag in line and not out.exists()


def test_a_sweep_with_absurd_years_or_a_nan_scale_is_refused():
    from agentopia_mesa.sweeps import SweepConfigError, sweep_from_dict

    for grid in ({"years": [10**9]}, {"living_cost_scale": [float("nan")]}):
        with pytest.raises(SweepConfigError, match=next(iter(grid))):
            sweep_from_dict({"sweep": {"name": "x", "world": "apartment", "residents": 4}, "grid": grid})


def test_eval_results_may_not_overwrite_the_coser_file(tmp_path, capsys):
    import json

    from tests.test_eval_roleplay import _coser_item

    out = tmp_path / "eval"
    out.mkdir()
    coser = out / "eval.json"  # the name of a result file
    coser.write_text(json.dumps([_coser_item("B", 1, ["X", "Y"])]))
    before = coser.read_bytes()
    line = one_line_error(capsys, "eval", "roleplay", "--model", "fake", "--judge", "fake", "--quiet", "--coser",
                          str(coser), "--out", str(out))
    assert "input of this command" in line and coser.read_bytes() == before


@pytest.mark.parametrize(("flag", "value"), [("--steps", "1000000000000"), ("--batch-size", "1000000000"),
                                             ("--max-length", "1000000000"), ("--lr", "inf"), ("--seed", "-1")])
def test_train_numbers_are_checked_before_any_work(tmp_path, capsys, flag, value):
    data = tmp_path / "sft.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]}\n')
    out = tmp_path / "ft"
    args = ["train", str(data), "--steps", "1", "--out", str(out), flag, value]
    line = one_line_error(capsys, *args)
    assert flag in line and not out.exists()


def test_train_may_not_write_over_its_data(tmp_path, capsys):
    data = tmp_path / "card.md"  # the name of a file train writes into --out
    data.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "{}"}]}\n')
    line = one_line_error(capsys, "train", str(data), "--steps", "1", "--out", str(tmp_path))
    assert "input of this command" in line
