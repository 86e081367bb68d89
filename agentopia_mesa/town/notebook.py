"""The notebook: the paper's memory files (§3.4), kept by each resident.

Three kinds of note, each addressed by a file name the resident sees:

- ``general``: goals, plans, progress, lessons; always listed;
- ``people/<name>``: one per person the resident knows: what it knows of them, how it feels,
  where the relationship stands. A person note is the acquaintance itself: a resident can
  contact only people it has a note on, and a note never vanishes (a tie may cool; knowing
  someone does not end);
- ``topics/<name>``: free-form notes the resident names itself.

Each note has a ``summary`` (what prompts list; at most ``SUMMARY_LIMIT`` characters, about three
sentences) and a ``full`` text (at most ``FULL_LIMIT`` characters, about 1000 words). Every
version written is kept (``Note.history``, identical rewrites skipped) and every read and write
is logged (``Notebook.log``). Notes are listed most recently used first (``Notebook.listing``).

The rules of editing (read before write, who may be written about) live with the tools that
enforce them (``minds/notebook_tools.py``); stages write through ``write``/``meet`` directly.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

SUMMARY_LIMIT = 600
FULL_LIMIT = 6000
GENERAL = "general"
PEOPLE = "people/"
TOPICS = "topics/"


@dataclass
class Note:
    summary: str = ""
    full: str = ""
    updated: int = -1  # week index of the last write (-1: never)
    #: Every version written, oldest first: (time stamp, summary, text written then).
    history: list[tuple[str, str, str]] = field(default_factory=list)
    used: int = 0  # the notebook's use counter when the note was last read or written

    def __setstate__(self, state: dict) -> None:
        """Notes pickled before versions and use order existed load with empty ones."""
        self.__dict__.update({"history": [], "used": 0, **state})

    def write(self, summary: str, addition: str, when: str, week_index: int) -> None:
        """Replace the summary and append ``addition`` to the full text, stamped ``when``; the same
        summary and addition as the last write change nothing but ``updated`` (stock phrases of
        the rule mind would otherwise fill the note with copies)."""
        if self.history and self.history[-1][1:] == (summary[:SUMMARY_LIMIT], addition):
            self.updated = week_index
            return
        full = self.full
        if addition:
            text = f"{full}\n[{when}] {addition}" if full else f"[{when}] {addition}"
            full = text[-FULL_LIMIT:]
        self._version(summary, full, addition, when, week_index)

    def replace(self, summary: str, full: str, when: str, week_index: int) -> None:
        """Overwrite the note with ``summary`` and ``full`` (the tools' update: merged content)."""
        self._version(summary, full[:FULL_LIMIT], full[:FULL_LIMIT], when, week_index)

    def _version(self, summary: str, full: str, written: str, when: str, week_index: int) -> None:
        # Interned: the same stamps and stock phrases recur across notes and residents, and a
        # checkpoint's pickle then stores each once (a 10-year town's notebooks shrink by half).
        summary = sys.intern(summary[:SUMMARY_LIMIT])
        if not self.history or self.history[-1][1:] != (summary, written):
            self.history.append((sys.intern(when), summary, sys.intern(written)))
        self.summary, self.full, self.updated = summary, full, week_index


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
    #: Every read and write: (time stamp, "read" or "write", file name).
    log: list[tuple[str, str, str]] = field(default_factory=list)
    uses: int = 0  # a counter that orders notes by last use

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({"log": [], "uses": 0, **state})

    # -- addressing ---------------------------------------------------------------------------
    def note(self, file: str) -> Note | None:
        """The note a file name points at, or None if there is none (yet)."""
        if file == GENERAL:
            return self.general
        if file.startswith(PEOPLE):
            return self.people.get(file[len(PEOPLE):])
        if file.startswith(TOPICS):
            return self.topics.get(file[len(TOPICS):])
        return None

    def files(self) -> list[str]:
        """Every file name, general first, then people and topics by name."""
        return [GENERAL, *(PEOPLE + n for n in sorted(self.people)), *(TOPICS + n for n in sorted(self.topics))]

    def knows(self, name: str) -> bool:
        return name in self.people

    # -- writing (stages and tools) -----------------------------------------------------------
    def person(self, name: str) -> Note:
        return self.people.setdefault(name, Note())

    def topic(self, name: str) -> Note:
        return self.topics.setdefault(name, Note())

    def write(self, file: str, summary: str, addition: str, when: str, week_index: int) -> Note:
        """Write ``file`` (created if new): replace its summary, append ``addition``; logged."""
        note = self._open(file)
        note.write(summary, addition, when, week_index)
        self._used(note, when, "write", file)
        return note

    def replace(self, file: str, summary: str, full: str, when: str, week_index: int) -> Note:
        """Overwrite ``file`` (created if new) with merged content; logged."""
        note = self._open(file)
        note.replace(summary, full, when, week_index)
        self._used(note, when, "write", file)
        return note

    def read(self, file: str, when: str) -> Note | None:
        """The note ``file`` (None if there is none), its reading logged."""
        note = self.note(file)
        if note is not None:
            self._used(note, when, "read", file)
        return note

    def meet(self, name: str, impression: str, when: str, week_index: int) -> bool:
        """A first impression of ``name`` if this is the first meeting; True if the note is new."""
        if name in self.people:
            return False
        self.write(PEOPLE + name, impression, impression, when, week_index)
        return True

    def _open(self, file: str) -> Note:
        if file == GENERAL:
            return self.general
        if file.startswith(PEOPLE):
            return self.person(file[len(PEOPLE):])
        if file.startswith(TOPICS):
            return self.topic(file[len(TOPICS):])
        raise ValueError(f"{file!r} is not a note: use general, people/NAME or topics/NAME")

    def _used(self, note: Note, when: str, op: str, file: str) -> None:
        self.uses += 1
        note.used = self.uses
        self.log.append((sys.intern(when), op, sys.intern(file)))

    # -- reading (prompts) --------------------------------------------------------------------
    def recent_people(self, limit: int, present: tuple[str, ...] = ()) -> list[str]:
        """Up to ``limit`` known people, most recently used first; those ``present`` always in."""
        return _recent(self.people, limit, present)

    def recent_topics(self, limit: int) -> list[str]:
        return _recent(self.topics, limit, ())

    def recent_diary(self, weeks: int) -> list[DiaryEntry]:
        return self.diary[-weeks:] if weeks > 0 else []


def _recent(notes: dict[str, Note], limit: int, forced: tuple[str, ...]) -> list[str]:
    ordered = sorted(notes, key=lambda name: (-notes[name].used, -notes[name].updated, name))
    first = [n for n in forced if n in notes]
    rest = [n for n in ordered if n not in first]
    return (first + rest)[:max(limit, len(first))]
