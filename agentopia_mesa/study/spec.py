"""Study files: one TOML file that names every step of the paper's loop, checked before anything runs.

```toml
[study]
name = "laptop"
executor = "sequential"     # the sweep executors: sequential | processes | ray
workers = 1

[generation0]                 # the towns whose lives become training data
worlds = ["apartment", "school"]
seeds = [1, 2]                # paired: generation 1 lives the same worlds with the same seeds
residents = 4
years = 1
weeks_per_year = 2

[society]                     # agentopia run's town options for every town (as a sweep's [society])
profile = "lean"

[models]
role = "embedded"             # the residents' base model
environment = "embedded"      # the LLM environment's model (env_llm), when the profile has one

[selection]
top_fraction = 0.25           # the paper's top 25 % of resident-years
env_mix = 0.2                 # the environment's calls, up to this share of the tokens
dpo = false                   # also write a preference file (agentopia dataset dpo)

[training]
backend = "agentopia"         # agentopia | command | external
base = "/models/Qwen3-8B"       # agentopia: a GGUF or a Hugging Face folder (default: the embedded Gemma 3 270M)
steps = 20                    # agentopia: LoRA settings; unset ones as `agentopia train` (a folder: an 8B's on a GPU)
command = "llamafactory-cli train cfg.yaml dataset={data} output_dir={out}"   # command
model = "ollama:agentopia-ft" # command / external: the tuned model's spec ({out}: the step's folder)

[generation1]
tuned_share = 0.5             # of the residents; the rest keep the role model

[evaluation]                  # the role-play evaluation, tuned vs base (optional)
scenes = 4                    # from the first world; or coser = "FILE"
judge = "embedded"
rounds = 2

[ablations.no_env_mix]        # named overrides, each run as its own generation-0 towns
society = { profile = "paper" }
```

Every error is one line naming its key (``generation0.years: a whole number of at least 1, got 0``).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


SECTIONS = ("study", "generation0", "society", "models", "selection", "training", "generation1", "evaluation", "ablations")
BACKENDS = ("agentopia", "command", "external")
EXECUTORS = ("sequential", "processes", "ray")
#: Options the study sets itself for every town: the residents' minds and the environment's model.
STUDY_OWNED = ("mind", "llm", "mix", "assign", "env_llm", "llm_cache", "world", "seed", "residents", "years", "weeks_per_year")
TRAINING_SETTINGS = ("steps", "lr", "lora_r", "batch_size", "max_length", "threads", "seed")


class StudyError(ValueError):
    """A bad study file: one line naming the key."""


@dataclass(frozen=True)
class Generation0:
    worlds: tuple[str, ...]
    seeds: tuple[int, ...]
    residents: int
    years: int
    weeks_per_year: int | None = None


@dataclass(frozen=True)
class Selection:
    top_fraction: float = 0.25
    env_mix: float = 0.2
    dpo: bool = False


@dataclass(frozen=True)
class Training:
    backend: str = "agentopia"
    settings: dict[str, Any] = field(default_factory=dict)  # the built-in trainer's (TRAINING_SETTINGS)
    command: str | None = None
    model: str | None = None  # the tuned model's spec (command, external); {out} is the step's folder
    base: str | None = None  # the built-in trainer's base GGUF (default: the embedded model)


@dataclass(frozen=True)
class Evaluation:
    judge: str
    scenes: int | None = 4
    coser: str | None = None
    rounds: int = 2


@dataclass(frozen=True)
class StudySpec:
    name: str
    generation0: Generation0
    role: str
    environment: str | None
    society: dict[str, Any] = field(default_factory=dict)
    selection: Selection = Selection()
    training: Training = Training()
    tuned_share: float = 0.5
    evaluation: Evaluation | None = None
    ablations: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> society overrides
    executor: str = "sequential"
    workers: int = 1
    base_dir: str = "."

    def digest(self, *parts: Any) -> str:
        """A short stable hash of ``parts`` (sections of this spec, upstream digests)."""
        blob = json.dumps(parts, sort_keys=True, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @property
    def agent_weeks_per_town(self) -> int:
        from agentopia_mesa.config import CalendarConfig

        weeks = self.generation0.weeks_per_year or CalendarConfig().weeks_per_year
        return self.generation0.residents * self.generation0.years * weeks

    @property
    def towns_per_generation(self) -> int:
        return len(self.generation0.worlds) * len(self.generation0.seeds)


def load_study(path: str | Path) -> StudySpec:
    """Read and check a study file (TOML); raises ``StudyError`` naming the key."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"STUDY: no study file at {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"STUDY: {path} is not valid TOML: {exc}") from None
    return study_from_dict(data, name=path.stem, base_dir=path.parent.resolve())


