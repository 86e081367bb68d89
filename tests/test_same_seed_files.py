"""Same seed, same files: changes not meant to change behaviour keep run directories identical.

The digests in tests/golden/same_seed.json were recorded before the change under test (see
tests/golden/same_seed.py for how, and when to record them anew).
"""

import json

from tests.golden.same_seed import GOLDEN, run_all


def test_run_directories_are_byte_identical_to_the_recorded_ones(tmp_path):
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = run_all(tmp_path)
    for label, files in expected.items():
        assert sorted(actual[label]) == sorted(files), f"{label}: a different set of files"
        changed = [name for name, digest in files.items() if actual[label][name] != digest]
        assert not changed, f"{label}: these files changed for the same seed: {changed}"
