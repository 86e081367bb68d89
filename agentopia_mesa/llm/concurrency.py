"""``--max-concurrency auto``: as many calls in flight as keep the server's slots busy.

A server decodes a fixed number of sequences at once (its **slots**: llama.cpp's ``--parallel``,
``OLLAMA_NUM_PARALLEL``, vLLM's ``--max-num-seqs``). With exactly that many calls in flight each
slot idles for our turnaround between its calls; with about twice as many, the next call already
waits in the server's queue when a slot frees (benchmarks/RESULTS.md: 0.98-1.00 of an 8-slot
server's capacity with 16 in flight, 0.90-0.97 with 8). So ``auto`` is ``QUEUE_FACTOR`` x the
slots of every server the run calls, added up (one dispatcher bounds all of them).

Each backend says what it knows in ``slots()`` (a ``Slots``):

- embedded: its own ``n_parallel``;
- an OpenAI-compatible server: llama.cpp's server reports ``total_slots`` at ``GET /props``;
  vLLM does not report ``max_num_seqs`` (its ``/metrics`` carry the cache's configuration, not
  the scheduler's), nor do LM Studio's;
- Ollama: its API does not report ``OLLAMA_NUM_PARALLEL``; for a server on this machine the
  variable is read from our own environment (set it where both run); otherwise it is unknown.

When any server's slots are unknown, ``FALLBACK`` (8) is used and one warning says why and
what to pass instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

AUTO = "auto"
#: Calls in flight when the slots are unknown (the default before ``auto``).
FALLBACK = 8
#: Calls in flight per slot: one decoding, one waiting in the server's queue.
QUEUE_FACTOR = 2
#: The most calls in flight ``auto`` chooses (``--max-concurrency``'s own bound).
MOST = 1024


@dataclass(frozen=True)
class Slots:
    """What a backend knows of its server's parallel slots: ``count`` (None: not reported) and
    ``source``, where the count came from or why there is none (one clause, for the log)."""

    count: int | None
    source: str


def is_local(url: str) -> bool:
    """Whether ``url``'s host is this machine (a loopback name or address)."""
    host = (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def slots_of(client) -> Slots:
    """``client.slots()``, or unknown for a client without one (a fake or custom backend)."""
    slots = getattr(client, "slots", None)
    if slots is None:
        return Slots(None, f"{getattr(client, 'name', type(client).__name__)} does not say how many calls it serves at once")
    return slots()


def auto_concurrency(clients: Iterable) -> int:
    """Calls in flight for a run that calls ``clients``: ``QUEUE_FACTOR`` x their servers' slots
    added up (at most ``MOST``), or ``FALLBACK`` with a warning if any server's are unknown.
    Clients are counted once each (by identity); no clients: ``FALLBACK``."""
    unique = list({id(c): c for c in clients}.values())
    if not unique:
        return FALLBACK
    found = [(client, slots_of(client)) for client in unique]
    unknown = [slots for _, slots in found if slots.count is None]
    if unknown:
        log.warning("--max-concurrency auto: %s; using %d calls in flight (pass --max-concurrency N, about "
                    "twice the server's parallel slots)", unknown[0].source, FALLBACK)
        return FALLBACK
    total = sum(slots.count for _, slots in found)
    chosen = max(1, min(MOST, QUEUE_FACTOR * total))
    log.info("--max-concurrency auto: %d calls in flight (%s)", chosen,
             "; ".join(f"{getattr(c, 'name', c)}: {s.source}" for c, s in found))
    return chosen
