"""LLM minds without a model: tokens per resident-week, and how fast a recorded run replays.

    python benchmarks/bench_llm.py                                  # 10 residents x 1 year, apartment
    python benchmarks/bench_llm.py --residents 100 --years 1

Three kinds of ``agentopia run`` with the same world, size and seed, each in a fresh process (the
replay and the rules run ``--repeats`` times, alternated, each reported by its best ms/week):

1. ``--mind llm --llm fake --cache-mode record --llm-cache C.sqlite``: every decision goes
   through the LLM path (prompt, schema, dispatcher, parse) to the fake backend, which answers
   from the schema and counts whitespace-separated words as tokens (a real tokenizer gives more;
   see RESULTS.md for the embedded model's counts);
2. ``--mind llm --llm fake --cache-mode replay`` on that cache: every answer comes from SQLite,
   the backend is never called, and the run must end with the same metrics.csv;
3. ``--mind rules``: the same society with rule minds, for the cost of the simulation alone.

All three use ``--checkpoint-every 0`` so each measures the simulation and the minds, not the
checkpoints. "ms/week" is the run's own wall time per week from its summary.txt (the weekly loop
with its recorders, no start-up); "process s" adds start-up and the result files. Tokens come
from the run's faults.json (the "llm" block).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentopia_mesa.run.layout import RunLayout


#: ``--gc off``: the CLI with Python's cyclic collector disabled from the start.
NO_GC = "import gc, runpy, sys; gc.disable(); sys.argv[0] = 'agentopia'; runpy.run_module('agentopia_mesa', run_name='__main__')"
GC_ON = True


def agentopia(*args: str) -> float:
    """Run the CLI in a fresh process; wall seconds (start-up and result files included)."""
    start = time.perf_counter()
    entry = ["-m", "agentopia_mesa"] if GC_ON else ["-c", NO_GC]
    subprocess.run([sys.executable, *entry, "run", "--quiet", "--checkpoint-every", "0", *args],
                   check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def week_ms(run_dir: Path) -> float:
    """Milliseconds per week, as the run's summary.txt reports its own wall time."""
    found = re.search(r"wall time: [0-9.]+ s \(([0-9.]+) ms per week\)", RunLayout(run_dir).summary.read_text())
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", default="apartment")
    parser.add_argument("--residents", type=int, default=10)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the run directories here")
    parser.add_argument("--repeats", type=int, default=3,
                        help="replay and rules runs, each reported by its best ms/week (default: 3; the record runs once)")
    parser.add_argument("--gc", choices=["on", "off"], default="on",
                        help="off: every run with Python's cyclic collector disabled, so that one full collection "
                             "(50-70 ms) falling inside a short run's weekly loop does not decide the ratio")
    args = parser.parse_args()
    global GC_ON
    GC_ON = args.gc == "on"
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-llm-"))
    cache = root / "C.sqlite"
    common = ["--world", args.world, "--residents", str(args.residents), "--years", str(args.years),
              "--seed", str(args.seed)]
    llm = ["--mind", "llm", "--llm", "fake", "--llm-cache", str(cache)]
    cache.unlink(missing_ok=True)
    walls = {"record": agentopia(*common, *llm, "--cache-mode", "record", "--out", str(root / "record"), "--overwrite")}
    per_week = {"record": week_ms(root / "record")}
    for _ in range(args.repeats):  # alternated, so both meet the same load
        for name, extra in (("replay", [*llm, "--cache-mode", "replay"]), ("rules", [])):
            wall = agentopia(*common, *extra, "--out", str(root / name), "--overwrite")
            if week_ms(root / name) < per_week.get(name, float("inf")):
                walls[name], per_week[name] = wall, week_ms(root / name)
    same = RunLayout(root / "record").metrics.read_bytes() == RunLayout(root / "replay").metrics.read_bytes()
    usage = json.loads(RunLayout(root / "record").faults.read_text())["llm"]
    weeks = len(RunLayout(root / "rules").metrics.read_text().splitlines()) - 2  # header and week 0
    resident_weeks = args.residents * weeks
    print(f"{args.world}, {args.residents} residents x {weeks} weeks, seed {args.seed}; "
          f"load average {os.getloadavg()[0]:.1f}; collector {args.gc}")
    print(f"calls {usage['calls']}, decisions {usage['decisions']}, fallbacks {usage['fallbacks']}; "
          f"tokens {usage['prompt_tokens']:,} prompt + {usage['completion_tokens']:,} completion (fake: words)")
    print(f"per resident-week: {usage['calls'] / resident_weeks:.1f} calls, "
          f"{usage['prompt_tokens'] / resident_weeks:,.0f} prompt + {usage['completion_tokens'] / resident_weeks:,.0f} "
          f"completion words; per call {usage['prompt_tokens'] / max(1, usage['calls']):,.0f} prompt words")
    print(f"{'run':8s} {'process s':>10s} {'ms/week':>9s} {'vs rules':>9s}   (replay and rules: best of {args.repeats})")
    for name, wall in walls.items():
        print(f"{name:8s} {wall:10.2f} {per_week[name]:9.1f} {per_week[name] / per_week['rules']:8.1f}x")
    print(f"replay reproduced the recorded metrics.csv: {'yes' if same else 'NO'}; cache {cache.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
