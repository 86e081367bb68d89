"""Building a run: one way, from settings, for ``agentopia run``, sweeps, the viewer and the dataset tools.

``RunSettings`` is plain data: the world, its size, the years, the seed, configuration overrides
and who decides (``LLMSettings``, or a minds factory named ``package.module:factory``);
``run.town_options.run_settings`` makes it from ``agentopia run``'s options, for every caller.

- ``model_arguments(settings)`` / ``build_model(settings)``: the model alone, no directory (the
  live viewer, ``batch_run``-style use from Python);
- ``start_run(settings, out)``: a new run directory with its start files, recorders (replay,
  yearly tables) and trajectories; ``Run.live()`` then runs it to the end with checkpoints;
- ``resume_run(run_dir)`` and ``branch_run(run_dir, week, out)``: a run continued from its last
  checkpoint, or forked at one, with its minds given their clients back.

Every caller gets the same run directory for the same settings (``run.layout``).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.environment.llm_environment import environment_for, reattach_environment
from agentopia_mesa.llm.settings import LLMSettings
from agentopia_mesa.llm.wiring import resolved_concurrency
from agentopia_mesa.minds.assign import minds_for, reattach_minds
from agentopia_mesa.run.checkpoints import KEEP_NEWEST, keep_meta, load_latest, no_checkpoint_message, truncate_streams
from agentopia_mesa.run.files import prepare_run_dir, write_json
from agentopia_mesa.run.layout import STREAM_FILES, WORLD, RunLayout
from agentopia_mesa.run.lock import check_branch, check_streams, hold_run_lock
from agentopia_mesa.run.reader import RunReader
from agentopia_mesa.run.results import run_metadata, write_start
from agentopia_mesa.run.session import attach_recorders, prepare_resume, run_session
from agentopia_mesa.run.tables import snapshot_path
from agentopia_mesa.run.trajectories import attach_trajectories
from agentopia_mesa.world.loader import load_world, resize_world
from agentopia_mesa.world.schema import WorldSpec

CUSTOM_MINDS = "custom"  # the spec recorded for residents of a minds factory


@dataclass
class RunSettings:
    """Everything that decides a run (see the module docstring)."""

    world: str | Path | WorldSpec = "apartment"
    residents: int | None = None  # None: all of the world's
    years: int = 10
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)  # configuration fields as section__field
    llm: LLMSettings = field(default_factory=LLMSettings)
    minds: str | None = None  # "package.module:factory" called as factory(cache=Path|None, seed=int, **minds_options)
    minds_options: dict[str, Any] = field(default_factory=dict)
    checkpoint_every: int | None = None  # weeks; None: every week with LLM minds, every year with rules
    keep_checkpoints: int = KEEP_NEWEST  # the newest kept besides each year end's; 0: all
    tables: str = "csv"  # the per-resident tables' format: "csv" or "parquet" (run/tables.py)
    profile: str | None = None  # the profile an LLM run was made with (its overrides are in ``overrides``); recorded

    def config(self) -> SimulationConfig:
        return SimulationConfig().with_flat_overrides(self.overrides)

    def world_spec(self) -> WorldSpec:
        spec = self.world if isinstance(self.world, WorldSpec) else load_world(self.world)
        return resize_world(spec, self.residents) if self.residents is not None else spec

    @property
    def uses_llm(self) -> bool:
        return self.llm.uses_llm or self.minds is not None


def _minds(settings: RunSettings, world: WorldSpec) -> tuple[Callable | None, list[str]]:
    """The ``minds`` argument of the model and the spec of each resident."""
    if settings.minds is not None:
        module, _, name = settings.minds.partition(":")
        factory = getattr(importlib.import_module(module), name)
        cache = Path(settings.llm.cache) if settings.llm.cache else None
        return factory(cache=cache, seed=settings.seed, **settings.minds_options), [CUSTOM_MINDS] * len(world.residents)
    return minds_for(settings.llm, len(world.residents), settings.seed, [r.name for r in world.residents])


def model_arguments(settings: RunSettings) -> tuple[dict[str, Any], list[str]]:
    """Keyword arguments for ``AgentopiaModel`` and the mind spec of each resident."""
    world = settings.world_spec()
    minds, specs = _minds(settings, world)
    args = {"world": world, "years": settings.years, "seed": settings.seed, "config": settings.config(), "minds": minds}
    environment = environment_for(settings.llm, settings.seed)
    if environment is not None:
        args["environment"] = environment
    if settings.llm.ratings_by != "self":
        args["ratings"] = settings.llm.ratings_by
    return args, specs


def build_model(settings: RunSettings):
    """The model of ``settings`` with no run directory; returns (model, mind spec per resident)."""
    from agentopia_mesa.model import AgentopiaModel

    args, specs = model_arguments(settings)
    return AgentopiaModel(**args), specs


@dataclass
class Run:
    """A model living in its run directory; ``meta`` is its ``config.json``."""

    layout: RunLayout
    model: Any
    meta: dict

    @property
    def finished(self) -> bool:
        return not self.model.running and self.layout.is_finished()

    def live(self, progress: Callable | None = None) -> dict[str, Path]:
        """Run to the end with checkpoints and write the results (``session.run_session``)."""
        return run_session(self.model, self.layout.root, self.meta,
                           checkpoint_every=self.meta.get("checkpoint_every", 1), progress=progress)


def start_run(settings: RunSettings, out: str | Path, overwrite: bool = False, world_label: str | None = None,
              extra_meta: dict | None = None) -> Run:
    """A new run directory for ``settings``; nothing is left behind if the model cannot be built
    (an unknown world, an LLM server that is not there)."""
    layout = RunLayout(prepare_run_dir(Path(out), overwrite=overwrite))
    hold_run_lock(layout.root)
    try:
        if settings.uses_llm and not settings.llm.cache:
            settings = replace(settings, llm=replace(settings.llm, cache=str(layout.llm_cache)))
        settings = replace(settings, llm=resolved_concurrency(settings.llm))  # config.json records the number
        model, specs = build_model(settings)
    except BaseException:
        shutil.rmtree(layout.root, ignore_errors=True)
        raise
    meta = run_metadata(model, world_label or str(settings.world), settings.seed)
    default_every = 1 if settings.uses_llm else model.config.calendar.weeks_per_year
    meta["checkpoint_every"] = settings.checkpoint_every if settings.checkpoint_every is not None else default_every
    meta["overrides"] = settings.overrides
    meta.update(keep_meta(settings.keep_checkpoints))  # recorded only when not the default
    if settings.tables != "csv":
        meta["tables"] = settings.tables  # likewise
    meta["llm"] = settings.llm.to_dict()
    meta["minds"] = {r.name: spec for r, spec in zip(model.residents, specs, strict=True)}
    if settings.profile is not None:
        meta["profile"] = settings.profile
    meta.update(extra_meta or {})
    write_start(layout, model, meta)
    attach_recorders(model, layout.root, fresh=True, tables=settings.tables)
    attach_trajectories(model, layout.root)
    return Run(layout, model, meta)


def _restore(run_dir: Path, at_most_week: int | None = None):
    """The run's ``config.json``, its newest checkpoint (at or before a week) and that file's path,
    the LLM minds given clients again."""
    meta = RunReader(run_dir).meta
    model, path = load_latest(run_dir, at_most_week)
    settings = confine_cache(LLMSettings.from_dict(meta.get("llm")), run_dir)
    reattach_minds(model, settings)
    reattach_environment(model, settings)
    return model, meta, path


def confine_cache(settings: LLMSettings, run_dir: Path) -> LLMSettings:
    """``settings`` for continuing the run in ``run_dir``, whose config.json may come from someone
    else: its LLM cache may be inside the run directory, the default name (re-based into the run
    directory, e.g. after the run was moved), or an existing response cache elsewhere (a shared
    ``--llm-cache``); any other path is refused, so opening a run never creates files elsewhere."""
    import sqlite3

    if not settings.cache:
        return settings
    layout, path = RunLayout(run_dir), Path(settings.cache).expanduser()
    if path.resolve().is_relative_to(layout.root.resolve()):
        return settings
    if path.name == layout.llm_cache.name:
        return replace(settings, cache=str(layout.llm_cache))
    try:
        with sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True) as db:
            ours = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'responses'").fetchone()
        db.close()
    except (sqlite3.Error, OSError):
        ours = None
    if not ours:
        raise ValueError(f"{layout.config}: its LLM cache {str(path)[:200]} is outside the run directory and "
                         "is not an existing response cache; opening a run creates no files elsewhere (copy the cache "
                         f"into the run directory as {layout.llm_cache.name})")
    return settings


def resume_run(run_dir: str | Path) -> tuple[Run, Path]:
    """The run continued from its last checkpoint, streamed files cut back to it; also returns
    the checkpoint's path. A finished run comes back as it is (``Run.finished``)."""
    layout = RunLayout(run_dir)
    model, meta, path = _restore(layout.root)
    run = Run(layout, model, meta)
    if not run.finished:
        hold_run_lock(layout.root)  # before its files are cut back: a second resume at once is refused
        prepare_resume(model, layout.root, tables=meta.get("tables", "csv"))
        attach_trajectories(model, layout.root)
    return run, path


