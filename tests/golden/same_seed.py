"""Same seed, same files: the run directories a fixed set of commands writes, as digests.

``RUNS`` are small but touch every stage: a rules run (school world, two years) and a fake-LLM
run (every decision through the LLM layer, with decisions.jsonl) and a run judged by a fake-LLM
environment (every environment task through the LLM layer). ``digests(run_dir)`` hashes
every file a run writes, minus what cannot repeat: the run directory's own path, the wall time (``config.json``'s
``wall_seconds`` and ``versions``, the summary's "wall time" line), checkpoints (pickles of live
objects) and the SQLite cache (timestamps).

Record the digests anew only when a change is *meant* to change behaviour:
``python tests/golden/same_seed.py`` (writes ``tests/golden/same_seed.json``), and say so in the
commit message.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).with_name("same_seed.json")

RUNS = {
    "rules": ["run", "--world", "school", "--residents", "12", "--years", "2", "--weeks-per-year", "3",
              "--seed", "3", "--quiet"],
    "fake-llm": ["run", "--world", "school", "--residents", "6", "--years", "2", "--weeks-per-year", "2",
                 "--seed", "3", "--mind", "llm", "--llm", "fake", "--quiet"],
    "fake-env": ["run", "--world", "school", "--residents", "12", "--years", "2", "--weeks-per-year", "2",
                 "--seed", "3", "--env", "llm", "--env-llm", "fake", "--quiet"],
}
SKIPPED = ("checkpoints/", "llm-cache.sqlite")


def _normalised(path: Path, name: str, run_dir: Path) -> bytes:
    data = path.read_bytes()
    if name == "config.json":  # the cache path names the (temporary) run directory
        data = data.replace(json.dumps(str(run_dir))[1:-1].encode(), b"RUN_DIR")
        meta = json.loads(data)
        meta.pop("wall_seconds", None)
        meta.pop("versions", None)
        return json.dumps(meta, sort_keys=True).encode()
    if name == "summary.txt":
        return b"\n".join(line for line in data.splitlines() if not line.startswith(b"wall time:"))
    return data


def digests(run_dir: Path) -> dict[str, str]:
    """sha256 of every repeatable file of a run directory, by relative path."""
    out = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        name = path.relative_to(run_dir).as_posix()
        if name.startswith(SKIPPED):
            continue
        out[name] = hashlib.sha256(_normalised(path, name, run_dir)).hexdigest()
    return out


def run_all(workdir: Path) -> dict[str, dict[str, str]]:
    from agentopia_mesa.cli.main import main

    result = {}
    for label, args in RUNS.items():
        out = workdir / label
        code = main([*args, "--out", str(out)])
        if code != 0:
            raise RuntimeError(f"{label}: agentopia {' '.join(args)} exited {code}")
        result[label] = digests(out)
    return result


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        recorded = run_all(Path(tmp))
    GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} ({sum(map(len, recorded.values()))} files)", file=sys.stderr)
