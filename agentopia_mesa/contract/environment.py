"""Environment tasks: what a stage asks the environment model, and the verdicts it gets back.

The environment is the residents' peer (paper §2.4): where a mind decides what one resident
does, the environment judges what happens. A stage builds one task per thing to judge (a solo
slot, a shop window, a gathering, a group at a public event, the week's events and encounters,
the year's new jobs, a hiring round of one job or a batch of jobs, a profile rewrite, a
resident's ratings), hands a batch to ``stages.asking.judge_all``, and applies the verdicts.
Each task names its ``task`` kind (the ``task`` field of an environment line in
``decisions.jsonl``) and the resident it concerns (``subject``; empty for town-wide tasks).

Verdicts are plain data that the code applies; they are already clipped to the paper's limits
(``environment.outcomes.clamp_changes``) by whichever environment made them. A task carries
town objects (residents, the ties graph) for the rule environment's formulas; an environment
reads them and never changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from agentopia_mesa.contract.decisions import RatingDecision, Utterance
from agentopia_mesa.contract.questions import RatingQuestion, Situation
from agentopia_mesa.town.economy import Offer

if TYPE_CHECKING:
    from agentopia_mesa.town.notebook import DiaryEntry
    from agentopia_mesa.town.public_event import PublicEvent
    from agentopia_mesa.town.resident import Resident
    from agentopia_mesa.town.social_ties import SocialTies
    from agentopia_mesa.world.schema import EventTemplate, JobSpec, PriceItem

Changes = dict  # {"vitality": int, "mood": int, ..., "money": int, "skills": {name: int}}

#: Every task kind, in the order the week meets them.
TASKS = ("events", "solo", "shop", "encounters", "turn", "outcome", "public", "profile", "jobs", "hiring", "ratings")


@dataclass
class Task:
    #: Filled in by ``stages.asking.judge_all``.
    situation: Situation | None = field(default=None, kw_only=True, repr=False)
    task: ClassVar[str] = ""

    @property
    def subject(self) -> str:
        """The resident this task is about ("" for a town-wide task)."""
        resident = getattr(self, "resident", None)
        return resident.name if resident is not None else ""

    @property
    def context(self) -> Situation:
        if self.situation is None:
            raise ValueError(f"{type(self).__name__} was not prepared: judge it through stages.asking.judge_all")
        return self.situation

    @property
    def when(self) -> str:
        """The task's time stamp, e.g. ``Y2020-W03-D2-solo``."""
        day = getattr(self, "day", None)
        return self.context.stamp(f"D{day}-{self.task}" if day else self.task)


# -- the activity days --------------------------------------------------------------------------

@dataclass
class SoloTask(Task):
    """A resident's free slot alone: the category it chose and what it said it would do."""

    resident: Resident
    day: int
    activity: str
    skill: str
    description: str = ""
    place: str = ""
    place_name: str = ""
    pay: tuple[int, int] = (0, 0)  # the extra-work pay tier for this resident (work only)
    task: ClassVar[str] = "solo"


@dataclass(frozen=True)
class SoloVerdict:
    consumption: bool  # the slot is spent shopping: the shop (``ShopTask``) comes next
    changes: Changes
    note: str  # what happened, in a line (the record's title)
    outcome: str = ""  # the environment's narration, when it gives one (the record's note)


@dataclass
class ShopTask(Task):
    """The shop window for a resident who went shopping: 2-4 items of the world's price list."""

    resident: Resident
    day: int
    price_list: tuple[PriceItem, ...]
    description: str = ""
    count: tuple[int, int] = (2, 4)
    task: ClassVar[str] = "shop"


@dataclass(frozen=True)
class ShopVerdict:
    offers: list[Offer]  # at the price list's prices, the same for everyone


#: The paper's failure types of a reply (§2.4, response verification), in its order.
FAILURES = ("scope_of_control", "physical_implausibility", "hallucination", "character_inconsistency",
            "cognitive_boundary", "state_inconsistency", "emotional_discontinuity", "relationship_progression",
            "parroting", "assistant_tone", "empty_dialogue")
PASS, REJECT = "PASS", "REJECT"


