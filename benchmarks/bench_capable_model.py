"""Does a capable model's work survive? Fallbacks per stage against a server that writes what it is asked.

    python benchmarks/bench_capable_model.py [--llm fake:verbose] [--profiles paper lean] [--client-tree DIR]

Serves ``--llm`` (default ``fake:verbose``: every free text at 0.9 of the length its schema
allows, cut at the request's ``num_predict`` with ``done_reason: "length"``) as an Ollama server
on this machine, runs issue 27's command against it for each profile,

    agentopia run --world school --residents 6 --years 1 --weeks-per-year 2 --seed 3 \\
      --mind llm --llm ollama:MODEL@http://127.0.0.1:PORT --profile PROFILE

and prints, per stage, the decisions, the fallbacks to the rule mind and the first fallback's
error, then the summary's fault lines. ``--client-tree DIR`` runs the command from another
checkout (e.g. a worktree of an older commit) against the same server: how the table looked before.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from agentopia_mesa.llm.factory import make_backend
from agentopia_mesa.llm.ollama_api_server import OllamaAPIServer
from agentopia_mesa.run.layout import RunLayout

COMMAND = ["run", "--world", "school", "--residents", "6", "--years", "1", "--weeks-per-year", "2", "--seed", "3",
           "--mind", "llm", "--quiet"]


def stage_table(run_dir: Path) -> list[str]:
    """Per stage (the environment's as env:TASK): decisions, fallbacks and the first fallback's error."""
    rows = collections.defaultdict(lambda: [0, 0, ""])
    for line in RunLayout(run_dir).decisions.open(encoding="utf-8"):
        entry = json.loads(line)
        row = rows[("env:" if entry.get("role") == "environment" else "") + entry["stage"]]
        row[0] += 1
        row[1] += bool(entry["fallback"])
        if entry["fallback"] and not row[2]:
            row[2] = (entry.get("error") or "")[:100]
    lines = [f"{'stage':<16}{'decisions':>10}{'fallbacks':>10}  first error"]
    lines += [f"{stage:<16}{n:>10}{fell:>10}  {error}" for stage, (n, fell, error) in sorted(rows.items())]
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="fake:verbose", help="the backend the server answers with")
    parser.add_argument("--profiles", nargs="+", default=["paper", "lean"])
    parser.add_argument("--client-tree", type=Path, default=None, help="run the command from this checkout")
    args = parser.parse_args(argv)
    backend = make_backend(args.llm)
    tree = (args.client_tree or Path.cwd()).resolve()
    with OllamaAPIServer(backend) as server, tempfile.TemporaryDirectory() as tmp:
        for profile in args.profiles:
            out = Path(tmp) / profile
            command = [sys.executable, "-m", "agentopia_mesa", *COMMAND, "--llm",
                       f"ollama:{server.model}@{server.url}", "--profile", profile, "--out", str(out)]
            done = subprocess.run(command, cwd=tree, capture_output=True, text=True)
            print(f"== {profile} ({tree}): exit {done.returncode}")
            if done.returncode:
                print(done.stderr[-2000:])
                continue
            print("\n".join(stage_table(out)))
            summary = RunLayout(out).summary.read_text(encoding="utf-8").splitlines()
            print("\n".join(line for line in summary if any(k in line for k in ("minds:", "environment:", "by kind",
                                                                                 "truncated", "trimmed", "warning"))))


if __name__ == "__main__":
    main()
