"""Where a command may write its output file: never over one of its inputs, never through a link.

``dataset sft --out RUN/decisions.jsonl`` once overwrote the very file it read (exit 0). An output
path is refused, before any work, when it is a symbolic link (a dangling one included), not a
regular file, one of the command's input files, or inside one of its input run directories (a run
directory holds only what its run wrote: ``run/ownership.py``).
"""

from __future__ import annotations

from pathlib import Path

from agentopia_mesa.run.untrusted import UntrustedFileError, refuse_link


def check_output(flag: str, out: str | Path, inputs: list[str | Path]) -> Path:
    """``out`` as a ``Path`` if the command may write it; else ``ValueError`` naming ``flag``."""
    out = Path(out)
    try:
        refuse_link(out)
    except UntrustedFileError as exc:
        raise ValueError(f"{flag}: {exc}") from None
    if out.is_dir():
        raise ValueError(f"{flag}: {out} is a directory; name a file")
    target = out.resolve()
    for given in map(Path, inputs):
        source = given.resolve()
        if target == source:
            raise ValueError(f"{flag}: {out} is an input of this command; write the output elsewhere")
        if source.is_dir() and target.is_relative_to(source):
            raise ValueError(f"{flag}: {out} is inside {given}, an input of this command; write the output elsewhere")
    return out
