"""``--overwrite`` deletes only what a run wrote (issue #32): a ``config.json`` written by hand (with
a ``"world"`` key) is not a run's, and a run directory holding one file of the user's, at the top or
in ``analysis/``, is left whole. On main both were deleted."""

import json

import pytest

from agentopia_mesa.cli.main import main
from tests.test_hardening import SMALL, _copy, finished, one_line_error  # noqa: F401 (a fixture)

OVERWRITE = ["run", *SMALL, "--years", "1", "--overwrite", "--out"]


def test_a_hand_written_config_with_a_world_key_is_not_a_run(tmp_path, capsys):
    mine = tmp_path / "paper"
    mine.mkdir()
    (mine / "config.json").write_text(json.dumps({"world": "school", "notes": "my settings"}))
    (mine / "metrics.csv").write_text("week,mood\n1,3\n")
    line = one_line_error(capsys, *OVERWRITE, str(mine))
    assert "not a run directory" in line
    assert sorted(p.name for p in mine.iterdir()) == ["config.json", "metrics.csv"]


@pytest.mark.parametrize("foreign", ["notes.csv", "analysis/paper.tex", "analysis/notes.csv", "checkpoints/mine.ckpt"])
def test_one_file_of_the_users_keeps_the_whole_run(tmp_path, capsys, finished, foreign):
    run = _copy(finished, tmp_path / "run")
    (run / foreign).parent.mkdir(exist_ok=True)
    (run / foreign).write_text("mine")
    before = sorted(p.relative_to(run).as_posix() for p in run.rglob("*"))
    line = one_line_error(capsys, *OVERWRITE, str(run))
    assert foreign.split("/")[-1] in line
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*")) == before


def test_a_run_with_its_analysis_is_still_replaced(tmp_path, capsys, finished):
    run = _copy(finished, tmp_path / "run")
    assert main(["analyze", str(run)]) == 0
    assert main([*OVERWRITE, str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["years"] == 1 and not (run / "analysis").exists()
