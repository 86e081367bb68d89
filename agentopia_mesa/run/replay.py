"""Replay files: one compact JSON line per week, so a finished (or interrupted) run can be watched
again week by week without recomputing anything.

``ReplayRecorder(run_dir)`` is a model observer (``model.observers.append(recorder)``) that appends
one *frame* per week to ``run_dir/replay.jsonl`` and flushes it, so the file stays valid JSON Lines
even when the run stops midway. A frame holds, column by column, where every resident is and what
it does (place key, activity, vitality, needs, deposit, job, living standard, latest life reward),
the acquaintance ties worth drawing, the affection ratings (only in the weeks they change: the
first frame and each year end) and that week's row of the model metrics. ``load_replay(run_dir)``
reads it back into a ``Replay`` the visualization scrubs through.

The same ``week_frame`` feeds the live view, so live runs and replays are drawn by the same code.
"""

from __future__ import annotations

import io

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd

from agentopia_mesa.town.state import NEEDS
from agentopia_mesa.run.layout import RunLayout
from agentopia_mesa.run.reader import RunReader, RunReadError
from agentopia_mesa.run.untrusted import UntrustedFileError, json_lines, open_to_write
from agentopia_mesa.world.schema import WorldSpec

FRAME_VERSION = 1

#: Acquaintance ties below this familiarity (0-100) are left out of a frame ...
MIN_FAMILIARITY = 20.0
#: ... unless the whole graph is this small, then every tie is kept.
SMALL_GRAPH_EDGES = 500

RESIDENT_COLUMNS: tuple[str, ...] = (
    "name", "place", "activity", "vitality", *NEEDS, "deposit", "job", "living_standard",
    "reward_total", "reward_social", "reward_subjective", "reward_economic",
)
"""Per-resident columns of a frame, each a list in ``model.residents`` order."""


class ReplayError(ValueError):
    """A run directory without a readable replay file."""


def week_label(model) -> str:
    """The week just lived, as the paper stamps it (``Y2020-W03``); ``start`` before the first."""
    if model.weeks_done == 0:
        return "start"
    return model.calendar.describe_day((model.weeks_done - 1) * model.config.calendar.days_per_week)[:-3]


def _reward(value) -> float | None:
    return None if value is None else round(float(value), 4)


