"""Sweep configuration files (TOML or JSON) and the plan of runs they describe.

```toml
[sweep]
name = "need-decay"        # default: the file name
world = "apartment"        # world, years and residents are defaults every run starts from
years = 5
residents = 100
seeds = 4                  # replicates per parameter set (or an explicit list: [11, 12])
seed = 2026                # entropy the replicate seeds are derived from (numpy SeedSequence)
executor = "processes"     # sequential | processes | ray
workers = 2
retries = 1                # re-runs of a run whose worker died (killed, out of memory)
ray_address = ""           # "auto" or "ray://host:10001" to use a running Ray cluster

[fixed]                    # the same for every run
calendar__weeks_per_year = 10

[grid]                     # every combination of these values...
needs__decay = [0.1, 0.15, 0.2]
living_cost_scale = [0.75, 1.0, 1.5]

[[points]]                 # ...with each of these parameter sets (optional)
residents = 50

[llm]
cache = "llm-cache.sqlite" # shared by every worker; relative to the sweep directory (this default)
mix = "fake=0.5"           # LLM minds as `agentopia run --mind llm --mix` (the rest use rules), or:
max_concurrency = 8        # the mix's calls in flight per run, as --max-concurrency (this default)
minds = "package.module:factory"   # factory(cache=Path, seed=int, **options) -> minds
options = {}

[society]                  # agentopia run's town options for every run (sweeps/society.py), e.g.
mind = "llm"
llm = "fake"
profile = "paper"          # the paper's conversations, judged by an LLM environment
```

A ``[society]`` key may instead be a parameter (``[grid] profile = ["lean", "paper"]``).

Runs are identified by a hash of their parameters and seed, so a sweep can be re-run, grown
(more seeds, more values) or resumed without ever redoing a finished run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from agentopia_mesa.llm.settings import parse_mix
from agentopia_mesa.run.layout import LLM_CACHE
from agentopia_mesa.run.untrusted import MAX_DEPTH, UntrustedFileError, decoded, depth, parsed_json, read_bytes
from agentopia_mesa.sweeps.params import SweepConfigError, check_parameter
from agentopia_mesa.sweeps.society import check_society

EXECUTORS = ("sequential", "processes", "ray")
SECTIONS = ("sweep", "fixed", "grid", "points", "llm", "society")
SWEEP_KEYS = ("name", "world", "years", "residents", "seeds", "seed", "executor", "workers", "retries", "ray_address")
LLM_KEYS = ("cache", "mix", "max_concurrency", "minds", "options")


def derive_seeds(entropy: int, count: int) -> list[int]:
    """``count`` independent model seeds from one entropy value, by ``numpy.random.SeedSequence``.

    Replicate i always gets ``SeedSequence(entropy, spawn_key=(i,))``, so adding replicates keeps
    the seeds of the existing ones. Every parameter set uses the same replicate seeds (common
    random numbers), which makes differences between parameter sets less noisy.
    """
    return [int(np.random.SeedSequence(entropy, spawn_key=(i,)).generate_state(1)[0]) for i in range(count)]


@dataclass(frozen=True)
class RunPlan:
    """One run of a sweep: its parameters, replicate number and model seed."""

    id: str
    replicate: int
    seed: int
    params: dict[str, Any]

    @property
    def dir(self) -> str:
        """The run's directory, relative to the sweep directory."""
        return f"runs/{self.id}"


