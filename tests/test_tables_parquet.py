"""--tables parquet: the per-resident tables as Parquet (yearly snapshots one file each), read
back by RunReader as the same tables a CSV run has; the rest of the run directory unchanged."""

import pandas as pd
import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.run.reader import RunReader

RUN = ["run", "--world", "school", "--residents", "12", "--years", "2", "--weeks-per-year", "3", "--seed", "3", "--quiet"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    assert main([*RUN, "--out", str(root / "csv")]) == 0
    assert main([*RUN, "--tables", "parquet", "--out", str(root / "parquet")]) == 0
    return root / "csv", root / "parquet"


def test_parquet_tables_replace_the_csv_ones(runs):
    csv, parquet = runs
    assert {"residents.csv", "ties.csv", "residents_yearly.csv"} <= {p.name for p in csv.iterdir()}
    names = {p.name for p in parquet.iterdir()}
    assert not names & {"residents.csv", "ties.csv", "residents_yearly.csv"}
    assert "residents.parquet" in names
    assert sorted(p.name for p in (parquet / "ties").iterdir()) == ["year-00.parquet", "year-01.parquet", "year-02.parquet"]
    for name in ("metrics.csv", "rewards.csv", "replay.jsonl", "world.json"):
        assert (parquet / name).read_bytes() == (csv / name).read_bytes(), name


@pytest.mark.parametrize("table", ["residents", "ties", "residents_yearly"])
def test_run_reader_gives_the_same_table_from_either_format(runs, table):
    from_csv, from_parquet = (getattr(RunReader(path), table) for path in runs)
    assert len(from_parquet) > 0
    if table == "residents_yearly":  # "no job" is "": Parquet keeps it, CSV reads it back as NaN (analysis fills "")
        from_csv = from_csv.fillna({"job": ""})
    pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False)


def test_a_branch_keeps_the_snapshots_up_to_its_week(runs, tmp_path):
    _, parquet = runs
    assert main(["branch", str(parquet), "--week", "3", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    pd.testing.assert_frame_equal(RunReader(tmp_path / "b").ties, RunReader(parquet).ties)


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_same_parquet_tables(tmp_path):
    import signal

    from tests.test_checkpoints import RUN as KILLABLE, _kill_at_week

    args = [*KILLABLE, "--seed", "11", "--tables", "parquet"]
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    out = tmp_path / "killed"
    proc = _kill_at_week(out, [*args, "--out", str(out)], 14)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert main(["resume", str(out), "--quiet"]) == 0
    for table in ("residents", "ties", "residents_yearly"):
        pd.testing.assert_frame_equal(getattr(RunReader(out), table), getattr(RunReader(tmp_path / "whole"), table))