def _number(value):
    """JSON-safe metric value (numpy scalars to Python, NaN to null)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def week_frame(model, *, with_affection: bool = True) -> dict:
    """A compact snapshot of the town after the latest week (see the module docstring)."""
    residents = model.residents
    index = {r.name: i for i, r in enumerate(residents)}
    columns: dict[str, list] = {c: [] for c in RESIDENT_COLUMNS}
    for r in residents:
        state, reward, job = r.state, r.reward, r.job_key
        columns["name"].append(r.name)
        columns["place"].append(r.place.key)
        columns["activity"].append(r.activity)
        columns["vitality"].append(state.vitality)
        for need in NEEDS:
            columns[need].append(state.needs[need])
        columns["deposit"].append(state.deposit)
        columns["job"].append(job)
        columns["living_standard"].append(r.living_standard)
        columns["reward_total"].append(_reward(reward.get("total")))
        columns["reward_social"].append(_reward(reward.get("social")))
        columns["reward_subjective"].append(_reward(reward.get("subjective")))
        columns["reward_economic"].append(_reward(reward.get("economic")))

    frame = {
        "v": FRAME_VERSION,
        "week": model.weeks_done,
        "label": week_label(model),
        "residents": columns,
        "acquaintance": _acquaintance_ties(model.ties.acquaintance, index),
        "metrics": {name: _number(values[-1]) for name, values in model.datacollector.model_vars.items() if values},
    }
    outcomes = {str(i): [f"{rec.when} {rec.kind}: {rec.note}" for rec in r.records if rec.note]
                for i, r in enumerate(residents)}
    outcomes = {i: texts for i, texts in outcomes.items() if texts}
    if outcomes:  # the environment's narration of the week (an LLM environment's; the rules give none)
        frame["outcomes"] = outcomes
    if with_affection:
        frame["affection"] = [
            [index[a], index[b], int(d["score"] + 0.5)]
            for a, b, d in model.ties.affection.edges(data=True)
            if a in index and b in index
        ]
    return frame


def _acquaintance_ties(graph, index: dict[str, int]) -> list[list]:
    """[a, b, familiarity (whole number), sentiment (2 decimals)] for the ties worth drawing."""
    threshold = -1.0 if graph.number_of_edges() <= SMALL_GRAPH_EDGES else MIN_FAMILIARITY
    ties = []
    for a, neighbours in graph.adjacency():
        i = index.get(a)
        if i is None:
            continue
        for b, tie in neighbours.items():
            familiarity = tie["familiarity"]
            if familiarity >= threshold and b in index:
                ties.append([i, index[b], int(familiarity + 0.5), round(tie["sentiment"], 2)])
    return ties


class ReplayRecorder:
    """Model observer writing ``replay.jsonl`` into a run directory, one flushed line per week.

    Usage: ``recorder = ReplayRecorder(out); recorder.start(model); model.observers.append(recorder)``.
    ``start`` writes the town before the first week (week 0); without it the file begins at week 1.
    """

    def __init__(self, run_dir: str | Path):
        self.path = RunLayout(run_dir).replay
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = None
        self._ratings_seen: int | None = None

    def start(self, model) -> None:
        """Begin a new file with week 0 (call before the first step)."""
        self.close()
        self._file = io.TextIOWrapper(open_to_write(self.path, append=False), encoding="utf-8")
        self._ratings_seen = None
        self(model)

    def resume(self, model) -> None:
        """Continue the file of a run restored from a checkpoint (frames after the checkpoint's week)."""
        self.close()
        self._ratings_seen = len(model.reward_rows)

    def __call__(self, model) -> None:
        if self._file is None:
            self._file = io.TextIOWrapper(open_to_write(self.path), encoding="utf-8")
        # Ratings change only at year ends, when a new batch of reward rows appears.
        ratings = len(model.reward_rows)
        changed = ratings != self._ratings_seen
        self._ratings_seen = ratings
        frame = week_frame(model, with_affection=changed)
        self._file.write(json.dumps(frame, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()
        if not model.running:
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class Replay:
    """A recorded run, ready to scrub: ``frames[i]`` is the town after week ``frames[i]['week']``.

    ``affection`` is filled forward, so every frame has the ratings in force that week.
    ``metrics`` (one row per recorded week) and ``rewards`` (per resident per year) are DataFrames;
    ``world`` is the run's world when ``world.json`` is there.
    """

    path: Path
    frames: list[dict]
    world: WorldSpec | None = None
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    rewards: pd.DataFrame = field(default_factory=pd.DataFrame)
    config: dict = field(default_factory=dict)
    truncated: bool = False  # the last line was cut off (the run stopped mid-write)

    @property
    def weeks(self) -> list[int]:
        return [f["week"] for f in self.frames]

    def frame(self, week: int) -> dict:
        """The frame of ``week`` (or the last one before it)."""
        best = self.frames[0]
        for f in self.frames:
            if f["week"] > week:
                break
            best = f
        return best

    def __len__(self) -> int:
        return len(self.frames)


def read_frames(path: str | Path) -> tuple[list[dict], bool]:
    """Frames of a replay file in week order, skipping a last line cut off mid-write and keeping
    the last writing of a week lived twice (a resumed run); returns (frames, truncated)."""
    frames: list[dict] = []
    cut: list[int] = []
    try:
        for number, frame in json_lines(path, on_cut=cut.append):
            week = frame.get("week")
            if isinstance(week, bool) or not isinstance(week, int):
                raise ReplayError(f"{path}:{number}: not a replay frame (no whole-number week)")
            # A run resumed from an earlier checkpoint writes some weeks again: the later lines win.
            while frames and frames[-1]["week"] >= week:
                frames.pop()
            frames.append(frame)
    except UntrustedFileError as exc:
        raise ReplayError(str(exc)) from None
    truncated = bool(cut)
    affection: list = []
    for f in frames:
        affection = f.setdefault("affection", affection)
    return frames, truncated


def load_replay(run_dir: str | Path) -> Replay:
    """Read ``run_dir/replay.jsonl`` (and world.json, rewards.csv, config.json when present)."""
    run_dir = Path(run_dir).expanduser()
    path = RunLayout(run_dir).replay if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise ReplayError(f"{path}: no replay file; record one with ReplayRecorder (every `agentopia run` writes it)")
    frames, truncated = read_frames(path)
    if not frames:
        raise ReplayError(f"{path}: the replay holds no weeks yet")
    try:
        run = RunReader(path.parent)
    except RunReadError:  # a replay file on its own: frames only
        run = None
    bad = next((i for i, f in enumerate(frames) if not isinstance(f.get("metrics"), dict)), None)
    if bad is not None:
        raise ReplayError(f"{path}: the frame of week {frames[bad]['week']} has no metrics object")
    metrics = pd.DataFrame([f["metrics"] for f in frames])
    return Replay(path=path, frames=frames, world=run.world_spec() if run else None, metrics=metrics,
                  rewards=run.rewards if run else pd.DataFrame(), config=run.meta if run else {}, truncated=truncated)