class BranchError(ValueError):
    pass


def branch_run(run_dir: str | Path, week: int, out: str | Path, seed: int | None = None) -> Run:
    """A new run directory forked from ``run_dir``'s checkpoint at ``week``; ``seed`` reseeds the
    branch's randomness (None keeps the stream, so the branch repeats the original)."""
    import numpy as np

    source = RunLayout(run_dir)
    check_branch(source.root, Path(out), seed)
    model, meta, _ = _restore(source.root, at_most_week=week)
    if model.weeks_done != week:
        raise BranchError(no_checkpoint_message(source.root, week))
    check_streams(source.root, model)
    layout = RunLayout(prepare_run_dir(Path(out)))
    hold_run_lock(layout.root)
    for name in (WORLD, *STREAM_FILES):
        if (source / name).exists():
            shutil.copyfile(source / name, layout / name)
    last_snapshot = week // model.config.calendar.weeks_per_year  # Parquet snapshots up to the branch point
    for folder in (source.ties_parquet, source.residents_yearly_parquet):
        for year in range(last_snapshot + 1):
            if snapshot_path(folder, year).is_file():
                (layout / folder.name).mkdir(exist_ok=True)
                shutil.copyfile(snapshot_path(folder, year), snapshot_path(layout / folder.name, year))
    truncate_streams(layout.root, getattr(model, "stream_offsets", {}))
    if seed is not None:
        model.random.seed(seed)
        model.rng = np.random.default_rng(seed)
    meta = {**meta, "branched_from": {"run": str(source.root), "week": week, "seed": seed}}
    write_json(layout.config, meta)
    prepare_resume(model, layout.root, tables=meta.get("tables", "csv"))
    attach_trajectories(model, layout.root)
    return Run(layout, model, meta)
