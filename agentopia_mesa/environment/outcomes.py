"""The rule-based environment: judges what activities do to residents (paper §2.4).

The paper's environment model proposes state changes and the code clamps them to per-activity
limits; here rules propose and the same limits clamp. Outcomes depend on traits, talents,
skills and how well people get along, plus the model's seeded randomness.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from agentopia_mesa.config import DeltaLimits, SimulationConfig
from agentopia_mesa.town.economy import extra_work_pay_range
from agentopia_mesa.town.resident import Resident
from agentopia_mesa.town.state import NEEDS, clamp
from agentopia_mesa.town.social_ties import SocialTies

Changes = dict  # {"vitality": int, "mood": int, ..., "money": int, "skills": {name: int}}

_TRAIT_KEYS = ("extraversion", "intuition", "thinking", "judging", "empathy", "patience")


def clamp_changes(changes: Changes, limits: DeltaLimits) -> Changes:
    """Clip proposed changes to an activity's limits; a dimension with no limit cannot change."""
    out: Changes = {}
    for key in ("vitality", *NEEDS, "money"):
        bound = getattr(limits, key)
        if key in changes and bound is not None:
            value = int(clamp(round(changes[key]), *bound))
            if value:
                out[key] = value
    if limits.skills is not None and changes.get("skills"):
        skills = {k: int(clamp(round(v), *limits.skills)) for k, v in changes["skills"].items()}
        if any(skills.values()):
            out["skills"] = {k: v for k, v in skills.items() if v}
    return out


def apply_changes(resident: Resident, changes: Changes) -> None:
    state = resident.state
    if "vitality" in changes:
        state.change_vitality(changes["vitality"])
    for need in NEEDS:
        if need in changes:
            state.change_need(need, changes[need])
    if "money" in changes:
        state.change_deposit(changes["money"])
    for skill, delta in changes.get("skills", {}).items():
        state.change_skill(skill, delta)


def affinity(a: Resident, b: Resident) -> float:
    """How naturally a gets on with b, in [-1, 1]: similar temperament, shared values, a's empathy."""
    diffs = [abs(a.traits.get(k, 50) - b.traits.get(k, 50)) for k in _TRAIT_KEYS]
    similarity = 1 - sum(diffs) / (100 * len(diffs))
    shared = len(set(a.profile.values) & set(b.profile.values)) / 3
    empathy = a.traits.get("empathy", 50) / 100
    return clamp(2 * (0.5 * similarity + 0.25 * shared + 0.25 * empathy) - 1, -1, 1)


class Environment:
    def __init__(self, config: SimulationConfig, rng: random.Random):
        self.config = config
        self.rng = rng

    # -- solo ---------------------------------------------------------------------------------
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
    def pair_quality(self, a: Resident, b: Resident, ties: SocialTies, bonus: float = 0.0) -> float:
        """How a experienced time with b, in [-1, 1]."""
        tie = ties.acquaintance.get_edge_data(a.name, b.name)
        sentiment = tie["sentiment"] if tie else 0.0
        noise = self.rng.gauss(0, 0.3)
        return clamp(0.2 + 0.5 * affinity(a, b) + 0.3 * sentiment + bonus + noise, -1, 1)

    def joint(
        self, people: Sequence[Resident], ties: SocialTies, skill: str | None = None,
        bonus: dict[str, float] | None = None, scale: float = 1.0,
    ) -> tuple[dict[str, Changes], dict[tuple[str, str], float]]:
        """Changes per participant and the quality of each ordered pair (a's view of b)."""
        bonus = bonus or {}
        quality = {
            (a.name, b.name): self.pair_quality(a, b, ties, bonus.get(a.name, 0.0))
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
            if skill:
                proposal["skills"] = {skill: self.rng.randint(1, 2)}
            changes[a.name] = clamp_changes(proposal, self.config.activity.joint)
        return changes, quality

    # -- public events -------------------------------------------------------------------------
    def public(self, person: Resident, skill: str | None) -> Changes:
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
