"""Exact replay: record what became of every decision, and replay that, not the raw answers.

A job (one decision) may take several calls: a timeout, a retry, an invalid answer and a
corrected one, or a fallback to the rule mind after every attempt failed. The response cache
alone cannot replay that: a call that timed out left no answer the run used, yet the answer may
arrive later and be stored under its key, and a replay would then use it. So for jobs whose
client is a ``CachedClient``, ``dispatch_recorded`` also stores each job's ``Outcome`` (the answer
used, every attempt's text, the error, the faults) under the key of the job's first request, and:

- "record": runs every job and stores (replaces) its outcome;
- "replay-or-record": replays the recorded outcomes, runs and stores the others;
- "replay": replays the recorded outcomes; a job without one is a ``ReplayMiss`` naming the call
  (stage/resident/time), which ends the run with an error instead of falling back to the rules.
  Caches recorded before outcomes existed (no outcome of this model at all) are replayed call by
  call from the responses, and a missing response is a ``ReplayMiss`` too.

A replayed job gets the recorded attempts, texts, error and faults, a result marked ``cached``,
and its value parsed again from the answer used; a recorded failure comes back as a failure, so
the caller falls back to its rule-based decision exactly as the recorded run did.

A job with a toolbox (llm/tools.py) is keyed by its first call, the one that offers the tools,
and its record keeps its ``tool_use``. Replaying it applies the recorded calls to the job's
toolbox again, in order, so their effects (notebook edits) happen as they did, with no model
call; each call must give the recorded result, else the toolbox did not start where the
recorded one did and the replay stops with a ``ReplayDiverged`` naming the call.

Finding a decision by its request's key means rendering the prompt and the schema first, which
is most of what a replayed decision costs. ``dispatch_sited`` finds it by its **site** instead
(``Site``: the call's tag, options and how many calls of that tag came before it), known before
anything is rendered, and takes the messages for the run's files from the recording. The
verification is lazy: per client and batch, the first decision found by its site is rendered
and its request's key must be the one recorded; if not (another world, settings or version),
the client's sites are ignored for the rest of the run and every decision is found by its key,
as before. Recording stores each decision's site beside its outcome.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from agentopia_mesa.llm.cache import CachedClient
from agentopia_mesa.llm.client import CacheMiss, ChatOptions, ChatRequest, ChatResult, LLMClient
from agentopia_mesa.llm.dispatcher import Dispatcher, Job, Outcome, job_parts, unwrapped
from agentopia_mesa.llm.tools import Toolbox, ToolUse, first_request

T = TypeVar("T")
log = logging.getLogger(__name__)


class ReplayMiss(CacheMiss):
    """Replay mode met a decision that was never recorded: the replay cannot be exact."""


class ReplayDiverged(ReplayMiss):
    """A replayed tool call gave another result than when it was recorded: the replay is not exact."""


def outcome_record(outcome: Outcome) -> dict:
    """``outcome`` as JSON-able data (the parsed value is left out: it is parsed again on replay;
    ``tool_use`` only for a job with a toolbox, so other records stay as they were)."""
    record = {
        "result": None if outcome.result is None else outcome.result.record(),
        "attempts": outcome.attempts,
        "error": outcome.error,
        "texts": list(outcome.texts),
        "faults": dict(outcome.faults),
    }
    if outcome.tool_use is not None:
        record["tool_use"] = outcome.tool_use.record()
    return record


def _short(text: str, n: int = 80) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def reapplied(record: dict, toolbox: Toolbox, tag: str) -> ToolUse:
    """Apply the tool calls of ``record`` (a ``ToolUse.record()``) to ``toolbox`` again, in order;
    raise ``ReplayDiverged`` at the first whose result is not the recorded one."""
    use = ToolUse.from_record(record)
    for i, (call, recorded) in enumerate(zip(use.calls, use.results, strict=True), 1):
        result = toolbox.call(call)
        if result != recorded:
            raise ReplayDiverged(
                f"replay diverged: tool call {i} of {len(use.calls)} for {tag or 'an untagged call'} "
                f"({call.name} {call.arguments}) now gives {_short(result)}, but gave {_short(recorded)} when "
                "recorded; the toolbox (notebook) did not start as in the recorded run")
    return use


def replayed_outcome(record: dict, parse, toolbox: Toolbox | None = None, tag: str = "") -> Outcome:
    """The ``Outcome`` stored by ``outcome_record``, its value parsed again from the answer used and
    its tool calls applied to ``toolbox`` again (see ``reapplied``)."""
    result = None if record["result"] is None else ChatResult(**{**record["result"], "cached": True})
    tool_use = None
    if record.get("tool_use") is not None:
        if toolbox is None:
            raise ReplayMiss(f"replay miss: {tag or 'an untagged call'} was recorded with tool calls, "
                             "but the job has no toolbox to apply them to")
        tool_use = reapplied(record["tool_use"], toolbox, tag)
    value, trimmed = None, 0
    if record["error"] is None:
        value, trimmed = unwrapped(parse(record["texts"][-1]))
    return Outcome(value, result, record["attempts"], record["error"], list(record["texts"]),
                   Counter(record["faults"]), tool_use, trimmed)


def _miss(client: CachedClient, tag: str, why: str) -> ReplayMiss:
    return ReplayMiss(
        f"replay miss: {why} for {tag or 'an untagged call'} from {client.name} in {client.cache.path}; "
        "the recording was made with another --llm, seed, world or settings, or stopped before this call "
        "(--cache-mode replay-or-record records what is missing)")


def dispatch_recorded(dispatcher: Dispatcher, jobs: Sequence[Job]) -> list[Outcome]:
    """``dispatcher.run(jobs)``, with each job's outcome recorded or replayed per its client's
    cache mode (see the module docstring). Jobs whose client has no cache just run."""
    outcomes: list[Outcome | None] = [None] * len(jobs)
    keys: list[str | None] = [None] * len(jobs)
    for i, job in enumerate(jobs):
        client, request, parse, toolbox = job_parts(job)
        if not isinstance(client, CachedClient):
            continue
        keys[i] = client.key(first_request(request, toolbox, dispatcher.rounds_for(toolbox)))
        if client.mode == "record":
            continue
        record = client.cache.get_outcome(keys[i])
        if record is not None:
            outcomes[i] = replayed_outcome(record, parse, toolbox, request.tag)
        elif client.mode == "replay" and client.cache.has_outcomes(client.backend, client.model):
            raise _miss(client, request.tag, "no recorded decision")
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    for i, outcome in zip(todo, dispatcher.run([jobs[i] for i in todo]), strict=True):
        client, request, _, _ = job_parts(jobs[i])
        if keys[i] is not None:
            if client.mode == "replay":
                if outcome.faults["cache_miss"]:
                    raise _miss(client, request.tag, "no recorded answer")
            else:
                client.cache.put_outcome(keys[i], client.backend, client.model, request.tag,
                                         outcome_record(outcome), replace_existing=client.mode == "record")
        outcomes[i] = outcome
    return outcomes


# -- finding recorded decisions by their site -------------------------------------------------

@dataclass(frozen=True)
class Site:
    """Where a call comes from, known before its prompt is rendered: its ``tag``, its
    ``options`` (the per-call seed included) and ``occurrence``, the number of calls with the
    same tag its caller made before it (a week's contact rounds share one tag)."""

    tag: str
    options: ChatOptions
    occurrence: int

    def key(self, backend: str, model: str) -> str:
        """sha256 hex of (backend, model, tag, occurrence, every option), fields separated by NUL."""
        payload = "\0".join(map(str, (backend, model, self.tag, self.occurrence, *self.options.key_fields().values())))
        return hashlib.sha256(payload.encode()).hexdigest()


class SiteCounter:
    """Numbers a caller's calls per tag in the order it makes them. Tags carry the week, so only
    the current week's counts are kept; the counter is pickled with its caller (a mind, the
    environment), so a resumed run numbers its calls as the recorded run did."""

    def __init__(self) -> None:
        self.week_index: int | None = None
        self.counts: Counter = Counter()

    def site(self, tag: str, options: ChatOptions, week_index: int) -> Site:
        if week_index != self.week_index:
            self.week_index, self.counts = week_index, Counter()
        occurrence = self.counts[tag]
        self.counts[tag] += 1
        return Site(tag, options, occurrence)


SitedJob = tuple[LLMClient, Site, Callable[[], ChatRequest], Callable[[str], T], "Toolbox | None"]
"""(client, site, a function that renders the request, the answer's parser, the job's toolbox or None)."""


class EncodedJSON(str):
    """A value as the JSON text it was recorded as (a replayed decision's messages): decoding
    and encoding again for the run's decisions.jsonl would be most of a replayed decision's
    cost, so the trajectory recorder writes it as it is and others decode it (``decoded``)."""


def decoded(messages: tuple[dict, ...] | EncodedJSON) -> list[dict]:
    """Messages as a list of dicts, whether rendered or recorded (``EncodedJSON``)."""
    return json.loads(messages) if isinstance(messages, EncodedJSON) else list(messages)


def dispatch_sited(dispatcher: Dispatcher, jobs: Sequence[SitedJob]) -> list[tuple[tuple[dict, ...] | EncodedJSON, Outcome]]:
    """Each job's (messages, outcome): recorded decisions found by their site (module docstring),
    their messages as recorded (``EncodedJSON``), the others rendered and run through
    ``dispatch_recorded``, their sites recorded."""
    found: list[tuple[tuple[dict, ...] | EncodedJSON, Outcome] | None] = [None] * len(jobs)
    replaying = {id(client): client for client, *_ in jobs
                 if isinstance(client, CachedClient) and client.mode != "record" and client.sites_trusted}
    for client in replaying.values():
        mine = [i for i, job in enumerate(jobs) if job[0] is client]
        keys = {i: jobs[i][1].key(client.backend, client.model) for i in mine}
        recorded = client.cache.get_sites(list(keys.values()))
        hits = [i for i in mine if keys[i] in recorded and recorded[keys[i]][2] is not None]
        if hits and _first_key(dispatcher, jobs[hits[0]], jobs[hits[0]][2]()) != recorded[keys[hits[0]]][0]:  # the lazy check
            log.warning("replay: %s's recorded decisions do not match this run's prompts (another world, settings "
                        "or version); finding them by their prompts instead", client.name)
            client.sites_trusted = False
            continue
        for i in hits:
            _, messages, record = recorded[keys[i]]
            _, site, _, parse, toolbox = jobs[i]
            found[i] = EncodedJSON(messages), replayed_outcome(record, parse, toolbox, site.tag)
    todo = [i for i, hit in enumerate(found) if hit is None]
    requests = [jobs[i][2]() for i in todo]
    plain = []
    for i, request in zip(todo, requests, strict=True):
        client, _, _, parse, toolbox = jobs[i]
        plain.append((client, request, parse, toolbox) if toolbox is not None else (client, request, parse))
    outcomes = dispatch_recorded(dispatcher, plain)
    for i, request, outcome in zip(todo, requests, outcomes, strict=True):
        client, site = jobs[i][0], jobs[i][1]
        if isinstance(client, CachedClient) and client.mode != "replay":
            client.cache.put_site(site.key(client.backend, client.model), client.backend, client.model,
                                  _first_key(dispatcher, jobs[i], request),
                                  json.dumps(list(request.messages), ensure_ascii=False),
                                  replace_existing=client.mode == "record")
        found[i] = request.messages, outcome
    return found  # type: ignore[return-value]


def _first_key(dispatcher: Dispatcher, job: SitedJob, request: ChatRequest) -> str:
    """The key a job's outcome is recorded under: its first request's (tools offered included)."""
    client, _, _, _, toolbox = job
    return client.key(first_request(request, toolbox, dispatcher.rounds_for(toolbox)))

