"""DataCollector reporters: scalar summaries of the town each week (one-liners over the model)."""

from __future__ import annotations

from statistics import fmean, median

from agentopia_mesa.economy import gini
from agentopia_mesa.residents.resident import Resident
from agentopia_mesa.residents.state import NEEDS

ACTIVITY_KINDS = ("rest", "study", "work", "exercise", "leisure", "shopping", "joint", "encounter", "public")


def _mean_need(need: str):
    return lambda m: fmean(r.state.needs[need] for r in m.residents)


MODEL_REPORTERS = {
    "week": lambda m: m.weeks_done,
    "year": lambda m: m.calendar.config.start_year + max(0, m.weeks_done - 1) // m.calendar.config.weeks_per_year,
    "mean_vitality": lambda m: fmean(r.state.vitality for r in m.residents),
    **{f"mean_{need}": _mean_need(need) for need in NEEDS},
    "mean_deposit": lambda m: fmean(r.state.deposit for r in m.residents),
    "median_deposit": lambda m: median(r.state.deposit for r in m.residents),
    "gini_deposit": lambda m: gini([r.state.deposit for r in m.residents]),
    "ties": lambda m: m.ties.n_ties(),
    "friendships": lambda m: m.ties.n_friendships(),
    "ties_formed": lambda m: m.ties.week.formed,
    "ties_dissolved": lambda m: m.ties.week.dissolved,
    "employed": lambda m: sum(1 for r in m.residents if r.job is not None and r.job.work),
    "job_changes": lambda m: m.job_changes_total,
    "purchases": lambda m: m.counts["purchases"],
    "messages": lambda m: m.counts["messages"],
    "gifts": lambda m: m.counts["gifts"],
    **{f"n_{kind}": (lambda kind: lambda m: m.counts[kind])(kind) for kind in ACTIVITY_KINDS},
}

RESIDENT_REPORTERS = {
    "name": "name",
    "vitality": lambda r: r.state.vitality,
    **{need: (lambda need: lambda r: r.state.needs[need])(need) for need in NEEDS},
    "deposit": lambda r: r.state.deposit,
    "living_standard": "living_standard",
    "job": "job_key",
    "acquaintances": lambda r: r.model.ties.acquaintance.out_degree(r.name),
    "life_reward": lambda r: r.reward.get("total"),
    "reward_social": lambda r: r.reward.get("social"),
    "reward_subjective": lambda r: r.reward.get("subjective"),
    "reward_economic": lambda r: r.reward.get("economic"),
}

AGENTTYPE_REPORTERS = {Resident: RESIDENT_REPORTERS}
