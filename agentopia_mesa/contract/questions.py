"""Questions: what a stage asks a resident's mind, with everything the mind may use to answer.

The question is the contract: a mind reads the asking resident (its own profile, state,
notebook and records), the question's fields and its ``situation`` (when it is asked, the
world's title, the economy's and the careers' rules) and ``ties`` (the resident's side of its
acquaintance ties), and nothing else; it never reaches into the model. Stages fill in the
situation and ties when they ask (``stages.asking``).

Each question names its decision type (``decision``) and can check a decision against the
world (``problems``): unknown names, places, items or ids, unaffordable choices. LLM minds retry
or fall back on problems; the rule mind never makes any.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from agentopia_mesa.config import CareerConfig, EconomyConfig, MemoryConfig
from agentopia_mesa.contract import decisions as d
from agentopia_mesa.town.economy import Offer
from agentopia_mesa.trimming import trim_text

if TYPE_CHECKING:
    from agentopia_mesa.town.resident import ActivityRecord, Resident


DEFAULT_MEMORY = MemoryConfig()


@dataclass(frozen=True)
class Situation:
    """When a question is asked and the rules it is asked under (the same for every resident)."""

    year: int
    week: int  # of the year, 1-based
    week_index: int  # weeks from the start, 0-based
    world_title: str
    economy: EconomyConfig
    career: CareerConfig
    memory: MemoryConfig = DEFAULT_MEMORY
    #: What anyone can read of a resident by name (None: no such resident), e.g. through a tool.
    public_info: Callable[[str], str | None] = field(default=lambda name: None, compare=False, repr=False)

    def stamp(self, stage: str) -> str:
        """The paper's time stamp, e.g. ``Y2020-W03-plan``."""
        return f"Y{self.year}-W{self.week:02d}-{stage}"


@dataclass
class Question:
    resident: Resident
    #: Filled in by the stage that asks (``stages.asking``); see the module docstring.
    situation: Situation | None = field(default=None, kw_only=True, repr=False)
    #: The resident's side of its ties: name -> {familiarity, sentiment, interactions, gifts, conflicts, ...}.
    ties: Mapping[str, dict] = field(default_factory=dict, kw_only=True, repr=False)
    stage: ClassVar[str] = ""
    decision: ClassVar[type[d.Decision]] = d.Decision

    def trimmed(self, decision: d.Decision) -> tuple[d.Decision, int]:
        """``decision`` with its free texts cut to the words this question asks for, and how many
        texts were cut (the code disposes of lengths: an answer one word over is kept, trimmed)."""
        return decision, 0

    def problems(self, decision: d.Decision) -> list[str]:
        return []

    def errors(self, decision: d.Decision) -> list[str]:
        """What of an accepted ``decision`` cannot be carried out (the paper's contact errors): the
        stage carries out the rest and tells the resident later; a model's answer with errors is
        recorded as rejected (no training data). Empty for questions whose problems are retried."""
        return []

    @property
    def when(self) -> str:
        """This question's time stamp (``Y2020-W03-plan``)."""
        return self.context.stamp(self.stage)

    @property
    def context(self) -> Situation:
        if self.situation is None:
            raise ValueError(f"{type(self).__name__} for {self.resident.name} was not prepared: ask through "
                             "stages.asking.ask_all (or prepare(model, question)) so it carries its situation")
        return self.situation

    @property
    def memory(self) -> MemoryConfig:
        """The notebook and context settings it is asked under (the defaults if not prepared)."""
        return self.situation.memory if self.situation is not None else DEFAULT_MEMORY

    def liking(self, other: str) -> float:
        """How much the resident likes ``other``: familiarity (0-1) plus sentiment (-1..1); 0 for strangers."""
        return tie_liking(self.ties.get(other))

    def likings(self, others: list[str]) -> list[float]:
        """``liking`` of each of ``others``, in order (a whole list in one call)."""
        tie = self.ties.get  # tie_liking, inlined: proposals weigh every acquaintance
        return [t["familiarity"] / 100 + t["sentiment"] if (t := tie(other)) else 0.0 for other in others]


def words_trimmed(decision: d.Decision, name: str, words: int) -> tuple[d.Decision, int]:
    """``decision`` with its free text ``name`` cut to at most ``words`` words, and 1 if it was cut
    (``Question.trimmed`` of questions that ask for one text of a length)."""
    text = getattr(decision, name)
    if len(text.split()) <= words:
        return decision, 0
    return decision.model_copy(update={name: trim_text(text, max_words=words)}), 1


