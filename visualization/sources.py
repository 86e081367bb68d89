"""What the views draw: a town's world and its week frames, from a live model or a recorded run.

Both sources hand out the frames of ``agentopia_mesa.run.replay.week_frame``, so every chart is drawn
from one snapshot taken after a whole week: rendering never reads a model in the middle of a step
(nor waits for the minds deciding it).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import deque
from functools import cached_property
from pathlib import Path

import pandas as pd

from agentopia_mesa.minds.assign import llm_minds
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.run.dialogues import WeeklyDialogues
from agentopia_mesa.run.layout import RunLayout
from agentopia_mesa.run.replay import Replay, load_replay, week_frame
from agentopia_mesa.world.schema import PlaceSpec, ResidentSpec, WorldSpec

ROOT_ENV = "AGENTOPIA_VIEWER_ROOT"  # the folder whose run directories the replay page may open


def viewer_roots() -> list[Path]:
    """Where the replay page may open run directories: ``$AGENTOPIA_VIEWER_ROOT`` (default: the
    working directory), plus the folder of the run given on the command line (``$AGENTOPIA_REPLAY``)."""
    roots = [Path(os.environ.get(ROOT_ENV) or Path.cwd()).resolve()]
    if os.environ.get("AGENTOPIA_REPLAY"):
        roots.append(Path(os.environ["AGENTOPIA_REPLAY"]).expanduser().resolve().parent)
    return roots


def viewer_run_dir(text: str, roots: list[Path] | None = None) -> Path:
    """The run directory typed into the replay page, if it is one (``config.json`` and
    ``replay.jsonl``) inside an allowed root, symbolic links resolved. Anything else (a file,
    a folder elsewhere, a path that does not exist) gets the same message, so the page never
    opens files outside the roots nor tells which exist."""
    roots = viewer_roots() if roots is None else roots
    try:
        path = Path(text.strip()).expanduser()
        path = (path if path.is_absolute() else roots[0] / path).resolve()
        inside = any(path.is_relative_to(root) for root in roots)
        layout = RunLayout(path)
        ok = inside and path.is_dir() and layout.is_run() and layout.replay.is_file()
    except (OSError, ValueError, RuntimeError):
        ok = False
    if not ok:
        raise ValueError(f"{text.strip()[:200]!r} is not a run directory under {', '.join(map(str, roots))}")
    return path


#: How places are grouped (and coloured) on the map, in legend order.
PLACE_CATEGORIES: tuple[str, ...] = ("home", "workplace", "learning", "sport & outdoors", "shops", "leisure & social", "other")

def place_category(place: PlaceSpec) -> str:
    """A place's map category: homes, workplaces, then public places by what they afford first."""
    aff = set(place.affordances)
    if place.kind == "home":
        return "home"
    if "work" in aff and not aff & {"leisure", "socialize", "exercise", "shopping"}:
        return "workplace"
    for affordance, category in (("study", "learning"), ("exercise", "sport & outdoors"), ("shopping", "shops")):
        if affordance in aff:
            return category
    return "leisure & social" if aff & {"leisure", "socialize", "event"} else "other"


def places_table(world: WorldSpec) -> pd.DataFrame:
    """One row per place: key, name, kind, category, x, y, affords (comma-separated)."""
    return pd.DataFrame(
        [
            {
                "key": p.key, "name": p.name, "kind": p.kind, "category": place_category(p),
                "x": p.x, "y": p.y, "affords": ", ".join(p.affordances) or "-",
            }
            for p in world.places
        ]
    )


