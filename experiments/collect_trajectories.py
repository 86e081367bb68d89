"""Collect trajectories from several worlds and seeds, then build one RFT dataset from all of them.

The runs go through the sweep runner (resumable: run the same command again to finish an
interrupted collection; finished runs are kept), with the sweep's ``[llm] mix`` of LLM minds;
every sweep run with LLM minds records its decisions, as ``agentopia run`` does. The dataset is the paper's §7 selection
over every run: per run and year, the top 25 % of residents by advantage.

    # a minute on a laptop: the fake backend (schema-valid made-up answers), 2 worlds x 2 seeds
    python experiments/collect_trajectories.py --worlds school apartment --seeds 2 --residents 12 --years 2 \\
        --weeks-per-year 2 --mix fake=1 --out runs/collect-demo

    # the real thing: three worlds x 4 seeds of 100 residents for 10 years with a served model
    python experiments/collect_trajectories.py --worlds apartment school rivertown --seeds 4 \\
        --mix ollama:agentopia-base=1 --workers 3 --out runs/collect

Writes ``OUT/runs/<id>/`` (run directories with ``decisions.jsonl``), ``OUT/index.csv`` and
``OUT/dataset/sft.jsonl`` with its card ``OUT/dataset/sft.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def collect(worlds: list[str], seeds: int, out: Path, mix: str, years: int = 10, residents: int | None = None,
            weeks_per_year: int | None = None, workers: int = 1, executor: str = "processes", seed: int = 2026,
            top: float | None = None, dataset_format: str = "chat", quiet: bool = False):
    """Run every world x seed with recording LLM minds, then export one SFT dataset; returns its stats."""
    from agentopia_mesa.datasets.card import sft_card, write_card
    from agentopia_mesa.datasets.selection import TOP_FRACTION
    from agentopia_mesa.datasets.sft import export_sft
    from agentopia_mesa.sweeps import run_sweep, sweep_from_dict

    sweep = {"name": "collect-trajectories", "years": years, "seeds": seeds, "seed": seed, "executor": executor, "workers": workers}
    if residents is not None:
        sweep["residents"] = residents
    config = {
        "sweep": sweep,
        "grid": {"world": list(worlds)},
        "llm": {"mix": mix},
    }
    if weeks_per_year is not None:
        config["fixed"] = {"calendar__weeks_per_year": weeks_per_year}
    outcome = run_sweep(sweep_from_dict(config), out, progress=not quiet)
    if not outcome.complete:
        failed = "; ".join(f"{run}: {why}" for run, why in outcome.failed.items())
        raise RuntimeError(f"{len(outcome.failed)} run(s) failed ({failed}); run the same command again to retry them")
    dataset = Path(out) / "dataset" / "sft.jsonl"
    stats = export_sft([out], dataset, fraction=TOP_FRACTION if top is None else top, layout=dataset_format)
    write_card(dataset, sft_card(stats))
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", nargs="+", default=["apartment", "school", "rivertown"], help="built-in worlds or world files")
    parser.add_argument("--seeds", type=int, default=2, help="replicates per world (default: 2)")
    parser.add_argument("--mix", default="embedded=1", help="LLM minds, SPEC=FRACTION,... (default: embedded=1; the rest use rules)")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--residents", type=int, default=None, help="residents per town (default: the world's)")
    parser.add_argument("--weeks-per-year", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1, help="runs at once (each loads its own model)")
    parser.add_argument("--executor", choices=("sequential", "processes", "ray"), default="processes")
    parser.add_argument("--top", type=float, default=None, help="share of residents kept per year (default: 0.25)")
    parser.add_argument("--format", choices=("chat", "sharegpt"), default="chat")
    parser.add_argument("--out", type=Path, default=Path("runs/collect"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        stats = collect(args.worlds, args.seeds, args.out, args.mix, args.years, args.residents, args.weeks_per_year,
                        args.workers, args.executor, top=args.top, dataset_format=args.format, quiet=args.quiet)
    except (ValueError, RuntimeError) as exc:
        print(f"collect_trajectories: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    print(f"{len(stats.runs)} runs -> {stats.out}: {stats.samples} samples from {stats.selected_agent_years} of "
          f"{stats.agent_years} agent-years; card {Path(stats.out).with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
