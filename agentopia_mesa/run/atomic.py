"""Atomic file replacement: write beside the target, then rename over it.

A crash (kill -9 included) leaves either the old file or the new one, never half of one; a
write that fails (a full disk) removes its temporary file and leaves the old one as it was. A
temporary file already there (a crash's, or a symbolic link someone planted) is removed first, and
the rename replaces a link at the target rather than writing through it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; it becomes ``path`` when the block ends,
    and is removed if the block raises. Close files opened on it inside the block."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.is_symlink() or tmp.is_file():  # left by a crash, or planted: writing it would follow a link
        tmp.unlink()
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        os.replace(tmp, path)
    except BaseException:  # e.g. ``path`` is a directory: leave no stray temporary file
        tmp.unlink(missing_ok=True)
        raise