class TownSource:
    """A world plus the frames seen so far; subclasses say where the frames come from."""

    def __init__(self, world: WorldSpec, title: str):
        self.world = world
        self.title = title
        self.places = places_table(world)
        self.place_names = dict(zip(self.places["key"], self.places["name"], strict=True))
        self._profiles = {r.name: r for r in world.residents}

    # -- frames -------------------------------------------------------------------------------
    @property
    def frames(self) -> list[dict]:
        raise NotImplementedError

    def frame(self, week: int | None = None) -> dict:
        """The frame of ``week`` (default: the latest)."""
        frames = self.frames
        if week is None:
            return frames[-1]
        chosen = frames[0]
        for f in frames:
            if f["week"] > week:
                break
            chosen = f
        return chosen

    def metrics(self, until_week: int | None = None) -> pd.DataFrame:
        """Model metrics, one row per recorded week (up to ``until_week``)."""
        frame = pd.DataFrame([f["metrics"] for f in self.frames])
        if until_week is not None and not frame.empty:
            frame = frame[frame["week"] <= until_week]
        return frame

    def rewards(self, until_week: int | None = None) -> pd.DataFrame:
        """Life reward per resident per year (columns as ``AgentopiaModel.reward_table``)."""
        return pd.DataFrame()

    # -- residents ----------------------------------------------------------------------------
    def profile(self, name: str) -> ResidentSpec | None:
        return self._profiles.get(name)

    def job_title(self, job_key: str | None) -> str:
        if not job_key:
            return "no job"
        job = self.jobs().get(job_key)
        return f"{job.role} at {job.organisation}" if job else job_key

    def jobs(self) -> dict:
        return {j.key: j for j in self.world.jobs}

    def resident(self, name: str):
        """The live ``Resident`` (notebook, diary), or None in a replay."""
        return None

    def decisions(self, name: str) -> list[dict]:
        """The resident's most recent LLM decisions (prompt, response, flags), oldest first."""
        return []

    # -- conversations ------------------------------------------------------------------------
    def conversations(self, week: int) -> list[dict]:
        """What was said in the week frame ``week`` shows: its joint activities, encounters and public
        event groups, in the order they were played, each as a line of the run's ``dialogues.jsonl``
        (``agentopia_mesa.run.dialogues``)."""
        return []


RECENT_DECISIONS = 20  # kept per resident for the inspector


class LiveTown(TownSource):
    """Frames of a running model, taken by an observer after every week.

    Everything drawn comes from these snapshots (never from the model's lists, which a step in
    another thread may be appending to). Only the latest frame keeps its tie lists, so a long
    live run does not grow without bound.
    """

    _EDGE_KEYS = ("acquaintance", "affection")

    def __init__(self, model: AgentopiaModel):
        super().__init__(model.world, f"{model.world.title}: {len(model.residents)} residents, live")
        self.model = model
        self._lock = threading.Lock()
        # Weeks lived before this view started watching: their metrics from the DataCollector.
        collected = model.datacollector.model_vars
        self._earlier = [{k: v[i] for k, v in collected.items()} for i in range(max(0, len(collected["week"]) - 1))]
        self._frames = [week_frame(model)]
        # The latest week's conversations (frame week, copies of model.conversations): a step
        # replaces the model's list, so a render never reads one being filled.
        self._conversations: tuple[int, list[dict]] = (model.weeks_done, list(model.conversations))
        model.observers.append(self._observe)
        self._recent: dict[str, deque] = {}
        for mind in llm_minds(model):
            mind.listeners.append(self._decided)

    def _decided(self, entry: dict) -> None:
        self._recent.setdefault(entry["resident"], deque(maxlen=RECENT_DECISIONS)).append(entry)

    def decisions(self, name: str) -> list[dict]:
        return list(self._recent.get(name, ()))

    def _observe(self, model) -> None:
        frame = week_frame(model)
        with self._lock:
            self._conversations = (frame["week"], list(model.conversations))
            self._frames.append(frame)
            older = self._frames[-2]
            # Replace, never mutate: a render may still be reading the older frame.
            self._frames[-2] = {k: v for k, v in older.items() if k not in self._EDGE_KEYS}

    @property
    def frames(self) -> list[dict]:
        with self._lock:
            return list(self._frames)

    def metrics(self, until_week: int | None = None) -> pd.DataFrame:
        rows = self._earlier + [f["metrics"] for f in self.frames]
        frame = pd.DataFrame(rows)
        if until_week is not None and not frame.empty:
            frame = frame[frame["week"] <= until_week]
        return frame

    def rewards(self, until_week: int | None = None) -> pd.DataFrame:
        """Years whose every resident has a reward row (a year being settled is left out)."""
        table = pd.DataFrame(list(self.model.reward_rows))
        if table.empty:
            return table
        complete = table.groupby("year")["name"].transform("count") >= len(self.model.residents)
        return table[complete]

    def conversations(self, week: int) -> list[dict]:
        """The latest week's only (a live view shows the week just lived)."""
        with self._lock:
            lived, conversations = self._conversations
        return list(conversations) if week == lived else []

    def jobs(self) -> dict:
        return self.model.jobs

    def resident(self, name: str):
        return self.model.residents_by_name.get(name)

    def profile(self, name: str) -> ResidentSpec | None:
        r = self.model.residents_by_name.get(name)
        return r.profile if r else None


