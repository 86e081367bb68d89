"""The checkpoint key file is read as what it must be (issue #32): a FIFO or a device as
``$AGENTOPIA_SECRET_FILE`` is refused at once (on main: a hang), and a key that is too short says
so (on main: "no readable checkpoint", as if every checkpoint were damaged). A checkpoint in the run
directory that is a FIFO is skipped, never read (on main: a hang)."""

import os

import pytest

from tests.test_hardening import _unfinished, cli, finished  # noqa: F401 (a fixture)


@pytest.mark.parametrize(("kind", "says"), [("fifo", "FIFO"), ("short", "too short"), ("directory", "is a directory")])
def test_a_bad_key_file_is_named_not_taken_for_damaged_checkpoints(tmp_path, capsys, monkeypatch, finished, kind, says):
    run = _unfinished(finished, tmp_path)
    key = tmp_path / "key"
    if kind == "fifo":
        os.mkfifo(key)
    elif kind == "short":
        key.write_text("abc\n")
    else:
        key.mkdir()
    monkeypatch.setenv("AGENTOPIA_SECRET_FILE", str(key))
    code, err = cli(capsys, "resume", str(run), "--quiet")
    errors = [line for line in err if line.startswith("agentopia: error: ")]
    assert code == 2 and len(errors) == 1 and says in errors[0] and str(key) in errors[0], err
    assert "no readable checkpoint" not in errors[0]


def test_a_checkpoint_that_is_a_fifo_is_skipped(tmp_path, capsys, finished):
    run = _unfinished(finished, tmp_path)
    os.mkfifo(run / "checkpoints" / "week-00003.ckpt")  # newer than the real one, week 2
    with pytest.warns(UserWarning, match="FIFO"):
        code, err = cli(capsys, "resume", str(run), "--quiet")
    assert code == 0, err
