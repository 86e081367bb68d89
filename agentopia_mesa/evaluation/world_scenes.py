"""Scenes built from a world's residents: two or three people who know each other, a place where
people meet, one of a few everyday situations and the line that opens it.

Use a world the model was not trained on: runs default to ``apartment``, so the evaluation
defaults to ``rivertown``. Everything is drawn from ``random.Random(seed)`` in a fixed order, so
the same world, number of scenes and seed give the same scenes. The situations are our own,
written to pull the characters' profiles into the conversation (a favour, news, money, a
disagreement) without needing any history the world does not have.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from agentopia_mesa.evaluation.scenes import Character, Scene
from agentopia_mesa.town.resident import PUBLIC_APPEARANCE
from agentopia_mesa.world.loader import load_world
from agentopia_mesa.world.schema import ResidentSpec, WorldSpec

DEFAULT_WORLD = "rivertown"
#: Place affordances where people meet to talk.
MEETING_AFFORDANCES = ("socialize", "leisure")
#: The most characters of a world scene (the first speaker and up to two acquaintances).
MAX_CHARACTERS = 3


@dataclass(frozen=True)
class Situation:
    """``text`` and ``opening`` take {a} (the first speaker), {b} (the second character),
    {others} (everyone but the first speaker) and {place}."""

    title: str
    text: str
    opening: str


SITUATIONS = (
    Situation("chance meeting", "{a} and {others} run into each other at {place} on a quiet evening; nobody planned it.",
              "Oh, {b}! I didn't think I'd see you here tonight."),
    Situation("a favour", "{a} needs a favour, not a small one, and has come to {place} hoping to ask {others}.",
              "{b}, have you got a minute? There's something I need to ask you."),
    Situation("worrying news", "{a} heard worrying news this week and meets {others} at {place}, unsure how much to tell.",
              "You look like you've had a better week than me, {b}."),
    Situation("a disagreement", "Yesterday {a} and {others} disagreed about something that matters to them; today they "
              "meet again at {place}.", "About yesterday, {b}... I'm still not sure you were right."),
    Situation("good news", "{a} has good news and asked {others} to come to {place} to hear it.",
              "Sit down, {b}, you won't believe what happened."),
    Situation("weekend plans", "{a} and {others} meet at {place} to plan the weekend together, and each wants something else.",
              "So, {b}, what are we doing this weekend? I've got an idea."),
    Situation("money", "{a} is short of money this month and meets {others} at {place}, where everything costs more than "
              "expected.", "Have you seen these prices, {b}? I can't keep up."),
    Situation("an old story", "At {place}, {a} and {others} talk about how they first met, and remember it differently.",
              "{b}, do you remember how we first met? I was thinking about it today."),
)


def world_scenes(world: str | WorldSpec = DEFAULT_WORLD, count: int = 10, seed: int = 0) -> list[Scene]:
    """``count`` scenes (>= 1) from ``world`` (a built-in name, a path or a loaded world), drawn with ``seed``."""
    if count < 1:
        raise ValueError(f"--scenes: must be at least 1, got {count}")
    spec = world if isinstance(world, WorldSpec) else load_world(world)
    people = {r.name: r for r in spec.residents}
    anchors = [r for r in spec.residents if any(a in people and a != r.name for a in r.acquaintances)]
    places = [p for p in spec.places if set(p.affordances) & set(MEETING_AFFORDANCES)] or list(spec.places)
    if not anchors:
        raise ValueError(f"world {spec.name}: no resident knows another resident, so no scene can be built")
    jobs = {j.key: j for j in spec.jobs}
    rng = random.Random(seed)
    scenes = []
    for i in range(count):
        anchor = rng.choice(anchors)
        known = sorted({a for a in anchor.acquaintances if a in people and a != anchor.name})
        others = rng.sample(known, min(len(known), rng.randint(1, MAX_CHARACTERS - 1)))
        place = rng.choice(places)
        situation = rng.choice(SITUATIONS)
        cast = [anchor, *(people[name] for name in others)]
        fill = {"a": anchor.name, "b": others[0], "others": _and(others), "place": place.name}
        scenes.append(Scene(
            scene_id=f"{spec.name}-{seed}-{i + 1:03d}", source=f"world:{spec.name}", setting=spec.title,
            place=f"{place.name} ({place.kind})", situation=situation.text.format(**fill),
            characters=tuple(_character(r, jobs) for r in cast), first_speaker=anchor.name,
            first_line=situation.opening.format(**fill)))
    return scenes


def _character(r: ResidentSpec, jobs: dict) -> Character:
    job = jobs.get(r.job) if r.job else None
    work = f"{job.role} at {job.organisation}" if job else "no position"
    traits = sorted(r.traits.items(), key=lambda kv: -abs(kv[1] - 50))[:4]
    profile = "\n".join(line for line in (
        f"Born {r.birth_year}, {r.gender}; {work}.",
        r.introduction,
        f"Appearance: {r.appearance}" if r.appearance else "",
        f"Values: {' '.join(r.values)}" if r.values else "",
        f"Strongest traits (0-100, 50 average): {', '.join(f'{k} {v}' for k, v in traits)}",
        f"Skills (10 beginner, 100 proficient): {', '.join(f'{k} {v}' for k, v in r.skills.items())}" if r.skills else "",
    ) if line)
    public = f"{r.appearance[:PUBLIC_APPEARANCE] or 'unremarkable'}; {work}."
    return Character(r.name, profile, public, r.motivation)


def _and(names: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
