"""Sweep throughput: finished runs per minute with 1 and 2 local worker processes.

    python benchmarks/bench_sweeps.py                              # 8 runs of 50 residents x 2 years
    python benchmarks/bench_sweeps.py --runs 16 --residents 100 --years 10 --workers 1 2 4 --executor processes ray

Every measurement is a fresh sweep into a temporary directory, timed end to end as a user sees it
(``run_sweep``: worker start-up, the simulations, each run directory with its overview plot,
the per-run measures, and the index). ``sequential`` (in this process, no start-up) is a baseline.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from agentopia_mesa.sweeps import run_sweep, sweep_from_dict


def measure(executor: str, workers: int, runs: int, residents: int, years: int, world: str) -> tuple[float, float]:
    spec = sweep_from_dict({
        "sweep": {"name": "bench", "world": world, "years": years, "residents": residents, "seeds": runs, "seed": 1},
    })
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outcome = run_sweep(spec, out, executor=executor, workers=workers, progress=False)
        wall = time.perf_counter() - started
    if not outcome.complete:
        raise SystemExit(f"benchmark sweep failed: {outcome.failed}")
    return wall, runs / wall * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--world", default="apartment")
    parser.add_argument("--workers", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--executor", nargs="*", default=["processes"], choices=["sequential", "processes", "ray"])
    parser.add_argument("--baseline", action="store_true", help="also time the sequential executor once")
    args = parser.parse_args()
    print(f"{args.runs} runs of {args.residents} residents x {args.years} years ({args.world}); {os.cpu_count()} CPUs")
    print(f"{'executor':10s} {'workers':>7s} {'wall s':>8s} {'runs/min':>9s} {'speed-up':>8s}")
    rows = [("sequential", 1)] if args.baseline else []
    rows += [(e, w) for e in args.executor for w in args.workers]
    first = None
    for executor, workers in rows:
        wall, per_minute = measure(executor, workers, args.runs, args.residents, args.years, args.world)
        first = first or per_minute
        print(f"{executor:10s} {workers:7d} {wall:8.2f} {per_minute:9.1f} {per_minute / first:7.2f}x", flush=True)


if __name__ == "__main__":
    main()
