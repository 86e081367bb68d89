"""Sweep parameters -> ``AgentopiaModel`` keyword arguments.

A sweep parameter is one of the model's own arguments (``world``, ``residents``, ``years``), any
configuration field as ``section__field`` (``needs__decay``, ``calendar__weeks_per_year``), a key
of the ``[society]`` table (``profile``, ``env``, ``mix``: ``agentopia run``'s options, see
``sweeps/society.py``), or a convenience that stands for a configuration change:

- ``living_cost_scale``: multiplies the weekly cost of every living standard (frugal / moderate /
  comfortable / luxurious = 100 / 200 / 300 / 500 x scale, rounded), material effects unchanged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from agentopia_mesa.bounds import MAX_YEARS
from agentopia_mesa.config import EconomyConfig, LivingStandard, SimulationConfig

MODEL_ARGUMENTS = ("world", "residents", "years")
CONVENIENCES = ("living_cost_scale",)


class SweepConfigError(ValueError):
    """A sweep configuration problem; the message starts with the field (``grid.needs__decay: ...``)."""


def scaled_living_standards(scale: float, base: tuple[LivingStandard, ...] = EconomyConfig().living_standards) -> tuple[LivingStandard, ...]:
    """The living standards with every weekly cost multiplied by ``scale`` (> 0), rounded to whole money."""
    return tuple(dataclasses.replace(s, weekly_cost=max(1, round(s.weekly_cost * scale))) for s in base)


def check_parameter(where: str, key: str, value: Any) -> Any:
    """Validate one parameter value; returns it normalised (TOML lists -> tuples for tuple fields).

    Raises ``SweepConfigError`` naming ``where`` (e.g. ``grid.needs__decay``) and the fix.
    """
    if key == "world":
        if not isinstance(value, str) or not value:
            raise SweepConfigError(f"{where}: a built-in world name or a world file path, got {value!r}")
        return value
    if key in ("years", "residents"):
        most = MAX_YEARS if key == "years" else 100_000
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise SweepConfigError(f"{where}: a whole number in [1, {most:,}], got {str(value)[:40]!r}")
        return value
    if key == "living_cost_scale":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1e6:  # NaN fails too
            raise SweepConfigError(f"{where}: a positive number (1.0 = the paper's costs), got {value!r}")
        return float(value)
    if "__" not in key:
        from agentopia_mesa.sweeps.society import check_society_value, society_keys

        if key in society_keys():  # agentopia run's options, like [society]'s, varied from run to run
            return check_society_value(where, key, value)
        raise SweepConfigError(f"{where}: not a model parameter; use {', '.join(MODEL_ARGUMENTS + CONVENIENCES)}, "
                               "a configuration field as section__field (e.g. needs__decay) or a [society] key "
                               "(e.g. profile)")
    config = SimulationConfig()
    try:
        config.with_flat_overrides({key: value})
    except (ValueError, TypeError) as exc:
        message = str(exc).removeprefix(key + ": ").removeprefix(key.replace("__", ".", 1) + ": ")
        raise SweepConfigError(f"{where}: {message}") from None
    section, _, name = key.partition("__")
    default = getattr(getattr(config, section), name)
    return _check_type(where, value, default)


def _check_type(where: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(default, dict):
        ok = isinstance(value, dict) or (isinstance(value, int | float) and not isinstance(value, bool))
    elif isinstance(default, tuple):
        if isinstance(value, list | tuple):
            return _tuples(value)
        ok = False
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise SweepConfigError(f"{where}: expected a value like {default!r}, got {value!r}")
    return value


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list | tuple) else value


def model_kwargs(params: dict[str, Any], base_dir: str | Path | None = None) -> dict[str, Any]:
    """Keyword arguments for ``AgentopiaModel`` from one run's parameters.

    A ``world`` that names an existing file relative to ``base_dir`` (the sweep config's folder)
    becomes that absolute path; conveniences become the configuration fields they stand for.
    """
    kwargs = {}
    for key, value in params.items():
        if key == "living_cost_scale":
            kwargs["economy__living_standards"] = scaled_living_standards(value)
        elif key == "world" and base_dir is not None and (Path(base_dir) / value).is_file():
            kwargs["world"] = str((Path(base_dir) / value).resolve())
        else:
            kwargs[key] = _tuples(value) if isinstance(value, list) else value
    return kwargs
