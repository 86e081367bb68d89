"""A response cache in SQLite, and ``CachedClient``, which records and replays through it.

The key is the sha256 of everything that determines an answer: backend kind, model, messages,
schema, options (seed included) and the tools offered (only when some are, so the keys of
requests without tools are those of caches written before tools existed). The tag is stored but
is not part of the key. An answer that asked for tool calls is stored with them (``tool_calls``,
JSON; files written before that column existed get it on first open). The file is in
WAL mode, and every process gets its own connection (its threads share it, one statement at a
time), so sweeps that share one cache across workers neither block each other for long nor
corrupt it, and a run's thousands of calls, each on a thread of its own, hold one connection.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

from agentopia_mesa.llm.client import (
    CacheMiss, ChatRequest, ChatResult, LLMClient, LLMUnavailable, check_answer_size,
)

from agentopia_mesa.llm.disk_full import DiskFull, is_disk_full

MODES = ("record", "replay", "replay-or-record")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    tag TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL,
    created REAL NOT NULL,
    request TEXT NOT NULL,
    tool_calls TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT ''
)"""

#: The columns added since the first cache files: "" or the JSON list of the answer's tool calls;
#: "" or a JSON object of what else the answer carried ({"truncated": true, "reasoning": ...}).
_ADDED_COLUMNS = {"tool_calls": "ALTER TABLE responses ADD COLUMN tool_calls TEXT NOT NULL DEFAULT ''",
                  "extra": "ALTER TABLE responses ADD COLUMN extra TEXT NOT NULL DEFAULT ''"}

#: What became of each decision (job) of a run, keyed by its first request: the answer used,
#: every attempt's text, the error and the faults, "timed out -> fallback" included. Replay
#: reproduces decisions from here (llm/recorded.py), not from ``responses``, which may also hold
#: answers that arrived after the run had stopped waiting for them.
_OUTCOMES = """
CREATE TABLE IF NOT EXISTS outcomes (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    tag TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created REAL NOT NULL
)"""


#: Where each recorded decision came from (``llm/recorded.py``, ``Site``): the site's key, the key
#: of the job's first request (its outcome's key) and the messages it sent, so that a replay can
#: find a decision without rendering its prompt and still write the prompt to the run's files.
_SITES = """
CREATE TABLE IF NOT EXISTS sites (
    site TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    messages TEXT NOT NULL
)"""


def request_json(request: ChatRequest) -> str:
    """The parts of ``request`` that determine the answer, as canonical JSON (tag excluded; the
    tools only when some are offered)."""
    parts = {"messages": request.messages, "schema": request.schema, "options": request.options.key_fields()}
    if request.tools:
        parts["tools"] = request.tools
    return json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def cache_key(backend: str, model: str, request: ChatRequest) -> str:
    """sha256 hex of (backend, model, messages, schema, options)."""
    payload = json.dumps([backend, model], ensure_ascii=False) + request_json(request)
    return hashlib.sha256(payload.encode()).hexdigest()


def _add_columns(conn: sqlite3.Connection) -> None:
    """Give a cache file written before a column existed that column (``_ADDED_COLUMNS``)."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(responses)")}
    for name, statement in _ADDED_COLUMNS.items():
        if name in present:
            continue
        try:
            conn.execute(statement)
        except sqlite3.OperationalError as exc:  # another process added it first
            if "duplicate column" not in str(exc):
                raise


class _Process:
    """Where the process's connection is kept (``conn``, and the ``pid`` that opened it)."""

    conn: sqlite3.Connection | None = None
    pid: int | None = None