@dataclass(frozen=True)
class SweepSpec:
    name: str
    world: str = "apartment"
    years: int = 10
    residents: int | None = None
    seeds: int | tuple[int, ...] = 1
    seed: int = 0
    executor: str = "sequential"
    workers: int = 1
    retries: int = 1
    ray_address: str | None = None
    fixed: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list] = field(default_factory=dict)
    points: tuple[dict[str, Any], ...] = ()
    llm_cache: str = LLM_CACHE
    llm_mix: str | None = None
    llm_max_concurrency: int = 8
    minds: str | None = None
    minds_options: dict[str, Any] = field(default_factory=dict)
    society: dict[str, Any] = field(default_factory=dict)  # agentopia run's town options (sweeps/society.py)
    base_dir: str = "."  # where relative world paths are resolved: the config file's folder

    # -- the runs -------------------------------------------------------------------------------
    @property
    def replicate_seeds(self) -> list[int]:
        return list(self.seeds) if isinstance(self.seeds, tuple) else derive_seeds(self.seed, self.seeds)

    def parameter_sets(self) -> list[dict[str, Any]]:
        """Every parameter set: defaults < fixed < point < grid combination."""
        base = {"world": self.world, "years": self.years}
        if self.residents is not None:
            base["residents"] = self.residents
        base.update(self.fixed)
        keys = list(self.grid)
        combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(self.grid[k] for k in keys))]
        return [{**base, **point, **combo} for point in (self.points or ({},)) for combo in combos]

    @property
    def has_society(self) -> bool:
        """Whether runs are made from ``agentopia run``'s options: a ``[society]`` table, or
        society keys among the parameters (``grid.profile = ["lean", "paper"]``)."""
        from agentopia_mesa.sweeps.society import society_keys

        keys = set(society_keys())
        return bool(self.society) or any(keys & set(params) for params in self.parameter_sets())

    def plan(self) -> list[RunPlan]:
        """All runs, parameter set by parameter set, replicate by replicate."""
        runs, seen = [], set()
        for params in self.parameter_sets():
            for replicate, seed in enumerate(self.replicate_seeds):
                run = RunPlan(run_id(params, seed, self.society), replicate, seed, params)
                if run.id not in seen:
                    seen.add(run.id)
                    runs.append(run)
        return runs

    @property
    def swept(self) -> list[str]:
        """Parameters that take more than one value across the runs."""
        sets = self.parameter_sets()
        keys = dict.fromkeys(k for s in sets for k in s)
        return [k for k in keys if len({json.dumps(s.get(k), sort_keys=True, default=str) for s in sets}) > 1]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["points"] = list(self.points)
        return data


