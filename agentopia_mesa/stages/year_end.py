"""Year end (paper §4.8): profile rewrite, the job season, then the life reward."""

from __future__ import annotations

import functools
from collections import Counter

from agentopia_mesa.contract.environment import HiringBatchTask, HiringTask, NewJobsTask, ProfileTask, hiring_batches
from agentopia_mesa.environment.careers import age_allows, job_season, new_job_count
from agentopia_mesa.stages.asking import ask_all, judge_all
from agentopia_mesa.stages.meeting import meet
from agentopia_mesa.contract.questions import JobView, JobWishQuestion


def year_end(model) -> None:
    rewrite_profiles(model)
    run_job_season(model)
    meet_colleagues(model)
    model.award_life_reward()
    for r in model.residents:
        r.year_counts = Counter()


def rewrite_profiles(model) -> None:
    """The environment rewrites each profile from the resident's year (traits, talents, text)."""
    weeks = model.config.calendar.weeks_per_year
    tasks = [ProfileTask(resident=r, year_counts=r.year_counts, diaries=r.notebook.recent_diary(weeks)) for r in model.residents]
    for task, verdict in zip(tasks, judge_all(model, tasks), strict=True):
        r = task.resident
        r.traits.update(verdict.traits)
        r.talents.update(verdict.talents)
        if verdict.text:
            r.profile = r.profile.model_copy(update=verdict.text)


def run_job_season(model) -> None:
    cal, career = model.calendar, model.config.career
    task = NewJobsTask(jobs=model.jobs, residents=model.residents, count=new_job_count(model.initial_job_count, career),
                       year=cal.year + 1, income_max=model.config.economy.work_income_range[1])
    for job in judge_all(model, [task])[0].jobs:
        model.jobs[job.key] = job
    holders = Counter(r.job_key for r in model.residents if r.job_key)
    # What a resident sees of the jobs depends only on its age next year: one list per age, shared
    # by the residents of that age (read-only), instead of a view of every job per resident.
    views_at: dict[int, list[JobView]] = {}
    questions = []
    for r in model.residents:
        age_next_year = r.age + 1
        views = views_at.get(age_next_year)
        if views is None:
            views = views_at[age_next_year] = [
                JobView(j.key, j.organisation, j.role, j.weekly_income, dict(j.min_skills),
                        eligible=age_allows(j, age_next_year), vacancies=max(0, j.capacity - holders[j.key]))
                for j in model.jobs.values() if j.max_age is None or age_next_year <= j.max_age
            ]
        questions.append(JobWishQuestion(r, jobs=views))
    wishes = {q.resident.name: list(d.wishes) for q, d in zip(questions, ask_all(model, questions), strict=True)}
    ages = {r.name: r.age + 1 for r in model.residents}
    moves = job_season(model.residents, model.jobs, wishes, ages, functools.partial(hiring_round, model, ages=ages), career)
    model.job_changes_this_year = len([m for m in moves if m[2] is not None])
    model.job_changes_total += model.job_changes_this_year
    model.counts["job_changes"] += model.job_changes_this_year


def hiring_round(model, rank: int, applicants: dict[str, list], holders: Counter, ages: dict[str, int]) -> dict[str, list[str]]:
    """One sub-round of the job season: the environment ranks each job's applicants of wish
    ``rank`` (0-based), jobs in batches of ``career.hiring_batch(rank)`` per call (one job: its own
    ``HiringTask``); ``holders`` counts each job's holders, ``ages`` are next year's. Returns job
    key -> names to hire, best first (``job_season``'s ``select``)."""
    career = model.config.career
    tasks = [HiringTask(job=model.jobs[key], applicants=people, ages=ages, rank=rank, leniency=career.skill_match_leniency,
                        vacancies=max(0, model.jobs[key].capacity - holders[key])) for key, people in applicants.items()]
    asked = hiring_batches(tasks, career.hiring_batch(rank))
    chosen: dict[str, list[str]] = {}
    for task, verdict in zip(asked, judge_all(model, asked), strict=True):
        chosen.update(verdict.ranked if isinstance(task, HiringBatchTask) else {task.job.key: verdict.ranked})
    return chosen


def meet_colleagues(model) -> None:
    """People in the same organisation get to know up to ``colleagues_to_meet`` of each other."""
    by_org: dict[str, list] = {}
    for r in model.residents:
        if r.job is not None and r.job.work:
            by_org.setdefault(r.job.organisation, []).append(r)
    limit = model.config.social.colleagues_to_meet
    when = model.calendar.stamp("jobs")
    for members in by_org.values():
        for r in members:
            others = [m for m in members if m is not r]
            for other in model.random.sample(others, min(limit, len(others))):
                meet(model, r, other, f"as a colleague at {other.job.organisation}", when, familiarity=25.0)
