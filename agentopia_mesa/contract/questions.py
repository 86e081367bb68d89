"""Questions: what a stage asks a resident's mind, with the context needed to answer.

Each question names its decision type (``decision``) and can check a decision against the
world (``problems``): unknown names, places, items or ids, unaffordable choices. LLM minds retry
or fall back on problems; the rule mind never makes any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from agentopia_mesa.town.economy import Offer
from agentopia_mesa.contract import decisions as d

if TYPE_CHECKING:
    from agentopia_mesa.town.resident import ActivityRecord, Resident


@dataclass
class Question:
    resident: Resident
    stage: ClassVar[str] = ""
    decision: ClassVar[type[d.Decision]] = d.Decision

    def problems(self, decision: d.Decision) -> list[str]:
        return []


@dataclass
class PlanQuestion(Question):
    affordable: list[str] = field(default_factory=list)
    days: int = 5
    stage: ClassVar[str] = "plan"
    decision: ClassVar[type[d.Decision]] = d.PlanDecision

    def problems(self, decision: d.PlanDecision) -> list[str]:
        out = []
        allowed = self.affordable or ["frugal"]  # the paper: nothing affordable -> frugal
        if decision.living_standard not in allowed:
            out.append(f"living_standard {decision.living_standard!r} is not affordable; choose one of {allowed}")
        if len(decision.intentions) != self.days:
            out.append(f"intentions: give exactly {self.days}, one per day")
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
    stage: ClassVar[str] = "contact"
    decision: ClassVar[type[d.Decision]] = d.ContactDecision

    def problems(self, decision: d.ContactDecision) -> list[str]:
        known = set(self.known)
        out = [f"messages: {m.to!r} is not someone you know" for m in decision.messages if m.to not in known]
        for p in decision.proposals:
            out += [f"proposals: {n!r} is not someone you know" for n in p.invitees if n not in known]
            out += [f"proposals: required {n!r} is not invited" for n in p.required if n not in p.invitees]
            if p.place not in self.places:
                out.append(f"proposals: {p.place!r} is not a place for joint activities")
        pending = {i.activity_id for i in self.invitations}
        out += [f"replies: no invitation {r.activity_id!r}" for r in decision.replies if r.activity_id not in pending]
        mine = {i.activity_id for i in self.own_activities}
        out += [f"cancellations: no activity {c.activity_id!r}" for c in decision.cancellations if c.activity_id not in mine]
        return out


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
    places: dict[str, list[str]] = field(default_factory=dict)  # activity -> place keys affording it
    stage: ClassVar[str] = "solo"
    decision: ClassVar[type[d.Decision]] = d.SoloDecision

    def problems(self, decision: d.SoloDecision) -> list[str]:
        if decision.place and decision.place not in self.places.get(decision.activity, []):
            return [f"place {decision.place!r} does not afford {decision.activity}"]
        return []


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
class TurnQuestion(Question):
    activity: str = ""
    place: str = ""
    participants: tuple[str, ...] = ()
    transcript: list[str] = field(default_factory=list)
    turn: int = 1
    stage: ClassVar[str] = "joint"
    decision: ClassVar[type[d.Decision]] = d.Utterance

    def problems(self, decision: d.Utterance) -> list[str]:
        out = []
        if decision.gift_to and decision.gift_to not in self.participants:
            out.append(f"gift_to {decision.gift_to!r} is not taking part")
        if decision.gift_item and decision.gift_item not in {p.name for p in self.resident.state.possessions}:
            out.append(f"gift_item {decision.gift_item!r} is not something you own")
        return out


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


@dataclass
class RatingQuestion(Question):
    people: list[str] = field(default_factory=list)
    stage: ClassVar[str] = "rating"
    decision: ClassVar[type[d.Decision]] = d.RatingDecision

    def problems(self, decision: d.RatingDecision) -> list[str]:
        allowed = set(self.people)
        return [f"ratings: {r.name!r} is not one of the people to rate" for r in decision.ratings if r.name not in allowed]
