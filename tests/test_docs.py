"""The README is a short front door that says true things: CI installs and tests as its two set-up
commands say, its links lead somewhere, and it says how long the tests take and shows the slow ones.
The manual itself (docs/) is checked by tests/test_docs_site.py."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_gives_the_suites_time_and_a_quick_subset():
    assert "about 13-14 minutes" in README and 'pytest -q -m "not slow"' in README


def test_ci_prints_the_slowest_tests():
    assert "--durations=15" in CI


def test_the_readme_is_a_front_door():
    assert len(README.splitlines()) <= 150


def test_ci_installs_and_tests_as_the_readmes_two_commands_say():
    setup = README.split("## Set-up: two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    installs = re.findall(r'pip install -e "(\.\[[a-z,]+\])"', setup)
    assert installs == [".[embedded,test]", ".[embedded,test,train]"]
    for extras in installs:
        assert f'pip install --quiet -e "{extras}"' in CI, extras
    assert ".venv/bin/python -m pytest -q" in setup and re.search(r"^python -m pytest -q", CI, re.M)


def test_the_test_extra_brings_what_the_manual_needs():
    """CI builds the manual (tests/test_docs_site.py) with what the README's install line brings."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert "agentopia-mesa[docs]" in extras["test"]
    assert {re.split(r"[\[<>=]", d)[0] for d in extras["docs"]} == {"mkdocs", "mkdocs-material", "mkdocstrings"}


def test_every_relative_link_and_picture_of_the_readme_exists():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not re.match(r"https?://", link)]
    assert len(local) >= 30  # the manual's pages and the viewer's picture
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing
