"""Writing run files: atomically, so a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.run.lock import check_overwritable
from agentopia_mesa.run.ownership import remove_run_files


class RunDirError(ValueError):
    pass


def prepare_run_dir(out: Path, overwrite: bool = False) -> Path:
    """Create ``out``; refuse to mix a new run into a non-empty directory unless ``overwrite``."""
    out = Path(out)
    if out.is_symlink():  # a dangling one included: a run is written only into a real directory
        raise RunDirError(f"out: {out} is a symbolic link; give the directory it stands for, or another --out")
    if out.exists() and not out.is_dir():
        raise RunDirError(f"out: {out} exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise RunDirError(f"out: {out} already holds files; choose another --out or pass --overwrite")
        remove_run_files(check_overwritable(out))  # only a run's own files, no other process writing them
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_json(path: Path, data) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8), atomically."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    with replacing(path) as tmp:
        frame.to_csv(tmp, index=False)
