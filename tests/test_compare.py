"""``agentopia compare``: per-model means with cluster-bootstrap intervals, on hand-made and real runs."""

import json

import numpy as np
import pandas as pd
import pytest

from agentopia_mesa.analysis.compare import compare, load_rewards, markdown, write_comparison
from tests.test_datasets import cli
from tests.test_trajectories import recorded_run


def fake_run(path, rows, with_model=True):
    """A run directory with only what compare reads: config.json and rewards.csv."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"seed": 0, "config_digest": "abc", "years": 2}))
    frame = pd.DataFrame(rows, columns=["year", "name", "model", "total", "liked_by", "respected_by", "advantage"])
    if not with_model:
        frame = frame.drop(columns="model")
    frame.to_csv(path / "rewards.csv", index=False)
    return path


def two_model_rows(offset=0.0):
    rows = []
    for year in (2020, 2021):
        for i in range(6):
            rows.append((year, f"base{i}", "ollama:base", -0.5 + 0.1 * i + offset, 2 + i % 2, 3, 0.0))
            rows.append((year, f"ft{i}", "ollama:agentopia-ft", 0.5 + 0.1 * i + offset, 4 + i % 2, 5, 0.0))
    return rows


def test_means_intervals_and_difference_on_a_hand_made_table(tmp_path):
    runs = [fake_run(tmp_path / "a", two_model_rows()), fake_run(tmp_path / "b", two_model_rows(offset=0.1))]
    rewards = load_rewards(runs)
    assert len(rewards) == 48 and set(rewards["run"]) == {"a", "b"}
    result = compare(rewards, ("agentopia-ft", "base"))
    table = result.summary.set_index(["model", "measure"])
    ft = table.loc[("ollama:agentopia-ft", "life reward")]
    assert ft["mean"] == pytest.approx(np.mean([0.5 + 0.1 * i for i in range(6)]) + 0.05)
    assert ft["ci_low"] < ft["mean"] < ft["ci_high"]
    assert (ft["residents"], ft["resident_years"], ft["runs"]) == (12, 24, 2)
    assert table.loc[("ollama:base", "liked by"), "mean"] == pytest.approx(2.5)
    # A resident's years move together, so the interval is over 12 residents, not 24 resident-years.
    assert table.loc[("ollama:base", "respected by"), "ci_low"] == table.loc[("ollama:base", "respected by"), "ci_high"] == 3
    diff = result.difference.set_index("measure")
    assert diff.loc["life reward", "difference"] == pytest.approx(1.0)
    assert diff.loc["liked by", "relative"] == pytest.approx(2 / 2.5)  # +80 % more peers like them
    assert 0 < diff.loc["life reward", "ci_low"] <= 1.0 <= diff.loc["life reward", "ci_high"]
    text = markdown(result)
    assert "Difference `ollama:agentopia-ft` - `ollama:base`" in text and "+80.0%" in text


def test_runs_without_a_model_column_are_rules_and_pair_defaults_to_llm_minus_rules(tmp_path):
    rules = fake_run(tmp_path / "rules", [(2020, f"r{i}", "x", float(i), i, i, 0.0) for i in range(4)], with_model=False)
    llm = fake_run(tmp_path / "llm", [(2020, f"l{i}", "fake:schema-example", float(i) + 1, i, i, 0.0) for i in range(4)])
    result = compare(load_rewards([rules, llm]))
    assert set(result.summary["model"]) == {"rules", "fake:schema-example"}
    assert result.pair == ("fake:schema-example", "rules")
    assert result.difference.set_index("measure").loc["life reward", "difference"] == pytest.approx(1.0)


def test_bad_input_says_what_is_wrong(tmp_path):
    run = fake_run(tmp_path / "a", two_model_rows())
    with pytest.raises(ValueError, match="--diff: 'nothing' matches 0"):
        compare(load_rewards([run]), ("nothing", "base"))
    with pytest.raises(ValueError, match="not a run directory"):
        load_rewards([tmp_path / "missing"])


def test_cli_writes_markdown_csv_and_png_for_a_real_mixed_society(tmp_path, capsys):
    run = tmp_path / "mixed"
    recorded_run(run, mix="fake=0.5", residents=8, years=2)
    assert cli(["compare", str(run), "--out", str(tmp_path / "cmp")]) == 0
    printed = capsys.readouterr().out
    assert "| fake:schema-example | life reward |" in printed and "| rules | respected by |" in printed
    assert "Difference `fake:schema-example` - `rules`" in printed
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 10_000
    summary = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert set(summary["resident_years"]) == {8}  # 4 residents x 2 years per model
    write_comparison([run], tmp_path / "again")
    assert (tmp_path / "again" / "compare.md").read_text().startswith("# Minds compared")
