"""Exits as documented, --quiet or not (issue #32): a command that cannot write its output because
the disk is full exits 75 with one line; one that cannot read or write a file for another reason is
one line and exit 2, never a traceback. On main both were tracebacks (exit 1)."""

import errno
import os

from agentopia_mesa.cli.main import main
from agentopia_mesa.datasets import sft
from tests.test_hardening import finished  # noqa: F401 (a fixture)


def test_a_full_disk_while_writing_a_dataset_is_exit_75_and_one_line(tmp_path, capsys, monkeypatch, finished):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "sft.jsonl.tmp"))

    monkeypatch.setattr(sft, "replacing", full)
    assert main(["dataset", "sft", str(finished), "--out", str(tmp_path / "sft.jsonl")]) == 75
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("agentopia: disk full") and "sft.jsonl.tmp" in err[0]


def test_an_output_under_a_file_is_one_line(tmp_path, capsys, finished):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    code = main(["dataset", "sft", str(finished), "--out", str(tmp_path / "notes.txt" / "sft.jsonl")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("agentopia: error: ") and "notes.txt" in err[0], err
