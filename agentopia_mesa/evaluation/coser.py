"""Scenes from a CoSER-format test file (the published ``data/test/test_set.json`` layout of
github.com/Neph0s/CoSER). Nothing of that data set ships with this project; users pass their copy.

The file is a JSON list; of each item we read (as CoSER's ``gca_evaluation/main.py`` does):

- ``book``: the setting's title; ``scenario``: the situation;
- ``speaking_characters_w_env``: the cast, in order ("Environment" is dropped: our environment
  model narrates);
- ``character_profiles``: {name: profile text}; ``plot.key_characters[].description``, when the
  character has one, goes before its profile (as CoSER does) and is what the others know of it;
- ``key_characters[]``: {``name``, ``motivation``} (or ``thought``, as some releases name it);
- ``dialogues[]``: {``character``, ``message``}: the original conversation. Its first line by a
  cast member opens the scene (given, not played) and the whole of it is shown to the judge as
  the reference, as CoSER's judge sees it;
- ``plot.i_p`` (or ``i_p``) and ``i_c``: the scene's id, ``BOOK-I_P-I_C`` like CoSER's case names.

CoSER has no place field: the scenario says where the scene is. Everything else is ignored.
Anything malformed is a ``CoserError`` whose message is one line naming the item and field.
"""

from __future__ import annotations

from pathlib import Path

from agentopia_mesa.evaluation.scenes import Character, Scene
from agentopia_mesa.run.untrusted import UntrustedFileError, read_json
from agentopia_mesa.world.text import check_name

ENVIRONMENT = "Environment"
#: Characters of a profile that stand in for the public part when the plot gives no description.
PUBLIC_CHARS = 300


class CoserError(ValueError):
    """A CoSER test file that cannot be read; the message is one line."""


def read_coser(path: str | Path, count: int | None = None) -> list[Scene]:
    """The scenes of the CoSER test file at ``path`` (the first ``count``, or all)."""
    path = Path(path)
    where = f"--coser {path}"
    try:  # a regular file, capped, nested at most MAX_DEPTH deep (run/untrusted.py)
        data = read_json(path, kind=list)
    except UntrustedFileError as exc:
        raise CoserError(f"--coser {exc}") from None
    if not data:
        raise CoserError(f"{where}: must be a non-empty JSON list of test items, as CoSER's test_set.json")
    items = data if count is None else data[:count]
    scenes = [_scene(item, i, where, path.name) for i, item in enumerate(items)]
    ids = [s.scene_id for s in scenes]
    if len(set(ids)) != len(ids):
        raise CoserError(f"{where}: two items have the same book, plot i_p and i_c ({_repeated(ids)})")
    return scenes


def _scene(item: object, index: int, where: str, file_name: str) -> Scene:
    at = f"{where}: item {index}"
    if not isinstance(item, dict):
        raise CoserError(f"{at}: must be a JSON object")
    book = _name(_text(item, "book", at), f"{at}: 'book'")  # in the scene id, which CSV files hold
    scenario = _text(item, "scenario", at)
    plot = item.get("plot") or {}
    if not isinstance(plot, dict):
        raise CoserError(f"{at}: 'plot' must be an object")
    cast = item.get("speaking_characters_w_env")
    if not isinstance(cast, list) or not all(isinstance(c, str) and c.strip() for c in cast):
        raise CoserError(f"{at}: 'speaking_characters_w_env' must be a list of character names")
    cast = list(dict.fromkeys(_name(c, f"{at}: character") for c in cast if c != ENVIRONMENT))
    profiles = item.get("character_profiles") or {}
    if not isinstance(profiles, dict) or not all(isinstance(v, str) for v in profiles.values()):
        raise CoserError(f"{at}: 'character_profiles' must be an object of name -> profile text")
    described = _by_name(plot.get("key_characters"), "description", f"{at}: plot.key_characters")
    motivations = _by_name(item.get("key_characters"), "motivation", f"{at}: key_characters")
    for name, text in _by_name(item.get("key_characters"), "thought", f"{at}: key_characters").items():
        motivations.setdefault(name, text)
    dialogues = item.get("dialogues")
    if not isinstance(dialogues, list) or not dialogues or not all(
            isinstance(d, dict) and isinstance(d.get("character"), str) and isinstance(d.get("message"), str) for d in dialogues):
        raise CoserError(f"{at}: 'dialogues' must be a non-empty list of {{\"character\", \"message\"}} objects")
    opening = next((d for d in dialogues if d["character"] in cast), None)
    if opening is None:
        raise CoserError(f"{at}: no line of 'dialogues' is spoken by a character of 'speaking_characters_w_env'")
    if len(cast) < 2:
        raise CoserError(f"{at}: 'speaking_characters_w_env' needs at least two characters besides {ENVIRONMENT}")
    characters = tuple(
        Character(name, "\n\n".join(p for p in (described.get(name, ""), profiles.get(name, "")) if p.strip()).strip(),
                  described.get(name) or profiles.get(name, "")[:PUBLIC_CHARS], motivations.get(name, ""))
        for name in cast)
    i_p, i_c = plot.get("i_p", item.get("i_p", index)), item.get("i_c", 0)
    for key, value in (("i_p", i_p), ("i_c", i_c)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise CoserError(f"{at}: {key!r} must be a whole number, got {str(value)[:40]!r}")
    return Scene(scene_id=f"{book}-{i_p}-{i_c}", source=f"coser:{file_name}", setting=book, place="",
                 situation=scenario, characters=characters, first_speaker=opening["character"],
                 first_line=opening["message"], reference=tuple((d["character"], d["message"]) for d in dialogues))


def _name(value: str, at: str) -> str:
    """``value`` if it is a plain one-line name (world/text.py: no control characters, nothing a
    spreadsheet would run as a formula); scene ids and names reach CSV files verbatim."""
    try:
        check_name(value)
    except ValueError as exc:
        raise CoserError(f"{at}: {exc}") from None
    return value  # as written: the dialogues name the characters the same way


def _text(item: dict, key: str, at: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CoserError(f"{at}: {key!r} must be a non-empty string")
    return value


def _by_name(entries: object, field: str, at: str) -> dict[str, str]:
    """{name: entry[field]} of a list of {"name", field} objects (absent or empty fields left out)."""
    if entries is None:
        return {}
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries):
        raise CoserError(f"{at} must be a list of objects with a 'name'")
    return {e["name"]: e[field] for e in entries if isinstance(e.get(field), str) and e[field].strip()}


def _repeated(ids: list[str]) -> str:
    seen: set[str] = set()
    return next(i for i in ids if i in seen or seen.add(i))