def run_id(params: dict[str, Any], seed: int, society: dict[str, Any] | None = None) -> str:
    """A stable 12-hex-digit id of a run's parameters, seed and society (when it has one, so a
    sweep without ``[society]`` keeps its runs' ids, and a changed society makes new runs)."""
    blob = json.dumps({"params": params, "seed": seed, **({"society": society} if society else {})},
                      sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


# -- reading and checking ------------------------------------------------------------------------
def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a ``.toml`` or ``.json`` sweep configuration (a regular file of at most
    ``MAX_SWEEP_BYTES``, nested at most ``MAX_DEPTH`` deep; run/untrusted.py)."""
    path = Path(path)
    if path.suffix not in (".json", ".toml"):
        raise SweepConfigError(f"CONFIG: {path} must be a .toml or .json file")
    try:
        text = decoded(read_bytes(path, MAX_SWEEP_BYTES), str(path))
        if path.suffix == ".json":
            data = parsed_json(text, f"CONFIG: {path}")
        else:
            try:
                data = tomllib.loads(text)
            except RecursionError:
                raise UntrustedFileError(f"CONFIG: {path}: nested more than {MAX_DEPTH} levels deep") from None
            if depth(data) > MAX_DEPTH:
                raise UntrustedFileError(f"CONFIG: {path}: nested more than {MAX_DEPTH} levels deep")
    except tomllib.TOMLDecodeError as exc:
        raise SweepConfigError(f"CONFIG: {path} is not valid TOML: {exc}") from None
    except UntrustedFileError as exc:
        message = str(exc)
        raise SweepConfigError(message if message.startswith("CONFIG") else f"CONFIG: {message}") from None
    return sweep_from_dict(data, name=path.stem, base_dir=path.parent.resolve())


def _table(data: dict, section: str, kind=dict):
    value = data.get(section, kind())
    if not isinstance(value, kind):
        raise SweepConfigError(f"{section}: must be a {'table' if kind is dict else 'list of tables'}")
    return value


def sweep_from_dict(data: dict[str, Any], name: str = "sweep", base_dir: str | Path = ".") -> SweepSpec:
    """Validate a parsed configuration; every error names its field (``grid.needs__decay: ...``)."""
    if not isinstance(data, dict):
        raise SweepConfigError("CONFIG: the top level must be a table with a [sweep] section")
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise SweepConfigError(f"{unknown[0]}: unknown section; use {', '.join(SECTIONS)}")
    sweep, fixed, grid, llm, society = (_table(data, s) for s in ("sweep", "fixed", "grid", "llm", "society"))
    points = _table(data, "points", list)
    for key in sweep:
        if key not in SWEEP_KEYS:
            raise SweepConfigError(f"sweep.{key}: unknown setting; use {', '.join(SWEEP_KEYS)} "
                                   "(model parameters go in [fixed], [grid] or [[points]])")
    for key in llm:
        if key not in LLM_KEYS:
            raise SweepConfigError(f"llm.{key}: unknown setting; use {', '.join(LLM_KEYS)}")

    settings: dict[str, Any] = {"name": _sweep_name(sweep.get("name", name)), "base_dir": str(base_dir)}
    for key in ("world", "years", "residents"):
        if key in sweep:
            settings[key] = check_parameter(f"sweep.{key}", key, sweep[key])
    settings["seeds"] = _seeds(sweep.get("seeds", 1))
    settings["seed"] = _whole("sweep.seed", sweep.get("seed", 0), minimum=0, maximum=MAX_SEED)
    executor = sweep.get("executor", "sequential")
    if executor not in EXECUTORS:
        raise SweepConfigError(f"sweep.executor: {executor!r} is not one of {', '.join(EXECUTORS)}")
    settings["executor"] = executor
    settings["workers"] = _whole("sweep.workers", sweep.get("workers", 1), minimum=1, maximum=1024)
    settings["retries"] = _whole("sweep.retries", sweep.get("retries", 1), minimum=0, maximum=100)
    settings["ray_address"] = sweep.get("ray_address") or None

    settings["fixed"] = {k: check_parameter(f"fixed.{k}", k, v) for k, v in fixed.items()}
    settings["grid"] = {}
    for key, values in grid.items():
        values = values if isinstance(values, list) else [values]
        if not values:
            raise SweepConfigError(f"grid.{key}: give at least one value")
        if len(values) > MAX_RUNS:
            raise SweepConfigError(f"grid.{key}: at most {MAX_RUNS:,} values, got {len(values):,}")
        if key in settings["fixed"]:
            raise SweepConfigError(f"grid.{key}: also set in [fixed]; keep it in one place")
        settings["grid"][key] = [check_parameter(f"grid.{key}", key, v) for v in values]
    if len(points) > MAX_RUNS:
        raise SweepConfigError(f"points: at most {MAX_RUNS:,} points, got {len(points):,}")
    checked_points = []
    for i, point in enumerate(points):
        if not isinstance(point, dict):
            raise SweepConfigError(f"points[{i}]: must be a table of parameters")
        for key in point:
            if key in settings["grid"]:
                raise SweepConfigError(f"points[{i}].{key}: also in [grid]; sweep it in one place")
        checked_points.append({k: check_parameter(f"points[{i}].{k}", k, v) for k, v in point.items()})
    settings["points"] = tuple(checked_points)

    if "cache" in llm:
        settings["llm_cache"] = _cache_path(llm["cache"])
    if "mix" in llm:
        if "minds" in llm:
            raise SweepConfigError("llm.mix: give either mix or minds, not both")
        try:
            parse_mix(llm["mix"]) if isinstance(llm["mix"], str) else None
        except ValueError as exc:
            raise SweepConfigError(f"llm.mix: {str(exc).splitlines()[0]}") from None
        if not isinstance(llm["mix"], str):
            raise SweepConfigError(f"llm.mix: SPEC=FRACTION,... (e.g. \"fake=0.5\"), got {llm['mix']!r}")
        settings["llm_mix"] = llm["mix"]
    if "max_concurrency" in llm:
        if "mix" not in llm:
            raise SweepConfigError("llm.max_concurrency: only with llm.mix (a minds factory takes its own options)")
        settings["llm_max_concurrency"] = _whole("llm.max_concurrency", llm["max_concurrency"], minimum=1)
        if settings["llm_max_concurrency"] > 1024:
            raise SweepConfigError(f"llm.max_concurrency: at most 1024, got {llm['max_concurrency']!r}")
    if "minds" in llm:
        if not isinstance(llm["minds"], str) or ":" not in llm["minds"]:
            raise SweepConfigError(f"llm.minds: 'package.module:factory', got {llm['minds']!r}")
        settings["minds"] = llm["minds"]
    settings["minds_options"] = dict(llm.get("options", {}))
    settings["society"] = check_society(society)
    for key in settings["society"]:
        if key in settings["fixed"] or key in settings["grid"] or any(key in point for point in checked_points):
            raise SweepConfigError(f"society.{key}: also a run parameter ([fixed], [grid] or [[points]]); keep it in one place")
    spec = SweepSpec(**settings)
    for key in ("mix", "max_concurrency"):
        if key in llm and spec.has_society:
            raise SweepConfigError(f"llm.{key}: with society options ([society], or its keys as parameters) give the "
                                   f"residents' minds among them (mind = \"llm\", {key} = ...)")
    _check_size(spec)
    _check_combinations(spec)
    return spec


#: Most runs in one sweep, and the largest seed (numpy's SeedSequence and the model take any
#: non-negative integer; 2**63 keeps them in a signed 64-bit column of index.csv).
MAX_RUNS = 100_000
#: Largest sweep file read (ours are a few hundred bytes).
MAX_SWEEP_BYTES = 4 * 2**20
MAX_SEED = 2**63 - 1

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _sweep_name(value) -> str:
    """The sweep's name is the default directory under runs/: one plain path component, so a
    name like ``../../x`` or ``/tmp/x`` cannot write (or later delete) outside runs/."""
    if not isinstance(value, str) or not _NAME.fullmatch(value) or set(value) == {"."}:
        raise SweepConfigError(f"sweep.name: letters, digits, '.', '_' and '-' only (at most 100, starting with a "
                               f"letter or digit), got {str(value)[:60]!r}")
    return value


def _whole(where: str, value, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum is not None and value > maximum):
        within = f"in [{minimum}, {maximum:,}]" if maximum is not None else f"of at least {minimum}"
        raise SweepConfigError(f"{where}: a whole number {within}, got {str(value)[:40]!r}")
    return value


def _seeds(value) -> int | tuple[int, ...]:
    if isinstance(value, list):
        if not value or len(value) > MAX_RUNS:
            raise SweepConfigError(f"sweep.seeds: give a number of replicates or a list of 1 to {MAX_RUNS:,} seeds")
        return tuple(_whole(f"sweep.seeds[{i}]", s, minimum=0, maximum=MAX_SEED) for i, s in enumerate(value))
    return _whole("sweep.seeds", value, minimum=1, maximum=MAX_RUNS)


def _check_size(spec: SweepSpec) -> None:
    """At most ``MAX_RUNS`` runs in all, counted before any parameter set is made (a grid of ten
    keys with a hundred values each would otherwise be built forever)."""
    runs = max(1, len(spec.points)) * len(spec.seeds if isinstance(spec.seeds, tuple) else range(spec.seeds))
    for values in spec.grid.values():
        runs *= len(values)
        if runs > MAX_RUNS:
            raise SweepConfigError(f"sweep: more than {MAX_RUNS:,} runs (points x grid values x seeds); split the sweep")


def _cache_path(value) -> str:
    """``llm.cache``: a relative path inside the sweep directory (no '..'), so a sweep file from
    someone else cannot create or overwrite a file elsewhere."""
    if not isinstance(value, str) or not value or len(value) > 200:
        raise SweepConfigError("llm.cache: a file path inside the sweep directory for the shared LLM response cache")
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or PureWindowsPath(value).is_absolute() or ".." in path.parts or value.startswith("~"):
        raise SweepConfigError(f"llm.cache: must stay inside the sweep directory (a relative path without '..'), "
                               f"got {value[:60]!r}")
    return value


def _check_combinations(spec: SweepSpec) -> None:
    """Checks that need whole parameter sets: conflicting keys, loadable worlds and the society's town."""
    from agentopia_mesa.sweeps.params import model_kwargs
    from agentopia_mesa.world.loader import load_world

    checked_worlds = set()
    for params in spec.parameter_sets():
        if "living_cost_scale" in params and "economy__living_standards" in params:
            raise SweepConfigError("living_cost_scale: cannot be combined with economy__living_standards; use one")
        world = model_kwargs({"world": params["world"]}, spec.base_dir)["world"]
        if world not in checked_worlds:
            checked_worlds.add(world)
            try:
                load_world(world)
            except (ValueError, FileNotFoundError) as exc:
                raise SweepConfigError(f"world: {str(exc).splitlines()[0]}") from None
    if spec.has_society:  # every run's town, as its worker will make it (no model, no client yet)
        from agentopia_mesa.sweeps.worker import RunTask, settings_for

        for params in spec.parameter_sets():
            settings_for(RunTask("check", "", 0, spec.replicate_seeds[0], params, spec.base_dir, society=spec.society))
