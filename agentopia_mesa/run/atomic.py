"""Atomic file replacement: write beside the target, then rename over it.

A crash (kill -9 included) leaves either the old file or the new one, never half of one; a
write that fails (a full disk) removes its temporary file and leaves the old one as it was.
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
