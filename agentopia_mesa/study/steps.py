"""Finished steps, recorded with the hash of their inputs, so a study continues where it stopped.

A step is a folder under the study directory; ``STEP_FILE`` in it, written atomically once the
step's outputs are complete, holds the digest of its inputs (the study's settings it reads and
the records of the steps it reads from) and what it made. A step whose record is missing or
names other inputs runs again; towns inside a step are the sweeps' own to skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentopia_mesa.run.files import write_json

STEP_FILE = "step.json"


def record_path(study_dir: Path, step: str) -> Path:
    return study_dir / step / STEP_FILE


def finished(study_dir: Path, step: str, inputs: str) -> dict | None:
    """The record of ``step`` if it finished with these ``inputs``, else None."""
    try:
        record = json.loads(record_path(study_dir, step).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("inputs") == inputs else None


def record(study_dir: Path, step: str, inputs: str, outputs: dict[str, Any]) -> dict:
    """Mark ``step`` finished: its inputs' digest and its outputs (paths relative to the study)."""
    data = {"step": step, "inputs": inputs, "outputs": outputs}
    path = record_path(study_dir, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, data)
    return data


def state(study_dir: Path, step: str, inputs: str) -> str:
    """``done``, ``stale`` (finished with other inputs) or ``pending``."""
    if finished(study_dir, step, inputs):
        return "done"
    return "stale" if record_path(study_dir, step).exists() else "pending"
