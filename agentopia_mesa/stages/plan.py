"""Plan (paper §4, stage 1): goals, the week's living standard and one intention per day (with
``activity.plan_activity_words``, also in the resident's own words)."""

from __future__ import annotations

from agentopia_mesa.town.economy import affordable_standards, resolve_living_standard
from agentopia_mesa.stages.asking import ask_all
from agentopia_mesa.contract.questions import PlanQuestion
from agentopia_mesa.town.notebook import GENERAL


def plan(model) -> None:
    economy, cal = model.config.economy, model.calendar
    days = cal.config.days_per_week
    words = model.config.activity.plan_activity_words
    questions = [PlanQuestion(r, affordable=affordable_standards(r.state.deposit, economy), days=days, activity_words=words)
                 for r in model.residents]
    for question, decision in zip(questions, ask_all(model, questions), strict=True):
        r = question.resident
        standard = resolve_living_standard(decision.living_standard, r.state.deposit, economy)
        r.living_standard = standard.name
        r.state.change_deposit(-standard.weekly_cost)
        r.state.change_need("material", standard.material_change)
        intentions = list(decision.intentions[:days])
        r.intentions = intentions + ["rest"] * (days - len(intentions))
        r.planned = list(decision.activities[:days]) + [""] * (days - len(decision.activities[:days]))
        r.notebook.write(
            GENERAL, f"Long-term: {decision.long_term_goals} Short-term: {decision.short_term_goals}",
            "", cal.stamp("plan"), cal.week_index,
        )
        model.counts[f"standard_{standard.name}"] += 1
