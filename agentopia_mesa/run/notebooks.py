"""``notebooks.jsonl``: every resident's notebook as the run left it, for reading after the run.

One line per resident (in the town's order)::

    {"resident": NAME, "notes": {FILE: {"summary", "full", "updated", "versions": [[when, summary, written], ...]}},
     "diary": [[when, summary, reflection], ...], "log": [[when, "read" | "write", FILE], ...]}

``FILE`` is the name the resident sees (``general``, ``people/NAME``, ``topics/NAME``), ``updated``
the week index of the last write. Written with the other results at the end of a run, and only for
runs with an LLM (mind or environment): a rule-minded town's notebooks hold stock phrases, and a
ten-year town's would add tens of megabytes to every run.
"""

from __future__ import annotations

import json
from pathlib import Path

from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.run.untrusted import json_lines
from agentopia_mesa.town.notebook import Notebook


def notebook_record(name: str, notebook: Notebook) -> dict:
    """One resident's line of ``notebooks.jsonl``."""
    notes = {}
    for file in notebook.files():
        note = notebook.note(file)
        notes[file] = {"summary": note.summary, "full": note.full, "updated": note.updated,
                       "versions": [list(v) for v in note.history]}
    return {"resident": name, "notes": notes,
            "diary": [[e.when, e.summary, e.reflection] for e in notebook.diary],
            "log": [list(entry) for entry in notebook.log]}


def write_notebooks(path: Path, residents) -> None:
    """Every resident's notebook to ``path``, one JSON line each, atomically."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for r in residents:
            f.write(json.dumps(notebook_record(r.name, r.notebook), ensure_ascii=False) + "\n")


def read_notebooks(path: Path) -> dict[str, dict]:
    """``notebooks.jsonl`` back, by resident name."""
    return {str(line.get("resident")): line for _, line in json_lines(path)}