class ReplayTown(TownSource):
    """Frames read from a run directory's ``replay.jsonl``: scrubbing recomputes nothing."""

    def __init__(self, replay: Replay):
        if replay.world is None:
            raise ValueError(f"{replay.path.parent}: world.json is missing; the map needs the run's world")
        residents = len(replay.frames[0]["residents"]["name"])
        super().__init__(replay.world, f"{replay.world.title}: {residents} residents, replay of {replay.path.parent.name}")
        self.replay = replay
        self._metrics = replay.metrics
        self.weeks_per_year = int(replay.config.get("config", {}).get("calendar", {}).get("weeks_per_year", 10))

    @classmethod
    def open(cls, run_dir: str | Path) -> ReplayTown:
        return cls(load_replay(run_dir))

    @cached_property
    def _dialogues(self) -> WeeklyDialogues:
        return WeeklyDialogues(self.replay.path.parent)

    def conversations(self, week: int) -> list[dict]:
        """From the run's ``dialogues.jsonl`` (LLM runs write it; a rules run has none)."""
        return self._dialogues.week(week - 1) if week > 0 else []  # frame week w shows week index w - 1

    @property
    def frames(self) -> list[dict]:
        return self.replay.frames

    def metrics(self, until_week: int | None = None) -> pd.DataFrame:
        frame = self._metrics
        if until_week is not None and not frame.empty and "week" in frame:
            frame = frame[frame["week"] <= until_week]
        return frame

    def rewards(self, until_week: int | None = None) -> pd.DataFrame:
        """rewards.csv when the run finished, else the rewards carried by the frames; only years
        settled by ``until_week`` (a year's reward is settled in its last week)."""
        rewards = self.replay.rewards if not self.replay.rewards.empty else self._frame_rewards
        if until_week is None or rewards.empty:
            return rewards
        settled = {year for week, year in self._settled if week <= until_week}
        return rewards[rewards["year"].isin(settled)]

    @cached_property
    def _settled(self) -> list[tuple[int, int]]:
        """(week, year) of every week in which the residents' life reward changed."""
        settled, previous = [], None
        for f in self.frames:
            totals = f["residents"]["reward_total"]
            if totals != previous and any(t is not None for t in totals):
                settled.append((f["week"], int(f["metrics"]["year"])))
            previous = totals
        return settled

    @cached_property
    def _frame_rewards(self) -> pd.DataFrame:
        by_week = {f["week"]: f for f in self.frames}
        rows = []
        for week, year in self._settled:
            columns = by_week[week]["residents"]
            for i, name in enumerate(columns["name"]):
                rows.append({"year": year, "name": name, **{c: columns[f"reward_{c}"][i] for c in REWARD_PARTS}})
        return pd.DataFrame(rows)


REWARD_PARTS = ("social", "subjective", "economic", "total")


_live_sources: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def live_town(model: AgentopiaModel) -> LiveTown:
    """The one ``LiveTown`` watching ``model`` (made on first use)."""
    source = _live_sources.get(model)
    if source is None:
        source = _live_sources[model] = LiveTown(model)
    return source
