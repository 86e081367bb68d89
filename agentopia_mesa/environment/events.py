"""Public events and chance encounters (paper §2.3), made by the rule-based environment."""

from __future__ import annotations

import random

from agentopia_mesa.config import EventsConfig
from agentopia_mesa.town.public_event import PublicEvent  # here too: checkpoints name it in this module
from agentopia_mesa.town.social_ties import SocialTies
from agentopia_mesa.world.schema import EventTemplate


def weekly_events(
    templates: tuple[EventTemplate, ...],
    running: list[PublicEvent],
    last_used: dict[str, int],
    week_index: int,
    days: int,
    rng: random.Random,
    config: EventsConfig,
) -> list[PublicEvent]:
    """This week's public events: recurring ones still running plus new ones.

    Between max(1, max/2) and max events a week; new events avoid templates used in the last
    ``lookback_weeks`` weeks when there are enough others. Each new event recurs on the same day
    for 1-``max_repeat_weeks`` weeks.
    """
    if not templates:
        return []
    events = [
        PublicEvent(f"E{week_index}-{i}", e.name, e.place, e.day, e.description, e.skill, e.until_week, eligible=e.eligible)
        for i, e in enumerate(e for e in running if e.until_week >= week_index)
    ]
    target = rng.randint(max(1, config.max_events_per_week // 2), config.max_events_per_week)
    active = {e.name for e in events}
    fresh = [t for t in templates if t.name not in active and week_index - last_used.get(t.name, -10**6) > config.lookback_weeks]
    if len(fresh) < target - len(events):
        fresh = [t for t in templates if t.name not in active]
    for template in rng.sample(fresh, max(0, min(len(fresh), target - len(events)))):
        repeat = rng.randint(1, config.max_repeat_weeks)
        events.append(
            PublicEvent(
                f"E{week_index}-{len(events)}", template.name, template.place, rng.randint(1, days),
                template.description, template.skill, week_index + repeat - 1,
            )
        )
        last_used[template.name] = week_index
    return events


def split_groups(participants: list[str], thresholds: tuple[int, ...]) -> list[list[str]]:
    """Round-robin groups: >30 people -> 2 groups, >60 -> 3, >90 -> 4 (paper §2.3)."""
    n_groups = 1 + sum(len(participants) > t for t in thresholds)
    return [participants[i::n_groups] for i in range(n_groups)]


def encounter_counts(idle: dict[int, list[str]], divisor: int, rng: random.Random) -> dict[int, int]:
    """How many encounters each day (paper §2.3): idle residents / ``divisor``, rounded up or down
    at random (the fraction is the chance of rounding up), at most one per two idle residents."""
    counts = {}
    for day, names in idle.items():
        expected = len(names) / divisor
        n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        counts[day] = min(n, len(names) // 2)
    return counts


def draw_encounters(
    idle: dict[int, list[str]],
    counts: dict[int, int],
    places: list[str],
    ties: SocialTies,
    related: int,
    rng: random.Random,
) -> list[tuple[int, str, str, str]]:
    """The week's chance encounters by rule: on each day ``counts[day]`` pairs of the residents
    ``idle`` that day, each at a public place of ``places`` drawn at random.

    One person of a pair is drawn at random; half the time its partner is one of its ``related``
    most recently met acquaintances idle that day (if any), else anyone idle. Nobody meets twice a
    day. Returns (day, a, b, place key) tuples, by day.
    """
    pairs = []
    if not places:
        return pairs
    for day in sorted(idle):
        pool = list(idle[day])
        for _ in range(counts.get(day, 0)):
            if len(pool) < 2:
                break
            a = pool.pop(rng.randrange(len(pool)))
            free = set(pool)
            near = [b for b in ties.recently_met(a, related) if b in free] if ties.acquaintance.has_node(a) else []
            b = rng.choice(near) if near and rng.random() < 0.5 else rng.choice(pool)
            pool.remove(b)
            pairs.append((day, a, b, rng.choice(places)))
    return pairs
