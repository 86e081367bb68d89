"""The paper's emergent-behaviour measures (§8.1) of one run, year by year.

``run_measures(run)`` gives one row per ``year_index`` (0 = start, k = end of year k): network
density, clustering and communities; the Gini of deposits; mean needs; relationships formed and
dissolved; social mobility (job rank transitions); and the mean life-reward components. Life
reward totals are z-scores within a year (mean 0 by construction), so well-being is compared
through the raw components and needs, never through the mean total.

``innate_table(run)`` and ``innate_correlations(...)`` relate what each resident started with
(deposit, weekly income, acquaintances) to the life reward it went on to earn.
"""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd

from agentopia_mesa.analysis.network import network_measures, positive_ties, tie_changes
from agentopia_mesa.analysis.run_data import RunData
from agentopia_mesa.analysis.stats import fisher_ci, job_rank, mobility, pearson, rank_thresholds, spearman

WEEKLY_AT_YEAR_END = ("gini_deposit", "mean_deposit", "median_deposit", "mean_vitality", "mean_mood", "mean_material",
                      "mean_social", "mean_esteem", "ties", "friendships", "employed")
REWARD_MEANS = {"social": "reward_social", "subjective": "reward_subjective", "economic": "reward_economic",
                "misery_penalties": "misery_penalties", "liked_by": "liked_by", "respected_by": "respected_by"}
INNATE_FIELDS = ("start_deposit", "start_income", "start_acquaintances")
OUTCOMES = ("life_reward", "z_social", "z_subjective", "z_economic")


def graphs_at(snapshot: pd.DataFrame, names: list[str]) -> dict[str, nx.DiGraph]:
    """The acquaintance, affection and respect graphs of one snapshot (one year_index) of ``ties.csv``."""
    graphs = {}
    for graph in ("acquaintance", "affection", "respect"):
        g = nx.DiGraph()
        g.add_nodes_from(names)
        graphs[graph] = g
    attrs = {"acquaintance": "familiarity", "affection": "score", "respect": "score"}
    for graph, a, b, w in zip(snapshot["graph"], snapshot["source"], snapshot["target"], snapshot["weight"], strict=True):
        graphs[graph].add_edge(a, b, **{attrs[graph]: w})
    return graphs


def job_ranks(run: RunData) -> dict[int, dict[str, int]]:
    """Each resident's job rank per ``year_index``: 0 = no paid job, 1-4 = income quartile of the
    world's paid jobs at the start (fixed cut points, so moves between years are comparable)."""
    yearly = run.residents_yearly
    if yearly is None:
        return {}
    start_jobs = [j["weekly_income"] for j in run.world.get("jobs", []) if j.get("work", True)]
    thresholds = rank_thresholds(start_jobs or yearly.loc[yearly["year_index"] == 0, "job_income"].tolist())
    ranks: dict[int, dict[str, int]] = {}
    for k, rows in yearly.groupby("year_index"):
        known = rows[rows["job_income"].notna()]
        ranks[int(k)] = {n: job_rank(i, thresholds) for n, i in zip(known["name"], known["job_income"], strict=True)}
    return ranks


def run_measures(run: RunData, seed: int = 0) -> pd.DataFrame:
    """One row per year_index with every measure this run's files allow (others NaN)."""
    metrics, per_year = run.metrics, run.weeks_per_year
    week = metrics["week"]
    ranks = job_ranks(run)
    rewards = run.rewards
    names = run.names or (sorted(run.residents_yearly["name"].unique()) if run.residents_yearly is not None else [])
    rows, liked_before = [], None
    snapshots = dict(iter(run.ties.groupby("year_index"))) if run.ties is not None else {}
    for k in range(run.years + 1):
        end = k * per_year
        at_end = metrics[week == end]
        if at_end.empty:
            break  # an unfinished run: measure the years it completed
        row: dict[str, float] = {"year_index": k, "year": run.start_year + k - 1}
        row.update({c: float(at_end[c].iloc[0]) for c in WEEKLY_AT_YEAR_END if c in at_end})
        in_year = metrics[(week > end - per_year) & (week <= end)] if k else metrics.iloc[0:0]
        row["ties_formed"] = float(in_year["ties_formed"].sum()) if k else math.nan
        row["ties_dissolved"] = float(in_year["ties_dissolved"].sum()) if k else math.nan
        if k and "job_changes" in metrics:
            before = metrics.loc[week == end - per_year, "job_changes"]
            row["job_changes"] = float(at_end["job_changes"].iloc[0] - (before.iloc[0] if len(before) else 0))
        if run.ties is not None:
            graphs = graphs_at(snapshots.get(k, run.ties.iloc[0:0]), names)
            row.update(network_measures(graphs["acquaintance"], graphs["affection"], graphs["respect"], seed=seed))
            liked = set(positive_ties(graphs["affection"]).edges)
            if liked_before is not None:
                changes = tie_changes(liked_before, liked)
                row["affection_formed"], row["affection_dissolved"] = changes["formed"], changes["dissolved"]
            liked_before = liked
        if k and k - 1 in ranks and k in ranks:
            row.update(mobility(ranks[k - 1], ranks[k]))
        if k and not rewards.empty:
            year_rewards = rewards[rewards["year"] == run.start_year + k - 1]
            for column, name in REWARD_MEANS.items():
                if column in year_rewards and len(year_rewards):
                    row[f"mean_{name}"] = float(year_rewards[column].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def innate_table(run: RunData) -> pd.DataFrame:
    """Per resident: starting deposit, weekly income and acquaintances, and the life reward
    earned (mean over the years of the yearly total and of its z-scored components)."""
    yearly = run.residents_yearly
    if yearly is None or run.rewards.empty:
        return pd.DataFrame(columns=["name", *INNATE_FIELDS, *OUTCOMES])
    start = yearly[yearly["year_index"] == 0].set_index("name")
    outcome = run.rewards.groupby("name")[["total", "z_social", "z_subjective", "z_economic"]].mean()
    outcome = outcome.rename(columns={"total": "life_reward"})
    table = pd.DataFrame({
        "start_deposit": start["deposit"],
        "start_income": start["weekly_income"],
        "start_acquaintances": start["acquaintances"],
    }).join(outcome, how="inner")
    return table.reset_index().rename(columns={"index": "name"})


def innate_correlations(table: pd.DataFrame) -> pd.DataFrame:
    """Pearson r (with a Fisher 95 % interval) and Spearman rho of each innate field with each
    outcome, over residents."""
    rows = []
    for innate in INNATE_FIELDS:
        for outcome in OUTCOMES:
            if innate not in table or outcome not in table:
                continue
            r = pearson(table[innate], table[outcome])
            low, high = fisher_ci(r, len(table))
            rows.append({"innate": innate, "outcome": outcome, "pearson_r": r, "r_low": low, "r_high": high,
                         "spearman_rho": spearman(table[innate], table[outcome]), "n": len(table)})
    return pd.DataFrame(rows, columns=["innate", "outcome", "pearson_r", "r_low", "r_high", "spearman_rho", "n"])
