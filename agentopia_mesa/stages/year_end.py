"""Year end (paper §4.8): profile drift, the job season, then the life reward."""

from __future__ import annotations

from collections import Counter

from agentopia_mesa.environment.careers import age_allows, drift_profile, job_season, new_jobs
from agentopia_mesa.stages.asking import ask_all
from agentopia_mesa.contract.questions import JobView, JobWishQuestion


def year_end(model) -> None:
    for r in model.residents:
        drift_profile(r, r.year_counts, model.random, model.config.career)
    run_job_season(model)
    meet_colleagues(model)
    model.award_life_reward()
    for r in model.residents:
        r.year_counts = Counter()


def run_job_season(model) -> None:
    cal, career = model.calendar, model.config.career
    for job in new_jobs(model.jobs, model.residents, model.initial_job_count, cal.year + 1,
                        model.config.economy.work_income_range[1], model.random, career):
        model.jobs[job.key] = job
    holders = Counter(r.job_key for r in model.residents if r.job_key)
    questions = []
    for r in model.residents:
        age_next_year = r.age + 1
        views = [
            JobView(j.key, j.organisation, j.role, j.weekly_income, dict(j.min_skills),
                    eligible=age_allows(j, age_next_year), vacancies=max(0, j.capacity - holders[j.key]))
            for j in model.jobs.values() if j.max_age is None or age_next_year <= j.max_age
        ]
        questions.append(JobWishQuestion(r, jobs=views))
    wishes = {q.resident.name: list(d.wishes) for q, d in zip(questions, ask_all(model, questions), strict=True)}
    ages = {r.name: r.age + 1 for r in model.residents}
    moves = job_season(model.residents, model.jobs, wishes, ages, model.random, career)
    model.job_changes_this_year = len([m for m in moves if m[2] is not None])
    model.job_changes_total += model.job_changes_this_year
    model.counts["job_changes"] += model.job_changes_this_year


def meet_colleagues(model) -> None:
    """People in the same organisation get to know up to ``colleagues_to_meet`` of each other."""
    by_org: dict[str, list] = {}
    for r in model.residents:
        if r.job is not None and r.job.work:
            by_org.setdefault(r.job.organisation, []).append(r)
    limit = model.config.social.colleagues_to_meet
    for members in by_org.values():
        for r in members:
            others = [m for m in members if m is not r]
            for other in model.random.sample(others, min(limit, len(others))):
                model.ties.meet(r.name, other.name, model.calendar.week_index, familiarity=25.0)
