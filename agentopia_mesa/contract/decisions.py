"""Typed decisions: one pydantic model per stage.

These are what any Mind returns. Length limits keep LLM answers short and their JSON schemas
(``Decision.model_json_schema()``) are what an LLM backend is asked to follow. Names, places,
items and ids are plain strings here; whether they exist is checked against the world by the
stage that applies the decision (``minds/validation.py``).
"""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from agentopia_mesa.config import RANGES

LivingStandardName = Literal["frugal", "moderate", "comfortable", "luxurious"]
Intention = Literal["rest", "study", "work", "exercise", "leisure", "shopping", "socialize"]
SoloActivity = Literal["rest", "study", "work", "exercise", "leisure", "shopping"]

#: Characters a schema allows for each word a prompt asks for (minds/schemas.py): room for long
#: words; the words asked are the limit, and an answer over it is trimmed, not rejected.
CHARS_PER_WORD = 7


def _most_words(setting: str) -> int:
    """The characters of the longest text ``setting`` (a ``*_words`` key) can ask for: a decision
    accepts whatever its question may ask, so no setting can outgrow it."""
    return CHARS_PER_WORD * int(RANGES[setting][1])


Short = Annotated[str, StringConstraints(max_length=120)]
Line = Annotated[str, StringConstraints(max_length=300)]
Paragraph = Annotated[str, StringConstraints(max_length=800)]
#: The longest free text: a diary entry, a reflection or goals in the paper's context (300 and 150
#: words by default; up to the largest ``memory.diary_words`` / ``plan_words``).
Essay = Annotated[str, StringConstraints(max_length=max(_most_words("memory.diary_words"), _most_words("memory.plan_words")))]
#: A notebook entry's summary (``memory.summary_words``, 100 words by default).
Summary = Annotated[str, StringConstraints(max_length=_most_words("memory.summary_words"))]
#: A brief of the work behind an answer (``memory.brief_words``, 200 words by default).
Brief = Annotated[str, StringConstraints(max_length=_most_words("memory.brief_words"))]
PersonName = Annotated[str, StringConstraints(max_length=60)]
Score = Annotated[int, Field(ge=0, le=100)]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanDecision(Decision):
    """Plan stage: goals, this week's living standard and one intention per day; with
    ``activity.plan_activity_words`` (the paper) also each day's activity in the resident's own words."""

    long_term_goals: Essay
    short_term_goals: Essay
    living_standard: LivingStandardName
    intentions: list[Intention] = Field(max_length=7)
    activities: list[Paragraph] = Field(default=[], max_length=7)


class Message(Decision):
    to: PersonName
    text: Line


class Proposal(Decision):
    """Invite up to four acquaintances to a joint activity, this week or up to 4 weeks ahead."""

    activity: Short
    invitees: list[PersonName] = Field(min_length=1, max_length=4)
    required: list[PersonName] = Field(default=[], max_length=4)
    day: int = Field(ge=1, le=7)
    weeks_ahead: int = Field(default=0, ge=0, le=4)
    place: Short
    message: Line = ""


class Reply(Decision):
    activity_id: Short
    accept: bool
    message: Line = ""


class Cancel(Decision):
    activity_id: Short
    message: Line = ""


class ContactDecision(Decision):
    """One contact round: messages, proposals, replies to invitations, cancellations."""

    messages: list[Message] = Field(default=[], max_length=5)
    proposals: list[Proposal] = Field(default=[], max_length=2)
    replies: list[Reply] = Field(default=[], max_length=10)
    cancellations: list[Cancel] = Field(default=[], max_length=2)


class ContactSummaryDecision(Decision):
    """After contact and scheduling: the resident's own summary of what was arranged and what fell through."""

    summary: Summary


class ReflectionDecision(Decision):
    """After a solo slot: the resident's reflection on it, in its own words."""

    reflection: Summary


class CompactionDecision(Decision):
    """After an answer with work behind it (reasoning, note-tool calls): the resident's brief of that
    work, kept before the answer for the rest of the week (the paper's ``<think_brief>``)."""

    brief: Brief


class SignupDecision(Decision):
    """Public events to join this week (ids), at most one per day."""

    events: list[Short] = Field(default=[], max_length=7)

    @field_validator("events")
    @classmethod
    def _skip_empty(cls, events: list[str]) -> list[str]:
        """An empty string is "no event that day" (the schema asks for one slot per free day)."""
        return [e for e in events if e]


class SoloDecision(Decision):
    """What to do alone in a free slot, and where (a place key; empty = the usual place)."""

    activity: SoloActivity
    skill: Short = ""
    place: Short = ""
    description: Paragraph = ""  # what the resident does, in its own words (at most 100 words are asked)


class PurchaseDecision(Decision):
    """Which offered item to buy, or empty for none."""

    item: Short = ""


#: The longest reply the decision accepts (the paper asks for under 200 words; up to the largest
#: ``activity.reply_words`` or ``public_words``); the question's schema narrows it to what it asks.
Speech = Annotated[str, StringConstraints(max_length=max(_most_words("activity.reply_words"),
                                                         _most_words("activity.public_words")))]


class EntryDecision(Decision):
    """Before a conversation: a private analysis (position, goals, plan, risks), kept in one's own context."""

    analysis: Paragraph


class PrivatePart(Decision):
    """Words meant only for some of those present; the others see that something was said privately."""

    visible_to: list[PersonName] = Field(min_length=1, max_length=4)
    text: Line


class Utterance(Decision):
    """One turn in a joint activity or encounter, in the first person: inner ``thoughts`` (only the
    speaker's), what everyone present sees (``speech``: "words in quotes" and (body language) in
    parentheses), ``private`` parts, a gift of something owned, and leaving."""

    speech: Speech
    thoughts: Line = ""
    private: list[PrivatePart] = Field(default=[], max_length=2)
    gift_to: PersonName = ""
    gift_item: Short = ""
    leave: bool = False


@functools.lru_cache(maxsize=4096)
def spoken(speech: str) -> Utterance:
    """A reply that only says ``speech``, one shared object per text (nobody changes a reply once
    made): the rule mind's few thousand different lines are validated once, not on each of the
    ~60,000 turns and public-event descriptions of a 100-resident, 10-year run."""
    return Utterance(speech=speech, private=[], gift_to="", gift_item="")


class PublicEventDecision(Decision):
    """At a public event (paper §4.3): what the resident does there, in its own words (the question
    asks for at most ``ActivityConfig.public_words``), and the others there it noticed and wants to
    remember (they get a note in its notebook)."""

    description: Speech
    noticed: list[PersonName] = Field(default=[], max_length=5)


class NoteUpdate(Decision):
    about: PersonName
    summary: Summary


class ExitDecision(Decision):
    """After a conversation: a summary, a reflection and notes on the others."""

    summary: Essay
    reflection: Essay
    notes: list[NoteUpdate] = Field(default=[], max_length=4)


class ReviewDecision(Decision):
    """Weekly review: diary summary and reflection, notebook updates."""

    summary: Essay
    reflection: Essay
    notes: list[NoteUpdate] = Field(default=[], max_length=10)


class DiscardDecision(Decision):
    items: list[Short] = Field(default=[], max_length=60)


STAY = "STAY"


class JobWishDecision(Decision):
    """Up to three ranked job wishes (job keys); ``STAY`` keeps the current job."""

    wishes: list[Short] = Field(default=[], max_length=3)


class Rating(Decision):
    name: PersonName
    affection: Score
    respect: Score


class RatingDecision(Decision):
    """Private yearly ratings of one's most relevant acquaintances (paper §6.1)."""

    ratings: list[Rating] = Field(default=[], max_length=20)
