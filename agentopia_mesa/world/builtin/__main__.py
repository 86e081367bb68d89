"""Regenerate the built-in worlds: ``python -m agentopia_mesa.world.builtin [--check]``.

Each built-in world is ``generate_world(theme, residents=100, seed=SEED)`` written as JSON next to
this file. With ``--check`` nothing is written; the exit status is 1 if a file is missing or
differs from what the generator makes now (run it without ``--check`` to update them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agentopia_mesa.world.generate import generate_world

#: name -> (theme, residents, seed) of every checked-in world.
BUILTIN: dict[str, tuple[str, int, int]] = {
    "apartment": ("apartment", 100, 1),
    "school": ("school", 100, 2),
    "rivertown": ("rivertown", 100, 3),
}
FOLDER = Path(__file__).resolve().parent


def render(name: str) -> str:
    """The exact text of built-in world ``name``'s JSON file."""
    theme, residents, seed = BUILTIN[name]
    world = generate_world(theme, residents=residents, seed=seed, name=name)
    return json.dumps(world.model_dump(mode="json"), indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agentopia_mesa.world.builtin", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for name in BUILTIN:
        path = FOLDER / f"{name}.json"
        text = render(name)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            print(f"{path.name}: up to date")
        elif args.check:
            stale.append(path.name)
            print(f"{path.name}: {'missing' if current is None else 'differs from the generator'}")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{path.name}: written")
    if stale:
        print(f"stale built-in worlds: {', '.join(stale)}; run `python -m agentopia_mesa.world.builtin` to regenerate",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
