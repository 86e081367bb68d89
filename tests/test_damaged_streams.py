"""A damaged line inside a stream file stops resume with one line naming file and line; a damaged
*last* line (after the checkpoint, a killed writer) is cut off as before (issue #32). On main a
corrupted line in the middle of ``replay.jsonl`` was kept (exit 0) and broke the viewer later."""

import pytest

from agentopia_mesa.cli.main import main
from tests.test_hardening import _unfinished, cli, finished  # noqa: F401 (a fixture)


def _damage_line(path, number: int, bad: bytes) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = bad + b"\n"
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(("name", "bad"), [
    ("replay.jsonl", b'{"week": 1, "broken'),
    ("replay.jsonl", b'[1, 2, 3]'),
    ("replay.jsonl", b'\xff\xfe binary \x00'),
    ("ties.csv", b'a,b'),
    ("residents_yearly.csv", b'\xff\xfe'),
])
def test_a_damaged_line_inside_a_stream_stops_resume_naming_file_and_line(tmp_path, capsys, finished, name, bad):
    run = _unfinished(finished, tmp_path)
    _damage_line(run / name, 2, bad)
    code, err = cli(capsys, "resume", str(run), "--quiet")
    errors = [line for line in err if line.startswith("agentopia: error: ")]
    assert code == 2 and len(errors) == 1, err
    assert f"{name}:2:" in errors[0]
    assert not (run / "summary.txt").exists()


def test_a_damaged_last_line_after_the_checkpoint_is_still_cut_off(tmp_path, capsys, finished):
    run = _unfinished(finished, tmp_path)
    with open(run / "replay.jsonl", "ab") as f:
        f.write(b'{"week": 99, "cut off mid-wr')
    assert main(["resume", str(run), "--quiet"]) == 0
    assert b"cut off" not in (run / "replay.jsonl").read_bytes()