class ResponseCache:
    """The SQLite file at ``path`` (created if missing). Thread- and process-safe."""

    def __init__(self, path: str | Path, busy_timeout_s: float = 60.0):
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = _Process()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.RLock()
        try:  # create the table now, so errors show up here, as one line naming the file
            if self.path.is_dir():
                raise IsADirectoryError("it is a directory")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self._connection()
        except (sqlite3.Error, OSError) as exc:
            self.close()
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ValueError(f"--llm-cache: {self.path} cannot be used as the SQLite response cache ({reason}); "
                             "give another path or remove the file") from None

    def _connection(self) -> sqlite3.Connection:
        """This process's one connection (made on first use; never reused across a fork).

        One per process, not one per thread: the dispatcher runs every call on a thread of its
        own, and a connection per thread kept three file descriptors open per call made, until a
        long run ran out of them. Statements are serialised by ``_run``; each takes microseconds.
        """
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
            self._set_up(conn)
            self._local.conn, self._local.pid = conn, os.getpid()
            self._all.append(conn)
        return conn

    def _set_up(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the tables, retried while another process holds the file.

        Switching a new file to WAL takes an exclusive lock for which SQLite does not wait (its
        busy handler is not called): four processes opening one new cache at once failed with
        "database is locked" about one time in four. Each step is idempotent, so the whole set-up
        is retried, with a short growing pause, until ``busy_timeout_s`` has passed.
        """
        deadline = time.monotonic() + self.busy_timeout_s
        pause = 0.005
        while True:
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                # Read through a memory map (up to 1 GiB of the file): a replay reads every recorded decision
                # once, and mapped pages skip the copy into SQLite's own page cache (about 2 us of 6 per decision).
                conn.execute("PRAGMA mmap_size = 1073741824")
                conn.execute(_SCHEMA)
                conn.execute(_OUTCOMES)
                conn.execute(_SITES)
                _add_columns(conn)
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.2)

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Execute one statement on the process's connection, under the lock; all its rows."""
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if is_disk_full(exc):
                    raise DiskFull(self.path) from None
                raise

    def get(self, key: str) -> dict | None:
        """The stored row for ``key`` as a dict, or None."""
        names = ("text", "prompt_tokens", "completion_tokens", "latency_s", "model", "backend", "tag", "created",
                 "tool_calls", "extra")
        rows = self._run(f"SELECT {', '.join(names)} FROM responses WHERE key = ?", (key,))
        if not rows:
            return None
        row = dict(zip(names, rows[0], strict=True))
        row["tool_calls"] = json.loads(row["tool_calls"]) if row["tool_calls"] else []
        row["extra"] = json.loads(row["extra"]) if row["extra"] else {}
        return row

    def put(self, key: str, request: ChatRequest, result: ChatResult, replace_existing: bool = False) -> None:
        """Store ``result`` under ``key``; the first writer wins unless ``replace_existing``."""
        verb = "INSERT OR REPLACE" if replace_existing else "INSERT OR IGNORE"
        calls = json.dumps([c.as_message_part() for c in result.tool_calls], sort_keys=True) if result.tool_calls else ""
        extra = {k: v for k, v in (("truncated", result.truncated), ("reasoning", result.reasoning)) if v}
        self._run(
            f"{verb} INTO responses (key, backend, model, tag, text, prompt_tokens, completion_tokens, latency_s,"
            " created, request, tool_calls, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, result.backend, result.model, request.tag, result.text, result.prompt_tokens,
             result.completion_tokens, result.latency_s, time.time(), request_json(request), calls,
             json.dumps(extra, sort_keys=True) if extra else ""))

    def get_outcome(self, key: str) -> dict | None:
        """The recorded outcome of the job whose first request has ``key`` (a JSON dict), or None."""
        rows = self._run("SELECT outcome FROM outcomes WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def put_outcome(self, key: str, backend: str, model: str, tag: str, outcome: dict,
                    replace_existing: bool = False) -> None:
        """Store a job's ``outcome``; the first writer wins unless ``replace_existing``."""
        verb = "INSERT OR REPLACE" if replace_existing else "INSERT OR IGNORE"
        self._run(f"{verb} INTO outcomes VALUES (?, ?, ?, ?, ?, ?)",
                  (key, backend, model, tag, json.dumps(outcome, sort_keys=True), time.time()))

    def put_site(self, site: str, backend: str, model: str, key: str, messages: str, replace_existing: bool = False) -> None:
        """Store where a decision came from: its ``site`` key, its first request's ``key`` and
        ``messages`` (JSON); the first writer wins unless ``replace_existing``."""
        verb = "INSERT OR REPLACE" if replace_existing else "INSERT OR IGNORE"
        self._run(f"{verb} INTO sites VALUES (?, ?, ?, ?, ?)", (site, backend, model, key, messages))

    def get_sites(self, sites: list[str]) -> dict[str, tuple[str, str, dict | None]]:
        """For each recorded one of ``sites``: (first request's key, messages JSON, the decision's
        outcome or None), in one query per 500 sites (a stage asks hundreds at once)."""
        found = {}
        for start in range(0, len(sites), 500):
            chunk = sites[start:start + 500]
            found.update((site, (key, messages, None if outcome is None else json.loads(outcome))) for site, key, messages, outcome in self._run(
                "SELECT s.site, s.key, s.messages, o.outcome FROM sites s LEFT JOIN outcomes o ON o.key = s.key"
                f" WHERE s.site IN ({', '.join('?' * len(chunk))})", tuple(chunk)))
        return found

    def has_outcomes(self, backend: str, model: str) -> bool:
        """Whether any job outcome was recorded for (backend, model); caches written before
        outcomes were recorded have none, and replay then answers call by call."""
        return bool(self._run("SELECT 1 FROM outcomes WHERE backend = ? AND model = ? LIMIT 1", (backend, model)))

    def __len__(self) -> int:
        return self._run("SELECT COUNT(*) FROM responses")[0][0]

    def identities(self) -> list[tuple[str, str]]:
        """The (backend, model) pairs that have recorded answers or decisions (a recording whose
        every call timed out has decisions but no answers)."""
        return self._run("SELECT backend, model FROM responses UNION SELECT backend, model FROM outcomes ORDER BY 1, 2")

    def close(self) -> None:
        """Close every connection this object opened (in any thread of this process)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = _Process()


class CachedClient:
    """An ``LLMClient`` that answers from ``cache`` and/or ``inner``, by ``mode``:

    - "record": always ask ``inner`` and store the answer (replacing an older one);
    - "replay": answer only from the cache; a miss raises ``CacheMiss`` naming the request's tag;
    - "replay-or-record": answer from the cache, ask ``inner`` on a miss and store the answer.

    This replays single calls; exact replay of whole decisions (timeouts and fallbacks included)
    is ``llm/recorded.py``, which keeps each decision's outcome in the same file.
    Hits come back with ``cached=True`` and the recorded latency, so a replayed run sees the same
    results as the recorded one. In "replay" mode ``inner`` is never called and may be None; then
    ``backend`` and ``model`` name whose recordings to replay.
    """

    def __init__(self, inner: LLMClient | None, cache: ResponseCache, mode: str = "replay-or-record",
                 backend: str | None = None, model: str | None = None):
        if mode not in MODES:
            raise ValueError(f"cache mode must be one of {', '.join(MODES)}, got {mode!r}")
        if inner is None and mode != "replay":
            raise ValueError(f"cache mode {mode!r} needs a backend to call; only 'replay' works without one")
        self.inner, self.cache, self.mode = inner, cache, mode
        self.backend = backend or getattr(inner, "backend", None) or "replay"
        self.model = model or getattr(inner, "model", None) or "unknown"
        self.name = getattr(inner, "name", None) or f"{self.backend}:{self.model}"
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        # Whether recorded decisions may be found by their site (llm/recorded.py); off for the
        # rest of the run once one did not match this run's prompt.
        self.sites_trusted = True

    def check(self) -> None:
        """Check ``inner``; in pure replay, check that the cache has recordings of this model."""
        if self.inner is not None:
            self.inner.check()
        elif (self.backend, self.model) not in self.cache.identities():
            raise LLMUnavailable(f"the cache {self.cache.path} has no answers recorded by {self.name}: "
                                 "record a run first, or replay the model it was recorded with", transient=False)

    def key(self, request: ChatRequest) -> str:
        """The cache key of ``request`` for this client's backend and model."""
        return cache_key(self.backend, self.model, request)

    def chat(self, request: ChatRequest) -> ChatResult:
        """Answer ``request`` per the mode (see the class docstring)."""
        key = cache_key(self.backend, self.model, request)
        if self.mode != "record":
            row = self.cache.get(key)
            self._count(hit=row is not None)
            if row is not None:
                return ChatResult(text=row["text"], prompt_tokens=row["prompt_tokens"],
                                  completion_tokens=row["completion_tokens"], latency_s=row["latency_s"],
                                  model=row["model"], backend=row["backend"], cached=True,
                                  tool_calls=row["tool_calls"], **row["extra"])
            if self.mode == "replay":
                raise CacheMiss(f"no recorded answer for {request.tag or 'an untagged request'} from {self.name} "
                                f"in {self.cache.path}: record it first (cache mode 'replay-or-record')")
        result = check_answer_size(self.inner.chat(request), self.name)  # an oversize answer is never stored
        self.cache.put(key, request, result, replace_existing=self.mode == "record")
        return replace(result, cached=False)

    def _count(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1
