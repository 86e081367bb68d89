"""The README and CI say how long the tests take and show the slow ones."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_gives_the_suites_time_and_a_quick_subset():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "about 13-14 minutes" in readme and 'pytest -q -m "not slow"' in readme


def test_ci_prints_the_slowest_tests():
    assert "--durations=15" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