@dataclass
class TurnRecord:
    """One reply of a conversation, as everyone who may know it (the environment, the run's
    ``dialogues.jsonl``) sees it: the environment's feedback before it, the reply, and the
    environment's verification of it, filled in before the next turn."""

    turn: int
    speaker: str
    reply: Utterance
    feedback: str = ""
    model: str = ""  # the speaker's mind, for rejection rates per model
    when: str = ""  # the reply's time stamp, as its decision was recorded (``TurnQuestion.when``)
    gave: str = ""  # the item actually given (a gift the code carried out)
    audience: tuple[str, ...] = ()  # who else was present and saw the reply
    verification: str = ""  # PASS, REJECT, or "" when never verified
    failure: str = ""  # one of FAILURES when rejected
    reason: str = ""

    @property
    def rejected(self) -> bool:
        return self.verification == REJECT


@dataclass
class TurnTask(Task):
    """Before each turn of a conversation, and once after the last: the environment's feedback
    (1-3 sentences on surroundings, never the participants' words or acts), the next speaker
    among those present or the end (allowed once ``min_turns`` replies were made, forced at
    ``max_turns`` or when fewer than two remain), and the verification of the previous reply."""

    kind: str
    title: str
    place_name: str
    people: list[Resident]
    present: tuple[str, ...]
    turns: list[TurnRecord]  # the replies so far (the last one is to be verified)
    turn: int  # the turn about to be played, 1-based
    min_turns: int = 5
    max_turns: int = 20
    scene: str = ""
    day: int = 0
    chat: dict = field(default_factory=dict, repr=False)  # the environment's running chat for this conversation
    task: ClassVar[str] = "turn"

    @property
    def subject(self) -> str:
        return ", ".join(p.name for p in self.people)

    @property
    def when(self) -> str:
        return self.context.stamp(f"D{self.day}-turn{self.turn}")

    @property
    def may_end(self) -> bool:
        return len(self.turns) >= self.min_turns or self.must_end

    @property
    def must_end(self) -> bool:
        return len(self.turns) >= self.max_turns or len(self.present) < 2

    @property
    def to_verify(self) -> TurnRecord | None:
        return self.turns[-1] if self.turns else None


@dataclass(frozen=True)
class TurnVerdict:
    feedback: str
    next_speaker: str  # "" ends the conversation
    verification: str = ""  # PASS or REJECT for the previous reply ("" when there is none)
    failure: str = ""
    reason: str = ""


@dataclass
class GatheringTask(Task):
    """A joint activity or an encounter that has just been played: judge each participant's side."""

    kind: str  # "joint" or "encounter"
    title: str
    place: str
    place_name: str
    people: list[Resident]
    ties: SocialTies
    transcript: list[str] = field(default_factory=list)
    gifts: list[tuple[str, str]] = field(default_factory=list)  # (giver, receiver)
    skill: str | None = None  # what the place trains, if anything
    scene: str = ""  # an encounter's scene, as the environment described it
    day: int = 0
    task: ClassVar[str] = "outcome"

    @property
    def subject(self) -> str:
        return ", ".join(p.name for p in self.people)


@dataclass(frozen=True)
class GatheringVerdict:
    changes: dict[str, Changes]  # per participant
    quality: dict[tuple[str, str], float]  # how a experienced b, in [-1, 1], per ordered pair
    notes: dict[str, str] = field(default_factory=dict)  # per participant: the outcome in a line


@dataclass
class PublicEventTask(Task):
    """One group at a public event (paper §4.3): everyone took part side by side, without talking,
    and said what they did (``descriptions``, by name); judge each participant's outcome at once."""

    event: PublicEvent
    place_name: str
    people: list[Resident]
    descriptions: dict[str, str] = field(default_factory=dict)
    day: int = 0
    task: ClassVar[str] = "public"

    @property
    def subject(self) -> str:
        return ", ".join(p.name for p in self.people)


@dataclass(frozen=True)
class PublicEventVerdict:
    changes: dict[str, Changes]  # per participant
    notes: dict[str, str] = field(default_factory=dict)  # per participant: the outcome in a line


# -- the week's public events and encounters --------------------------------------------

@dataclass
class EventsTask(Task):
    """The week's public events: those still recurring, plus new ones."""

    templates: tuple[EventTemplate, ...]
    running: list[PublicEvent]
    last_used: dict[str, int]  # event name -> week index it was last scheduled
    week_index: int
    days: int
    places: dict[str, str]  # public places (not shops) events may use: key -> name
    residents: list[str]
    skills: list[str]  # skills an event may train
    max_events: int = 10  # in all, running ones included (at least half as many)
    lookback: int = 5  # weeks in which an event's name may not be scheduled anew
    max_repeat: int = 5  # weeks a new event may recur
    task: ClassVar[str] = "events"