def study_from_dict(data: dict, name: str = "study", base_dir: str | Path = ".") -> StudySpec:
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise StudyError(f"{unknown[0]}: unknown section; use {', '.join(SECTIONS)}")
    t = {s: _table(data, s) for s in SECTIONS}
    _keys("study", t["study"], ("name", "executor", "workers"))
    _keys("generation0", t["generation0"], ("worlds", "seeds", "residents", "years", "weeks_per_year"))
    _keys("models", t["models"], ("role", "environment"))
    _keys("selection", t["selection"], ("top_fraction", "env_mix", "dpo"))
    _keys("training", t["training"], ("backend", "command", "model", "base", *TRAINING_SETTINGS))
    _keys("generation1", t["generation1"], ("tuned_share",))
    _keys("evaluation", t["evaluation"], ("judge", "scenes", "coser", "rounds"))

    g = t["generation0"]
    worlds = g.get("worlds")
    if not isinstance(worlds, list) or not worlds or not all(isinstance(w, str) and w for w in worlds):
        raise StudyError(f"generation0.worlds: a non-empty list of world names or files, got {worlds!r}")
    seeds = g.get("seeds")
    if not isinstance(seeds, list) or not seeds:
        raise StudyError(f"generation0.seeds: a non-empty list of seeds, got {seeds!r}")
    gen0 = Generation0(tuple(worlds), tuple(_whole(f"generation0.seeds[{i}]", s, 0) for i, s in enumerate(seeds)),
                       _whole("generation0.residents", g.get("residents"), 2), _whole("generation0.years", g.get("years"), 1),
                       None if g.get("weeks_per_year") is None else _whole("generation0.weeks_per_year", g["weeks_per_year"], 1))
    if len(set(gen0.seeds)) != len(gen0.seeds):
        raise StudyError("generation0.seeds: each seed once")

    m = t["models"]
    role = _spec("models.role", m.get("role"))
    environment = None if m.get("environment") is None else _spec("models.environment", m["environment"])
    society = dict(t["society"])
    _town_keys("society", society)
    for key in society:
        if key in STUDY_OWNED:
            raise StudyError(f"society.{key}: the study sets it (generation0, models, generation1); remove it here")

    s = t["selection"]
    selection = Selection(_fraction("selection.top_fraction", s.get("top_fraction", 0.25)),
                          _number("selection.env_mix", s.get("env_mix", 0.2), 0, 1), _bool("selection.dpo", s.get("dpo", False)))
    training = _training(t["training"])
    share = _fraction("generation1.tuned_share", t["generation1"].get("tuned_share", 0.5))
    if share >= 1:
        raise StudyError("generation1.tuned_share: below 1, so some residents keep the base model to compare with")
    evaluation = _evaluation(t["evaluation"]) if t["evaluation"] else None
    ablations = {}
    for ablation, table in t["ablations"].items():
        if not isinstance(table, dict):
            raise StudyError(f"ablations.{ablation}: a table of overrides, e.g. society = {{ profile = \"paper\" }}")
        _keys(f"ablations.{ablation}", table, ("society",))
        overrides = _table(table, "society", where=f"ablations.{ablation}.society")
        _town_keys(f"ablations.{ablation}.society", overrides)
        for key in overrides:
            if key in STUDY_OWNED:
                raise StudyError(f"ablations.{ablation}.society.{key}: the study sets it; ablate town options only")
        ablations[ablation] = overrides

    st = t["study"]
    executor = st.get("executor", "sequential")
    if executor not in EXECUTORS:
        raise StudyError(f"study.executor: {executor!r} is not one of {', '.join(EXECUTORS)}")
    study_name = st.get("name", name)
    if not isinstance(study_name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", study_name):
        raise StudyError(f"study.name: letters, digits, '.', '_' and '-' (it names runs/study-NAME), got {str(study_name)[:60]!r}")
    spec = StudySpec(name=study_name, generation0=gen0, role=role, environment=environment, society=society,
                     selection=selection, training=training, tuned_share=share, evaluation=evaluation, ablations=ablations,
                     executor=executor, workers=_whole("study.workers", st.get("workers", 1), 1), base_dir=str(base_dir))
    _check_towns(spec)
    return spec


def _training(table: dict) -> Training:
    backend = table.get("backend", "agentopia")
    if backend not in BACKENDS:
        raise StudyError(f"training.backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    settings = {k: table[k] for k in TRAINING_SETTINGS if k in table}
    for key, value in settings.items():
        if key == "lr":
            _number("training.lr", value, 0, 1, open_low=True)
        else:
            _whole(f"training.{key}", value, 0 if key == "seed" else 1)
    if backend != "agentopia" and settings:
        raise StudyError(f"training.{next(iter(settings))}: only with backend = \"agentopia\" (the command has its own)")
    command = table.get("command")
    if backend == "command":
        if not isinstance(command, str) or "{data}" not in command or "{out}" not in command:
            raise StudyError("training.command: a command line with {data} and {out}, e.g. "
                             "\"llamafactory-cli train cfg.yaml dataset_dir={data} output_dir={out}\"")
    elif command is not None:
        raise StudyError("training.command: only with backend = \"command\"")
    model = table.get("model")
    if backend == "command" and model is None:
        raise StudyError("training.model: the tuned model's spec that the command makes, e.g. \"embedded:{out}/model.gguf\"")
    if model is not None:
        if backend == "agentopia":
            raise StudyError("training.model: the built-in trainer names its model (embedded:OUT/model.gguf); remove it")
        _spec("training.model", model)
    base = table.get("base")
    if base is not None and backend != "agentopia":
        raise StudyError("training.base: only with backend = \"agentopia\"")
    return Training(backend, settings, command, model, base)


def _evaluation(table: dict) -> Evaluation:
    judge = _spec("evaluation.judge", table.get("judge"))
    coser = table.get("coser")
    if coser is not None and (not isinstance(coser, str) or not coser):
        raise StudyError(f"evaluation.coser: a CoSER test file, got {coser!r}")
    scenes = table.get("scenes", None if coser else 4)
    scenes = None if scenes is None else _whole("evaluation.scenes", scenes, 1)
    return Evaluation(judge, scenes, coser, _whole("evaluation.rounds", table.get("rounds", 2), 1))


def _check_towns(spec: StudySpec) -> None:
    """Every town of both generations and the ablations, as ``run_settings`` would make it."""
    from agentopia_mesa.run.town_options import named_for, run_settings
    from agentopia_mesa.study.towns import merged, town_options

    for label, society in [("society", spec.society), *((f"ablations.{n}.society", merged(spec.society, o)) for n, o in spec.ablations.items())]:
        for world in spec.generation0.worlds:
            options = town_options(spec, world, spec.generation0.seeds[0], society, tuned=None)
            try:
                run_settings(options)
            except ValueError as exc:
                raise StudyError(named_for(str(exc).splitlines()[0], lambda k: f"{label}.{k}")) from None
    if (spec.society.get("profile") == "paper" or spec.society.get("env") == "llm") and spec.environment is None \
            and spec.society.get("env") != "rules":
        raise StudyError("models.environment: the paper profile judges with an LLM environment; name its model")


def _town_keys(section: str, table: dict) -> None:
    from agentopia_mesa.run.town_options import all_options

    known = all_options()
    for key in table:
        if key not in known:
            raise StudyError(f"{section}.{key}: not an option of a town; use {', '.join(k for k in known if k not in STUDY_OWNED)}")


def _table(data: dict, section: str, where: str | None = None) -> dict:
    value = data.get(section, {})
    if not isinstance(value, dict):
        raise StudyError(f"{where or section}: must be a table")
    return value


def _keys(section: str, table: dict, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise StudyError(f"{section}.{key}: unknown key; use {', '.join(allowed)}")


def _whole(where: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise StudyError(f"{where}: a whole number of at least {minimum}, got {value!r}")
    return value


def _number(where: str, value, low: float, high: float, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (low < value if open_low else low <= value) or value > high:
        raise StudyError(f"{where}: a number in {'(' if open_low else '['}{low:g}, {high:g}], got {value!r}")
    return float(value)


def _fraction(where: str, value) -> float:
    return _number(where, value, 0, 1, open_low=True)


def _bool(where: str, value) -> bool:
    if not isinstance(value, bool):
        raise StudyError(f"{where}: true or false, got {value!r}")
    return value


def _spec(where: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StudyError(f"{where}: a model spec (embedded, ollama:MODEL, openai:URL:MODEL, fake), got {value!r}")
    return value
