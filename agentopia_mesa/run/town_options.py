"""What shapes a town, defined once: the options of ``agentopia run`` and how they become ``RunSettings``.

Every caller that makes towns reads the same options, keyed by their ``agentopia run`` argparse
dest (``--env-llm`` is ``env_llm``): the command line (its flags), sweeps (the ``[society]``
table, ``sweeps/spec.py``), ``experiments/collect_trajectories.py`` and Python users.
``run_settings(options)`` turns them into one ``RunSettings`` with the command's rules (the
profile's overrides under the ``set`` ones, the LLM environment the paper profile implies, the
checks), so a sweep town and an ``agentopia run`` town with the same options are the same town.

``LLMSettings`` and ``RunSettings`` fields without a flag of their own (``max_tokens``,
``retries``, ``check``, and any added later) are options by their field name (``field_options``),
so a new field reaches sweeps without an edit here. Bad values raise ``ValueError`` naming the option as the command spells it (``--env: ...``);
``named_for(message, label)`` renames it for another surface (``society.env: ...``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentopia_mesa.bounds import MAX_SEED, MAX_YEARS, in_range
from agentopia_mesa.config import DEFAULT_PROFILE, PROFILES
from agentopia_mesa.llm.concurrency import AUTO
from agentopia_mesa.llm.thinking import DEFAULT_THINK
from agentopia_mesa.llm.settings import ENVIRONMENTS, RATINGS, RULES, LLMSettings
from agentopia_mesa.run.checkpoints import KEEP_NEWEST, parse_keep
from agentopia_mesa.run.tables import FORMATS as TABLE_FORMATS
from agentopia_mesa.world.schema import WorldSpec

if TYPE_CHECKING:  # the builder is a second's import: the command line's parser reads this module
    from agentopia_mesa.run.builder import RunSettings

DEFAULT_LLM = "embedded"
#: The largest --assign file read (a name and a spec per resident).
ASSIGN_BYTES = 4 * 2**20
CACHE_MODES = ("record", "replay", "replay-or-record")
MINDS = (RULES, "llm")


@dataclasses.dataclass(frozen=True)
class TownOption:
    """One option that shapes a town: its key (argparse dest, sweep key), default and allowed values."""

    key: str
    default: Any = None
    choices: tuple | None = None
    kind: str = "text"  # what a sweep file may give (``_KINDS``)
    llm_field: str | None = None  # the LLMSettings field it sets directly, if any
    run_field: str | None = None  # the RunSettings field it sets directly, if any (beyond the command's)

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


#: The options of ``agentopia run`` that shape a town, with the command's defaults (its parser
#: reads them from here). ``set`` is the ``--set`` overrides as a table (section__field -> value).
TOWN_OPTIONS: dict[str, TownOption] = {o.key: o for o in (
    TownOption("world", "apartment", kind="world"),
    TownOption("residents", None, kind="whole_or_none"),
    TownOption("years", 10, kind="whole"),
    TownOption("seed", 0, kind="whole"),
    TownOption("weeks_per_year", None, kind="whole_or_none"),
    TownOption("set", None, kind="table"),
    TownOption("checkpoint_every", None, kind="whole_or_none"),
    TownOption("keep_checkpoints", KEEP_NEWEST, kind="keep"),
    TownOption("tables", "csv", choices=TABLE_FORMATS),
    # minds (who decides)
    TownOption("mind", RULES, choices=MINDS),
    TownOption("llm", DEFAULT_LLM),
    TownOption("mix", None),
    TownOption("assign", None, kind="assign"),
    TownOption("llm_cache", None, llm_field="cache"),
    TownOption("cache_mode", "replay-or-record", choices=CACHE_MODES, llm_field="cache_mode"),
    TownOption("temperature", 0.7, kind="number", llm_field="temperature"),
    TownOption("max_concurrency", AUTO, kind="auto_or_whole", llm_field="max_concurrency"),
    TownOption("llm_timeout", 120.0, kind="number", llm_field="timeout_s"),
    TownOption("think", DEFAULT_THINK, llm_field="think"),
    # the environment (who judges)
    TownOption("profile", None, choices=tuple(sorted(PROFILES))),
    TownOption("env", None, choices=ENVIRONMENTS),
    TownOption("env_llm", None),
    TownOption("ratings", None, choices=RATINGS),
)}

#: LLMSettings fields that the options above decide (the rest are options by their own name).
_DECIDED = {"mix", "assign", "env", "env_llm", "ratings"} | {o.llm_field for o in TOWN_OPTIONS.values() if o.llm_field}

#: Options that only LLM calls use: given to a town with no LLM at all, they would be ignored.
LLM_ONLY = tuple(key for key, option in TOWN_OPTIONS.items() if option.llm_field)


#: RunSettings fields the options above decide, or that are no option (a minds factory and its
#: options are given from Python or in a sweep's [llm] table).
_RUN_DECIDED = {"world", "residents", "years", "seed", "overrides", "llm", "minds", "minds_options",
                "checkpoint_every", "keep_checkpoints", "tables", "profile"}


def field_options() -> dict[str, TownOption]:
    """``LLMSettings`` and ``RunSettings`` fields without a flag of their own, as options named like
    the field (so a field added to either is an option, and a ``[society]`` key, with no edit here)."""
    from agentopia_mesa.run.builder import RunSettings

    options = {}
    for cls, decided, mark in ((LLMSettings, _DECIDED, "llm_field"), (RunSettings, _RUN_DECIDED, "run_field")):
        defaults = cls()
        for f in dataclasses.fields(cls):
            if f.name not in decided:
                default = getattr(defaults, f.name)
                options[f.name] = TownOption(f.name, default, kind=_kind_of(default, f.type), **{mark: f.name})
    return options


def all_options() -> dict[str, TownOption]:
    """Every option ``run_settings`` takes: the command's and the other settings fields."""
    return {**TOWN_OPTIONS, **field_options()}


