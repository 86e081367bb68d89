"""The notebook: the paper's memory files (general notes, one note per known person, topics).

Each note keeps a short summary (what prompts show) and a bounded full text, so a ten-year run
does not grow memory without bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUMMARY_LIMIT = 400
FULL_LIMIT = 4000


@dataclass
class Note:
    summary: str = ""
    full: str = ""
    updated: int = -1  # week index of the last write (-1: never)

    def write(self, summary: str, addition: str, when: str, week_index: int) -> None:
        """Replace the summary and append ``addition`` to the full text, stamped ``when``."""
        self.summary = summary[:SUMMARY_LIMIT]
        if addition:
            text = f"{self.full}\n[{when}] {addition}" if self.full else f"[{when}] {addition}"
            self.full = text[-FULL_LIMIT:]
        self.updated = week_index


@dataclass
class DiaryEntry:
    when: str
    summary: str
    reflection: str


@dataclass
class Notebook:
    general: Note = field(default_factory=Note)
    people: dict[str, Note] = field(default_factory=dict)
    topics: dict[str, Note] = field(default_factory=dict)
    diary: list[DiaryEntry] = field(default_factory=list)

    def person(self, name: str) -> Note:
        return self.people.setdefault(name, Note())

    def topic(self, name: str) -> Note:
        return self.topics.setdefault(name, Note())

    def recent_people(self, limit: int) -> list[str]:
        """Known people, most recently written first (the paper orders by recent access)."""
        ordered = sorted(self.people.items(), key=lambda item: (-item[1].updated, item[0]))
        return [name for name, _ in ordered[:limit]]

    def recent_diary(self, weeks: int) -> list[DiaryEntry]:
        return self.diary[-weeks:]