def tie_liking(tie: dict | None) -> float:
    """Liking from one side of a tie (``Question.liking``): familiarity/100 plus sentiment, in [-1, 2]; 0 without a tie."""
    return tie["familiarity"] / 100 + tie["sentiment"] if tie else 0.0


@dataclass
class PlanQuestion(Question):
    affordable: list[str] = field(default_factory=list)
    days: int = 5
    activity_words: int = 0  # each day's activity also in at most this many of the resident's words (0: not asked)
    stage: ClassVar[str] = "plan"
    decision: ClassVar[type[d.Decision]] = d.PlanDecision

    def problems(self, decision: d.PlanDecision) -> list[str]:
        out = []
        allowed = self.affordable or ["frugal"]  # the paper: nothing affordable -> frugal
        if decision.living_standard not in allowed:
            out.append(f"living_standard {decision.living_standard!r} is not affordable; choose one of {allowed}")
        if len(decision.intentions) != self.days:
            out.append(f"intentions: give exactly {self.days}, one per day")
        if self.activity_words and len(decision.activities) != self.days:
            out.append(f"activities: give exactly {self.days}, one per day, in your own words")
        return out


@dataclass
class Invitation:
    activity_id: str
    activity: str
    proposer: str
    weeks_ahead: int
    day: int  # day of that week, 1-based
    when: str  # the day as a time stamp, e.g. Y2020-W03-D2
    place: str
    others: tuple[str, ...]


@dataclass
class ContactQuestion(Question):
    round: int = 1
    rounds: int = 5
    inbox: list[tuple[str, str]] = field(default_factory=list)  # (sender, text)
    invitations: list[Invitation] = field(default_factory=list)  # awaiting this resident's answer
    own_activities: list[Invitation] = field(default_factory=list)  # proposed or joined, cancellable
    known: list[str] = field(default_factory=list)
    free_days: dict[int, list[int]] = field(default_factory=dict)  # weeks_ahead -> free days
    places: list[str] = field(default_factory=list)  # where joint activities can happen
    place_names: dict[str, str] = field(default_factory=dict)  # place key -> its name
    days: int = 7  # days in a week: a proposal's day
    last_errors: list[str] = field(default_factory=list)  # what of the resident's last round could not be done
    errors_next_slot: bool = False  # ``activity.contact_errors``: "next_slot" (errors told later) or "retry"
    stage: ClassVar[str] = "contact"
    decision: ClassVar[type[d.Decision]] = d.ContactDecision

    def problems(self, decision: d.ContactDecision) -> list[str]:
        return [] if self.errors_next_slot else self.world_errors(decision)

    def errors(self, decision: d.ContactDecision) -> list[str]:
        return self.world_errors(decision) if self.errors_next_slot else []

    def world_errors(self, decision: d.ContactDecision) -> list[str]:
        """Actions of ``decision`` the town cannot carry out: unknown people, places, invitations
        and activities, a day off the week."""
        known = set(self.known)
        out = [f"messages: {m.to!r} is not someone you know" for m in decision.messages if m.to not in known]
        for p in decision.proposals:
            out += [f"proposals: {n!r} is not someone you know" for n in p.invitees if n not in known]
            out += [f"proposals: required {n!r} is not invited" for n in p.required if n not in p.invitees]
            if p.place not in self.places:
                out.append(f"proposals: {p.place!r} is not a place for joint activities")
            if p.day > self.days:
                out.append(f"proposals: day {p.day} is not a day of the week (1-{self.days})")
        pending = {i.activity_id for i in self.invitations}
        out += [f"replies: no invitation {r.activity_id!r}" for r in decision.replies if r.activity_id not in pending]
        mine = {i.activity_id for i in self.own_activities}
        out += [f"cancellations: no activity {c.activity_id!r}" for c in decision.cancellations if c.activity_id not in mine]
        return out


@dataclass
class ContactSummaryQuestion(Question):
    """After the contact rounds and scheduling (paper §4, stage 4): what came of them, for the
    resident to sum up in its own words (kept in its context for the rest of the week)."""

    news: list[tuple[str, str]] = field(default_factory=list)  # (sender, text) since the last round, not yet read
    booked: list[str] = field(default_factory=list)  # this week's bookings, one line a day
    last_errors: list[str] = field(default_factory=list)  # what of its last round could not be done
    stage: ClassVar[str] = "contact_summary"
    decision: ClassVar[type[d.Decision]] = d.ContactSummaryDecision


