"""What a role-play scene is: characters with their profiles, a place, a situation, a first line.

A scene is data, whatever its source (a world, ``world_scenes``; a CoSER test file, ``coser``):
both evaluated models play the same scenes, so their scores can be compared scene by scene.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Character:
    """One role: its ``name``, ``profile`` (what the actor knows of the character, free text),
    ``public`` (what the other characters may know of it) and ``motivation`` in this scene ("" if none)."""

    name: str
    profile: str
    public: str = ""
    motivation: str = ""


@dataclass(frozen=True)
class Scene:
    """A scene to play. ``scene_id`` is unique within an evaluation and stable across runs;
    ``source`` says where it came from ("world:school", "coser:test_set.json"); ``setting`` is
    the world's or the book's title; ``first_speaker`` (one of the characters) opens with
    ``first_line``, which is given, not played. ``reference`` is the original conversation as
    (speaker, message) pairs when the source has one (CoSER files), shown to the judge."""

    scene_id: str
    source: str
    setting: str
    place: str
    situation: str
    characters: tuple[Character, ...]
    first_speaker: str
    first_line: str
    reference: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in self.characters]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError(f"scene {self.scene_id}: needs at least two characters with different names, got {names}")
        if self.first_speaker not in names:
            raise ValueError(f"scene {self.scene_id}: the first speaker {self.first_speaker!r} is not one of {names}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.characters]

    def character(self, name: str) -> Character:
        return next(c for c in self.characters if c.name == name)

    def as_dict(self) -> dict:
        """JSON-able, as written to transcripts.jsonl."""
        return asdict(self)
