"""The ``agentopia sweep`` sub-command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_sweep_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``sweep CONFIG [--out DIR] [--executor E] [--workers N] ...`` on argparse sub-parsers."""
    parser = subparsers.add_parser(
        "sweep", help="run a grid or list of parameter sets x seeds, resumably (see experiments/)",
        description="Runs every parameter set of CONFIG (TOML or JSON) with every seed, one run directory each. "
                    "Running the same command again skips finished runs and restarts interrupted ones.",
    )
    parser.add_argument("config", type=Path, metavar="CONFIG", help="sweep configuration (.toml or .json)")
    parser.add_argument("--out", type=Path, default=None, help="sweep directory (default: runs/<sweep name>)")
    parser.add_argument("--executor", choices=("sequential", "processes", "ray"), default=None, help="override [sweep] executor")
    parser.add_argument("--workers", type=int, default=None, help="override [sweep] workers (processes or Ray CPUs)")
    parser.add_argument("--ray-address", default=None, help="use a running Ray cluster ('auto' or ray://host:port)")
    parser.add_argument("--dry-run", action="store_true", help="list the planned runs and what is already done, run nothing")
    parser.add_argument("--analyze", action="store_true", help="write the sweep report (agentopia analyze) when all runs are done")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_sweep)
    return parser


def _sweep(args) -> int:
    from agentopia_mesa.sweeps.runner import default_out, run_sweep
    from agentopia_mesa.sweeps.spec import load_sweep
    from agentopia_mesa.sweeps.worker import is_done

    spec = load_sweep(args.config)
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers: must be at least 1, got {args.workers}")
    out = (args.out or default_out(spec)).resolve()
    plan = spec.plan()
    done = sum(1 for run in plan if is_done(out / run.dir))
    executor = args.executor or spec.executor
    workers = args.workers or spec.workers
    print(f"sweep {spec.name}: {len(plan)} runs ({len(spec.parameter_sets())} parameter sets x {len(spec.replicate_seeds)} seeds), "
          f"{done} already done; executor {executor}, {workers} worker(s); directory {out}")
    if args.dry_run:
        for run in plan:
            state = "done" if is_done(out / run.dir) else "to run"
            print(f"  {run.id}  {state:6s}  seed {run.seed:>10d}  " + " ".join(f"{k}={v}" for k, v in run.params.items()))
        return 0
    outcome = run_sweep(spec, out, executor=args.executor, workers=args.workers, ray_address=args.ray_address, progress=not args.quiet)
    print(f"finished {outcome.finished} now, {outcome.skipped} before; {outcome.planned - outcome.skipped - outcome.finished} not finished")
    for run_id, reason in outcome.failed.items():
        print(f"  failed {run_id}: {reason}")
    if not outcome.complete:
        print("run the same command again to resume: finished runs are kept")
        first = next(iter(outcome.failed.items()), None)
        print(f"agentopia: sweep {spec.name}: {outcome.planned - outcome.skipped - outcome.finished} of {outcome.planned} runs "
              f"not finished" + (f" ({len(outcome.failed)} failed, first {first[0]}: {first[1]})" if first else "")
              + f"; run the same command again to resume ({out})", file=sys.stderr)
        return 1
    if args.analyze:
        from agentopia_mesa.analysis.analyzer import analyze

        print(f"report: {analyze(out)}")
    print(f"sweep directory: {out}")
    return 0
