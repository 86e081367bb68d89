"""The life reward at each year end: residents rate each other, then the pure formulas in
``reward.py`` turn ratings, fulfilment history and deposits into rewards, returns and advantages.
"""

from __future__ import annotations

import pandas as pd

from agentopia_mesa import reward
from agentopia_mesa.contract.environment import RatingTask
from agentopia_mesa.stages.asking import ask_all, judge_all, prepare
from agentopia_mesa.contract.questions import PublicView, RatingQuestion

REWARD_COLUMNS = [
    "year", "name", "model", "social", "subjective", "economic", "z_social", "z_subjective", "z_economic", "total",
    "misery_penalties", "liked_by", "respected_by", "return", "advantage",
]


def collect_ratings(model) -> None:
    """Every resident privately rates at most ``max_related_for_ranking`` (20) people
    (``rated_people``): with ``reward.rated_people = "notes"`` (the paper) those whose notes it
    read or wrote most recently, with "ties" those it interacted with most recently.

    With ``model.ratings == "environment"`` the environment rates on each resident's behalf, from
    that resident's own context, so that in a mixed society every rater uses the same judge (as
    the paper's code does); a resident the environment gives no verdict for (the rule
    environment, or a failed LLM call) rates itself.
    """
    limit = model.config.reward.max_related_for_ranking
    public = {r.name: PublicView(r.weekly_income, max(r.state.skills.values(), default=0), r.talents.get("integrity", 50))
              for r in model.residents}
    questions = [RatingQuestion(r, people=rated_people(model, r, limit), public=public) for r in model.residents]
    answers: list = [None] * len(questions)
    if getattr(model, "ratings", "self") == "environment":
        answers = judge_all(model, [RatingTask(question=prepare(model, q)) for q in questions])
    left = [i for i, answer in enumerate(answers) if answer is None]
    for i, decision in zip(left, ask_all(model, [questions[i] for i in left]), strict=True):
        answers[i] = decision
    for question, decision in zip(questions, answers, strict=True):
        allowed = set(question.people)
        model.ties.set_ratings(
            question.resident.name,
            {x.name: (x.affection, x.respect) for x in decision.ratings if x.name in allowed},
        )


def rated_people(model, r, limit: int) -> list[str]:
    """Whom ``r`` rates (``reward.rated_people``): the people of its most recently used notes
    (``Notebook.recent_people``), or of its most recent interactions (``SocialTies.recently_met``)."""
    if model.config.reward.rated_people == "notes":
        return [n for n in r.notebook.recent_people(limit) if n in model.residents_by_name and n != r.name]
    return model.ties.recently_met(r.name, limit)


def award_life_reward(model) -> None:
    """Ratings, then this year's life reward for every resident; returns and advantages of all years."""
    cfg, cal = model.config.reward, model.calendar
    collect_ratings(model)
    names = [r.name for r in model.residents]
    affection = model.ties.ratings(model.ties.affection)
    respect = model.ties.ratings(model.ties.respect)
    social = reward.social_reward(affection, respect, names, cfg)
    period = cal.config.weeks_per_year
    history = {r.name: [*r.history[-(period - 1):], r.state.snapshot()] if period > 1 else [r.state.snapshot()] for r in model.residents}
    subjective = reward.subjective_reward(history, cfg)
    economic = reward.economic_reward(
        {r.name: r.deposit_at_period_start for r in model.residents}, {r.name: r.state.deposit for r in model.residents}
    )
    totals = reward.life_reward(social, {n: s.score for n, s in subjective.items()}, economic, cfg)
    metrics = reward.social_metrics(affection, respect, names, cfg)
    for r in model.residents:
        t = totals[r.name]
        row = {
            "year": cal.year, "name": r.name, "model": model.minds[r.name].name, "social": t.social, "subjective": t.subjective, "economic": t.economic,
            "z_social": t.z_social, "z_subjective": t.z_subjective, "z_economic": t.z_economic, "total": t.total,
            "misery_penalties": subjective[r.name].penalties,
            "liked_by": metrics[r.name]["liked_by_count"], "respected_by": metrics[r.name]["respected_by_count"],
        }
        model.reward_rows.append(row)
        r.reward = row
        r.history = []
    _update_returns(model)


def _update_returns(model) -> None:
    """Normalised discounted returns and advantages over the years so far (final at the run's end)."""
    gamma = model.config.reward.gamma
    by_name: dict[str, list[dict]] = {}
    for row in model.reward_rows:
        by_name.setdefault(row["name"], []).append(row)
    for rows in by_name.values():
        totals = [row["total"] for row in rows]
        for row, g, a in zip(rows, reward.normalised_returns(totals, gamma), reward.advantages(totals, gamma), strict=True):
            row["return"], row["advantage"] = g, a


def reward_table(model) -> pd.DataFrame:
    return pd.DataFrame(model.reward_rows, columns=REWARD_COLUMNS)