@dataclass
class EventView:
    event_id: str
    name: str
    day: int
    place: str
    description: str
    skill: str | None


@dataclass
class SignupQuestion(Question):
    events: list[EventView] = field(default_factory=list)
    free_days: list[int] = field(default_factory=list)
    stage: ClassVar[str] = "signup"
    decision: ClassVar[type[d.Decision]] = d.SignupDecision

    def problems(self, decision: d.SignupDecision) -> list[str]:
        by_id = {e.event_id: e for e in self.events}
        out = [f"events: no event {e!r}" for e in decision.events if e not in by_id]
        days = [by_id[e].day for e in decision.events if e in by_id]
        if len(days) != len(set(days)):
            out.append("events: at most one event per day")
        out += [f"events: day {day} is not free" for day in days if day not in self.free_days]
        return out


@dataclass
class SoloQuestion(Question):
    day: int = 1
    intention: str = "rest"
    planned: str = ""  # the day's activity as the resident planned it, in its words ("" if it gave none)
    places: dict[str, list[str]] = field(default_factory=dict)  # activity -> place keys affording it
    describe: bool = False  # ask for the activity in the resident's own words (an LLM environment judges from them)
    stage: ClassVar[str] = "solo"
    decision: ClassVar[type[d.Decision]] = d.SoloDecision

    def problems(self, decision: d.SoloDecision) -> list[str]:
        if decision.place and decision.place not in self.places.get(decision.activity, []):
            return [f"place {decision.place!r} does not afford {decision.activity}"]
        return []


@dataclass
class SoloReflectionQuestion(Question):
    """After a solo slot and its outcome (paper §4.1, step 4): the resident's reflection on it."""

    day: int = 1
    activity: str = ""  # the solo activity done (its record's kind)
    title: str = ""  # what happened, in a line
    outcome: str = ""  # the environment's narration, when it gave one
    stage: ClassVar[str] = "solo_reflection"
    decision: ClassVar[type[d.Decision]] = d.ReflectionDecision

    @property
    def when(self) -> str:
        return self.context.stamp(f"D{self.day}-{self.stage}")


@dataclass(frozen=True)
class Work:
    """What a mind did before one of its answers, as it may tell it back to itself: a thinking
    model's ``reasoning`` ("" without) and ``calls``, each note-tool call with the start of its
    result, one line a call. False when there was none of either."""

    reasoning: str = ""
    calls: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.reasoning or self.calls)


@dataclass
class CompactionQuestion(Question):
    """After an answer with work behind it (paper §3.5, reasoning compaction): the resident's brief
    of that work, in at most ``memory.brief_words`` words (background and motives, the reasoning,
    the calls made and what they showed), kept before the answer among the week's earlier answers."""

    answered: str = ""  # the stage of the answer ("plan")
    answered_when: str = ""  # the answer's time stamp
    answer: str = ""  # the answer, as JSON (cut to what is kept of it)
    work: Work = field(default_factory=Work)
    stage: ClassVar[str] = "compact"
    decision: ClassVar[type[d.Decision]] = d.CompactionDecision

    @property
    def when(self) -> str:
        return f"{self.answered_when}-{self.stage}" if self.answered_when else self.context.stamp(self.stage)

    def trimmed(self, decision: d.CompactionDecision) -> tuple[d.CompactionDecision, int]:
        return words_trimmed(decision, "brief", self.memory.brief_words)


@dataclass(frozen=True)
class Attendee:
    """What the others at a public event can see of one participant."""

    name: str
    age: int
    occupation: str  # "role at organisation", or "" without a position


