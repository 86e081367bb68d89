"""The ``agentopia study plan|run|status|report STUDY.toml --out DIR`` sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

ACTIONS = ("plan", "run", "status", "report")


def add_study_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``study ACTION STUDY.toml [--out DIR] [--tokens-per-second N]``."""
    parser = subparsers.add_parser(
        "study", help="the paper's loop as one resumable study: towns, data, training, tuned towns, evaluation, report",
        description="plan: what the study will cost (towns, agent-weeks, LLM calls and tokens by step, hours); run: run "
                    "every unfinished step (a finished step with the same inputs is never redone, nor a finished town); "
                    "status: each step's state; report: rewrite DIR/report.md from the finished steps.")
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("study", type=Path, metavar="STUDY.toml", help="a study file (experiments/laptop.toml, experiments/paper.toml)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="the study directory (default: runs/study-<name>)")
    parser.add_argument("--tokens-per-second", type=float, default=None, metavar="N",
                        help="plan: hours at this many tokens a second (prompt and completion alike)")
    parser.add_argument("--server", default=None, metavar="NAME",
                        help="plan: hours as the serving model predicts them on this GPU server (h100-8b, h100-32b: "
                             "benchmarks/bench_serving.py)")
    parser.add_argument("--quiet", action="store_true", help="no progress")
    parser.set_defaults(handler=_study)
    return parser


def _study(args) -> int:
    from agentopia_mesa.study.runner import Study
    from agentopia_mesa.study.spec import load_study

    spec = load_study(args.study)
    study = Study(spec, (args.out or Path("runs") / f"study-{spec.name}").resolve(), str(args.study), progress=not args.quiet)
    if args.action == "plan":
        return _plan(spec, args.tokens_per_second, args.server)
    if args.action == "status":
        for step, state in study.status().items():
            print(f"{step:<24} {state:<8} {study.progress_note(step, state)}".rstrip())
        return 0
    if args.action == "report":
        from agentopia_mesa.study.report import write_report

        if any(state != "done" for state in study.status().values()):
            raise ValueError(f"report: steps not finished ({', '.join(k for k, v in study.status().items() if v != 'done')}); "
                             f"run `agentopia study run {args.study} --out {study.dir}`")
        print(f"written: {write_report(study)}")
        return 0
    return _run(study)


def _plan(spec, tokens_per_second: float | None, server: str | None) -> int:
    from agentopia_mesa.study.costs import flat_rate_hours, plan_table, serving_model_hours

    if tokens_per_second is not None and not tokens_per_second > 0:
        raise ValueError(f"--tokens-per-second: must be above 0, got {tokens_per_second}")
    if tokens_per_second is not None and server is not None:
        raise ValueError("--tokens-per-second and --server: give one of them")
    hours_for = serving_model_hours(spec, server) if server else flat_rate_hours(tokens_per_second) if tokens_per_second else None
    rate = f", {tokens_per_second:g} tokens/s" if tokens_per_second else f", server {server}" if server else ""
    print(f"study {spec.name}: {spec.towns_per_generation} towns a generation, {spec.agent_weeks_per_town:,} agent-weeks a town, "
          f"profile {spec.society.get('profile', 'lean')}{rate}")
    print(plan_table(spec, hours_for, server))
    return 0


def _run(study) -> int:
    from agentopia_mesa.study.spec import StudyError
    from agentopia_mesa.study.training import WaitingForModel

    try:
        study.run()
    except WaitingForModel as exc:
        print(str(exc))
        return 0
    except RuntimeError as exc:  # a town failed: its step is named
        raise StudyError(str(exc).splitlines()[0]) from None
    print(f"written: {study.dir / 'report.md'}")
    return 0
