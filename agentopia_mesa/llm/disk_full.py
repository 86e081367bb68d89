"""A full disk is not an LLM fault: it stops the run, which can be resumed once there is space.

SQLite reports a full disk as ``sqlite3.OperationalError`` ("database or disk is full",
``SQLITE_FULL``), not as ``OSError``. ``DiskFull`` is that error as an ``OSError`` with
``errno.ENOSPC`` and the file's name, so a run's session stops with exit 75 and the resume hint, as
for any other write (docs/explanation/robustness.md); the dispatcher lets it through instead of counting it as a
failed call and falling back to the rules.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path


class DiskFull(OSError):
    """No space left to write ``filename`` (``errno`` is ``ENOSPC``)."""

    def __init__(self, filename: str | Path):
        super().__init__(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filename))


def is_disk_full(exc: BaseException) -> bool:
    """``exc`` is SQLite's full-disk error (by its code where SQLite gives one, else its message)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL if code is not None else "disk is full" in str(exc)
