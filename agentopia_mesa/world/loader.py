"""Find, read and validate world files; resize a world to a requested number of residents."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from agentopia_mesa.world.schema import WorldSpec


class WorldError(ValueError):
    """A world cannot be found or is invalid. The message is one line naming the field and the fix."""


def builtin_world_names() -> list[str]:
    folder = resources.files("agentopia_mesa.world.builtin")
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


#: Largest world file read, in bytes: a generated 1000-resident town is about 1.5 MB.
MAX_WORLD_BYTES = 64 * 1024 * 1024


def load_world(name_or_path: str | Path) -> WorldSpec:
    """Load a built-in world by name (``apartment``) or a world file by path."""
    text, source = _read(name_or_path)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise WorldError(f"world file {source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise WorldError(f"world file {source}: JSON nested too deeply to be a world") from None
    except ValueError as exc:  # a duplicate key, or an integer with thousands of digits
        raise WorldError(f"world file {source}: {_one_line(str(exc))}") from None
    return parse_world(data, source)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object as a dict, refusing repeated keys (plain ``json`` would keep the last silently)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {_short(duplicate)} in a JSON object; each key may appear once")
    return data


def parse_world(data: object, source: str = "<world>") -> WorldSpec:
    try:
        return WorldSpec.model_validate(data)
    except ValidationError as exc:
        raise WorldError(f"world file {source}: {_first_error(exc)}") from None


def _read(name_or_path: str | Path) -> tuple[str, str]:
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise WorldError(f"world file {path} does not exist; built-in worlds are: {', '.join(builtin_world_names())}")
        size = path.stat().st_size
        if size > MAX_WORLD_BYTES:
            raise WorldError(f"world file {path}: {size / 2**20:.0f} MiB is more than a world file may be "
                             f"({MAX_WORLD_BYTES // 2**20} MiB)")
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except UnicodeDecodeError as exc:
            raise WorldError(f"world file {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    name = str(name_or_path)
    if name not in builtin_world_names():
        raise WorldError(
            f"unknown world {name!r}: choose one of {', '.join(builtin_world_names())} "
            "or pass the path of a world .json file"
        )
    resource = resources.files("agentopia_mesa.world.builtin") / f"{name}.json"
    return resource.read_text(encoding="utf-8"), f"built-in '{name}'"


def _first_error(exc: ValidationError) -> str:
    """The first error on one short line: where (``residents[3].name``), what, and how many more."""
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = "".join(_loc_part(part) for part in err["loc"]).lstrip(".")
    message = _one_line(err["msg"].removeprefix("Value error, "))
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {message}{more}" if loc else f"{message}{more}"


def _loc_part(part: int | str) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    if part == "[key]":  # pydantic's marker for "the key itself is invalid"
        return " (key)"
    if part.isidentifier():
        return f".{part}"
    return f"[{_short(part)}]"  # a dict key from the file: untrusted, perhaps huge or multi-line


def _short(text: str, limit: int = 40) -> str:
    """``text`` as a one-line repr of at most about ``limit`` characters."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def resize_world(world: WorldSpec, residents: int) -> WorldSpec:
    """The same world with ``residents`` residents.

    Fewer: the first N residents, with acquaintances outside the subset dropped. More: the world's
    generator re-makes it at that size from its recorded theme and seed (a hand-written world
    without generator info cannot grow).
    """
    if residents < 1:
        raise WorldError(f"residents: must be at least 1, got {residents}")
    if residents == len(world.residents):
        return world
    if residents < len(world.residents):
        kept = world.residents[:residents]
        names = {r.name for r in kept}
        kept = tuple(r.model_copy(update={"acquaintances": tuple(a for a in r.acquaintances if a in names)}) for r in kept)
        return world.model_copy(update={"residents": kept})
    if world.generator is None:
        raise WorldError(
            f"residents: world {world.name!r} has {len(world.residents)} residents and no generator info to grow it; "
            f"ask for at most {len(world.residents)} or make a bigger world with `agentopia world new`"
        )
    from agentopia_mesa.world.generate import generate_world

    return generate_world(world.generator.theme, residents=residents, seed=world.generator.seed, name=world.name)
