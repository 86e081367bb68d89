"""Mesa's own ``batch_run`` over AgentopiaModel, as any Mesa user would write it.

    python experiments/batch_run_example.py            # 2 decay rates x 2 seeds, 30 residents, 2 years
    python experiments/batch_run_example.py --residents 5 --years 1 --processes 1   # a few seconds
    python experiments/batch_run_example.py --residents 5 --years 1 --env-llm fake  # judged by an LLM environment

The town is ``agentopia run``'s (``run_settings`` of its options, ``batch_parameters`` of those:
``agentopia_mesa/run/batch.py``). Every configuration constant is a constructor keyword
(``needs__decay``, ``calendar__weeks_per_year``, ...), so ``batch_run`` can sweep it; ``rng=[...]``
gives one run per seed (derived here with numpy's SeedSequence). The rows hold the model reporters and, one row per resident, the agent
reporters, including the yearly life reward and its components.

batch_run keeps every row in memory and cannot resume; for long sweeps use
``agentopia sweep experiments/<config>.toml`` instead.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from mesa.batchrunner import batch_run

from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.run.batch import batch_parameters
from agentopia_mesa.run.town_options import run_settings

WEEKS_PER_YEAR = 10


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description="Mesa's batch_run over AgentopiaModel: 2 need-decay rates x seeds.")
    parser.add_argument("--residents", type=int, default=30)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=2, help="replicates per decay rate (default: 2)")
    parser.add_argument("--processes", type=int, default=2, help="batch_run's number_processes (default: 2)")
    parser.add_argument("--env-llm", default=None, metavar="SPEC",
                        help="judge with an LLM environment on SPEC (e.g. fake, embedded, ollama:MODEL); default: the rules")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    town = {"world": "apartment", "residents": args.residents, "years": args.years}
    if args.env_llm:  # picklable factories: each worker process builds its own client
        town.update(env="llm", env_llm=args.env_llm)
    parameters = {**batch_parameters(run_settings(town)), "needs__decay": [0.1, 0.2]}
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(2026).spawn(args.seeds)]
    rows = batch_run(
        AgentopiaModel,
        parameters=parameters,
        rng=seeds,
        max_steps=args.years * WEEKS_PER_YEAR,
        number_processes=args.processes,
        data_collection_period=WEEKS_PER_YEAR,  # one collection a year: the start and every year end
        display_progress=not args.quiet,
    )
    frame = pd.DataFrame(rows)
    last = frame[frame["Step"] == frame["Step"].max()]
    # life_reward is z-scored within each year (mean 0 in every run): compare the raw components.
    print(last.groupby("needs__decay")[["gini_deposit", "mean_mood", "reward_subjective", "reward_economic"]].mean())
    return frame


if __name__ == "__main__":  # batch_run spawns processes: keep the entry point guarded
    main()
