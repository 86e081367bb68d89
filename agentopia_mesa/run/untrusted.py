"""Opening files that are data from someone else: a run or sweep directory's files, and files a user names.

A run directory may come from another person or machine (docs/explanation/threat-model.md), so every file in
it is opened the same way here:

- **no symbolic links, no special files**: opened with ``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a
  FIFO never hangs the open), then refused unless ``fstat`` says it is a regular file;
- **sizes capped** before anything is read into memory (``MAX_JSON_BYTES``, ``MAX_LINE_BYTES``);
- **decoded with one-line errors** naming the file and its line (``path:line: ...``), never a bare
  "'utf-8' codec can't decode";
- **shapes checked**: a JSON file or line must be an object (or what the caller says), nested at
  most ``MAX_DEPTH`` deep (no ``RecursionError``);
- **JSON lines**: a last line without its newline is what a killed run left mid-write and is
  skipped; a damaged line anywhere else is an error naming file and line (``check_stream`` does
  the same for the part of a stream file a resume keeps).

Writes into a run directory go through ``refuse_link`` (the target and the folders up to the run
directory are real, not links): ``run/atomic.py``, the streamed files' appenders and ``analyze``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

#: Largest JSON file read whole (a world of 100,000 residents is well below), in bytes.
MAX_JSON_BYTES = 256 * 2**20
#: Longest line of a JSON-lines file (a replay frame of a 10,000-resident town is a few MiB).
MAX_LINE_BYTES = 64 * 2**20
#: Deepest nesting of JSON from outside (our own files nest fewer than 10 levels).
MAX_DEPTH = 64


class UntrustedFileError(ValueError):
    """A file that cannot be used as it is; the message is one line naming the file (and line)."""


def _kind(mode: int) -> str:
    return "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else (
        "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")


def open_regular(path: str | Path, follow_links: bool = False) -> io.BufferedReader:
    """``path`` opened for reading in binary, if it is a regular file and (unless ``follow_links``,
    for a file of the user's own such as the checkpoint key) not a symbolic link."""
    path = Path(path)
    nofollow = 0 if follow_links else os.O_NOFOLLOW
    try:
        fd = os.open(path, os.O_RDONLY | nofollow | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UntrustedFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UntrustedFileError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        if path.is_symlink():
            raise UntrustedFileError(f"{path}: is a symbolic link; files of a run directory and files given "
                                     "as input are opened only as themselves") from None
        raise UntrustedFileError(f"{path}: cannot be opened ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UntrustedFileError(f"{path}: is {_kind(mode)}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: str | Path, cap: int = MAX_JSON_BYTES, follow_links: bool = False) -> bytes:
    """The whole file, refused (before reading it) if it is larger than ``cap`` bytes."""
    with open_regular(path, follow_links) as f:
        size = os.fstat(f.fileno()).st_size
        if size > cap:
            raise UntrustedFileError(f"{path}: {size:,} bytes, more than the {cap:,} allowed")
        return f.read(cap + 1)[:cap]


def decoded(data: bytes, where: str, first_line: int = 1) -> str:
    """``data`` (starting at line ``first_line`` of its file) as UTF-8 text, or an error naming
    ``where`` and the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + first_line
        raise UntrustedFileError(f"{where}:{line}: not UTF-8 text (byte {data[exc.start]:#04x}); "
                                 "a binary or damaged file") from None


def depth(value) -> int:
    """How deeply ``value`` nests lists and objects (a number or a string: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack += [(child, level + 1) for child in children]
    return deepest


def parsed_json(text: str, where: str, kind: type | tuple[type, ...] = dict, line: int | None = None):
    """``text`` (line ``line`` of its file, or the whole file) parsed as JSON of type ``kind``, nested
    at most ``MAX_DEPTH`` deep; errors name ``where`` and the line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        what = "not a JSON line" if line else "not JSON"
        raise UntrustedFileError(f"{where}:{line or exc.lineno}: {what} ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        value, too_deep = None, True
    else:
        too_deep = depth(value) > MAX_DEPTH
    at = f"{where}:{line}" if line else where
    if too_deep:
        raise UntrustedFileError(f"{at}: nested more than {MAX_DEPTH} levels deep")
    if not isinstance(value, kind):
        names = " or ".join(_json_name(k) for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise UntrustedFileError(f"{at}: must hold a JSON {names}, not {_json_name(type(value))}")
    return value


def _json_name(kind: type) -> str:
    return {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "true/false",
            type(None): "null"}.get(kind, kind.__name__)


def read_json(path: str | Path, kind: type | tuple[type, ...] = dict, cap: int = MAX_JSON_BYTES):
    """A JSON file from outside: a regular file, at most ``cap`` bytes, UTF-8, of type ``kind``."""
    return parsed_json(decoded(read_bytes(path, cap), str(path)), str(path), kind)


def json_lines(path: str | Path, limit: int | None = None, on_cut: Callable[[int], None] | None = None,
               whole_last_line: bool = False) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each line of a JSON-lines file (blank lines skipped), reading at
    most ``limit`` bytes. In a file a run streams, a last line without its newline (a killed writer)
    is skipped, and ``on_cut(its number)`` called; in a file a person wrote (``whole_last_line``) it
    is a line like the others. Any line that is not one JSON object is an error naming file and line."""
    with open_regular(path) as f:
        remaining = limit
        for number, raw in enumerate(iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""), 1):
            if remaining is not None:
                raw = raw[:remaining]
                remaining -= len(raw)
            if len(raw) > MAX_LINE_BYTES:
                raise UntrustedFileError(f"{path}:{number}: a line longer than {MAX_LINE_BYTES:,} bytes")
            if not raw.endswith(b"\n") and not whole_last_line:
                if on_cut is not None and raw.strip():
                    on_cut(number)
                return  # cut off mid-write: the writer was killed
            if raw.strip():
                yield number, parsed_json(decoded(raw, str(path), number).rstrip("\r\n"), str(path), line=number)
            if remaining == 0:
                return


def _csv_rows(path: Path, limit: int) -> None:
    with open_regular(path) as f:
        data = f.read(limit)
    text = decoded(data, str(path))
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    for row in rows:
        if header is not None and row and len(row) != len(header):
            raise UntrustedFileError(f"{path}:{rows.line_num}: {len(row)} fields where the header has {len(header)}")


def check_stream(path: str | Path, size: int) -> None:
    """Raise naming file and line if the first ``size`` bytes of a streamed file (what a resume
    keeps) hold a damaged line: not UTF-8, not one JSON object (``.jsonl``), or a CSV row with
    the wrong number of fields. What comes after ``size`` is cut off by the resume anyway."""
    path = Path(path)
    if path.suffix == ".jsonl":
        for _ in json_lines(path, limit=size):
            pass
        with open_regular(path) as f:
            f.seek(max(0, size - 1))
            if size and f.read(1) != b"\n":
                raise UntrustedFileError(f"{path}: does not end a line where the checkpoint's week ended "
                                         f"(byte {size}); the file was changed")
    elif path.suffix == ".csv":
        _csv_rows(path, size)


def open_to_write(path: str | Path, append: bool = True):
    """``path`` opened for writing in binary (appending, or truncated), never through a symbolic
    link and never a FIFO or device: a run directory from someone else cannot point a stream file
    (``ties.csv``, ``replay.jsonl``) at a file elsewhere."""
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_APPEND if append else os.O_TRUNC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if path.is_symlink():
            raise UntrustedFileError(f"{path}: is a symbolic link; nothing is written through it") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UntrustedFileError(f"{path}: is {_kind(mode)}; nothing is written to it")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "ab" if append else "wb")


def refuse_links_inside(root: str | Path, folders: tuple[str, ...] = ()) -> None:
    """Raise naming the first symbolic link among ``root``'s entries and those of its ``folders``:
    a session that writes a run directory (resume, overwrite) writes nothing through a link."""
    root = Path(root)
    if root.is_symlink():
        raise UntrustedFileError(f"{root}: is a symbolic link; a run directory is written only as itself")
    for folder in (root, *(root / f for f in folders)):
        if folder.is_dir() and not folder.is_symlink():
            for entry in folder.iterdir():
                if entry.is_symlink():
                    raise UntrustedFileError(f"{entry}: is a symbolic link; a run directory is written only as "
                                             "itself (replace the link with the file)")


def refuse_link(path: str | Path, root: str | Path | None = None) -> Path:
    """``path``, if writing it cannot land elsewhere: neither it nor a folder between it and ``root``
    (the run or sweep directory) is a symbolic link, and it is inside ``root``."""
    path = Path(path)
    if root is not None:
        root = Path(root)
        try:
            inside = path.relative_to(root)
        except ValueError:
            raise UntrustedFileError(f"{path}: is outside {root}; a run writes only inside its directory") from None
        if ".." in inside.parts:
            raise UntrustedFileError(f"{path}: leaves {root} ('..'); a run writes only inside its directory")
        steps = [root.joinpath(*inside.parts[:i]) for i in range(1, len(inside.parts) + 1)]
    else:
        steps = [path]
    for step in steps:
        if step.is_symlink():
            raise UntrustedFileError(f"{step}: is a symbolic link; nothing is written through it")
        if step.exists() and step != path and not step.is_dir():
            raise UntrustedFileError(f"{step}: is not a directory")
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise UntrustedFileError(f"{path}: is {_kind(path.stat().st_mode)}; nothing is written to it")
    return path