def _kind_of(default: Any, annotation: object = None) -> str:
    if default is None and str(annotation).replace(" ", "") == "int|None":  # e.g. max_tokens: a ceiling or none
        return "whole_or_none"
    if isinstance(default, dict):
        return "table"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "whole"
    if isinstance(default, float):
        return "number"
    return "text"


def run_settings(options: Mapping[str, Any]) -> RunSettings:
    """``RunSettings`` of a town from its options (keys of ``all_options``; the rest take the
    command's defaults), by ``agentopia run``'s rules:

    - the profile (default lean) shapes LLM runs: its overrides, then ``set``'s on top; with the
      paper profile the environment is an LLM unless ``env`` says otherwise;
    - ``llm`` without ``mind = llm`` is an error (the town would use rules);
    - ``assign`` is a table of resident name -> spec or the path of a JSON file of one.

    Raises ``ValueError`` naming the option's flag (``--years: must be at least 1, got 0``).
    """
    from agentopia_mesa.run.builder import RunSettings

    known = all_options()
    unknown = [key for key in options if key not in known]
    if unknown:
        raise ValueError(f"{unknown[0]}: not an option of a town; use {', '.join(known)}")
    for key, value in options.items():
        check_value(known[key], value)
    o = {key: option.default for key, option in known.items()} | dict(options)
    profile = o["profile"] or DEFAULT_PROFILE
    env = o["env"]
    if env is None:
        if profile == "paper" and o["mind"] == RULES and o["env_llm"] is None and not o["mix"] and o["assign"] is None:
            raise ValueError("--profile paper: the environment is an LLM; name its model with --env-llm SPEC "
                             "(or give the residents one with --mind llm), or keep the rule environment with --env rules")
        env = "llm" if profile == "paper" else "rules"
    if o["mind"] == RULES and o["llm"] != DEFAULT_LLM:
        raise ValueError(f"--llm {o['llm']}: only with --mind llm (without it every resident uses the rule mind); "
                         f"add --mind llm, or use --mix SPEC=FRACTION for part of the town")
    for key in ("years", "residents", "weeks_per_year"):
        if o[key] is not None and o[key] < 1:
            raise ValueError(f"{known[key].flag}: must be at least 1, got {o[key]}")
    in_range("--years", o["years"], 1, MAX_YEARS, whole=True)  # bounded before any work (issue #32)
    if o["seed"] < 0:  # numpy's generators take no negative seed
        raise ValueError(f"--seed: must be 0 or more, got {o['seed']}")
    in_range("--seed", o["seed"], 0, MAX_SEED, whole=True)
    if o["checkpoint_every"] is not None and o["checkpoint_every"] < 0:
        raise ValueError(f"--checkpoint-every: must be 0 or more, got {o['checkpoint_every']}")
    if o["checkpoint_every"] is not None:
        in_range("--checkpoint-every", o["checkpoint_every"], 0, 10**6, whole=True)
    if o["max_concurrency"] != AUTO and o["max_concurrency"] < 1:
        raise ValueError(f"--max-concurrency: must be at least 1, got {o['max_concurrency']}")
    keep = o["keep_checkpoints"]
    keep = parse_keep(keep) if isinstance(keep, str) else keep  # 0: all
    overrides = dict(o["set"] or {})
    if o["weeks_per_year"] is not None:
        overrides["calendar__weeks_per_year"] = o["weeks_per_year"]
    llm_options = {option.llm_field: o[key] for key, option in known.items() if option.llm_field}
    llm = LLMSettings.from_args(o["mind"], o["llm"], o["mix"], read_assign(o["assign"]),
                                env=env, env_llm=o["env_llm"], ratings=o["ratings"], **llm_options)
    if llm.uses_llm:  # a profile shapes LLM runs; a rules run plays the paper's conversations with templates
        overrides = {**PROFILES[profile], **overrides}
    settings = RunSettings(world=o["world"], residents=o["residents"], years=o["years"], seed=o["seed"],
                           overrides=overrides, llm=llm, checkpoint_every=o["checkpoint_every"],
                           keep_checkpoints=keep, tables=o["tables"],
                           profile=profile if llm.uses_llm else None,
                           **{option.run_field: o[key] for key, option in known.items() if option.run_field})
    settings.config()  # a bad override is one line before anything is made
    return settings


