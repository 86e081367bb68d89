"""The rule environment: the paper's environment tasks done by formulas (paper §2.4).

The paper's environment model proposes state changes and the code clamps them to per-activity
limits; here rules propose and the same limits clamp. Outcomes depend on traits, talents,
skills and how well people get along, plus the model's seeded randomness (``rng`` is the
model's ``random``, so tasks must be judged in the order the week meets them). It is the default
environment and the fallback of every LLM environment.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.contract import environment as e
from agentopia_mesa.environment.careers import age_allows, drift_profile, new_jobs, skill_fit
from agentopia_mesa.environment.base import EnvironmentModel
from agentopia_mesa.environment.events import draw_encounters, weekly_events
from agentopia_mesa.environment.outcomes import Changes, affinity, clamp_changes
from agentopia_mesa.town.economy import extra_work_pay_range, shop_offers
from agentopia_mesa.town.resident import Resident
from agentopia_mesa.town.social_ties import SocialTies
from agentopia_mesa.town.state import clamp


class RuleEnvironment(EnvironmentModel):
    name = "rules"

    def __init__(self, config: SimulationConfig, rng: random.Random):
        self.config = config
        self.rng = rng

    def judge_all(self, tasks: Sequence[e.Task]) -> list[e.Verdict | None]:
        return [self.judge(task) for task in tasks]

    def judge(self, task: e.Task) -> e.Verdict | None:
        match task:
            case e.SoloTask():
                changes, note = self.solo(task.resident, task.activity, task.skill)
                return e.SoloVerdict(task.activity == "shopping", changes, note)
            case e.ShopTask():
                return e.ShopVerdict(shop_offers(task.price_list, task.resident.state.deposit, self.rng, self.config.economy))
            case e.TurnTask():
                return self.turn(task)
            case e.GatheringTask():
                return self.gathering(task)
            case e.PublicEventTask():
                return e.PublicEventVerdict({p.name: self.public(p, task.event.skill) for p in task.people})
            case e.EventsTask():
                last_used = dict(task.last_used)
                events = weekly_events(task.templates, task.running, last_used, task.week_index, task.days,
                                       self.rng, self.config.events)
                return e.EventsVerdict(events, [name for name, week in last_used.items() if task.last_used.get(name) != week])
            case e.EncountersTask():
                pairs = draw_encounters(task.idle, task.counts, list(task.places), task.ties, task.related, self.rng)
                return e.EncountersVerdict([e.Encounter(a, b, place, day=day) for day, a, b, place in pairs])
            case e.ProfileTask():
                traits, talents = drift_profile(task.resident, task.year_counts, self.rng, self.config.career)
                return e.ProfileVerdict(traits, talents)
            case e.NewJobsTask():
                return e.NewJobsVerdict(new_jobs(task.jobs, task.residents, task.count, task.year, task.income_max,
                                                 self.rng, self.config.career))
            case e.HiringTask():
                return e.HiringVerdict(self.rank_applicants(task))
            case e.HiringBatchTask():  # each job as its own task would be, in order: the same draws, the same hires
                return e.HiringBatchVerdict({t.job.key: self.rank_applicants(t) for t in task.tasks})
            case e.RatingTask():
                return None  # no judgement of its own: the resident's mind rates
        raise TypeError(f"the rule environment has no judgement for {type(task).__name__}")

    # -- solo -----------------------------------------------------------------------------------
    def solo(self, resident: Resident, activity: str, skill: str) -> tuple[Changes, str]:
        """State changes of a solo activity (shopping is settled by the shop) and a short outcome."""
        r, t = self.rng, resident.talents
        if activity == "rest":
            changes = {"vitality": r.randint(3, 5), "mood": r.randint(0, 2)}
            note = "rested and recovered some energy"
        elif activity == "study":
            gain = 1 + (t.get("intelligence", 50) > 60) + (r.random() < resident.traits.get("curiosity", 50) / 100)
            changes = {"vitality": -r.randint(1, 2), "mood": r.randint(-1, 1), "esteem": 1, "skills": {skill: gain}}
            note = f"studied {skill}"
        elif activity == "work":
            level = resident.state.skills.get(skill, 0)
            low, high = extra_work_pay_range(level, self.config.economy)
            changes = {"vitality": -r.randint(2, 4), "mood": r.randint(-2, 0), "esteem": 1,
                       "money": r.randint(low, high), "skills": {skill: r.randint(0, 1)}}
            note = f"took extra work using {skill}"
        elif activity == "exercise":
            health = t.get("health", 50)
            changes = {"vitality": r.randint(2, 4) + (health > 60), "mood": r.randint(1, 3), "skills": {"fitness": r.randint(0, 1)}}
            note = "exercised"
        elif activity == "leisure":
            changes = {"mood": r.randint(2, 5), "vitality": r.randint(0, 2)}
            note = "enjoyed some free time"
        else:  # shopping: the purchase itself is applied by the shop
            changes = {"mood": r.randint(0, 2), "vitality": -r.randint(0, 1)}
            note = "went shopping"
        return clamp_changes(changes, self.config.activity.solo), note

    # -- joint activities and encounters ------------------------------------------------------
    @staticmethod
    def turn(task: e.TurnTask) -> e.TurnVerdict:
        """Speakers in turn (the participants' order), every reply passes, the end as soon as it is
        allowed (after ``min_turns`` replies); no feedback. Uses no randomness."""
        speaker = RuleEnvironment.next_speaker(task.people, task.turns, task.present, task.min_turns, task.max_turns)
        return e.TurnVerdict("", speaker, e.PASS if task.turns else "")

    @staticmethod
    def next_speaker(people: list[Resident], turns: list[e.TurnRecord], present, min_turns: int, max_turns: int) -> str:
        """Who speaks after ``turns`` (the replies so far): the one after the last speaker among
        ``people`` (in their order) who is ``present``; "" (the end) once ``min_turns`` replies were
        made, or at ``max_turns``, or with fewer than two present (``TurnTask.may_end``)."""
        if len(turns) >= min_turns or len(turns) >= max_turns or len(present) < 2:
            return ""
        names = [p.name for p in people]
        last = turns[-1].speaker if turns else None
        start = names.index(last) + 1 if last in names else 0
        return next(n for n in names[start:] + names[:start] if n in present)

    def pair_quality(self, a: Resident, b: Resident, ties: SocialTies, bonus: float = 0.0) -> float:
        """How a experienced time with b, in [-1, 1]."""
        tie = ties.side(a.name).get(b.name)
        sentiment = tie["sentiment"] if tie else 0.0
        noise = self.rng.gauss(0, 0.3)
        return clamp(0.2 + 0.5 * affinity(a, b) + 0.3 * sentiment + bonus + noise, -1, 1)

    def gathering(self, task: e.GatheringTask) -> e.GatheringVerdict:
        """Changes per participant and the quality of each ordered pair (a's view of b)."""
        activity = self.config.activity
        bonus = {receiver: activity.gift_quality_bonus for _, receiver in task.gifts}
        scale = activity.encounter_scale if task.kind == "encounter" else 1.0
        people = task.people
        quality = {
            (a.name, b.name): self.pair_quality(a, b, task.ties, bonus.get(a.name, 0.0))
            for a in people for b in people if a is not b
        }
        changes = {}
        for a in people:
            q = sum(quality[a.name, b.name] for b in people if b is not a) / (len(people) - 1)
            extraversion = a.traits.get("extraversion", 50) / 100
            proposal = {
                "social": scale * (2 + 3 * q + extraversion),
                "mood": scale * (1 + 3 * q + self.rng.uniform(-1, 1)),
                "esteem": scale * (1 + 1.5 * q + (a.talents.get("communication", 50) - 50) / 50),
                "vitality": self.rng.randint(-1, 2),
            }
            if task.skill:
                proposal["skills"] = {task.skill: self.rng.randint(1, 2)}
            changes[a.name] = clamp_changes(proposal, activity.joint)
        return e.GatheringVerdict(changes, quality)

    # -- public events -------------------------------------------------------------------------
    def public(self, person: Resident, skill: str | None) -> Changes:
        """One participant's changes at a public event: a little mood (more for the curious), social
        and esteem, and the event's skill (more for the gifted). What it said it did is not read."""
        r = self.rng
        proposal = {
            "mood": r.randint(0, 2) + (person.traits.get("curiosity", 50) > 60),
            "social": r.randint(1, 3),
            "esteem": r.randint(1, 2),
            "vitality": r.randint(-1, 1),
        }
        if skill:
            proposal["skills"] = {skill: r.randint(1, 2) + (person.talents.get("intelligence", 50) > 65)}
        return clamp_changes(proposal, self.config.activity.public)

    # -- hiring --------------------------------------------------------------------------------
    def rank_applicants(self, task: e.HiringTask) -> list[str]:
        """Applicants the job's age limits and (lenient) skill minimums allow, best fit first, ties at random."""
        scored = []
        for r in task.applicants:
            fit = skill_fit(task.job, r.state.skills, task.leniency)
            if fit is not None and age_allows(task.job, task.ages[r.name]):
                scored.append((fit, self.rng.random(), r.name))
        return [name for _, _, name in sorted(scored, reverse=True)]
