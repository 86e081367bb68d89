"""Trajectories: every decision a mind made, streamed to the run directory as JSON lines.

``TrajectoryRecorder(run_dir)`` is an ``LLMMind``'s ``recorder``: it receives one dict per
decision and appends it, with the run id, as one line of ``decisions.jsonl``, flushed at once.
Nothing is kept in memory, and the file's size at a checkpoint is exactly what was decided up to
that week, so a resumed run can cut it back (``layout.STREAM_FILES``). ``read_trajectories``
streams the lines back.

One line (``TRAJECTORY_FIELDS``): ``run``, ``resident``, ``model`` (the mind's name, e.g.
"ollama:qwen3:4b"), ``year`` (calendar year), ``stage``, ``when`` (time stamp),
``week_index``, ``messages`` (the exact prompt), ``response`` (the raw text of the last answer,
None if the model never answered), ``decision`` (what the resident did), and the flags
``fallback`` (the rule mind decided), ``invalid`` (at least one answer failed validation and was
retried), ``invalid_attempts``, ``rejected`` (the model answered but no answer passed
validation, or the environment refused it), ``error``; plus ``prompt_tokens``,
``completion_tokens`` and ``cached``; after them, only where there are any, ``trimmed`` (free texts
the code cut to their limits) and ``reasoning`` (a thinking model's, never sent back in a prompt).
The LLM environment's lines add ``role: "environment"`` and
``task`` (``contract.environment.TASKS``); their ``resident`` is whom the task concerns ("" for a
town-wide task) and their ``decision`` is the verdict. Residents' lines have no ``role``.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from agentopia_mesa.llm.recorded import EncodedJSON
from agentopia_mesa.run.dialogues import DialogueRecorder
from agentopia_mesa.run.layout import RunLayout, is_run_dir
from agentopia_mesa.run.reader import RunReader
from agentopia_mesa.run.untrusted import json_lines, open_to_write

TRAJECTORY_FIELDS = (
    "run", "resident", "model", "year", "stage", "when", "week_index", "messages", "response", "decision",
    "fallback", "invalid", "invalid_attempts", "rejected", "error", "prompt_tokens", "completion_tokens", "cached",
)
#: Where recorded messages go in a line: a string no prompt holds (names and texts carry no control characters).
_SLOT = "\0messages\0"
_SLOT_JSON = json.dumps(_SLOT)
_YEAR = re.compile(r"^Y(\d+)-")
_FIELD_SET = frozenset(TRAJECTORY_FIELDS)
#: ``json.dumps(..., ensure_ascii=False, default=str)`` without building an encoder per line.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def run_id_of(run_dir: str | Path) -> str:
    """A run's id: the sweep's run id if it has one, else the run directory's name."""
    if is_run_dir(run_dir):
        return RunReader(run_dir).run_id
    return Path(run_dir).resolve().name


def complete_entry(entry: dict, run_id: str) -> dict:
    """The entry as stored: run id, calendar year and the derived flags added, fields in order
    (``TRAJECTORY_FIELDS``, then anything extra in the entry's order)."""
    get = entry.get
    fallback = bool(get("fallback"))
    invalid_attempts = int(get("invalid_attempts") or 0)
    ordered = {k: get(k) for k in TRAJECTORY_FIELDS}
    ordered["run"] = get("run") or run_id
    if "year" not in entry:
        match = _YEAR.match(get("when") or "")
        ordered["year"] = int(match.group(1)) if match else None
    if "invalid" not in entry:
        ordered["invalid"] = invalid_attempts > 0
    # The rule mind also stands in when the server is down; "rejected" means the model did answer.
    ordered["rejected"] = bool(get("rejected")) or (fallback and get("response") is not None)
    ordered["fallback"] = fallback
    ordered["invalid_attempts"] = invalid_attempts
    if not _FIELD_SET.issuperset(entry):
        ordered.update({k: v for k, v in entry.items() if k not in _FIELD_SET})  # anything extra, kept after
    return ordered


class TrajectoryRecorder:
    """Append every decision to ``run_dir/decisions.jsonl``, one flushed JSON line each.

    Give it to the minds as their ``recorder`` (``LLMMind(recorder=...)``, ``attach_trajectories``
    or ``reattach_minds(..., recorder=...)`` on resume). The file is opened on the first entry,
    in append mode, so a resumed or branched run continues the file its checkpoint cut back.
    Thread-safe. ``run_id`` defaults to ``run_id_of(run_dir)``.
    """

    def __init__(self, run_dir: str | Path, run_id: str | None = None):
        self.run_dir = Path(run_dir)
        self.path = RunLayout(self.run_dir).decisions
        self.run_id = run_id or run_id_of(self.run_dir)
        self.count = 0
        self._file = None
        self._lock = threading.Lock()

    def __call__(self, entry: dict) -> None:
        messages = entry.get("messages")
        if isinstance(messages, EncodedJSON):  # a replayed decision's prompt, as recorded: written as it is
            line = _encode(complete_entry({**entry, "messages": _SLOT}, self.run_id)).replace(_SLOT_JSON, messages, 1)
        else:
            line = _encode(complete_entry(entry, self.run_id))
        with self._lock:
            if self._file is None:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                self._file = open_to_write(self.path)  # kept open for the run; lines written as UTF-8
            self._file.write((line + "\n").encode())
            self._file.flush()
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> TrajectoryRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict:
        """Picklable (a checkpoint may reach it): the open file is reopened on the next entry."""
        state = dict(self.__dict__)
        state.update(_file=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def llm_deciders(model) -> list:
    """The LLM minds of ``model`` and its LLM environment, if any (empty: a run without an LLM)."""
    from agentopia_mesa.environment.llm_environment import llm_environment
    from agentopia_mesa.minds.assign import llm_minds

    return [*llm_minds(model), *filter(None, [llm_environment(model)])]


def attach_trajectories(model, run_dir: str | Path, run_id: str | None = None) -> TrajectoryRecorder | None:
    """Make every LLM mind of ``model``, and its LLM environment, record into ``run_dir``, and the
    week's conversations go to its ``dialogues.jsonl`` (``run.dialogues``); None if there is no LLM at all."""
    recorders = llm_deciders(model)
    if not recorders:
        return None
    model.observers.append(DialogueRecorder(run_dir))  # the conversations too (dialogues.jsonl)
    recorder = TrajectoryRecorder(run_dir, run_id)
    for mind in recorders:
        mind.recorder = recorder
    return recorder


def decisions_path(source: str | Path) -> Path:
    """``decisions.jsonl`` of a run directory (or the file itself)."""
    source = Path(source)
    return RunLayout(source).decisions if source.is_dir() else source


def read_trajectories(source: str | Path) -> Iterator[dict]:
    """Stream the entries of a run directory's ``decisions.jsonl`` (or of that file), in order.

    A last line without its newline is what a killed run left mid-write: it is skipped with a
    warning. A broken line elsewhere raises ``ValueError`` naming the file and line.
    """
    path = decisions_path(source)
    if not path.exists() and not path.is_symlink():
        return

    def cut(number: int) -> None:
        warnings.warn(f"{path}:{number}: unfinished last line (the run was killed mid-write); skipped", stacklevel=3)

    for _, entry in json_lines(path, on_cut=cut):  # a line that is not one JSON object: ValueError naming file:line
        yield entry
