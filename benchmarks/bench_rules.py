"""Wall time of rules-mode runs: 10 years of a built-in world at several sizes.

    python benchmarks/bench_rules.py                 # 100 residents, each built-in world
    python benchmarks/bench_rules.py --sizes 100 200 400 1000 --world apartment
    python benchmarks/bench_rules.py --sizes 100 400 --world apartment --young-gc-threshold 700   # as before the GC fix

Each size runs in a fresh process so peak memory (ru_maxrss) is per run. "cpu s" is the
process's user+system time for the run: on a shared machine it moves less than wall time.
"ties/res" is acquaintance ties per resident at the end: the larger the town, the more people
each resident gets to know, and much of a week's work grows with that.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, resource, sys, time
import agentopia_mesa.model as model_module
from agentopia_mesa.model import AgentopiaModel
world, residents, years, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if sys.argv[5]:
    model_module.COLLECT_DURING_WEEK = True
    model_module.YOUNG_COLLECTION_THRESHOLD = int(sys.argv[5])
t0 = time.perf_counter()
model = AgentopiaModel(world=world, residents=residents, years=years, seed=seed)
t1 = time.perf_counter()
c1 = time.process_time()
model.run()
t2 = time.perf_counter()
print(json.dumps({"world": world, "residents": residents, "years": years, "build_s": t1 - t0, "run_s": t2 - t1,
                  "cpu_s": time.process_time() - c1, "weeks": model.weeks_done,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "ties": model.ties.n_ties(), "job_changes": model.job_changes_total}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", nargs="*", default=["apartment", "school", "rivertown"])
    parser.add_argument("--sizes", nargs="*", type=int, default=[100])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--young-gc-threshold", type=int, default=None,
                        help="let the collector run during a week with this many allocations between young "
                             "collections (700 = Python's default, as before the first GC fix; 10000 as before the "
                             "second; default: no collection during a week, the model's COLLECT_DURING_WEEK)")
    args = parser.parse_args()
    print(f"{'world':10s} {'residents':>9s} {'years':>5s} {'build s':>8s} {'run s':>8s} {'cpu s':>8s} {'ms/week':>8s} "
          f"{'peak MiB':>9s} {'ties/res':>8s} {'load':>5s}")
    for world in args.world:
        for size in args.sizes:
            out = subprocess.run([sys.executable, "-c", CHILD, world, str(size), str(args.years), str(args.seed),
                                  str(args.young_gc_threshold or "")],
                                 capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{world} with {size} residents failed:\n{out.stderr}")
            row = json.loads(out.stdout)
            print(f"{world:10s} {size:9d} {row['years']:5d} {row['build_s']:8.2f} {row['run_s']:8.2f} {row['cpu_s']:8.2f} "
                  f"{row['run_s'] / row['weeks'] * 1000:8.1f} {row['peak_mib']:9.0f} {row['ties'] / size:8.1f} "
                  f"{os.getloadavg()[0]:5.1f}", flush=True)


if __name__ == "__main__":
    main()
