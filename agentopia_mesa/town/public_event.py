"""A public event running in the town: part of the town's state, whoever made it (the rules or a
model judging the world, ``environment.events``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PublicEvent:
    """A theme gathering people join individually (a class, a match, volunteering)."""

    event_id: str
    name: str
    place: str
    day: int  # day of the week, 1-based
    description: str
    skill: str | None
    until_week: int  # last week index on which it recurs
    participants: list[str] = field(default_factory=list)
    eligible: tuple[str, ...] | None = None  # who may join (None: everyone)
