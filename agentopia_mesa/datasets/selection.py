"""Which agent-years become training data: rejection sampling on the yearly advantage.

Agentopia §7 (released ``scripts/build_rft_data.py``): for each year separately, rank the
residents by that year's advantage A_k (§6.5) and keep the top ``rft_top_fraction`` = 25 %, at
least one. The ranking itself is ``reward.select_top``; this module feeds it a run's reward
table and says which LLM calls of the chosen agent-years are fit to train on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pandas as pd

from agentopia_mesa import reward
from agentopia_mesa.config import RewardConfig

TOP_FRACTION = RewardConfig().rft_top_fraction  # 0.25


def advantages_by_year(rewards: pd.DataFrame, first_years: int | None = None, gamma: float = RewardConfig().gamma,
                       models: Collection[str] | None = None) -> dict[int, dict[str, float]]:
    """{year: {resident: advantage}} from a reward table (rows: year, name, total, advantage[, model]).

    ``first_years``: keep only the run's first N years, as if it had ended there; advantages
    are then recomputed from the totals (returns are normalised over the years that exist).
    ``models``: rank only residents whose ``model`` column is one of these.
    """
    table = rewards
    if models is not None:
        table = table[table["model"].isin(list(models))]
    years = sorted(table["year"].unique())
    if first_years is not None:
        years = years[:first_years]
        table = table[table["year"].isin(years)].sort_values(["name", "year"])
        table = table.assign(advantage=table.groupby("name")["total"].transform(
            lambda totals: pd.Series(reward.advantages(list(totals), gamma), index=totals.index)))
    by_year: dict[int, dict[str, float]] = {int(y): {} for y in years}
    for row in table.itertuples(index=False):
        by_year[int(row.year)][str(row.name)] = float(row.advantage)
    return by_year


def select_agent_years(by_year: Mapping[int, Mapping[str, float]], fraction: float = TOP_FRACTION) -> dict[tuple[str, int], float]:
    """{(resident, year): advantage} of the kept agent-years: per year the top ``fraction``
    (at least one), ties broken by name (``reward.select_top``)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"--top: fraction must be in (0, 1], got {fraction}")
    return {(name, year): by_year[year][name] for year, names in reward.select_top(by_year, fraction).items() for name in names}


def trainable(entry: Mapping) -> bool:
    """An LLM call fit for training: the model answered and its answer was used (no fallback,
    not rejected by validation or the environment)."""
    return entry.get("response") is not None and not entry.get("fallback") and not entry.get("rejected")
