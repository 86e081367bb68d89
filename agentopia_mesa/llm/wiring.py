"""The LLM wiring: which client, cache and dispatcher serve which spec, built from a run's
``LLMSettings``; its one home, below the minds, the environment and the evaluation, which all use it.

- ``client_for(spec, settings)``: the spec's client on the settings' cache (checked, when asked);
- ``dispatcher_for(settings)``: the dispatcher all of a run's clients share (its concurrency
  resolved, its timeout measured for the embedded model);
- ``resolved_concurrency(settings)``: ``--max-concurrency auto`` as a number.
"""

from __future__ import annotations

from dataclasses import replace

from agentopia_mesa.llm.concurrency import AUTO, FALLBACK, auto_concurrency
from agentopia_mesa.llm.settings import RULES, LLMSettings


def _is_http(spec: str) -> bool:
    return spec.split(":", 1)[0] in ("ollama", "openai")


def client_for(spec: str, settings: LLMSettings):
    """The client of ``spec`` on the settings' cache, asked whether it can serve if ``settings.check``."""
    from agentopia_mesa.llm.factory import make_client

    # HTTP backends stop waiting when the dispatcher does, so a hung server's calls end too.
    client = make_client(spec, cache_path=settings.cache, cache_mode=settings.cache_mode,
                         **({"timeout_s": settings.timeout_s} if _is_http(spec) else {}))
    if settings.check:
        client.check()
    return client


#: Spec kinds with a server whose parallel slots ``--max-concurrency auto`` follows (fake and
#: replay answer at once, in this process).
SERVED = ("embedded", "ollama", "openai")
#: Seconds to wait for a server's answer about its slots.
SLOTS_TIMEOUT_S = 10.0


def resolved_concurrency(settings: LLMSettings) -> LLMSettings:
    """``settings`` with ``max_concurrency`` "auto" replaced by a number: twice the parallel slots
    of every server its specs call, or 8 where one does not say (llm/concurrency.py). A run
    records the number in its config.json, so a resumed run keeps it. Runs that call no server
    (rules, fake, pure replay) get 8."""
    if settings.max_concurrency != AUTO:
        return settings
    if not settings.uses_llm or settings.cache_mode == "replay":
        return replace(settings, max_concurrency=FALLBACK)
    from agentopia_mesa.llm.factory import make_backend

    specs = [entry.spec for entry in settings.mix] + list(settings.assign.values()) + [settings.env_spec or RULES]
    served = sorted({spec.strip() for spec in specs if spec.strip().split(":", 1)[0] in SERVED})
    backends = [make_backend(spec, **({"timeout_s": min(SLOTS_TIMEOUT_S, settings.timeout_s)} if _is_http(spec) else {}))
                for spec in served]
    return replace(settings, max_concurrency=auto_concurrency(backends) if backends else FALLBACK)


def dispatcher_for(settings: LLMSettings):
    """The dispatcher of the settings' clients: concurrency resolved, retries, and the timeout
    (for the embedded model, from its measured speed)."""
    from agentopia_mesa.llm.dispatcher import Dispatcher
    from agentopia_mesa.llm.timeouts import dispatch_timeout

    settings = resolved_concurrency(settings)
    return Dispatcher(max_concurrency=settings.max_concurrency, timeout_s=dispatch_timeout(settings),
                      retries=settings.retries)
