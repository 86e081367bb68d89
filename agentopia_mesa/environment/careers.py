"""Year-end careers (paper §2.1, §4.8): the job season, new harder jobs, profile drift."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence

from agentopia_mesa.config import CareerConfig
from agentopia_mesa.contract.decisions import STAY
from agentopia_mesa.town.resident import Resident
from agentopia_mesa.world.schema import JobSpec


def age_allows(job: JobSpec, age: int) -> bool:
    return (job.min_age is None or age >= job.min_age) and (job.max_age is None or age <= job.max_age)


def skill_fit(job: JobSpec, skills: dict[str, int], leniency: float) -> float | None:
    """How far a resident's skills exceed a job's minimums, or None if some skill falls short.

    Matching is lenient, as the paper's: a skill counts as met at ``leniency`` x the minimum.
    """
    surplus = 0.0
    for skill, minimum in job.min_skills.items():
        level = skills.get(skill, 0)
        if level < leniency * minimum:
            return None
        surplus += level - minimum
    return surplus


def job_season(
    residents: Sequence[Resident],
    jobs: dict[str, JobSpec],
    wishes: dict[str, list[str]],
    ages: dict[str, int],
    select: Callable[[int, dict[str, list[Resident]], Counter], dict[str, list[str]]],
    config: CareerConfig,
) -> list[tuple[str, str | None, str | None]]:
    """Fill jobs from ranked wishes, one sub-round per wish rank; returns (name, old, new) moves.

    ``ages`` are the ages the residents will have in the job (next year). Residents over a
    job's maximum age lose it first. ``STAY`` keeps the current job and ends a
    resident's season. Each sub-round, ``select(rank, applicants by job key, holders)`` ranks the
    applicants of every job (the environment's hiring task); they are hired in that order while
    the job has room, and only if its age limits allow (a hard limit whoever selects). Anyone
    not placed keeps what they had.
    """
    moves: list[tuple[str, str | None, str | None]] = []
    for r in residents:
        job = jobs.get(r.job_key) if r.job_key else None
        if job is not None and not age_allows(job, ages[r.name]):
            moves.append((r.name, r.job_key, None))
            r.job_key = None
    holders = Counter(r.job_key for r in residents if r.job_key)
    settled: set[str] = set()
    by_name = {r.name: r for r in residents}
    for rank in range(config.max_wishes):
        applicants: dict[str, list[Resident]] = {}
        for r in residents:
            ranked = wishes.get(r.name, [])
            if r.name in settled or rank >= len(ranked):
                continue
            wish = ranked[rank]
            if wish == STAY:
                if r.job_key is not None:
                    settled.add(r.name)
                continue
            if wish in jobs and wish != r.job_key:
                applicants.setdefault(wish, []).append(r)
        applicants = dict(sorted(applicants.items()))
        chosen = select(rank, applicants, holders) if applicants else {}
        for key, candidates in applicants.items():
            job, allowed = jobs[key], {r.name for r in candidates}
            for name in chosen.get(key, []):
                if holders[key] >= job.capacity:
                    break
                r = by_name.get(name)
                if name not in allowed or name in settled or not age_allows(job, ages[name]):
                    continue
                if r.job_key:
                    holders[r.job_key] -= 1
                moves.append((name, r.job_key, key))
                r.job_key = key
                r.jobs_held += 1
                holders[key] += 1
                settled.add(name)
    return moves


def new_job_count(initial_count: int, config: CareerConfig) -> int:
    """max(2, N0/10) new positions a year (paper §2.1)."""
    return max(config.new_jobs_min, int(initial_count * config.new_jobs_fraction))


def new_jobs(
    jobs: dict[str, JobSpec],
    residents: Sequence[Resident],
    count: int,
    year: int,
    income_max: int,
    rng: random.Random,
    config: CareerConfig,
) -> list[JobSpec]:
    """``count`` new challenging positions (paper §2.1), modelled on existing work positions.

    Each minimum skill is at least 50 above the best resident's level (at most 500); income is
    in [0.2 x sum of minimums, min(sum, income_max)]; capacity 1-2; weekly skill gain 5-10.
    """
    bases = sorted((j for j in jobs.values() if j.work and j.min_skills), key=lambda j: j.key)
    if not bases:
        return []
    created = []
    for i in range(count):
        base = rng.choice(bases)
        skills = sorted(base.min_skills)[: rng.randint(1, min(2, len(base.min_skills)))]
        role = f"Senior {base.role}" if not base.role.startswith("Senior") else f"Lead {base.role.removeprefix('Senior ')}"
        created.append(designed_job(
            base, role, f"A demanding new position at {base.organisation}, opened in {year}.", skills,
            f"{job_slug(base.organisation)}/y{year}-{i + 1}", residents, income_max, rng, config))
    return created


def job_slug(organisation: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", organisation.lower()).strip("-")[:40] or "org"


def designed_job(base: JobSpec, role: str, description: str, skills: list[str], key: str,
                 residents: Sequence[Resident], income_max: int, rng: random.Random, config: CareerConfig) -> JobSpec:
    """A new position with the paper's numbers, whoever designed its role: each minimum skill at
    least 50 above the best resident's level (at most 500); income in [0.2 x sum of minimums,
    min(sum, income_max)]; capacity 1-2; weekly skill gain 5-10; base's organisation, place and ages."""
    minimums = {
        s: min(config.new_job_skill_cap, max((r.state.skills.get(s, 0) for r in residents), default=0) + config.new_job_skill_margin)
        for s in skills
    }
    total = sum(minimums.values())
    low, high = int(0.2 * total), max(int(0.2 * total), min(total, income_max))
    return JobSpec(
        key=key, organisation=base.organisation, role=role[:60], work=True, description=description,
        weekly_income=rng.randint(low, high), min_skills=minimums,
        weekly_skill_gain={s: rng.randint(*config.new_job_skill_growth) for s in skills},
        capacity=rng.randint(*config.new_job_capacity), min_age=base.min_age, max_age=base.max_age,
        place=base.place,
    )


def drift_profile(resident: Resident, year_counts: Counter, rng: random.Random,
                  config: CareerConfig) -> tuple[dict[str, int], dict[str, int]]:
    """New traits and talents after a year: bounded change (traits at most +-5, talents +-3), led
    by how the year went. The resident is not changed."""
    social = year_counts["joint"] + year_counts["encounter"] + year_counts["public"]
    tendencies = {
        "extraversion": 1 if social >= 8 else -1,
        "confidence": 1 if resident.need("esteem") >= 50 else -1,
        "curiosity": 1 if year_counts["study"] + year_counts["public"] >= 5 else 0,
    }
    traits = {}
    for trait, value in resident.traits.items():
        delta = max(-config.max_trait_drift, min(config.max_trait_drift, tendencies.get(trait, 0) + rng.randint(-2, 2)))
        traits[trait] = max(0, min(100, value + delta))
    talent_tendencies = {
        "health": 1 if year_counts["exercise"] >= 5 else (-1 if resident.state.vitality < 40 else 0),
        "intelligence": 1 if year_counts["study"] >= 5 else 0,
        "communication": 1 if social >= 10 else 0,
    }
    talents = {}
    for talent, value in resident.talents.items():
        delta = max(-config.max_talent_drift, min(config.max_talent_drift, talent_tendencies.get(talent, 0) + rng.randint(-1, 1)))
        talents[talent] = max(0, min(100, value + delta))
    return traits, talents
