"""Checkpoints at week boundaries: the whole model, pickled, written atomically, authenticated.

A checkpoint file is ``MAGIC | sha256 of payload (32 bytes) | HMAC-SHA256 of payload (32 bytes) |
payload``. Unpickling can run code, and run directories are shared between people and
machines, so a checkpoint is only unpickled if its HMAC checks out under this user's secret key,
kept outside every run directory (``$AGENTOPIA_SECRET_FILE``, else
``$XDG_CONFIG_HOME/agentopia/checkpoint.key`` or ``~/.config/agentopia/checkpoint.key``; made
with mode 0600 on first use). A checkpoint written by someone else (or crafted) is refused
before unpickling; to resume another user's run, they must share their key file with you. The
plain sha256 tells corruption (skipped, the previous checkpoint is used) from a foreign or forged
file (refused). Checkpoints of the first format (``AGENTOPIA-CKPT-1``, unauthenticated) are
refused unless ``AGENTOPIA_TRUST_UNSIGNED_CHECKPOINTS=1`` says they are your own.

The file is written to a
temporary name, flushed to disk and renamed, so a crash (kill -9 included) leaves either the
old checkpoint or the new one, never half of one. Loading checks the hash; a corrupt or
truncated file is skipped with a warning and the previous checkpoint is used. A write that fails
(a full disk) removes its partial file and raises, leaving the older checkpoints as they were.

Recorders that stream to files (trajectories, replay) register their byte offsets in
``model.stream_offsets`` so a resumed run can cut those files back to the checkpoint's week.
LLM clients are not pickled; minds re-attach them on resume (see ``LLMMind.__getstate__``).
"""

from __future__ import annotations

import copyreg
import hashlib
import hmac
import io
import os
import pickle
import re
import secrets
import tempfile
import warnings
from pathlib import Path

from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.run.untrusted import UntrustedFileError, open_to_write, read_bytes

MAGIC = b"AGENTOPIA-CKPT-2\n"
MAGIC_V1 = b"AGENTOPIA-CKPT-1\n"  # unauthenticated: sha256 only
SECRET_ENV = "AGENTOPIA_SECRET_FILE"
TRUST_V1_ENV = "AGENTOPIA_TRUST_UNSIGNED_CHECKPOINTS"
FOLDER = "checkpoints"
_NAME = re.compile(r"^week-(\d{5})\.ckpt$")
KEY_BYTES = 4096  # a key file is 65 bytes; more is not a key
MAX_CHECKPOINT_BYTES = 16 * 2**30  # a 10,000-resident town pickles to a few hundred MiB


class CheckpointError(ValueError):
    pass


class CheckpointNotTrusted(CheckpointError):
    """A checkpoint not written with this user's key: it is never unpickled."""


class CheckpointKeyError(CheckpointError):
    """The checkpoint key cannot be used (too short, not a regular file): no checkpoint can be checked."""


