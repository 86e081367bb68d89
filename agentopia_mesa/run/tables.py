"""Per-resident tables in CSV or Parquet, and a writer that writes them beside the simulation.

A run writes its per-resident tables (``residents``, and the yearly snapshots ``ties`` and
``residents_yearly``) as CSV by default, or as Parquet with ``agentopia run --tables parquet``:
columnar, compressed, typed, several times smaller and faster to write and read than CSV for a
1000-resident, 10-year run. Parquet files cannot be appended to, so each yearly snapshot is a
file of its own (``ties/year-03.parquet``); ``RunReader`` reads either format, and
``pandas.read_parquet(path).to_csv(...)`` turns any of them back into CSV.

``TableWriter`` writes table files on one background thread: pyarrow does most of the encoding
and compression without holding the GIL, so the simulation goes on meanwhile. ``flush`` waits for what was
submitted and raises the first error (a full disk) where the run can handle it: the session
flushes before each checkpoint, so a checkpoint never refers to a snapshot that is not on disk.
"""

from __future__ import annotations

import io
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.run.untrusted import UntrustedFileError, decoded, open_regular, read_bytes

FORMATS = ("csv", "parquet")
#: Largest table read (a 1000-resident, 50-year residents.csv is about 1 GiB).
MAX_TABLE_BYTES = 4 * 2**30


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """``frame`` as a Parquet file (no index), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        frame.to_parquet(tmp, index=False)


def snapshot_path(folder: Path, year_index: int) -> Path:
    """The Parquet file of one yearly snapshot: ``folder/year-03.parquet`` (0 = the start)."""
    return folder / f"year-{year_index:02d}.parquet"


def read_csv(path: Path) -> pd.DataFrame | None:
    """A CSV table, or None when the file is missing or empty; opened as untrusted input (no link,
    no special file, at most ``MAX_TABLE_BYTES``), and a damaged file is one line naming it."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return None
    data = read_bytes(path, MAX_TABLE_BYTES)
    if not data.strip():
        return None
    try:
        return pd.read_csv(io.BytesIO(data))
    except UnicodeDecodeError:
        decoded(data, str(path))  # raises, naming the line
        raise
    except (pd.errors.ParserError, ValueError) as exc:
        raise UntrustedFileError(f"{path}: not a CSV table ({str(exc).strip().splitlines()[-1][:120]})") from None


def _read_parquet(path: Path) -> pd.DataFrame:
    with open_regular(path) as f:
        try:
            return pd.read_parquet(f)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a damaged file
            raise UntrustedFileError(f"{path}: not a Parquet table ({type(exc).__name__})") from None


def read_table(csv: Path, parquet: Path) -> pd.DataFrame | None:
    """A table from its Parquet file or folder of snapshots if there is one, else from its CSV
    file; None when neither holds any rows."""
    if parquet.is_dir() and not parquet.is_symlink():
        parts = sorted(parquet.glob("year-*.parquet"))
        return pd.concat([_read_parquet(p) for p in parts], ignore_index=True) if parts else None
    if parquet.exists() or parquet.is_symlink():
        return _read_parquet(parquet)
    return read_csv(csv)


class TableWriter:
    """Writes tables on one background thread, in submission order (see the module docstring)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []

    def submit(self, path: Path, frame: pd.DataFrame) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tables")
        self._pending.append(self._pool.submit(write_parquet, path, frame))

    def flush(self) -> None:
        """Wait for every submitted table; raise the first error."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
