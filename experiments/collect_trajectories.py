"""Collect trajectories from several worlds and seeds, then build one RFT dataset from all of them.

The runs go through the sweep runner (resumable: run the same command again to finish an
interrupted collection; finished runs are kept), each town made from the society options
`agentopia run` takes (`--mind`, `--llm`, `--mix`, `--assign`, `--profile`, `--env`, `--env-llm`,
`--ratings`, `--set`, ...; here `--mind llm` is the default), as the sweep's `[society]` table;
every run with LLM minds records its decisions, as `agentopia run` does. The dataset is the
paper's §7 selection over every run: per run and year, the top 25 % of residents by advantage.

    # a minute on a laptop: the fake backend (schema-valid made-up answers), 2 worlds x 2 seeds
    python experiments/collect_trajectories.py --worlds school apartment --seeds 2 --residents 12 --years 2 \\
        --weeks-per-year 2 --mix fake=1 --out runs/collect-demo

    # the paper's society: its conversations, judged by an LLM environment (here a bigger model)
    python experiments/collect_trajectories.py --worlds apartment school rivertown --seeds 4 \\
        --llm ollama:agentopia-base --profile paper --env-llm ollama:qwen3:8b --workers 3 --out runs/collect

Writes ``OUT/runs/<id>/`` (run directories with ``decisions.jsonl``), ``OUT/index.csv`` and
``OUT/dataset/sft.jsonl`` with its card ``OUT/dataset/sft.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

#: The residents' minds when nothing else is said: every one on the embedded model.
DEFAULT_SOCIETY = {"mind": "llm"}


def collect(worlds: list[str], seeds: int, out: Path, society: dict[str, Any] | None = None, years: int = 10,
            residents: int | None = None, overrides: dict[str, Any] | None = None, workers: int = 1,
            executor: str = "processes", seed: int = 2026, top: float | None = None, dataset_format: str = "chat",
            quiet: bool = False, llm_cache: str | None = None):
    """Run every world x seed as ``society`` (``agentopia run``'s options, a sweep's ``[society]``
    table) with ``overrides`` (configuration fields), then export one SFT dataset; returns its stats."""
    from agentopia_mesa.datasets.card import sft_card, write_card
    from agentopia_mesa.datasets.selection import TOP_FRACTION
    from agentopia_mesa.datasets.sft import export_sft
    from agentopia_mesa.sweeps import run_sweep, sweep_from_dict

    sweep = {"name": "collect-trajectories", "years": years, "seeds": seeds, "seed": seed, "executor": executor, "workers": workers}
    if residents is not None:
        sweep["residents"] = residents
    config = {"sweep": sweep, "grid": {"world": list(worlds)}, "society": dict(society or DEFAULT_SOCIETY)}
    if overrides:
        config["fixed"] = dict(overrides)
    if llm_cache:
        config["llm"] = {"cache": str(Path(llm_cache).resolve())}
    outcome = run_sweep(sweep_from_dict(config, base_dir=Path.cwd()), out, progress=not quiet)
    if not outcome.complete:
        failed = "; ".join(f"{run}: {why}" for run, why in outcome.failed.items())
        raise RuntimeError(f"{len(outcome.failed)} run(s) failed ({failed}); run the same command again to retry them")
    dataset = Path(out) / "dataset" / "sft.jsonl"
    stats = export_sft([out], dataset, fraction=TOP_FRACTION if top is None else top, layout=dataset_format)
    write_card(dataset, sft_card(stats))
    return stats


def society_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The ``[society]`` table of the society flags given (those left at their defaults are left out)."""
    from agentopia_mesa.run.town_options import TOWN_OPTIONS
    from agentopia_mesa.sweeps.society import society_keys

    society = {}
    for key in society_keys():
        value = getattr(args, key, None)
        if value is not None and (key in DEFAULT_SOCIETY or value != TOWN_OPTIONS[key].default):
            society[key] = str(value.resolve()) if isinstance(value, Path) else value
    return society


def main(argv: list[str] | None = None) -> int:
    from agentopia_mesa.cli.mind_options import add_society_arguments, parse_sets

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", nargs="+", default=["apartment", "school", "rivertown"], help="built-in worlds or world files")
    parser.add_argument("--seeds", type=int, default=2, help="replicates per world (default: 2)")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--residents", type=int, default=None, help="residents per town (default: the world's)")
    parser.add_argument("--weeks-per-year", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1, help="runs at once (each loads its own model)")
    parser.add_argument("--executor", choices=("sequential", "processes", "ray"), default="processes")
    parser.add_argument("--top", type=float, default=None, help="share of residents kept per year (default: 0.25)")
    parser.add_argument("--format", choices=("chat", "sharegpt"), default="chat")
    parser.add_argument("--out", type=Path, default=Path("runs/collect"))
    parser.add_argument("--quiet", action="store_true")
    add_society_arguments(parser)
    parser.set_defaults(**DEFAULT_SOCIETY)
    args = parser.parse_args(argv)
    try:
        overrides = parse_sets(args.set)
        if args.weeks_per_year is not None:
            overrides["calendar__weeks_per_year"] = args.weeks_per_year
        stats = collect(args.worlds, args.seeds, args.out, society_from_args(args), args.years, args.residents, overrides,
                        args.workers, args.executor, top=args.top, dataset_format=args.format, quiet=args.quiet,
                        llm_cache=args.llm_cache)
    except (ValueError, RuntimeError) as exc:
        print(f"collect_trajectories: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    print(f"{len(stats.runs)} runs -> {stats.out}: {stats.samples} samples from {stats.selected_agent_years} of "
          f"{stats.agent_years} agent-years; card {Path(stats.out).with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