@dataclass(frozen=True)
class EventsVerdict:
    events: list[PublicEvent]
    new: list[str] = field(default_factory=list)  # names of the events scheduled anew this week


@dataclass
class EncountersTask(Task):
    """The week's chance encounters (paper §2.3), planned once after contact: on each day, pairs of
    residents with nothing booked that day meet at a public place, preferring people they know."""

    idle: dict[int, list[str]]  # day of the week -> residents with no booking that day
    counts: dict[int, int]  # day -> how many encounters to plan (idle / divisor, randomly rounded)
    places: dict[str, str]  # public places where people may meet: key -> name
    ties: SocialTies
    related: int = 10  # each resident's most recently met acquaintances preferred as partners
    task: ClassVar[str] = "encounters"


@dataclass(frozen=True)
class Encounter:
    a: str
    b: str
    place: str
    scene: str = ""
    day: int = 0  # day of the week, 1-based


@dataclass(frozen=True)
class EncountersVerdict:
    encounters: list[Encounter]


# -- the year end -------------------------------------------------------------------------------

@dataclass
class ProfileTask(Task):
    """A resident's yearly profile rewrite from its year (diaries and what it did)."""

    resident: Resident
    year_counts: dict[str, int]
    diaries: list[DiaryEntry]
    task: ClassVar[str] = "profile"


@dataclass(frozen=True)
class ProfileVerdict:
    traits: dict[str, int]  # new values, each within the drift limit of the old
    talents: dict[str, int]
    text: dict[str, str] = field(default_factory=dict)  # profile text fields rewritten (``answers.updatable_texts``)


@dataclass
class NewJobsTask(Task):
    """The year's new challenging positions."""

    jobs: dict[str, JobSpec]
    residents: list[Resident]
    count: int
    year: int
    income_max: int
    task: ClassVar[str] = "jobs"


@dataclass(frozen=True)
class NewJobsVerdict:
    jobs: list[JobSpec]


@dataclass
class HiringTask(Task):
    """Who gets a job, from the applicants whose wish of this rank it is."""

    job: JobSpec
    applicants: list[Resident]
    ages: dict[str, int]  # ages the applicants will have in the job
    vacancies: int
    rank: int  # 0-based wish rank
    leniency: float
    task: ClassVar[str] = "hiring"


@dataclass(frozen=True)
class HiringVerdict:
    ranked: list[str]  # applicants to hire, best first; the code hires while there is room


@dataclass
class HiringBatchTask(Task):
    """Several jobs' hiring of one wish rank judged together, in one call (paper §4.8(b): the
    environment fills positions "in batches"; ``CareerConfig.hiring_batches``). Each job is judged
    as its ``HiringTask`` would be, from its own applicants only."""

    tasks: list[HiringTask]  # one per job, in the season's order (by job key), all of one rank
    task: ClassVar[str] = "hiring"

    @property
    def rank(self) -> int:
        return self.tasks[0].rank

    @property
    def open(self) -> list[HiringTask]:
        """The jobs with free places and applicants: the only ones worth asking about."""
        return [t for t in self.tasks if t.vacancies > 0 and t.applicants]


@dataclass(frozen=True)
class HiringBatchVerdict:
    ranked: dict[str, list[str]]  # job key -> its applicants to hire, best first (every job of the batch)


def hiring_batches(tasks: list[HiringTask], size: int) -> list[HiringTask | HiringBatchTask]:
    """``tasks`` (one per job, in order) in groups of ``size`` jobs: a group of one stays the job's
    own ``HiringTask`` (the call it always was), a larger one becomes a ``HiringBatchTask``."""
    groups = [tasks[i:i + size] for i in range(0, len(tasks), max(1, size))]
    return [group[0] if len(group) == 1 else HiringBatchTask(tasks=group) for group in groups]


@dataclass
class RatingTask(Task):
    """A resident's private yearly ratings, made by the environment on its behalf (paper's code)."""

    question: RatingQuestion
    task: ClassVar[str] = "ratings"

    @property
    def resident(self) -> Resident:
        return self.question.resident


RatingVerdict = RatingDecision

Verdict = (SoloVerdict | ShopVerdict | TurnVerdict | GatheringVerdict | PublicEventVerdict | EventsVerdict | EncountersVerdict
           | ProfileVerdict | NewJobsVerdict | HiringVerdict | HiringBatchVerdict | RatingDecision)
