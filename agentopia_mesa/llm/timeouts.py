"""The embedded backend's timeout from its measured speed, not a fixed number of seconds.

The embedded model runs on this machine's CPU, whose speed varies tenfold with the load (other
processes, other runs). A call's time also includes waiting for the calls before it: the
dispatcher keeps up to ``max_concurrency`` calls in flight, and llama.cpp decodes ``n_parallel``
of them at a time. So before a run two short calls (the first warms the model up) measure
tokens per second, and

    timeout = max(floor, SAFETY * queue * EXPECTED_TOKENS / tokens_per_second)

with ``queue = ceil(max_concurrency / n_parallel)``, ``EXPECTED_TOKENS`` a typical answer's length
(budgets, llm/budgets.py, are room for the largest answer, which the 270M model never writes:
its answers average well under 256 tokens), ``SAFETY`` = 2, and ``floor``
the ``--llm-timeout`` (default 120 s): a fast machine keeps the usual timeout, a loaded one gets a
longer one instead of timing out and falling back to rules. Measured on a loaded 2-core machine
(load average 6): 6 tokens/s, so 2 x 8 x 256 / 6 = 683 s instead of 120 s. Other backends
(servers) keep the fixed ``--llm-timeout``, so a hung server still fails fast.
"""

from __future__ import annotations

import logging
import math

from agentopia_mesa.llm.client import ChatOptions, ChatRequest, LLMError

log = logging.getLogger(__name__)

EXPECTED_TOKENS = 256
SAFETY = 2.0
WARMUP_TOKENS = 32
_WARMUP = ChatRequest(
    messages=({"role": "system", "content": "You are a resident of a small town. Answer in JSON. " * 20},
              {"role": "user", "content": "Describe your plans for this week in a few words."}),
    schema={"type": "object", "properties": {"plan": {"type": "string", "maxLength": 200}}, "required": ["plan"]},
    options=ChatOptions(temperature=0.0, seed=0, max_tokens=WARMUP_TOKENS),
    tag="warm-up",
)


def tokens_per_second(client, calls: int = 2) -> float | None:
    """Completion tokens per second of ``client``: the fastest of ``calls`` short calls (the first
    one warms the model up: measured 25 s cold against 5 s warm on a loaded 2-core machine). The
    prompt's processing is included, so it errs on the slow side. None if the calls failed."""
    speeds = []
    for _ in range(calls):
        try:
            result = client.chat(_WARMUP)
        except LLMError as exc:
            log.info("warm-up call failed (%s): keeping the fixed timeout", exc)
            return None
        if result.latency_s > 0 and result.completion_tokens > 0:
            speeds.append(result.completion_tokens / result.latency_s)
    return max(speeds, default=None)


def timeout_for(tokens_per_s: float | None, floor_s: float, max_concurrency: int = 8, n_parallel: int = 1,
                expected_tokens: int = EXPECTED_TOKENS, safety: float = SAFETY) -> float:
    """The timeout in seconds for a backend measured at ``tokens_per_s`` (the module docstring)."""
    if not tokens_per_s:
        return floor_s
    queue = math.ceil(max_concurrency / max(1, n_parallel))
    return max(floor_s, safety * queue * expected_tokens / tokens_per_s)


def dispatch_timeout(settings) -> float:
    """The dispatcher's timeout for ``settings`` (``LLMSettings``): ``settings.timeout_s``, or
    for societies with embedded minds that call the model, the measured one."""
    specs = [entry.spec for entry in settings.mix] + list(settings.assign.values())
    if settings.cache_mode == "replay" or not any(spec.strip() == "embedded" for spec in specs):
        return settings.timeout_s
    from agentopia_mesa.llm.factory import make_backend

    backend = make_backend("embedded")  # the loaded model is shared per process: no second copy
    speed = tokens_per_second(backend)
    timeout = timeout_for(speed, settings.timeout_s, settings.max_concurrency, backend.params["n_parallel"])
    log.info("embedded backend: %s tokens/s in the warm-up; LLM timeout %.0f s",
             "?" if speed is None else f"{speed:.1f}", timeout)
    return timeout