@dataclass
class PublicEventQuestion(Question):
    """A public event the resident takes part in (paper §4.3), among ``others`` of its group whom it
    can see but not talk to: what it does there, in at most ``words`` words, and whom it noticed."""

    event: EventView = field(default_factory=lambda: EventView("", "", 1, "", "", None))
    place_name: str = ""
    others: list[Attendee] = field(default_factory=list)
    words: int = 100
    stage: ClassVar[str] = "public"
    decision: ClassVar[type[d.Decision]] = d.PublicEventDecision

    @property
    def when(self) -> str:
        return self.context.stamp(f"D{self.event.day}-{self.stage}")

    def trimmed(self, decision: d.PublicEventDecision) -> tuple[d.PublicEventDecision, int]:
        return words_trimmed(decision, "description", self.words)

    def problems(self, decision: d.PublicEventDecision) -> list[str]:
        others = {a.name for a in self.others}
        out = [f"noticed: {n!r} is not at the event with you" for n in decision.noticed if n not in others]
        if len(set(decision.noticed)) != len(decision.noticed):
            out.append("noticed: name each person at most once")
        count = len(decision.description.split())
        if count > self.words:
            out.append(f"description: {count} words; at most {self.words}")
        if not decision.description.strip():
            out.append("description: say what you do")
        return out


@dataclass
class PurchaseQuestion(Question):
    offers: list[Offer] = field(default_factory=list)
    stage: ClassVar[str] = "purchase"
    decision: ClassVar[type[d.Decision]] = d.PurchaseDecision

    def problems(self, decision: d.PurchaseDecision) -> list[str]:
        if not decision.item:
            return []
        offer = next((o for o in self.offers if o.item == decision.item), None)
        if offer is None:
            return [f"item {decision.item!r} is not on offer"]
        if offer.price > self.resident.state.deposit:
            return [f"item {decision.item!r} costs {offer.price}, more than your deposit"]
        return []


@dataclass
class Conversation:
    """One participant's side of a conversation (a joint activity or an encounter, paper §4.2).

    The setting, and ``seen``: what this participant could see happen so far, in order, as lines
    of text (the environment's feedback, what the others said and did; private words meant for
    others only as "something was said privately"). The stage appends to ``seen`` as the
    conversation goes on. ``memo`` belongs to the participant's mind for the length of the
    conversation: an LLM mind keeps its running chat there, so every prompt of the conversation
    starts with the previous one (a prefix the serving engine can reuse).
    """

    kind: str  # "joint" or "encounter"
    title: str
    place_name: str
    people: tuple[str, ...]
    scene: str = ""  # an encounter's scene, as the environment described it
    place_description: str = ""
    min_turns: int = 5
    max_turns: int = 20
    reply_words: int = 200
    seen: list[Seen] = field(default_factory=list)
    memo: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Seen:
    """Something a participant saw happen: ``kind`` is "feedback" (the environment's, ``text``),
    "said" (``who`` said and did ``text``), "private" (``who`` said ``text`` to ``to``, this
    participant among them), "hidden" (``who`` said something privately to ``to``), "gift"
    (``who`` gave ``text`` to ``to[0]``) or "left" (``who`` left)."""

    kind: str
    who: str = ""
    text: str = ""
    to: tuple[str, ...] = ()


@dataclass
class ChatQuestion(Question):
    """A question asked inside a conversation: entry, a turn, exit."""

    chat: Conversation = field(default_factory=lambda: Conversation("joint", "", "", ()))
    day: int = 1

    @property
    def when(self) -> str:
        return self.context.stamp(f"D{self.day}-{self.stage}")

    @property
    def others(self) -> list[str]:
        return [p for p in self.chat.people if p != self.resident.name]


@dataclass
class EntryQuestion(ChatQuestion):
    """Before the first turn: a private analysis of the situation."""

    stage: ClassVar[str] = "joint_entry"
    decision: ClassVar[type[d.Decision]] = d.EntryDecision


def words(decision: d.Utterance) -> int:
    """The words of a reply: thoughts, speech and private parts."""
    return sum(len(text.split()) for text in (decision.thoughts, decision.speech, *(p.text for p in decision.private)))


