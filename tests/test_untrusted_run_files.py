"""Readers do not trust what they read (issue #32): a run directory's ``config.json`` that is a list
or has a wrong-typed field, a ``rewards.csv`` with other columns, a line of ``decisions.jsonl`` that
is not an object or holds binary bytes, and ``--assign`` files nested deeply, binary, a directory or
a FIFO are one line naming the file (and line or key), exit 2. On main: tracebacks (``TypeError``,
``KeyError``, ``RecursionError``, ``IsADirectoryError``), a bare "'utf-8' codec can't decode", or a hang."""

import json
import os
from pathlib import Path

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.run.replay import ReplayError, load_replay
from tests.test_datasets import hand_made_run
from tests.test_hardening import SMALL, _copy, finished, one_line_error  # noqa: F401 (a fixture)


@pytest.mark.parametrize(("content", "says"), [
    ("[1, 2, 3]", "must hold a JSON object"),
    ('{"world": "school", "years": "ten"}', "years must be"),
    ('{"world": "school", "config": {"calendar": {"start_year": "soon"}}}', "config.calendar.start_year"),
    ("[" * 50_000 + "]" * 50_000, "nested more than"),
])
def test_analyze_names_a_bad_config_json(tmp_path, capsys, finished, content, says):
    run = _copy(finished, tmp_path / "run")
    (run / "config.json").write_text(content)
    line = one_line_error(capsys, "analyze", str(run))
    assert "config.json" in line and says in line


def test_a_rewards_table_with_other_columns_is_named(tmp_path, capsys, finished):
    run = _copy(finished, tmp_path / "run")
    (run / "rewards.csv").write_text("who,score\nA,1\n")
    line = one_line_error(capsys, "analyze", str(run))
    assert "rewards.csv" in line and "no column" in line


def test_words_where_numbers_belong_are_named_with_their_line(tmp_path, capsys, finished):
    run = _copy(finished, tmp_path / "run")
    lines = (run / "rewards.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")
    row[header.index("total")] = "lots"
    lines[2] = ",".join(row)
    (run / "rewards.csv").write_text("\n".join(lines) + "\n")
    line = one_line_error(capsys, "analyze", str(run))
    assert "rewards.csv:3: column total must hold numbers" in line


@pytest.mark.parametrize(("bad", "says"), [(b"[1, 2]", ":2: must hold a JSON object"),
                                           (b'{"resident": "\xff\xfe"}', ":2: not UTF-8")])
def test_a_bad_decisions_line_is_named_by_dataset_sft(tmp_path, capsys, bad, says):
    run = hand_made_run(tmp_path / "run")
    lines = (run / "decisions.jsonl").read_bytes().splitlines(keepends=True)
    lines[1] = bad + b"\n"
    (run / "decisions.jsonl").write_bytes(b"".join(lines))
    line = one_line_error(capsys, "dataset", "sft", str(run), "--out", str(tmp_path / "sft.jsonl"))
    assert "decisions.jsonl" in line and says in line


def test_the_viewer_names_a_replay_line_that_is_not_a_frame(tmp_path, finished):
    run = _copy(finished, tmp_path / "run")
    lines = (run / "replay.jsonl").read_text().splitlines(keepends=True)
    lines[1] = '"just a string"\n'
    (run / "replay.jsonl").write_text("".join(lines))
    with pytest.raises(ReplayError, match=r"replay.jsonl:2: must hold a JSON object"):
        load_replay(run)


def _assign(tmp_path, kind):
    path = tmp_path / "assign.json"
    if kind == "deep":
        path.write_text("{\"a\": " * 50_000 + "1" + "}" * 50_000)
    elif kind == "binary":
        path.write_bytes(b'{"Ana": "\xff"}')
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        return "/dev/zero"
    return str(path)


@pytest.mark.parametrize(("kind", "says"), [("deep", "nested more than"), ("binary", "not UTF-8"),
                                            ("directory", "is a directory"), ("fifo", "FIFO"), ("device", "a device")])
def test_a_hostile_assign_file_is_one_line(tmp_path, capsys, kind, says):
    out = tmp_path / "run"
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(out), "--mind", "llm", "--llm", "fake",
                          "--assign", _assign(tmp_path, kind))
    assert "--assign" in line and says in line and not out.exists()


# -- role-play evaluation: a CoSER file is untrusted input -----------------------------------------

def _coser_file(tmp_path, **changes):
    from tests.test_eval_roleplay import _coser_item

    path = tmp_path / "coser.json"
    path.write_text(json.dumps([{**_coser_item("B", 1, ["X", "Y"]), **changes}]))
    return path


@pytest.mark.parametrize(("changes", "says"), [
    ({"book": "=HYPERLINK(\"http://x\")"}, "'book': must not start with"),
    ({"book": "Tales;=1+1"}, "'book': must not have"),
    ({"i_c": "=cmd"}, "'i_c' must be a whole number"),
])
def test_a_coser_file_cannot_put_a_formula_into_scores_csv(tmp_path, changes, says):
    from agentopia_mesa.evaluation.coser import CoserError, read_coser

    with pytest.raises(CoserError, match=says):
        read_coser(_coser_file(tmp_path, **changes))


@pytest.mark.parametrize(("kind", "says"), [("deep", "nested more than"), ("directory", "is a directory"),
                                            ("fifo", "FIFO"), ("device", "a device")])
def test_a_hostile_coser_path_is_one_line(tmp_path, kind, says):
    from agentopia_mesa.evaluation.coser import CoserError, read_coser

    path = _assign(tmp_path, kind)
    if kind == "deep":
        (tmp_path / "assign.json").write_text("[" * 50_000 + "]" * 50_000)
    with pytest.raises(CoserError, match=says):
        read_coser(path)


def test_a_resident_name_with_a_formula_after_a_separator_is_refused():
    from pydantic import TypeAdapter, ValidationError

    from agentopia_mesa.world.schema import PersonName

    for name in ("Ann;=1+1", "Bo, @SUM(A1)", "Cy;  -2"):
        with pytest.raises(ValidationError, match="after ; or ,"):
            TypeAdapter(PersonName).validate_python(name)
    assert TypeAdapter(PersonName).validate_python("Jean-Luc O'Neil, Jr.") == "Jean-Luc O'Neil, Jr."


# -- training data: an SFT file is untrusted input --------------------------------------------------

@pytest.mark.parametrize(("kind", "says"), [("deep", "nested more than"), ("binary", "not UTF-8"),
                                            ("directory", "is a directory"), ("fifo", "FIFO")])
def test_a_hostile_sft_file_for_train_is_one_line(tmp_path, kind, says):
    from agentopia_mesa.training.samples import read_training_rows

    path = _assign(tmp_path, kind)
    if kind == "deep":
        (tmp_path / "assign.json").write_text('{"messages": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
    with pytest.raises(ValueError, match=says):
        read_training_rows(Path(path))
