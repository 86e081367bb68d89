"""Transcripts: every conversation of a run, streamed to the run directory as JSON lines.

``DialogueRecorder(run_dir)`` is a model observer: after each week it appends that week's
conversations (``model.conversations``, made by ``stages.activities``) to ``dialogues.jsonl``,
one object per joint activity, encounter or public event group, and flushes. Like ``decisions.jsonl`` it is written
for runs with an LLM (a rules run's template talk would only fill the disk), and a resumed run
cuts it back to its checkpoint (``layout.STREAM_FILES``); ``run.trajectories.attach_trajectories``
attaches it.

One line: ``when``, ``week_index``, ``day``, ``kind`` ("joint", "encounter" or "public"), ``activity``,
``place``, ``scene``, ``participants``, ``entries`` (each one's private analysis), ``turns``
(each with ``turn``, ``when`` (the time stamp of the speaker's decision in ``decisions.jsonl``), ``speaker``, ``model``, ``feedback`` (the environment's, before the turn),
``text`` (what everyone present saw), ``thoughts``, ``visible_to`` (who else was present),
``private`` (parts with their own ``visible_to``), ``gift``, ``left``, ``verification`` (PASS or
REJECT), ``failure``, ``reason``, ``rejected``), ``ended`` ("environment", "max_turns" or
"too_few"), ``closing`` (the environment's last feedback), ``outcomes`` and ``exits`` (summary,
reflection and notes per participant). A public event group (``stages.transcripts``) has one turn
per participant (its description of what it did, seen by all the others, never verified), its
event's description as ``scene``, the outcomes, and ``noticed`` (whom each noticed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from agentopia_mesa.run.layout import RunLayout
from agentopia_mesa.run.untrusted import UntrustedFileError, decoded, json_lines, open_regular, open_to_write, parsed_json


class DialogueRecorder:
    """Append each week's conversations to ``run_dir/dialogues.jsonl`` (a model observer)."""

    def __init__(self, run_dir: str | Path):
        self.path = RunLayout(run_dir).dialogues

    def __call__(self, model) -> None:
        conversations = getattr(model, "conversations", None)
        if not conversations:
            return
        with open_to_write(self.path) as f:
            for conversation in conversations:
                f.write((json.dumps(conversation, ensure_ascii=False) + "\n").encode())


def _path(source: str | Path) -> Path:
    source = Path(source)
    return RunLayout(source).dialogues if source.is_dir() else source


def read_dialogues(source: str | Path) -> Iterator[dict]:
    """The conversations of a run directory (or of a ``dialogues.jsonl``), in order; an unfinished
    last line (a killed run) is skipped."""
    path = _path(source)
    if not path.exists() and not path.is_symlink():
        return
    for _, conversation in json_lines(path):  # a damaged line: one error naming file and line
        yield conversation


class WeeklyDialogues:
    """A run's conversations week by week, for a viewer: the file is scanned once for where each
    week's lines start (``week_index`` -> byte offsets), and a week's lines are read when asked for,
    so a long run's transcripts are never all in memory."""

    def __init__(self, source: str | Path):
        self.path = _path(source)
        self.offsets: dict[int, list[int]] = {}
        if not self.path.is_file():
            return
        with open_regular(self.path) as f:
            position = 0
            for number, line in enumerate(f, 1):
                if line.endswith(b"\n") and line.strip():
                    week = parsed_json(decoded(line, str(self.path), number), str(self.path), line=number).get("week_index")
                    if isinstance(week, bool) or not isinstance(week, int):
                        raise UntrustedFileError(f"{self.path}:{number}: no whole-number week_index")
                    self.offsets.setdefault(week, []).append(position)
                position += len(line)

    def week(self, week_index: int) -> list[dict]:
        """The conversations of week ``week_index`` (0-based, as in each line), in the order they were played."""
        offsets = self.offsets.get(week_index, [])
        if not offsets:
            return []
        with open_regular(self.path) as f:
            out = []
            for position in offsets:
                f.seek(position)
                out.append(json.loads(f.readline()))
            return out


def rejected_replies(source: str | Path) -> set[tuple[str, str]]:
    """(speaker, when) of every reply the environment rejected: its decision is no training data."""
    return {(t["speaker"], t["when"]) for c in read_dialogues(source) for t in c["turns"] if t.get("rejected")}
