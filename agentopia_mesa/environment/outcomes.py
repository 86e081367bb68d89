"""What any environment's verdict does to residents: the paper's per-activity limits (§2.4) and
how clipped changes are applied. Both environments clip their proposals here; the stages apply.
"""

from __future__ import annotations

from agentopia_mesa.config import DeltaLimits
from agentopia_mesa.town.resident import Resident
from agentopia_mesa.town.state import NEEDS, clamp

Changes = dict  # {"vitality": int, "mood": int, ..., "money": int, "skills": {name: int}}

_TRAIT_KEYS = ("extraversion", "intuition", "thinking", "judging", "empathy", "patience")
_DIMENSIONS = ("vitality", *NEEDS, "money")  # what a change may hold besides skills, in the order kept


def clamp_changes(changes: Changes, limits: DeltaLimits) -> Changes:
    """Clip proposed changes to an activity's limits; a dimension with no limit cannot change."""
    out: Changes = {}
    for key in _DIMENSIONS:
        if key not in changes:
            continue
        bound = getattr(limits, key)
        if bound is not None:
            low, high = bound
            value = round(changes[key])
            value = int(low if value < low else high if value > high else value)  # clamp(), inlined: ~50,000 calls a run
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
