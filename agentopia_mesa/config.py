"""Every constant of the simulation, with one named home each.

Defaults follow the authors' released configuration (``config.example.json``) as reconstructed
in ``shared/research/agentopia-paper.md``; the section of that file is given beside each group.
Configs are frozen dataclasses so a run's configuration can be hashed, saved and compared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CalendarConfig:
    """Simulated time (paper §2.2): one Mesa step is one week."""

    start_year: int = 2020
    weeks_per_year: int = 10
    days_per_week: int = 5
    contact_rounds: int = 5
    max_weeks_ahead: int = 4  # joint activities may be proposed up to 4 weeks ahead
    min_age: int = 16  # the youngest age at which a resident may hold a work position


@dataclass(frozen=True)
class NeedsConfig:
    """Vitality and the four fulfilment dimensions (paper §3.2)."""

    start_vitality: int = 70
    start_fulfilment: int = 50
    # Mood, social and esteem lose 15 % (integer floor) at every week start; material does not.
    decay: dict[str, float] = field(
        default_factory=lambda: {"mood": 0.15, "social": 0.15, "esteem": 0.15, "material": 0.0}
    )
    low_vitality: int = 30  # below this a resident "may get sick"


@dataclass(frozen=True)
class LivingStandard:
    name: str
    weekly_cost: int
    material_change: int


@dataclass(frozen=True)
class EconomyConfig:
    """Income, living standards, extra work and the shop (paper §5)."""

    living_standards: tuple[LivingStandard, ...] = (
        LivingStandard("frugal", 100, -5),
        LivingStandard("moderate", 200, 0),
        LivingStandard("comfortable", 300, 5),
        LivingStandard("luxurious", 500, 10),
    )
    # Extra work in a solo slot pays by skill tier: (minimum skill level, pay range per session).
    extra_work_tiers: tuple[tuple[int, int, int], ...] = (
        (0, 40, 80),
        (30, 80, 120),
        (100, 120, 200),
    )
    max_possessions: int = 50
    discard_fraction: float = 0.25  # settle makes an over-full resident drop 25 % of the cap
    shop_offers: tuple[int, int] = (2, 4)  # the shop offers 2-4 priced options
    work_income_range: tuple[int, int] = (100, 500)

    def standard(self, name: str) -> LivingStandard:
        for s in self.living_standards:
            if s.name == name:
                return s
        raise KeyError(f"unknown living standard {name!r}")

    @property
    def cheapest_standard(self) -> LivingStandard:
        return min(self.living_standards, key=lambda s: s.weekly_cost)


@dataclass(frozen=True)
class DeltaLimits:
    """Clamp ranges for one activity type: (low, high) per state variable; None = unchanged."""

    vitality: tuple[int, int] | None
    mood: tuple[int, int] | None
    social: tuple[int, int] | None
    esteem: tuple[int, int] | None
    material: tuple[int, int] | None
    skills: tuple[int, int] | None
    money: tuple[int, int] | None


@dataclass(frozen=True)
class ActivityConfig:
    """Per-activity limits on state changes (paper §2.4 table, Appendix A)."""

    solo: DeltaLimits = DeltaLimits((-5, 5), (-5, 5), None, (-1, 1), (-5, 10), (0, 3), (-200, 200))
    joint: DeltaLimits = DeltaLimits((-5, 5), (-5, 5), (-5, 5), (-3, 3), (0, 0), (0, 3), None)
    public: DeltaLimits = DeltaLimits((-5, 5), (-5, 5), (-3, 3), (-2, 2), None, (0, 3), None)
    max_invitees: int = 4
    # Rounds of dialogue in a joint activity or encounter; every participant speaks once a round.
    # The paper plays 5-20 turns; one round keeps rule runs fast and LLM runs affordable.
    dialogue_rounds: int = 1
    # The rule environment's joint outcome: a gift lifts its receiver's quality by this much, and
    # an encounter (a chance meeting) moves needs this fraction of a planned activity.
    gift_quality_bonus: float = 0.3
    encounter_scale: float = 0.7


@dataclass(frozen=True)
class EventsConfig:
    """Public events and chance encounters (paper §2.3)."""

    max_events_per_week: int = 10
    lookback_weeks: int = 5
    max_repeat_weeks: int = 5
    group_thresholds: tuple[int, ...] = (30, 60, 90)  # >30 -> 2 groups, >60 -> 3, >90 -> 4
    encounter_divisor: int = 5  # encounters per day ~ idle residents / 5, randomly rounded
    related_for_encounter: int = 10


@dataclass(frozen=True)
class SocialConfig:
    """Acquaintance ties: how they form, strengthen and fade (not specified by the paper)."""

    first_meeting_familiarity: float = 20.0
    # Familiarity of the world file's starting acquaintances: people sharing a home, and the others.
    household_familiarity: float = 50.0
    acquaintance_familiarity: float = 40.0
    familiarity_gain: float = 12.0  # per shared activity of average quality
    message_gain: float = 2.0
    weekly_fade: float = 1.5  # familiarity lost per week without contact
    lost_touch_below: float = 1.0  # ties below this are dropped (unless colleagues or family)
    friendship_threshold: float = 60.0
    colleagues_to_meet: int = 10  # paper: up to 10 colleagues after each job season


@dataclass(frozen=True)
class CareerConfig:
    """Year-end job season and profile drift (paper §2.1, §3.1, §4.8)."""

    max_wishes: int = 3
    skill_match_leniency: float = 0.8  # a candidate needs 80 % of each minimum skill
    new_jobs_min: int = 2  # new jobs per year: max(2, N0 / 10)
    new_jobs_fraction: float = 0.1
    new_job_skill_margin: int = 50  # minimum skill >= best current resident + 50
    new_job_skill_cap: int = 500
    new_job_capacity: tuple[int, int] = (1, 2)
    new_job_skill_growth: tuple[int, int] = (5, 10)
    max_trait_drift: int = 5
    max_talent_drift: int = 3
    # The released code shows a job's weekly skill gain but never applies it (paper §5).
    apply_job_skill_growth: bool = False


@dataclass(frozen=True)
class RewardConfig:
    """Life reward (paper §6), computed once per reward period (= one simulated year)."""

    max_related_for_ranking: int = 20
    pagerank_damping: float = 0.85
    pagerank_max_iter: int = 100
    pagerank_tol: float = 1e-6
    affection_weight: float = 0.5
    mutual_affection_alpha: float = 2.0
    misery_threshold_percentile: float = 0.25
    misery_penalty_value: float = 5.0
    social_weight: float = 0.4
    economy_weight: float = 0.2
    gamma: float = 0.9
    rft_top_fraction: float = 0.25
    positive_rating: int = 60  # "liked by" / "respected by" counts raters giving >= 60

    @property
    def subjective_weight(self) -> float:
        return 1.0 - self.social_weight - self.economy_weight


@dataclass(frozen=True)
class SimulationConfig:
    calendar: CalendarConfig = CalendarConfig()
    needs: NeedsConfig = NeedsConfig()
    economy: EconomyConfig = EconomyConfig()
    activity: ActivityConfig = ActivityConfig()
    events: EventsConfig = EventsConfig()
    social: SocialConfig = SocialConfig()
    career: CareerConfig = CareerConfig()
    reward: RewardConfig = RewardConfig()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """Short stable hash of the configuration, for provenance."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def with_flat_overrides(self, overrides: dict[str, Any]) -> SimulationConfig:
        """A copy with ``section__field=value`` overrides, e.g. ``{"needs__decay": 0.2}``.

        Flat names make every constant a sweepable keyword (``mesa.batch_run`` passes flat
        parameters). A number given for ``needs__decay`` applies to mood, social and esteem.
        """
        sections: dict[str, dict[str, Any]] = {}
        for key, value in overrides.items():
            section, sep, name = key.partition("__")
            if not sep or not hasattr(self, section) or name not in {f.name for f in dataclasses.fields(getattr(self, section))}:
                raise ValueError(
                    f"{key}: not a configuration field; use section__field with a section of "
                    f"{', '.join(f.name for f in dataclasses.fields(self))} (e.g. needs__decay=0.2)"
                )
            if (section, name) == ("needs", "decay") and isinstance(value, int | float):
                value = {need: (0.0 if need == "material" else float(value)) for need in self.needs.decay}
            sections.setdefault(section, {})[name] = value
        return self.with_overrides(**sections)

    def with_overrides(self, **sections: dict[str, Any]) -> SimulationConfig:
        """A copy with some fields replaced, e.g. ``with_overrides(calendar={"weeks_per_year": 52})``."""
        changes = {}
        for name, values in sections.items():
            current = getattr(self, name)
            changes[name] = dataclasses.replace(current, **values)
        return dataclasses.replace(self, **changes)
