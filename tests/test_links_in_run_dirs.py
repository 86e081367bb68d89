"""A run directory from someone else cannot make our commands write elsewhere through a symbolic link
(issue #32): ``analyze`` with ``analysis/`` (or a report inside it) linked away, ``resume`` with a
stream file (``ties.csv``) or the LLM cache linked away, an atomic write whose ``.tmp`` is a planted
link. On main each wrote (or truncated) the file the link pointed to."""

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.run.atomic import replacing
from tests.test_hardening import _copy, _unfinished, cli, finished  # noqa: F401 (a fixture)


@pytest.mark.parametrize(("command", "folder"), [("analyze", "analysis"), ("compare", "compare")])
def test_a_report_is_not_written_through_a_linked_folder(tmp_path, capsys, finished, command, folder):
    run = _copy(finished, tmp_path / "run")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (run / folder).symlink_to(elsewhere)
    code, err = cli(capsys, command, str(run))
    assert code == 2 and "symbolic link" in err[-1], err
    assert not any(elsewhere.iterdir())


def test_analyze_does_not_write_through_a_linked_report(tmp_path, capsys, finished):
    run = _copy(finished, tmp_path / "run")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (run / "analysis").mkdir()
    (run / "analysis" / "report.html").symlink_to(victim)
    code, err = cli(capsys, "analyze", str(run))
    assert code == 2 and "symbolic link" in err[-1], err
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("name", ["ties.csv", "replay.jsonl", "residents_yearly.csv", "faults.json"])
def test_resume_does_not_truncate_or_write_a_linked_file(tmp_path, capsys, finished, name):
    run = _unfinished(finished, tmp_path)
    victim = tmp_path / "victim"
    victim.write_bytes((run / name).read_bytes() + b"precious tail that a resume would cut\n")
    before = victim.read_bytes()
    (run / name).unlink()
    (run / name).symlink_to(victim)
    code, err = cli(capsys, "resume", str(run), "--quiet")
    assert code == 2 and "symbolic link" in err[-1] and name in err[-1], err
    assert victim.read_bytes() == before


def test_an_atomic_write_removes_a_planted_temporary_link(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "summary.txt.tmp").symlink_to(victim)
    with replacing(tmp_path / "summary.txt") as tmp:
        tmp.write_text("the summary")
    assert victim.read_text() == "precious" and (tmp_path / "summary.txt").read_text() == "the summary"


def test_a_sweep_does_not_write_a_run_through_a_linked_run_folder(tmp_path):
    from agentopia_mesa.sweeps import run_sweep, sweep_from_dict

    spec = sweep_from_dict({"sweep": {"name": "tiny", "world": "apartment", "years": 1, "residents": 4, "seeds": 1}})
    out = tmp_path / "sweep"
    (out / "runs").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "runs" / spec.plan()[0].dir.split("/")[-1]).symlink_to(elsewhere)
    with pytest.raises(ValueError, match="symbolic link"):
        run_sweep(spec, out, progress=False)
    assert not any(elsewhere.iterdir())


def test_a_dangling_link_as_run_out_is_one_line(tmp_path, capsys):
    from tests.test_hardening import SMALL, one_line_error

    link = tmp_path / "run"
    link.symlink_to(tmp_path / "nowhere")
    line = one_line_error(capsys, "run", *SMALL, "--years", "1", "--out", str(link))
    assert "symbolic link" in line and not (tmp_path / "nowhere").exists()