def ignored_options(options: Mapping[str, Any]) -> list[str]:
    """The LLM-only options given a value other than their default in a town with no LLM at all."""
    env = options.get("env") or ("llm" if options.get("profile") == "paper" else "rules")
    if options.get("mind", RULES) != RULES or env == "llm":  # an LLM environment uses them too
        return []
    given = [TOWN_OPTIONS[key] for key in LLM_ONLY if key in options]
    return [option.flag for option in given if options[option.key] != option.default]


def check_value(option: TownOption, value: Any) -> None:
    """``value``'s type and choice for ``option`` (as a sweep file may give it); ranges are
    ``run_settings``' and ``LLMSettings``' to check. Raises ``ValueError`` naming the flag."""
    if value is None:
        if option.default is None:
            return
        raise ValueError(f"{option.flag}: give a value like {option.default!r}")
    if option.choices is not None:
        if value not in option.choices:
            raise ValueError(f"{option.flag}: must be one of {', '.join(option.choices)}, got {value!r}")
        return
    if not _KINDS[option.kind](value):
        raise ValueError(f"{option.flag}: {_EXPECTED[option.kind]}, got {value!r}")
    if option.kind == "keep" and isinstance(value, str):
        parse_keep(value)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_KINDS: dict[str, Callable[[Any], bool]] = {
    "text": lambda v: isinstance(v, str) and bool(v.strip()),
    "world": lambda v: (isinstance(v, str | Path) and bool(str(v).strip())) or isinstance(v, WorldSpec),
    "bool": lambda v: isinstance(v, bool),
    "number": _number,
    "whole": _whole,
    "whole_or_none": _whole,
    "auto_or_whole": lambda v: v == AUTO or _whole(v),
    "keep": lambda v: (_whole(v) and v >= 0) or (isinstance(v, str) and v.strip().lower() == "all"),
    "table": lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
    "assign": lambda v: (isinstance(v, str | Path) and bool(str(v).strip())) or (
        isinstance(v, dict) and all(isinstance(k, str) and isinstance(s, str) for k, s in v.items())),
}
_EXPECTED = {
    "text": "a non-empty string", "world": "a built-in world name or a world file path", "bool": "true or false",
    "number": "a number", "whole": "a whole number",
    "whole_or_none": "a whole number", "auto_or_whole": 'auto or a whole number',
    "keep": "a number of newest checkpoints (1 or more) or 'all' (or 0)",
    "table": "a table of configuration fields (section__field = value)",
    "assign": 'a table of resident names to specs (e.g. {"Ana Lopez" = "fake"}) or a JSON file of one',
}


def read_assign(assign: str | Path | dict | None) -> dict[str, str] | None:
    """``assign``: a table of resident name -> mind spec as it is, or the JSON file of one (``--assign FILE``)."""
    if assign is None or isinstance(assign, dict):
        return assign
    from agentopia_mesa.run.untrusted import UntrustedFileError, read_json

    path = Path(assign)
    if not path.exists() and not path.is_symlink():
        raise ValueError(f"--assign: no file {path}")
    try:
        data = read_json(path, cap=ASSIGN_BYTES)  # a regular file, capped, nested at most MAX_DEPTH deep
    except UntrustedFileError as exc:
        raise ValueError(f"--assign: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f'--assign: {path} must be one JSON object of names to specs, e.g. {{"Ana Lopez": "embedded"}}')
    return data


_FLAG = re.compile(r"--([a-z][a-z-]*)|llm ([a-z_]+)(?=:)")


def named_for(message: str, label: Callable[[str], str]) -> str:
    """``message`` (from ``run_settings``) with its leading option, a flag (``--env-llm``) or an
    LLMSettings field (``llm retries``), spelled as ``label(key)`` names it, e.g. ``society.env_llm``."""
    match = _FLAG.match(message)
    if match is None:
        return message
    key = (match.group(1) or "").replace("-", "_") or match.group(2)
    return label(key) + message[match.end():] if key in all_options() else message


def warn_ignored(options: Mapping[str, Any]) -> None:
    """A warning on stderr naming the LLM-only options a town with no LLM would ignore."""
    ignored = ignored_options(options)
    if ignored:
        print(f"agentopia: warning: {', '.join(ignored)} only apply with --mind llm; this run uses rules", file=sys.stderr)