@dataclass
class TurnQuestion(ChatQuestion):
    """The resident's turn to reply; ``present``: who is still taking part (the resident included)."""

    turn: int = 1
    present: tuple[str, ...] = ()
    stage: ClassVar[str] = "joint"
    decision: ClassVar[type[d.Decision]] = d.Utterance

    @property
    def when(self) -> str:
        return self.context.stamp(f"D{self.day}-{self.stage}-t{self.turn}")

    def trimmed(self, decision: d.Utterance) -> tuple[d.Utterance, int]:
        """A reply over ``reply_words`` loses words from its thoughts first, then its private
        parts, then its speech: what the others hear is kept longest."""
        excess = words(decision) - self.chat.reply_words
        if excess <= 0:
            return decision, 0
        cut = 0

        def shorter(text: str) -> str:
            nonlocal excess, cut
            count = len(text.split())
            if excess <= 0 or not count:
                return text
            keep = max(0, count - excess)
            excess -= count - keep
            cut += 1
            return trim_text(text, max_words=keep) if keep else ""

        thoughts = shorter(decision.thoughts)
        private = [p.model_copy(update={"text": shorter(p.text)}) for p in decision.private]
        speech = shorter(decision.speech)
        return decision.model_copy(update={"thoughts": thoughts, "private": private, "speech": speech}), cut

    def problems(self, decision: d.Utterance) -> list[str]:
        out = []
        me = self.resident.name
        present = set(self.present) - {me}
        if decision.gift_to and decision.gift_to not in present:
            out.append(f"gift_to {decision.gift_to!r} is not taking part")
        if decision.gift_item and decision.gift_item not in {p.name for p in self.resident.state.possessions}:
            out.append(f"gift_item {decision.gift_item!r} is not something you own")
        if bool(decision.gift_to) != bool(decision.gift_item):
            out.append("a gift needs both gift_to and gift_item (or neither)")
        for part in decision.private:
            out += [f"private: {n!r} is not taking part" for n in part.visible_to if n not in present]
        if words(decision) > self.chat.reply_words:
            out.append(f"the reply has {words(decision)} words; at most {self.chat.reply_words}")
        if not decision.speech.strip():
            out.append("speech: say or do something")
        return out


@dataclass
class ExitQuestion(ChatQuestion):
    """After the conversation and its outcome: a summary, a reflection and notes on the others."""

    outcome: str = ""  # how it went, as the environment judged it
    stage: ClassVar[str] = "joint_exit"
    decision: ClassVar[type[d.Decision]] = d.ExitDecision

    def problems(self, decision: d.ExitDecision) -> list[str]:
        others = set(self.others)
        return [f"notes: {n.about!r} did not take part" for n in decision.notes if n.about not in others]


@dataclass
class ReviewQuestion(Question):
    records: list[ActivityRecord] = field(default_factory=list)
    met: list[str] = field(default_factory=list)
    stage: ClassVar[str] = "review"
    decision: ClassVar[type[d.Decision]] = d.ReviewDecision

    def problems(self, decision: d.ReviewDecision) -> list[str]:
        known = set(self.met) | set(self.resident.notebook.people)
        return [f"notes: {n.about!r} is not someone you know" for n in decision.notes if n.about not in known]


@dataclass
class DiscardQuestion(Question):
    at_least: int = 0
    stage: ClassVar[str] = "settle"
    decision: ClassVar[type[d.Decision]] = d.DiscardDecision

    def problems(self, decision: d.DiscardDecision) -> list[str]:
        owned = [p.name for p in self.resident.state.possessions]
        out = [f"items: you do not own {i!r}" for i in decision.items if i not in owned]
        if len(decision.items) < self.at_least:
            out.append(f"items: discard at least {self.at_least}")
        return out


@dataclass
class JobView:
    key: str
    organisation: str
    role: str
    weekly_income: int
    min_skills: dict[str, int]
    eligible: bool  # age limits allow it
    vacancies: int


@dataclass
class JobWishQuestion(Question):
    jobs: list[JobView] = field(default_factory=list)
    stage: ClassVar[str] = "job_wishes"
    decision: ClassVar[type[d.Decision]] = d.JobWishDecision

    def problems(self, decision: d.JobWishDecision) -> list[str]:
        eligible = {j.key for j in self.jobs if j.eligible} | {d.STAY}
        return [f"wishes: {w!r} is not an open job for you" for w in decision.wishes if w not in eligible]


@dataclass(frozen=True)
class PublicView:
    """What anyone can see of another resident: income and standing, not their mind."""

    weekly_income: int
    best_skill: int
    integrity: int  # talent, 0-100


@dataclass
class RatingQuestion(Question):
    people: list[str] = field(default_factory=list)
    public: dict[str, PublicView] = field(default_factory=dict)  # person -> what anyone can see
    stage: ClassVar[str] = "rating"
    decision: ClassVar[type[d.Decision]] = d.RatingDecision

    def problems(self, decision: d.RatingDecision) -> list[str]:
        allowed = set(self.people)
        return [f"ratings: {r.name!r} is not one of the people to rate" for r in decision.ratings if r.name not in allowed]
