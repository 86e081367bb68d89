"""cProfile of one ``agentopia run`` command, in this process: where its time goes.

    python benchmarks/profile_run.py                      # agentopia run --world apartment --years 10
    python benchmarks/profile_run.py --top 30 -- --world apartment --years 10 --residents 1000
    python benchmarks/profile_run.py --save /tmp/run.prof  # for snakeviz or pstats
    python benchmarks/profile_run.py --phases-only -- --residents 1000 --years 3 --tables parquet

Everything after ``--`` goes to ``agentopia run`` (``--out`` defaults to a temporary directory,
``--quiet`` is always added). Prints the command's wall and CPU (user+system) time, its phases
(start-up: imports and building; the weekly steps; checkpoints; the streamed recorders; the
results at the end: tables, plot, summary; a checkpoint written by a forked child counts only
what the run waits for, ``run.background``), then the top functions by cumulative time (this
project's own functions, where the work is decided) and by own time (every function).

cProfile slows Python code down about twice and charges a few C calls wrongly: matplotlib's text
measuring (``get_text_width_height_descent``) shows up to tens of seconds that the plot does not
take (0.5 s unprofiled), so the phases are timed without the profiler's distortion as well: the
first run is timed plainly, the second profiled.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager

PHASES = {  # phase -> (module, attribute) to time
    "steps": ("agentopia_mesa.model", "AgentopiaModel.step"),
    "checkpoints": ("agentopia_mesa.run.session", "checkpoint"),  # the run's share: forking, or all of it
    "recorders": ("agentopia_mesa.run.replay", "ReplayRecorder.__call__"),
    "yearly recorder": ("agentopia_mesa.run.yearly", "YearlyRecorder.record"),
    "results": ("agentopia_mesa.run.session", "write_results"),
    "plot": ("agentopia_mesa.run.results", "overview_figure"),
}


def _timed(spent: dict, name: str, function):
    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name][0] += time.perf_counter() - wall
            spent[name][1] += time.process_time() - cpu
    return timed


@contextmanager
def _phase_timers(spent: dict):
    """Wrap each phase's function in a timer (restored afterwards)."""
    import importlib

    undo = []
    for name, (module_name, attribute) in PHASES.items():
        owner = importlib.import_module(module_name)
        *path, last = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = owner.__dict__[last] if isinstance(owner, type) else getattr(owner, last)
        setattr(owner, last, _timed(spent, name, original))
        undo.append((owner, last, original))
    try:
        yield
    finally:
        for owner, last, original in undo:
            setattr(owner, last, original)


def _run(argv: list[str], profiler: cProfile.Profile | None = None) -> tuple[float, float, dict]:
    from agentopia_mesa.cli.main import main

    spent = defaultdict(lambda: [0.0, 0.0])
    with tempfile.TemporaryDirectory() as tmp, _phase_timers(spent):
        if "--out" not in argv:
            argv = [*argv, "--out", os.path.join(tmp, "run"), "--overwrite"]
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        code = main(["run", *argv, "--quiet"])
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if code:
        sys.exit(f"agentopia run {' '.join(argv)} failed with exit code {code}")
    return wall, cpu, spent


def _children_cpu() -> float:
    """CPU seconds (user+system) of this process's finished child processes."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _print_stats(profiler: cProfile.Profile, sort: str, top: int, only: str | None) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(sort).print_stats(*([only] if only else []), top)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    root = os.getcwd() + os.sep
    for line in lines[start:]:
        if line.strip():
            print(line.replace(root, "").replace(sys.prefix + os.sep, "")[:160])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=25, help="functions listed per table (default: 25)")
    parser.add_argument("--save", default=None, help="also write the profile to this file")
    parser.add_argument("--phases-only", action="store_true", help="time the phases, skip the profiled run")
    parser.add_argument("run_args", nargs="*", help="arguments of agentopia run (after --)")
    args = parser.parse_args()
    argv = args.run_args or ["--world", "apartment", "--years", "10"]
    start = time.perf_counter(), time.process_time()
    import agentopia_mesa.cli.main  # noqa: F401  (start-up: the imports a fresh command pays)
    imports = time.perf_counter() - start[0], time.process_time() - start[1]

    children = _children_cpu()
    wall, cpu, spent = _run(argv)
    children = _children_cpu() - children
    print(f"agentopia run {' '.join(argv)}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'phase':16s} {'wall s':>7s} {'cpu s':>7s}")
    print(f"{'imports':16s} {imports[0]:7.2f} {imports[1]:7.2f}")
    print(f"{'command':16s} {wall:7.2f} {cpu:7.2f}   (after the imports)")
    for name in PHASES:
        print(f"{'  ' + name:16s} {spent[name][0]:7.2f} {spent[name][1]:7.2f}")
    print(f"{'total':16s} {imports[0] + wall:7.2f} {imports[1] + cpu:7.2f}")
    print(f"{'forked writers':16s} {'':7s} {children:7.2f}   (checkpoints written by child processes, beside the total)")
    if args.phases_only:
        return

    profiler = cProfile.Profile()
    _run(argv, profiler)
    if args.save:
        profiler.dump_stats(args.save)
    print(f"\nprofiled again; top {args.top} of this project's functions by cumulative time:")
    _print_stats(profiler, "cumulative", args.top, "agentopia_mesa")
    print(f"\ntop {args.top} functions by own time (tottime):")
    _print_stats(profiler, "tottime", args.top, None)


if __name__ == "__main__":
    main()
