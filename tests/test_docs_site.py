"""The manual (docs/, mkdocs.yml) is checked like code: its generated reference pages match what the
code generates today, `mkdocs build --strict` passes (no broken link, every API page resolves), and
every shell example marked runnable in the tutorials and how-to guides runs to success on the fake
backend.

A block is runnable when the line before its opening fence is ``<!-- runnable -->`` (invisible on
the site). It runs as one bash script in a fresh folder, with ``agentopia`` meaning this checkout's
``python -m agentopia_mesa``; examples that need a server or a GPU are simply not marked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
RUNNABLE = re.compile(r"^<!-- runnable -->\n```bash\n(.*?)^```", re.S | re.M)


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_reference_pages_match_the_code(capsys):
    """A new flag, configuration field, run-directory column, study key or package without its
    page fails here; `python docs/gen_reference.py` rewrites the pages."""
    assert _generator().main(["--check"]) == 0, capsys.readouterr().err


def test_the_generator_refuses_a_column_it_cannot_describe(monkeypatch):
    generator = _generator()
    monkeypatch.setitem(generator.COLUMNS, "rewards.csv",
                        {k: v for k, v in generator.COLUMNS["rewards.csv"].items() if k != "advantage"})
    with pytest.raises(SystemExit, match="rewards.csv has columns with no description in COLUMNS: advantage"):
        generator.run_directory_page()


def test_the_cli_reference_has_every_option_of_every_command():
    from agentopia_mesa.cli.main import _parser

    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    generator = _generator()

    def options(parser, path):
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    yield path, flag
        for name, child in generator._subcommands(parser).items():
            yield from options(child, f"{path} {name}")

    found = list(options(_parser(), "agentopia"))
    assert len(found) > 100
    for path, flag in found:
        section = page.split(f"`{path}`", 1)[1].split("\n#", 1)[0]
        assert f"`{flag}`" in section, f"{path} {flag} is not in docs/reference/cli.md"


def _mkdocs(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    pytest.importorskip("mkdocs", reason="the docs extra (pip install -e '.[test]' includes it)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_mkdocs_builds_the_site_strictly(tmp_path):
    done = _mkdocs("build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr[-4000:]
    pages = list((tmp_path / "site").rglob("index.html"))
    assert len(pages) >= 50  # tutorials, how-to guides, reference (with the API), explanation
    api = (tmp_path / "site" / "reference" / "api" / "run" / "index.html").read_text(encoding="utf-8")
    assert "RunLayout" in api and "start_run" in api  # mkdocstrings rendered the package's modules


def test_strict_mode_fails_on_a_broken_link(tmp_path):
    """The check above can fail: the same build with one dead link does."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(DOCS, copy / "docs")
    shutil.copy(REPO / "mkdocs.yml", copy / "mkdocs.yml")
    (copy / "agentopia_mesa").symlink_to(REPO / "agentopia_mesa")
    index = copy / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n[gone](no-such-page.md)\n", encoding="utf-8")
    done = _mkdocs("build", "--strict", "--site-dir", str(tmp_path / "site"), cwd=copy)
    assert done.returncode != 0 and "no-such-page.md" in done.stderr


def runnable_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in sorted(DOCS.rglob("*.md")):
        for number, match in enumerate(RUNNABLE.finditer(page.read_text(encoding="utf-8")), 1):
            blocks.append((f"{page.relative_to(DOCS)}#{number}", match.group(1)))
    return blocks


def test_the_tutorials_mark_their_examples_runnable():
    names = {name.split("#")[0] for name, _ in runnable_blocks()}
    assert {"tutorials/first-town.md", "tutorials/first-llm-town.md", "tutorials/study-on-a-laptop.md"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("name,script", runnable_blocks(), ids=[name for name, _ in runnable_blocks()])
def test_a_runnable_example_succeeds(name, script, tmp_path):
    prelude = (f'set -euo pipefail\nagentopia() {{ "{sys.executable}" -m agentopia_mesa "$@"; }}\n'
               f'python() {{ "{sys.executable}" "$@"; }}\n')
    env = {**os.environ, "PYTHONPATH": str(REPO), "AGENTOPIA_SECRET_FILE": str(tmp_path / "checkpoint.key")}
    done = subprocess.run(["bash", "-c", prelude + script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{name} failed ({done.returncode}):\n{script}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
