"""Every constant of the simulation, with one named home each.

Defaults follow the authors' released configuration (``config.example.json``) as reconstructed
in ``shared/research/agentopia-paper.md``; the section of that file is given beside each group.
Configs are frozen dataclasses so a run's configuration can be hashed, saved and compared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any


# -- validation ----------------------------------------------------------------------------------
# Every field is checked by type and range whenever a configuration is made (defaults, ``--set``,
# a sweep file, ``AgentopiaModel(**overrides)``), so a bad value is one ValueError naming the field
# ("needs.decay: must be a number in [0, 1], got 'abc'") before a run starts, never a traceback
# weeks later. Unlisted whole numbers default to [0, 10**9], unlisted numbers to [0, 1e9].

_FRACTION = (0, 1)
_BIG = 10**9
_PAIR = (-10**6, 10**6)  # per-activity clamp ranges may be negative
RANGES: dict[str, tuple[float, float]] = {
    "calendar.start_year": (1, 9999),
    "calendar.weeks_per_year": (1, 520),
    "calendar.days_per_week": (1, 7),
    "calendar.contact_rounds": (0, 100),
    "calendar.max_weeks_ahead": (0, 520),
    "calendar.min_age": (0, 150),
    "needs.start_vitality": (0, 100),
    "needs.start_fulfilment": (0, 100),
    "needs.decay": _FRACTION,
    "needs.low_vitality": (0, 100),
    "economy.living_standards.material_change": (-100, 100),
    "economy.max_possessions": (0, 10**6),
    "economy.discard_fraction": _FRACTION,
    "economy.shop_offers": (1, 100),
    "activity.*": _PAIR,
    "activity.max_invitees": (0, 1000),
    "activity.min_turns": (1, 100),
    "activity.max_turns": (1, 100),
    "activity.reply_words": (10, 1000),
    "activity.public_words": (10, 200),
    "activity.plan_activity_words": (0, 100),
    "events.encounter_divisor": (1, _BIG),
    "memory.tool_rounds": (1, 32),
    "memory.listed_people": (1, 10_000),
    "memory.listed_topics": (0, 1000),
    "memory.diary_weeks": (0, 520),
    "memory.record_weeks": (0, 52),
    "memory.summary_words": (10, 1000),
    "memory.note_words": (10, 10_000),
    "memory.diary_words": (10, 2000),
    "memory.plan_words": (10, 2000),
    "memory.correspondence": (0, 1000),
    "memory.brief_words": (10, 1000),
    "career.max_wishes": (1, 100),
    "career.hiring_batches": (1, 1000),
    "career.skill_match_leniency": _FRACTION,
    "career.new_jobs_fraction": _FRACTION,
    "career.new_job_capacity": (1, 10**6),
    "career.max_trait_drift": (0, 100),
    "career.max_talent_drift": (0, 100),
    "reward.pagerank_damping": _FRACTION,
    "reward.pagerank_max_iter": (1, 10**6),
    "reward.pagerank_tol": (1e-15, 1),
    "reward.affection_weight": _FRACTION,
    "reward.misery_threshold_percentile": _FRACTION,
    "reward.social_weight": _FRACTION,
    "reward.economy_weight": _FRACTION,
    "reward.gamma": _FRACTION,
    "reward.rft_top_fraction": _FRACTION,
    "reward.positive_rating": (0, 100),
}
#: Pairs that are a (low, high) range; extra-work tiers are (minimum skill, low pay, high pay).
ORDERED = {"economy.shop_offers", "economy.work_income_range", "career.new_job_capacity",
           "career.new_job_skill_growth", "activity.*"}
NEED_NAMES = ("mood", "social", "esteem", "material")
#: The living standards a mind chooses from (paper §5); ``economy.living_standards`` prices each once.
LIVING_STANDARD_NAMES = ("frugal", "moderate", "comfortable", "luxurious")
#: Lists the economy cannot do without: someone must be able to live, and extra work must pay something.
NONEMPTY = {"economy.living_standards", "economy.extra_work_tiers", "career.hiring_batches"}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _range_of(path: str, whole: bool) -> tuple[float, float]:
    key = re.sub(r"\[\d+\]", "", path)
    section = key.split(".")[0]
    return (RANGES.get(key) or RANGES.get(key.rpartition(".")[0]) or RANGES.get(f"{section}.*")
            or ((0, _BIG) if whole else (0, 1e9)))


def _number(value: Any, path: str, whole: bool) -> Any:
    low, high = _range_of(path, whole)
    kind = "a whole number" if whole else "a number"
    if isinstance(value, numbers.Integral) and not isinstance(value, (int, bool)):
        value = int(value)  # e.g. numpy.int64 from a batch_run parameter list
    ok = (not isinstance(value, bool) and isinstance(value, int if whole else (int, float))
          and math.isfinite(value) and low <= value <= high)
    if not ok:
        raise ValueError(f"{path}: must be {kind} in [{low:g}, {high:g}], got {_short(value)}")
    return value


def _coerce(value: Any, hint: Any, path: str) -> Any:
    """``value`` checked against the type ``hint`` (lists become tuples); raises naming ``path``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(value, inner, path)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: must be true or false, got {_short(value)}")
        return value
    if hint is int or hint is float:
        return _number(value, path, whole=hint is int)
    if hint is str:
        if not isinstance(value, str) or not value or len(value) > 60:
            raise ValueError(f"{path}: must be a name of 1 to 60 characters, got {_short(value)}")
        return value
    if origin is dict:
        if not isinstance(value, dict) or set(value) != set(NEED_NAMES):
            low, high = _range_of(path, whole=False)
            raise ValueError(f"{path}: must be a number in [{low:g}, {high:g}] (or an object of "
                             f"{', '.join(NEED_NAMES)}), got {_short(value)}")
        return {k: _number(v, f"{path}.{k}", whole=False) for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{path}: must be a list, got {_short(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            if len(value) > 1000:
                raise ValueError(f"{path}: at most 1000 entries, got {len(value)}")
            if not value and path in NONEMPTY:
                raise ValueError(f"{path}: must hold at least one entry, got []")
            items = tuple(_coerce(v, args[0], f"{path}[{i}]") for i, v in enumerate(value))
        else:
            if len(value) != len(args):
                raise ValueError(f"{path}: must be a list of {len(args)} values, got {_short(value)}")
            items = tuple(_coerce(v, a, path) for v, a in zip(value, args, strict=True))
            key = re.sub(r"\[\d+\]", "", path)
            if (key in ORDERED or f"{key.split('.')[0]}.*" in ORDERED) and len(items) >= 2 and items[-2] > items[-1]:
                raise ValueError(f"{path}: must be (low, high) with low <= high, got {_short(value)}")
        return items if not isinstance(value, tuple) or items != value else value
    if dataclasses.is_dataclass(hint):
        if isinstance(value, dict):
            names = {f.name for f in dataclasses.fields(hint)}
            unknown = [k for k in value if k not in names]
            if unknown or set(value) != names:
                raise ValueError(f"{path}: must have exactly the fields {', '.join(sorted(names))}, got {_short(value)}")
            value = hint(**value)
        elif isinstance(value, (list, tuple)) and not isinstance(value, hint):
            if len(value) != len(dataclasses.fields(hint)):
                raise ValueError(f"{path}: must be a list of {len(dataclasses.fields(hint))} values, got {_short(value)}")
            value = hint(*value)
        if not isinstance(value, hint):
            raise ValueError(f"{path}: must be a {hint.__name__}, got {_short(value)}")
        hints = typing.get_type_hints(hint)
        changes = {}
        for f in dataclasses.fields(hint):
            checked = _coerce(getattr(value, f.name), hints[f.name], f"{path}.{f.name}")
            if checked is not getattr(value, f.name):
                changes[f.name] = checked
        return dataclasses.replace(value, **changes) if changes else value
    return value


def validate_section(section: Any, prefix: str) -> None:
    """Check (and normalise lists to tuples in) every field of one configuration section."""
    hints = typing.get_type_hints(type(section))
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        checked = _coerce(value, hints[f.name], f"{prefix}.{f.name}")
        if checked is not value:
            object.__setattr__(section, f.name, checked)


def validate_choices(section: Any, prefix: str, choices: dict[str, tuple[str, ...]]) -> None:
    """Check that each field named in ``choices`` holds one of its allowed words."""
    for name, allowed in choices.items():
        if getattr(section, name) not in allowed:
            raise ValueError(f"{prefix}.{name}: must be one of {', '.join(allowed)}, got {getattr(section, name)!r}")


@dataclass(frozen=True)
class CalendarConfig:
    """Simulated time (paper §2.2): one Mesa step is one week."""

    def __post_init__(self) -> None:
        validate_section(self, "calendar")


    start_year: int = 2020
    weeks_per_year: int = 10
    days_per_week: int = 5
    contact_rounds: int = 5
    max_weeks_ahead: int = 4  # joint activities may be proposed up to 4 weeks ahead
    min_age: int = 16  # the youngest age at which a resident may hold a work position


@dataclass(frozen=True)
class NeedsConfig:
    """Vitality and the four fulfilment dimensions (paper §3.2)."""

    def __post_init__(self) -> None:
        validate_section(self, "needs")


    start_vitality: int = 70
    start_fulfilment: int = 50
    # Mood, social and esteem lose 15 % (integer floor) at every week start; material does not.
    decay: dict[str, float] = field(
        default_factory=lambda: {"mood": 0.15, "social": 0.15, "esteem": 0.15, "material": 0.0}
    )
    low_vitality: int = 30  # below this a resident "may get sick"


@dataclass(frozen=True)
class LivingStandard:
    name: str  # one of LIVING_STANDARD_NAMES, which the minds choose from
    weekly_cost: int
    material_change: int


@dataclass(frozen=True)
class EconomyConfig:
    """Income, living standards, extra work and the shop (paper §5)."""

    def __post_init__(self) -> None:
        validate_section(self, "economy")
        names = [s.name for s in self.living_standards]
        if sorted(names) != sorted(LIVING_STANDARD_NAMES):  # a mind chooses by these names (contract/decisions.py)
            raise ValueError(f"economy.living_standards: must name each of {', '.join(LIVING_STANDARD_NAMES)} once, "
                             f"got {_short(names)}")


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


#: What becomes of a contact answer's actions that cannot be carried out (``activity.contact_errors``).
CONTACT_ERRORS = ("next_slot", "retry")


@dataclass(frozen=True)
class ActivityConfig:
    """Per-activity limits on state changes (paper §2.4 table, Appendix A)."""

    def __post_init__(self) -> None:
        validate_section(self, "activity")
        validate_choices(self, "activity", {"contact_errors": CONTACT_ERRORS})
        if self.min_turns > self.max_turns:
            raise ValueError(f"activity.min_turns: {self.min_turns} is more than activity.max_turns ({self.max_turns})")


    solo: DeltaLimits = DeltaLimits((-5, 5), (-5, 5), None, (-1, 1), (-5, 10), (0, 3), (-200, 200))
    joint: DeltaLimits = DeltaLimits((-5, 5), (-5, 5), (-5, 5), (-3, 3), (0, 0), (0, 3), None)
    public: DeltaLimits = DeltaLimits((-5, 5), (-5, 5), (-3, 3), (-2, 2), None, (0, 3), None)
    max_invitees: int = 4
    # Conversations (joint activities and encounters, paper §4.2): the environment picks each next
    # speaker and may end the conversation once ``min_turns`` replies were made; it ends at
    # ``max_turns`` in any case (paper: 5-20 turns). Replies are asked in at most ``reply_words``
    # words (paper: under 200). ``entry_analysis``: each participant first writes a private analysis;
    # ``exit_reflection``: each writes a summary, a reflection and notes on the others afterwards
    # (paper: both). ``--profile lean`` shortens all of this for LLM runs (``PROFILES``).
    min_turns: int = 5
    max_turns: int = 20
    reply_words: int = 200
    entry_analysis: bool = True
    exit_reflection: bool = True
    # Public events (paper §4.3): each participant describes what it does in at most this many
    # words (paper: 100); one environment call then judges its whole group.
    public_words: int = 100
    # The rule environment's joint outcome: a gift lifts its receiver's quality by this much, and
    # an encounter (a chance meeting) moves needs this fraction of a planned activity.
    gift_quality_bonus: float = 0.3
    encounter_scale: float = 0.7
    # Contact (paper §4, stages 3-4). ``contact_errors``: what becomes of actions in a contact answer
    # that cannot be carried out (an unknown person, place or invitation, a day off the week):
    # "next_slot" (the paper: the rest is carried out, the errors are told to the resident in its
    # next slot, and the slot's record is marked rejected) or "retry" (ours: the answer is refused
    # and asked again with the problems shown). ``contact_summary``: after scheduling, each LLM
    # resident writes a summary of the contact stage for its context (the paper's "Summary of the
    # Contact Stage").
    contact_errors: str = "next_slot"
    contact_summary: bool = True
    # After a solo slot (paper §4.1): each LLM resident writes a reflection on it.
    solo_reflection: bool = True
    # At Plan (paper §4, stage 1): besides a category per day, one activity per day in the
    # resident's own words, in at most this many words (0: not asked), shown again on that day.
    plan_activity_words: int = 30


@dataclass(frozen=True)
class EventsConfig:
    """Public events and chance encounters (paper §2.3)."""

    def __post_init__(self) -> None:
        validate_section(self, "events")


    max_events_per_week: int = 10
    lookback_weeks: int = 5
    max_repeat_weeks: int = 5
    group_thresholds: tuple[int, ...] = (30, 60, 90)  # >30 -> 2 groups, >60 -> 3, >90 -> 4
    encounter_divisor: int = 5  # encounters per day ~ idle residents / 5, randomly rounded
    related_for_encounter: int = 10


@dataclass(frozen=True)
class SocialConfig:
    """Acquaintance ties: how they form, strengthen and fade (not specified by the paper)."""

    def __post_init__(self) -> None:
        validate_section(self, "social")


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
class MemoryConfig:
    """Notebooks and the context window of LLM minds (paper §3.4-3.5).

    ``notes``: how LLM minds edit their notebook: "tools" (the paper: ``list_notes``,
    ``read_note`` and ``update_note`` as function calls, at most ``tool_rounds`` rounds per answer,
    tools off on the last) or "json" (cheaper: edits ride inside the stage's JSON answer).
    ``context``: the system prompt: "paper" (the paper's context window, laid out for prefix
    caching) or "lean" (our compact one). The paper's listing: general plus up to
    ``listed_people`` person and ``listed_topics`` topic notes by last use; diaries of the last
    ``diary_weeks`` weeks and activity records of the last ``record_weeks``. ``history`` and
    ``context_engineering`` off are the paper's ablations "no history" (no diaries, records or
    earlier replies) and "no context engineering" (no notebook listing and no role-play
    guidance: persona, world and stage only). ``*_words``: free-text limits asked of the model.
    ``correspondence``: messages kept per correspondent for Contact. ``compaction``: "on" (the
    paper's reasoning compaction): after an answer with reasoning or note-tool calls behind it, a
    second call sums that work up in at most ``brief_words`` words, kept before the answer among
    the week's earlier answers (the paper's context only: the lean one shows none); "off" (ours,
    cheaper): later stages see the answer alone.
    """

    def __post_init__(self) -> None:
        validate_section(self, "memory")
        validate_choices(self, "memory", {"notes": ("tools", "json"), "context": ("paper", "lean"),
                                          "compaction": ("on", "off")})

    notes: str = "tools"
    context: str = "paper"
    tool_rounds: int = 8
    listed_people: int = 50
    listed_topics: int = 10
    diary_weeks: int = 5
    record_weeks: int = 2
    history: bool = True
    context_engineering: bool = True
    summary_words: int = 100
    note_words: int = 1000
    diary_words: int = 300
    plan_words: int = 150
    correspondence: int = 6
    compaction: str = "on"
    brief_words: int = 200

    @property
    def compacts(self) -> bool:
        """Whether answers are compacted: ``compaction`` on, and a context that shows this week's
        earlier answers (the paper's, with ``history``; the lean context shows none)."""
        return self.compaction == "on" and self.history and self.context == "paper"


@dataclass(frozen=True)
class CareerConfig:
    """Year-end job season and profile drift (paper §2.1, §3.1, §4.8)."""

    def __post_init__(self) -> None:
        validate_section(self, "career")


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
    # Jobs the environment judges together in one hiring call (paper §4.8(b): "in batches"): wish
    # rank 1 in batches of the first value, later ranks of the second (the last value repeats).
    # The paper's "round1 batch 10, round2 batch 20", read as jobs per call; both profiles (fewer,
    # shorter prompts than a call per job). (1,): one call per job. Rules hire the same people either way.
    hiring_batches: tuple[int, ...] = (10, 20)

    def hiring_batch(self, rank: int) -> int:
        """Jobs judged in one hiring call at wish ``rank`` (0-based): ``hiring_batches[rank]``, the
        last value for later ranks."""
        return self.hiring_batches[min(rank, len(self.hiring_batches) - 1)]


#: Whom a resident rates (``reward.rated_people``).
RATED_PEOPLE = ("notes", "ties")


@dataclass(frozen=True)
class RewardConfig:
    """Life reward (paper §6), computed once per reward period (= one simulated year)."""

    def __post_init__(self) -> None:
        validate_section(self, "reward")
        validate_choices(self, "reward", {"rated_people": RATED_PEOPLE})


    max_related_for_ranking: int = 20
    # Whom a resident rates at the year end: "notes" (the paper: the people whose notes it read or
    # wrote most recently) or "ties" (ours: the people it interacted with most recently in the tie
    # graph, ``SocialTies.recently_met``). The lean profile keeps "ties".
    rated_people: str = "notes"
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
    memory: MemoryConfig = MemoryConfig()

    def __setstate__(self, state: dict) -> None:
        """A configuration pickled before a section existed (an old checkpoint) gets its defaults."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        object.__setattr__(self, "__dict__", {**defaults, **state})

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
            if (section, name) == ("needs", "decay") and isinstance(value, int | float) and not isinstance(value, bool):
                _number(value, "needs.decay", whole=False)
                value = {need: (0.0 if need == "material" else float(value)) for need in self.needs.decay}
            elif (section, name) == ("needs", "decay") and isinstance(value, dict):
                value = {**self.needs.decay, **value}  # a partial object changes only the needs it names
            sections.setdefault(section, {})[name] = value
        return self.with_overrides(**sections)

    def with_overrides(self, **sections: dict[str, Any]) -> SimulationConfig:
        """A copy with some fields replaced, e.g. ``with_overrides(calendar={"weeks_per_year": 52})``."""
        changes = {}
        for name, values in sections.items():
            if name not in {f.name for f in dataclasses.fields(self)}:
                raise ValueError(f"{name}: not a configuration section; use one of "
                                 f"{', '.join(f.name for f in dataclasses.fields(self))}")
            current = getattr(self, name)
            unknown = [k for k in values if k not in {f.name for f in dataclasses.fields(current)}]
            if unknown:
                raise ValueError(f"{name}.{unknown[0]}: not a configuration field of {name}")
            changes[name] = dataclasses.replace(current, **values)
        return dataclasses.replace(self, **changes)



#: Named settings of LLM runs (``agentopia run --profile NAME``): configuration overrides applied
#: before any ``--set``. "paper": conversations as in the paper (the defaults above: entry
#: analysis, 5-20 turns of up to 200 words, exit reflection; the CLI also turns on the LLM
#: environment), notes edited through tool calls and the paper's context window. "lean" (ours,
#: the default of LLM runs): few, short turns and no entry or exit calls, so a conversation costs
#: about what one dialogue round did before; notes edited inside the JSON answers and the compact
#: context window. Runs without any LLM
#: always play the paper's conversation with template replies: it costs them next to nothing.
PROFILES: dict[str, dict[str, Any]] = {
    "lean": {"activity__min_turns": 2, "activity__max_turns": 4, "activity__reply_words": 60,
             "activity__entry_analysis": False, "activity__exit_reflection": False,
             "activity__contact_errors": "retry", "activity__contact_summary": False,
             "activity__solo_reflection": False, "activity__plan_activity_words": 0,
             "memory__notes": "json", "memory__context": "lean", "memory__compaction": "off",
             "reward__rated_people": "ties"},
    "paper": {},
}
DEFAULT_PROFILE = "lean"
