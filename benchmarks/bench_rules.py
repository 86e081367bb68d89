"""Wall time of rules-mode runs: 10 years of a built-in world at several sizes.

    python benchmarks/bench_rules.py                 # 100 residents, each built-in world
    python benchmarks/bench_rules.py --sizes 100 200 400 1000 --world apartment

Each size runs in a fresh process so peak memory (ru_maxrss) is per run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CHILD = """
import json, resource, sys, time
from agentopia_mesa.model import AgentopiaModel
world, residents, years, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
model = AgentopiaModel(world=world, residents=residents, years=years, seed=seed)
t1 = time.perf_counter()
model.run()
t2 = time.perf_counter()
print(json.dumps({"world": world, "residents": residents, "years": years, "build_s": t1 - t0, "run_s": t2 - t1,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "ties": model.ties.n_ties(), "job_changes": model.job_changes_total}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", nargs="*", default=["apartment", "school", "rivertown"])
    parser.add_argument("--sizes", nargs="*", type=int, default=[100])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'world':10s} {'residents':>9s} {'years':>5s} {'build s':>8s} {'run s':>8s} {'ms/week':>8s} {'peak MiB':>9s}")
    for world in args.world:
        for size in args.sizes:
            out = subprocess.run([sys.executable, "-c", CHILD, world, str(size), str(args.years), str(args.seed)],
                                 capture_output=True, text=True, check=True).stdout
            row = json.loads(out)
            weeks = row["years"] * 10
            print(f"{world:10s} {size:9d} {row['years']:5d} {row['build_s']:8.2f} {row['run_s']:8.2f} "
                  f"{row['run_s'] / weeks * 1000:8.1f} {row['peak_mib']:9.0f}", flush=True)


if __name__ == "__main__":
    main()