def secret_path() -> Path:
    """Where this user's checkpoint key lives (outside any run directory)."""
    if os.environ.get(SECRET_ENV):
        return Path(os.environ[SECRET_ENV]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "agentopia" / "checkpoint.key"


def secret_key() -> bytes:
    """This user's checkpoint key, made (32 random bytes, mode 0600) on first use.

    The key is written whole to a private temporary file and then hard-linked into place, so a
    process that starts at the same moment reads either no key or the complete one, never an
    empty file; whoever links first wins and the other reads the winner's key.
    """
    path = secret_path()
    try:
        key = _read_key(path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_hex(32).encode() + b"\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:  # another process made it first
                pass
        finally:
            os.unlink(tmp)
        key = _read_key(path)
    if len(key) < 32:
        raise CheckpointKeyError(f"{path}: the checkpoint key is too short; remove it to make a new one "
                                 f"(it has {len(key)} characters, a key at least 32)")
    return key


def _read_key(path: Path) -> bytes:
    """The key file's content: a regular file (a FIFO or a device would hang or never end) of at most 4 KiB."""
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        return read_bytes(path, KEY_BYTES, follow_links=True).strip()
    except UntrustedFileError as exc:
        raise CheckpointKeyError(f"{exc} (the checkpoint key, ${SECRET_ENV} or ~/.config/agentopia/checkpoint.key)") from None


def _mac(payload: bytes) -> bytes:
    return hmac.new(secret_key(), payload, hashlib.sha256).digest()


def checkpoint_path(run_dir: Path, week: int) -> Path:
    return Path(run_dir) / FOLDER / f"week-{week:05d}.ckpt"


#: Retention by default: the newest 3 checkpoints, plus every year end's (so any simulated year
#: can be branched from; ``agentopia run --keep-checkpoints``).
KEEP_NEWEST = 3


def parse_keep(text: str | int) -> int:
    """``--keep-checkpoints``: a number of newest checkpoints (1 or more) or "all" (0 here)."""
    if str(text).strip().lower() == "all":
        return 0
    try:
        keep = int(text)
    except ValueError:
        keep = -1
    if keep < 1:
        raise ValueError(f"--keep-checkpoints: a number of newest checkpoints (1 or more) or 'all', got {text!r}")
    return keep


def keep_arg(text: str) -> int:
    """``parse_keep`` as an argparse ``type`` (a bad value is a usage error before anything runs)."""
    import argparse

    try:
        return parse_keep(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--keep-checkpoints: ")) from None


def keep_meta(keep: int) -> dict:
    """What a run records in ``config.json`` for ``--keep-checkpoints`` (as ``keep_arg`` parsed it;
    nothing for the default, so default run directories stay as they were)."""
    return {} if keep == KEEP_NEWEST else {"keep_checkpoints": keep}


def checkpoint_week(path: Path) -> int:
    return int(_NAME.match(Path(path).name).group(1))


def prune_checkpoints(run_dir: Path, keep: int = KEEP_NEWEST, year_weeks: int | None = None) -> None:
    """Delete checkpoints but the newest ``keep`` (0: keep all) and, with ``year_weeks`` (weeks
    per year), those at a year end."""
    held = list_checkpoints(run_dir)
    if keep <= 0:
        return
    for old in held[:-keep]:
        if not (year_weeks and checkpoint_week(old) % year_weeks == 0):
            old.unlink(missing_ok=True)


def no_checkpoint_message(run_dir: Path, week: int) -> str:
    """Why ``branch --week week`` cannot start: the weeks that can be branched."""
    weeks = [checkpoint_week(p) for p in list_checkpoints(run_dir)]
    held = ", ".join(map(str, weeks)) or "none"
    return (f"--week: no checkpoint at week {week} in {run_dir}; weeks that can be branched: {held} "
            f"(a run keeps each year end's checkpoint and its newest {KEEP_NEWEST}; "
            "run with --keep-checkpoints all to keep every one)")


def save_checkpoint(model, run_dir: Path, keep: int = KEEP_NEWEST, year_weeks: int | None = None) -> Path:
    """Write the model after ``model.weeks_done`` weeks; keep the newest ``keep`` checkpoints
    (0: all) and, with ``year_weeks``, every year end's."""
    _register_cell_classes(model)
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    path = checkpoint_path(run_dir, model.weeks_done)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with replacing(path) as tmp, open(tmp, "wb") as f:
            f.write(MAGIC + hashlib.sha256(payload).digest() + _mac(payload) + payload)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:  # a full disk: the partial file is gone, the older checkpoints stay
        exc.filename = exc.filename or str(path)
        raise
    prune_checkpoints(run_dir, keep, year_weeks)
    return path


def _register_cell_classes(model) -> None:
    """Make an unpickled grid picklable again.

    Mesa 3.5 gives each grid a dynamic ``GridCell`` class and registers a pickler for it, but
    unpickling makes a fresh class per cell without registering one, so a resumed model could
    not be checkpointed again. Register Mesa's own pickler for every such class.
    """
    from mesa.discrete_space.grid import pickle_gridcell

    for cls in {type(cell) for cell in model.grid.all_cells}:
        if cls.__name__ == "GridCell":
            copyreg.pickle(cls, pickle_gridcell)


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint files, oldest first."""
    folder = Path(run_dir) / FOLDER
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _NAME.match(p.name)), key=lambda p: p.name)


def read_checkpoint(path: Path):
    """The model in the checkpoint at ``path``. Raises ``CheckpointError`` for a corrupt file and
    ``CheckpointNotTrusted`` (before unpickling anything) for one not written with our key."""
    try:
        data = read_bytes(path, MAX_CHECKPOINT_BYTES)  # not through a link, never a FIFO (run/untrusted.py)
    except UntrustedFileError as exc:
        raise CheckpointError(str(exc)) from None
    if data.startswith(MAGIC_V1) and len(data) >= len(MAGIC_V1) + 32:
        digest, payload = data[len(MAGIC_V1): len(MAGIC_V1) + 32], data[len(MAGIC_V1) + 32:]
        if hashlib.sha256(payload).digest() != digest:
            raise CheckpointError(f"{path}: contents do not match their hash (truncated or corrupt)")
        if os.environ.get(TRUST_V1_ENV) != "1":
            raise CheckpointNotTrusted(
                f"{path}: an unauthenticated checkpoint of an older version; it could run code if loaded, so it is "
                f"not loaded (if you wrote it yourself, set {TRUST_V1_ENV}=1 once to resume it)")
        return _Unpickler(io.BytesIO(payload)).load()
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 64:
        raise CheckpointError(f"{path}: not a checkpoint or truncated")
    digest, mac = data[len(MAGIC): len(MAGIC) + 32], data[len(MAGIC) + 32: len(MAGIC) + 64]
    payload = data[len(MAGIC) + 64:]
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"{path}: contents do not match their hash (truncated or corrupt)")
    if not hmac.compare_digest(_mac(payload), mac):
        raise CheckpointNotTrusted(
            f"{path}: was not written by this user/machine (its key is {secret_path()}); it could run code if "
            "loaded, so it is not loaded")
    return _Unpickler(io.BytesIO(payload)).load()


#: Modules that moved since checkpoints were first written (the run-architecture move), so a run
#: checkpointed by an older version still resumes.
MOVED_MODULES = {
    "agentopia_mesa.minds.questions": "agentopia_mesa.contract.questions",
    "agentopia_mesa.minds.decisions": "agentopia_mesa.contract.decisions",
    "agentopia_mesa.residents.resident": "agentopia_mesa.town.resident",
    "agentopia_mesa.residents.state": "agentopia_mesa.town.state",
    "agentopia_mesa.residents.notebook": "agentopia_mesa.town.notebook",
    "agentopia_mesa.society": "agentopia_mesa.town.social_ties",
    "agentopia_mesa.economy": "agentopia_mesa.town.economy",
    "agentopia_mesa.scheduling": "agentopia_mesa.town.scheduling",
    "agentopia_mesa.world.place": "agentopia_mesa.town.place",
    "agentopia_mesa.environment": "agentopia_mesa.environment.outcomes",
    "agentopia_mesa.events": "agentopia_mesa.environment.events",
    "agentopia_mesa.careers": "agentopia_mesa.environment.careers",
    "agentopia_mesa.life": "agentopia_mesa.stages.life_reward",
    "agentopia_mesa.replay": "agentopia_mesa.run.replay",
    "agentopia_mesa.trajectories": "agentopia_mesa.run.trajectories",
    "agentopia_mesa.analysis.recorder": "agentopia_mesa.run.yearly",
    "agentopia_mesa.minds.society": "agentopia_mesa.llm.settings",
    "agentopia_mesa.minds.llm_settings": "agentopia_mesa.llm.settings",
}


#: Classes that moved or were renamed: the formulas' ``Environment`` became the ``RuleEnvironment``.
MOVED_CLASSES = {
    ("agentopia_mesa.environment.outcomes", "Environment"): ("agentopia_mesa.environment.rules", "RuleEnvironment"),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        module = MOVED_MODULES.get(module, module)
        return super().find_class(*MOVED_CLASSES.get((module, name), (module, name)))


def load_latest(run_dir: Path, at_most_week: int | None = None):
    """The newest readable checkpoint (optionally at or before ``at_most_week``) and its path."""
    candidates = list_checkpoints(run_dir)
    if at_most_week is not None:
        candidates = [p for p in candidates if int(_NAME.match(p.name).group(1)) <= at_most_week]
    for path in reversed(candidates):
        try:
            return read_checkpoint(path), path
        except (CheckpointNotTrusted, CheckpointKeyError):  # every checkpoint would fail alike: say why
            raise
        except (CheckpointError, pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
            warnings.warn(f"skipping checkpoint {path.name}: {exc}; trying the previous one", stacklevel=2)
    where = f" at or before week {at_most_week}" if at_most_week is not None else ""
    held = ", ".join(str(checkpoint_week(p)) for p in list_checkpoints(run_dir))
    raise CheckpointError(f"{run_dir}: no readable checkpoint{where}"
                          + (f" (checkpoints at weeks {held})" if held and at_most_week is not None else "")
                          + "; start the run again")


def truncate_streams(run_dir: Path, offsets: dict[str, int]) -> None:
    """Cut streamed files back to the sizes they had when the checkpoint was taken."""
    for name, size in offsets.items():
        path = Path(run_dir) / name
        if path.exists() and path.stat().st_size > size:
            with open_to_write(path) as f:  # never through a link (run/untrusted.py)
                f.truncate(size)
