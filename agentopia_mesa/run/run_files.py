"""The shapes of a run directory's files, checked before use (``RunReader``, resume, datasets, viewer).

A run directory may come from someone else, so ``config.json`` that is a list or has a
wrong-typed field, a ``rewards.csv`` with other columns or words where numbers belong, or a
``world.json`` that breaks the world schema is one line naming the file and the key or column, not
a ``KeyError`` or ``TypeError`` deep in an analysis. Only what the code reads is checked: the
fields of ``config.json`` that readers use (``META_FIELDS``) and the columns of each table that the
analysis, datasets and viewer use (``TABLE_COLUMNS``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agentopia_mesa.run import layout as L
from agentopia_mesa.run.untrusted import UntrustedFileError

#: Fields of ``config.json`` that readers use, with the JSON types each may have (absent is fine).
META_FIELDS: dict[str, tuple[type, ...]] = {
    "world": (str,), "world_name": (str,), "residents": (int,), "years": (int,), "seed": (int, type(None)),
    "config": (dict,), "config_digest": (str,), "versions": (dict,), "run_id": (str, int), "sweep_run": (dict,),
    "llm": (dict, type(None)), "tables": (str,), "keep_checkpoints": (int,), "branched_from": (dict,),
    "wall_seconds": (int, float), "wall_seconds_before": (int, float),
}
#: Sections of ``config.config`` that readers use, and their fields that must be numbers.
CONFIG_NUMBERS = {"calendar": ("start_year", "weeks_per_year", "days_per_week"), "reward": ("gamma",)}

#: Columns each table must have, and which must hold numbers where they are present.
TABLE_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    L.REWARDS: (("year", "name", "total"), ("year", "total", "return", "advantage")),
    L.METRICS: (("week", "year"), ("week", "year")),
    L.RESIDENTS: (("Step", "name"), ("Step",)),
    L.TIES: (("year_index", "graph", "source", "target", "weight"), ("year_index", "weight")),
    L.RESIDENTS_YEARLY: (("year_index", "year", "name"), ("year_index", "year")),
}


def _type_names(kinds: tuple[type, ...]) -> str:
    names = {dict: "an object", list: "a list", str: "text", int: "a whole number", float: "a number",
             type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def check_meta(meta: dict, path: Path) -> dict:
    """``meta`` (a parsed ``config.json``, an object) if the fields readers use have their types."""
    for key, kinds in META_FIELDS.items():
        value = meta.get(key)
        if key in meta and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
            raise UntrustedFileError(f"{path}: {key} must be {_type_names(kinds)}, got {str(value)[:40]!r}")
    config = meta.get("config") or {}
    for section, fields in CONFIG_NUMBERS.items():
        values = config.get(section, {})
        if not isinstance(values, dict):
            raise UntrustedFileError(f"{path}: config.{section} must be an object")
        for field in fields:
            value = values.get(field)
            if field in values and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise UntrustedFileError(f"{path}: config.{section}.{field} must be a number, got {str(value)[:40]!r}")
    return meta


def checked_table(frame: pd.DataFrame | None, path: Path) -> pd.DataFrame | None:
    """``frame`` (read from ``path``, None when absent) if it has the columns the code uses, with
    numbers where numbers belong; else one line naming the file and the column."""
    if frame is None or path.name not in TABLE_COLUMNS:
        return frame
    required, numeric = TABLE_COLUMNS[path.name]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UntrustedFileError(f"{path}: no column {', '.join(missing)} (a run writes {', '.join(required)}, ...)")
    for column in (c for c in numeric if c in frame.columns):
        if not pd.api.types.is_numeric_dtype(frame[column]):
            bad = frame[column][pd.to_numeric(frame[column], errors="coerce").isna()].index
            line = int(bad[0]) + 2 if len(bad) else "?"
            raise UntrustedFileError(f"{path}:{line}: column {column} must hold numbers")
    return frame


def world_spec(data, path: Path):
    """``world.json`` data as a ``WorldSpec``; a broken one is one line naming the file and field."""
    from agentopia_mesa.world.loader import WorldError, parse_world

    try:
        return parse_world(data, str(path))
    except WorldError as exc:
        raise UntrustedFileError(str(exc)) from None
