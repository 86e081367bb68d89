"""From a checked LLM answer to a verdict: the code disposes (paper §2.4).

Every proposed change is clipped to the paper's per-activity limits (``ActivityConfig``); money
changes only for work, within the resident's pay tier; traits move at most ±5 and talents ±3 a
year; a new job's numbers follow the paper's rules whatever the model wrote. Runs on the
simulation's thread, in task order, because new jobs draw from the model's seeded ``rng``.
"""

from __future__ import annotations

import random

from pydantic import BaseModel

from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.contract import environment as e
from agentopia_mesa.environment import answers as a
from agentopia_mesa.environment.careers import designed_job, job_slug
from agentopia_mesa.environment.outcomes import clamp_changes
from agentopia_mesa.town.economy import Offer
from agentopia_mesa.town.public_event import PublicEvent


def _proposal(answer, keys: tuple[str, ...], skill: str | None) -> dict:
    changes = {key: getattr(answer, key) for key in keys}
    if skill and answer.skill_gain:
        changes["skills"] = {skill: answer.skill_gain}
    return changes


def to_verdict(task: e.Task, answer: BaseModel, rng: random.Random, config: SimulationConfig) -> e.Verdict:
    limits = config.activity
    match task:
        case e.SoloTask():
            proposal = _proposal(answer, ("vitality", "mood", "esteem"), _solo_skill(task))
            if task.activity == "work":  # money only for work, within the resident's pay tier
                proposal["money"] = max(0, min(answer.money, task.pay[1]))
            return e.SoloVerdict(answer.consumption, clamp_changes(proposal, limits.solo), answer.outcome, answer.outcome)
        case e.ShopTask():
            prices = {p.name: p for p in task.price_list}
            chosen = [prices[i] for i in dict.fromkeys(answer.items)]
            return e.ShopVerdict([Offer(p.name, p.category, p.price) for p in sorted(chosen, key=lambda p: (p.price, p.name))])
        case e.TurnTask():
            verification = answer.verification if task.turns else ""
            rejected = verification == e.REJECT
            speaker = "" if answer.next_speaker == a.END else answer.next_speaker
            return e.TurnVerdict(answer.feedback, speaker, verification, answer.failure if rejected else "",
                                 answer.reason if rejected else "")
        case e.GatheringTask():
            changes, quality, notes = {}, {}, {}
            names = [p.name for p in task.people]
            for part in answer.participants:
                proposal = _proposal(part, ("vitality", "mood", "social", "esteem"), task.skill)
                changes[part.name] = clamp_changes(proposal, limits.joint)
                notes[part.name] = part.outcome
                for other in names:
                    if other != part.name:
                        quality[part.name, other] = max(-1.0, min(1.0, part.enjoyed / 100))
            return e.GatheringVerdict(changes, quality, notes)
        case e.PublicEventTask():
            changes = {part.name: clamp_changes(_proposal(part, ("vitality", "mood", "social", "esteem"), task.event.skill),
                                                limits.public) for part in answer.participants}
            return e.PublicEventVerdict(changes, {part.name: part.outcome for part in answer.participants})
        case e.EventsTask():
            return _events(task, answer)
        case e.EncountersTask():
            return e.EncountersVerdict([e.Encounter(p.a, p.b, p.place, p.scene, p.day) for p in answer.encounters])
        case e.NewJobsTask():
            taken = set(task.jobs)
            jobs = []
            for i, design in enumerate(answer.jobs):
                base = task.jobs[design.based_on]
                key = _free_key(f"{job_slug(base.organisation)}/y{task.year}-{i + 1}", taken)
                taken.add(key)
                jobs.append(designed_job(base, design.role or base.role, design.description, sorted(set(design.skills)), key,
                                         task.residents, task.income_max, rng, config.career))
            return e.NewJobsVerdict(jobs)
        case e.HiringTask():
            return e.HiringVerdict(list(dict.fromkeys(answer.hire))[: task.vacancies])
        case e.HiringBatchTask():  # the answer holds only applicants within the free places (answers.repaired)
            ranked = {t.job.key: [] for t in task.tasks}
            ranked.update({entry.job: list(entry.hire) for entry in answer.hires})
            return e.HiringBatchVerdict(ranked)
        case e.ProfileTask():
            r, career = task.resident, config.career
            traits = _drifted(r.traits, answer.traits, career.max_trait_drift)
            talents = _drifted(r.talents, answer.talents, career.max_talent_drift)
            text = {k: v for k in a.updatable_texts() if (v := getattr(answer, k)).strip()}
            return e.ProfileVerdict(traits, talents, text)
        case e.RatingTask():
            allowed = set(task.question.people)
            return answer.model_copy(update={"ratings": [x for x in answer.ratings if x.name in allowed]})
    raise TypeError(f"no verdict for {type(task).__name__}")


def _solo_skill(task: e.SoloTask) -> str | None:
    """The skill a solo slot trains: the stated one when studying or working, fitness when exercising."""
    if task.activity in ("study", "work"):
        return task.skill
    return "fitness" if task.activity == "exercise" else None


def _drifted(values: dict[str, int], drifts: list[a.Drift], bound: int) -> dict[str, int]:
    out = dict(values)
    for d in drifts:
        if d.name in out:
            out[d.name] = max(0, min(100, values[d.name] + max(-bound, min(bound, d.change))))
    return out


def _free_key(key: str, taken: set[str]) -> str:
    n, candidate = 1, key
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    return candidate


def _events(task: e.EventsTask, answer: a.EventsAnswer) -> e.EventsVerdict:
    week = task.week_index
    events = [
        PublicEvent(f"E{week}-{i}", ev.name, ev.place, ev.day, ev.description, ev.skill, ev.until_week, eligible=ev.eligible)
        for i, ev in enumerate(ev for ev in task.running if ev.until_week >= week)
    ]
    for ev in answer.events:
        events.append(PublicEvent(f"E{week}-{len(events)}", ev.name, ev.place, ev.day, ev.description, ev.skill or None,
                                  week + min(ev.repeat_weeks, task.max_repeat) - 1,
                                  eligible=tuple(dict.fromkeys(ev.eligible)) or None))
    return e.EventsVerdict(events, [ev.name for ev in answer.events])
