"""What ``--overwrite`` may delete: a directory a run made, holding nothing but files a run writes.

A run's ``config.json`` carries ``config_digest``, the hash of its ``config`` section
(``run/results.py``), so a ``config.json`` someone wrote by hand (with a ``"world"`` key, say) is not
taken for a run's. Every entry is then matched by exact name against what a run, a resume and
``agentopia analyze`` write (``RUN_FILES``, ``ANALYSIS_FILES``; checkpoints and Parquet snapshots by
their numbered names, and the ``.tmp`` of an interrupted atomic write). Anything else (notes, a
``.tex`` or a CSV file of one's own, a symbolic link, a subfolder) stops the overwrite before
anything is deleted, with one line naming it; the files are then removed one by one, never with
``rmtree``, so a file that appears meanwhile is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from agentopia_mesa.run import layout as L

#: Files a run (or a sweep's run) writes at its top level.
RUN_FILES = frozenset({
    L.CONFIG, L.WORLD, L.METRICS, L.RESIDENTS, L.REWARDS, L.RESIDENTS_YEARLY, L.TIES, L.RESIDENTS_PARQUET,
    L.REPLAY, L.DECISIONS, L.DIALOGUES, L.NOTEBOOKS, L.LLM_CACHE, *(L.LLM_CACHE + s for s in ("-wal", "-shm", "-journal")),
    L.FAULTS, L.SUMMARY, L.OVERVIEW, L.LOCK, L.PARAMS, L.STARTED, L.DONE, L.MEASURES, L.CORRELATIONS, L.INNATE,
})
#: Files ``agentopia analyze RUN_DIR`` writes into ``RUN_DIR/analysis`` (analysis/analyzer.py, report.py).
ANALYSIS = "analysis"
ANALYSIS_FILES = frozenset({L.MEASURES, L.CORRELATIONS, L.INNATE, "network.png", "inequality.png", "reward.png",
                            "innate.png", "report.md", "report.html"})
#: Files ``agentopia compare RUN_DIR...`` writes into the first run's ``compare`` (analysis/compare.py).
COMPARE = "compare"
COMPARE_FILES = frozenset({"compare.md", "compare.csv", "compare.png"})
#: Subfolders a run writes, and the names of the files inside each.
_NUMBERED = {
    L.CHECKPOINTS: re.compile(r"^week-\d{5}\.ckpt(\.tmp)?$"),
    L.TIES_PARQUET: re.compile(r"^year-\d{2,}\.parquet(\.tmp)?$"),
    L.RESIDENTS_YEARLY_PARQUET: re.compile(r"^year-\d{2,}\.parquet(\.tmp)?$"),
}


_NAMED = {ANALYSIS: ANALYSIS_FILES, COMPARE: COMPARE_FILES}


class NotOwned(ValueError):
    """A directory ``--overwrite`` must not delete, or an entry in it no run wrote."""


def config_digest(config: dict) -> str:
    """The hash ``SimulationConfig.digest`` gives the same configuration (12 hex digits)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


def written_by_a_run(meta) -> bool:
    """``config.json``'s content is a run's: an object whose ``config_digest`` hashes its ``config``."""
    return (isinstance(meta, dict) and isinstance(meta.get("config"), dict)
            and meta.get("config_digest") == config_digest(meta["config"]))


def _is_run_file(name: str, allowed: frozenset[str]) -> bool:
    return name in allowed or (name.endswith(".tmp") and name[:-4] in allowed)


def run_files(out: Path) -> list[Path]:
    """Every file under ``out`` (deepest first), if all of them are a run's; else ``NotOwned`` naming
    the first that is not (a symbolic link, an unknown name, an unknown subfolder)."""
    found: list[Path] = []
    for entry in sorted(Path(out).iterdir()):
        if entry.is_symlink():
            raise NotOwned(f"out: {out} holds {entry.name!r}, a symbolic link; --overwrite will not delete it")
        if entry.is_dir():
            pattern = _NUMBERED.get(entry.name)
            for inner in sorted(entry.iterdir()):
                ok = not inner.is_symlink() and inner.is_file() and (
                    pattern.match(inner.name) if pattern else _is_run_file(inner.name, _NAMED.get(entry.name, frozenset())))
                if not ok:
                    raise NotOwned(f"out: {out} holds {entry.name}/{inner.name!r}, which a run did not write; "
                                   "--overwrite will not delete it")
                found.append(inner)
            found.append(entry)
        elif entry.is_file() and _is_run_file(entry.name, RUN_FILES):
            found.insert(0, entry)
        else:
            raise NotOwned(f"out: {out} holds {entry.name!r}, which is not a run's file; --overwrite will not delete it")
    return found


def remove_run_files(paths: list[Path]) -> None:
    """Remove what ``run_files`` listed: files one by one, then the subfolders if they are empty."""
    for path in paths:
        if path.is_dir():
            try:
                path.rmdir()
            except OSError:  # something appeared meanwhile: keep it, and the folder
                pass
        else:
            path.unlink(missing_ok=True)
