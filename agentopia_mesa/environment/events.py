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


def draw_encounters(
    idle_at: dict[str, list[str]],
    ties: SocialTies,
    week_index: int,
    rng: random.Random,
    config: EventsConfig,
) -> list[tuple[str, str, str]]:
    """Pairs of idle residents who run into each other at the same public place today.

    About (idle residents / 5) encounters a day, randomly rounded; one person of a pair prefers
    someone among its most recently met acquaintances if one is there, else anyone present.
    Returns (a, b, place key) triples.
    """
    total = sum(len(v) for v in idle_at.values())
    expected = total / config.encounter_divisor
    n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
    pools = {place: list(names) for place, names in idle_at.items() if len(names) >= 2}
    present = {place: set(pool) for place, pool in pools.items()}  # the pools as sets, to ask who is there
    pairs = []
    for _ in range(n):
        places = [p for p, names in pools.items() if len(names) >= 2]
        if not places:
            break
        weights = [len(pools[p]) * (len(pools[p]) - 1) for p in places]
        place = rng.choices(places, weights)[0]
        pool, here = pools[place], present[place]
        a = pool.pop(rng.randrange(len(pool)))
        here.discard(a)
        related = [b for b in ties.recently_met(a, config.related_for_encounter) if b in here] if ties.acquaintance.has_node(a) else []
        b = rng.choice(related) if related and rng.random() < 0.5 else rng.choice(pool)
        pool.remove(b)
        here.discard(b)
        pairs.append((a, b, place))
    return pairs
