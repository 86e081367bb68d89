"""Where a rules-mode week goes: wall time per stage of the weekly cycle, and garbage collection.

    python benchmarks/bench_stages.py                           # 100 residents x 10 years, apartment
    python benchmarks/bench_stages.py --sizes 100 400 --years 10 --world apartment

``AgentopiaModel.step`` calls the stage functions it imports (week_start, plan, public_events,
contact, activity_days, review, settle, year_end); this script wraps each of those names in the
model module with a ``perf_counter`` timer, so the stages run unchanged. The data collector is
reported as "collect"; "gc" is the time the cyclic garbage collector ran (it overlaps the stages,
which include it). "settle" is the possessions cap after review; the settlement of joint
activities is part of "contact". Each size runs in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

STAGES = ("week_start", "plan", "public_events", "contact", "activity_days", "review", "settle", "year_end")

CHILD = """
import gc, json, sys, time
from collections import defaultdict
import agentopia_mesa.model as model_module
from agentopia_mesa.model import AgentopiaModel

world, residents, years, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
stages = json.loads(sys.argv[5])
spent = defaultdict(float)

def timed(name, stage):
    def run(model):
        start = time.perf_counter()
        stage(model)
        spent[name] += time.perf_counter() - start
    return run

for name in stages:
    setattr(model_module, name, timed(name, getattr(model_module, name)))
collect = model_module.mesa.DataCollector.collect
def timed_collect(self, model):
    start = time.perf_counter()
    collect(self, model)
    spent["collect"] += time.perf_counter() - start
model_module.mesa.DataCollector.collect = timed_collect

gc_start = [0.0]
def gc_timer(phase, info):
    if phase == "start":
        gc_start[0] = time.perf_counter()
    else:
        spent["gc"] += time.perf_counter() - gc_start[0]

model = AgentopiaModel(world=world, residents=residents, years=years, seed=seed)
spent.clear()
gc.callbacks.append(gc_timer)
start = time.perf_counter()
model.run()
total = time.perf_counter() - start
gc.callbacks.remove(gc_timer)
print(json.dumps({"total": total, "weeks": model.weeks_done, **spent}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", default="apartment")
    parser.add_argument("--sizes", nargs="*", type=int, default=[100])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = {}
    for size in args.sizes:
        out = subprocess.run([sys.executable, "-c", CHILD, args.world, str(size), str(args.years), str(args.seed),
                              json.dumps(STAGES)], capture_output=True, text=True, check=True).stdout
        rows[size] = json.loads(out)
    names = (*STAGES, "collect", "gc", "total")
    print(f"{args.world}, {args.years} years; ms per week (share of the run)")
    print(f"{'stage':14s}" + "".join(f"{f'{size} residents':>22s}" for size in args.sizes))
    for name in names:
        cells = []
        for size in args.sizes:
            row = rows[size]
            ms = row.get(name, 0.0) / row["weeks"] * 1000
            cells.append(f"{ms:12.2f} ({row.get(name, 0.0) / row['total']:5.1%})")
        print(f"{name:14s}" + "".join(f"{c:>22s}" for c in cells))


if __name__ == "__main__":
    main()
