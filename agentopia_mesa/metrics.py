"""DataCollector reporters: scalar summaries of the town each week.

Reporters are module-level functions (or partials of them), not lambdas, so a model with its
DataCollector can be pickled for checkpoints and for ``batch_run``'s worker processes.
"""

from __future__ import annotations

from functools import partial
from operator import attrgetter
from statistics import fmean, median

import mesa
import pandas as pd

from agentopia_mesa.town.economy import gini
from agentopia_mesa.town.resident import Resident
from agentopia_mesa.town.state import NEEDS

ACTIVITY_KINDS = ("rest", "study", "work", "exercise", "leisure", "shopping", "joint", "encounter", "public")


def week(m) -> int:
    return m.weeks_done


def year(m) -> int:
    return m.calendar.config.start_year + max(0, m.weeks_done - 1) // m.calendar.config.weeks_per_year


def mean_vitality(m) -> float:
    return fmean(r.state.vitality for r in m.residents)


def mean_need(need: str, m) -> float:
    return fmean(r.state.needs[need] for r in m.residents)


def mean_deposit(m) -> float:
    return fmean(r.state.deposit for r in m.residents)


def median_deposit(m) -> float:
    return median(r.state.deposit for r in m.residents)


def gini_deposit(m) -> float:
    return gini([r.state.deposit for r in m.residents])


def ties(m) -> int:
    return m.ties.n_ties()


def friendships(m) -> int:
    return m.ties.n_friendships()


def ties_formed(m) -> int:
    return m.ties.week.formed


def ties_dissolved(m) -> int:
    return m.ties.week.dissolved


def employed(m) -> int:
    return sum(1 for r in m.residents if r.job is not None and r.job.work)


def job_changes(m) -> int:
    return m.job_changes_total


def count(kind: str, m) -> int:
    return m.counts[kind]


MODEL_REPORTERS = {
    "week": week,
    "year": year,
    "mean_vitality": mean_vitality,
    **{f"mean_{need}": partial(mean_need, need) for need in NEEDS},
    "mean_deposit": mean_deposit,
    "median_deposit": median_deposit,
    "gini_deposit": gini_deposit,
    "ties": ties,
    "friendships": friendships,
    "ties_formed": ties_formed,
    "ties_dissolved": ties_dissolved,
    "employed": employed,
    "job_changes": job_changes,
    **{name: partial(count, name) for name in ("purchases", "messages", "gifts")},
    **{f"n_{kind}": partial(count, kind) for kind in ACTIVITY_KINDS},
}


def resident_need(need: str, r) -> int:
    return r.state.needs[need]


def resident_vitality(r) -> int:
    return r.state.vitality


def resident_deposit(r) -> int:
    return r.state.deposit


def resident_acquaintances(r) -> int:
    return r.model.ties.acquaintance.out_degree(r.name)


def resident_reward(component: str, r):
    return r.reward.get(component)


RESIDENT_REPORTERS = {
    "name": attrgetter("name"),
    "vitality": resident_vitality,
    **{need: partial(resident_need, need) for need in NEEDS},
    "deposit": resident_deposit,
    "living_standard": attrgetter("living_standard"),
    "job": attrgetter("job_key"),
    "acquaintances": resident_acquaintances,
    "life_reward": partial(resident_reward, "total"),
    "reward_social": partial(resident_reward, "social"),
    "reward_subjective": partial(resident_reward, "subjective"),
    "reward_economic": partial(resident_reward, "economic"),
}

AGENTTYPE_REPORTERS = {Resident: RESIDENT_REPORTERS}


class TownDataCollector(mesa.DataCollector):
    """Mesa's ``DataCollector`` with the Mesa-documented calls working on this model.

    - ``get_agent_vars_dataframe()``: the residents' table (the only agent type; the data is
      collected once, as ``agenttype_reporters``, also reachable as
      ``get_agenttype_vars_dataframe(Resident)``) instead of Mesa's "No agent reporters" error.
    - ``batch_run`` rows have an integer ``Step``: Mesa keys collections by ``model.time``, a
      float; the list of collection steps ``batch_run`` reads is kept as integers here. The
      tables themselves (and so ``residents.csv``) are unchanged.
    """

    def collect(self, model) -> None:
        super().collect(model)
        steps = getattr(self, "_collection_steps", None)
        if steps and isinstance(steps[-1], float) and steps[-1].is_integer():
            steps[-1] = int(steps[-1])

    def get_agent_vars_dataframe(self):
        if self.agent_reporters or not self.agenttype_reporters:
            return super().get_agent_vars_dataframe()
        frames = [self.get_agenttype_vars_dataframe(kind) for kind in self.agenttype_reporters]
        return frames[0] if len(frames) == 1 else pd.concat(frames).sort_index()
