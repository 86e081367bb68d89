"""A full disk in an LLM run (the response cache cannot grow: SQLite says "database or disk is full")
stops the run like a rules run's full disk: exit 75, one line, resumable (issue #32). On main it
ended with an SQLite traceback and exit 1."""

import sqlite3

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm.cache import ResponseCache
from agentopia_mesa.run.checkpoints import list_checkpoints

RUN = ["run", "--world", "school", "--residents", "4", "--years", "1", "--weeks-per-year", "3", "--seed", "2",
       "--mind", "llm", "--llm", "fake", "--checkpoint-every", "1", "--quiet"]


def test_a_full_disk_in_an_llm_run_is_exit_75_and_resumable(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    inserts = []
    real = ResponseCache._connection

    class Full:  # the cache's connection once the disk is full: every INSERT fails as SQLite says
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, params=()):
            if sql.lstrip().upper().startswith("INSERT"):
                inserts.append(1)
                if len(inserts) > 250:
                    raise sqlite3.OperationalError("database or disk is full")
            return self.conn.execute(sql, params)

    with monkeypatch.context() as patch:
        patch.setattr(ResponseCache, "_connection", lambda self: Full(real(self)))
        assert main([*RUN, "--out", str(out)]) == 75
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("agentopia: disk full") and f"agentopia resume {out}" in err[0], err
    assert list_checkpoints(out) and not (out / "summary.txt").exists()
    assert main(["resume", str(out), "--quiet"]) == 0  # space is back
    assert (out / "summary.txt").exists()
