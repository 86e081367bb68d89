"""Send many chat requests at once: bounded concurrency, timeouts, retries, parsing, input order.

One stage of a week asks every resident at the same time. ``Dispatcher.run`` takes the jobs
(client, request, parse), runs at most ``max_concurrency`` calls at a time and returns one
``Outcome`` per job in input order. It never raises for a job: a job that still fails after its
retries comes back with ``value=None`` and an ``error``, and the caller falls back to its
rule-based decision.

Every failed attempt is counted by kind (``fault_kind``: unreachable, timeout, http_429,
http_5xx, invalid_json, invalid_answer, ...) in the outcome and in the stats, so a run can say
what went wrong and how often. A circuit breaker stops calling a server that keeps failing:
after ``breaker_after`` transient failures in a row, jobs fail at once ("skipped") for
``breaker_s`` seconds, then calls are tried again; one answer closes it. Without it a hung
server would cost every job its timeouts and retries, and timed-out calls would hold every slot.

A job may carry a toolbox, ``(client, request, parse, toolbox)``: its model then calls tools for
up to ``max_rounds`` - 1 rounds before it answers (llm/tools.py), and the outcome's ``tool_use``
says what the rounds did. Tool effects happen once: the retries are of the answer alone, with
the tools off, after the rounds' conversation, so a rejected answer never repeats a notebook
edit. A round whose call fails (timeout, server error) closes the tools; the answer is then
asked for as usual, with its retries.

``ahead(jobs)`` starts jobs whose ``run`` comes later (while the caller waits for other answers,
so the server is not left idle): a later ``run`` of a job with the same client and an equal
request takes its outcome instead of calling again; jobs never run are dropped with
``Ahead.drop``. An equal request gets an answer as good as a fresh call's (a fixed seed gives the
same), so starting early changes nothing but when the calls are made.

Every other ``run`` of several jobs is sent last job first (``alternate``; outcomes still come back
in input order). A stage asks every resident, and the next stage or round asks them again with the
same start of the prompt (persona, notebook); a server's prefix cache too small to hold every
resident's prefix evicts the least recently used, so runs sent in one order would each find the
prefix they need just evicted, while a run in reverse starts with the prefixes the last one left
(benchmarks/README.md, "Cutting the predicted hours"). Only the order of sending changes: the same
requests, the same answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from agentopia_mesa.llm.client import (
    CacheMiss, ChatRequest, ChatResult, LLMClient, LLMError, LLMOversize, LLMTimeout, LLMUnavailable,
    check_answer_size,
)
from agentopia_mesa.llm.daemon_calls import DaemonCalls
from agentopia_mesa.llm.disk_full import DiskFull
from agentopia_mesa.llm.tools import DEFAULT_ROUNDS, Toolbox, ToolRounds, ToolUse

T = TypeVar("T")
#: (client, request, parse), or (client, request, parse, toolbox) for a job whose model may call tools.
Job = tuple[LLMClient, ChatRequest, Callable[[str], T]] | tuple[LLMClient, ChatRequest, Callable[[str], T], Toolbox]


def job_parts(job: Job) -> tuple[LLMClient, ChatRequest, Callable[[str], T], Toolbox | None]:
    """(client, request, parse, toolbox or None) of either form of ``job``."""
    client, request, parse, *toolbox = job
    return client, request, parse, (toolbox[0] if toolbox else None)

log = logging.getLogger(__name__)

CORRECTION = "Your answer was not accepted: {error}. Answer again with JSON only, following the schema exactly."
#: The retry after an answer cut at its token budget: the same request would be cut again.
SHORTER = ("Your answer was cut off: it reached the limit of {max_tokens} tokens before its JSON ended. "
           "Answer again, shorter: keep every text well under its length limit{thinking}, and give the JSON only.")


@dataclass(frozen=True)
class Repaired(Generic[T]):
    """What a parser returns for an answer it had to repair to accept: the ``value``, and how many
    free texts it ``trimmed`` to their length limits (counted, not a failed attempt)."""

    value: T
    trimmed: int


def unwrapped(value) -> tuple[object, int]:
    """(the parsed value, texts trimmed) of what a parser returned (``Repaired`` or a plain value)."""
    return (value.value, value.trimmed) if isinstance(value, Repaired) else (value, 0)


@dataclass
class Outcome(Generic[T]):
    """What became of one job: the parsed ``value`` (None on failure), the last ``ChatResult``,
    the number of ``attempts``, the last ``error`` (None on success), every attempt's raw text
    and the failed attempts by kind (``faults``, see ``fault_kind``). For a job with a toolbox,
    ``tool_use`` is what its tool rounds did; ``attempts``, ``texts`` and ``result`` are those of
    the answer (an answer given on a tool round is its first attempt), the result's tokens and
    latency summed over the rounds."""

    value: T | None
    result: ChatResult | None
    attempts: int
    error: str | None = None
    texts: list[str] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)
    tool_use: ToolUse | None = None
    trimmed: int = 0  # free texts of the answer used that the parser cut to their limits (``Repaired``)

    @property
    def ok(self) -> bool:
        return self.error is None

    def trajectory(self, messages, decision, fallback: bool) -> dict:
        """What a trajectory line (``decisions.jsonl``) says of this job, in its order: the first
        request's ``messages`` (recorded ones stay encoded JSON text), the answer used, the
        ``decision`` made (JSON-able; the fallback's if ``fallback``), failed attempts, tokens."""
        result = self.result
        line = {
            "messages": messages if isinstance(messages, str) else list(messages),
            "response": self.texts[-1] if self.texts else None,
            "decision": decision,
            "fallback": fallback,
            "invalid_attempts": max(0, len(self.texts) - (0 if fallback else 1)),
            "error": self.error,
            "prompt_tokens": result.prompt_tokens if result else 0,
            "completion_tokens": result.completion_tokens if result else 0,
            "cached": bool(result and result.cached),
        }
        if self.trimmed:
            line["trimmed"] = self.trimmed
        if result is not None and result.reasoning:  # beside the answer; sent back only to its compaction
            line["reasoning"] = result.reasoning
        return line

    def count_into(self, stats) -> None:
        """Add this job's calls (tool rounds and retries included, calls the circuit breaker skipped
        not), retries, failed attempts and tokens to ``stats`` (a mind's or the environment's totals)."""
        rounds = self.tool_use.rounds if self.tool_use is not None else 0
        stats.calls += rounds + self.attempts - self.faults["skipped"]
        stats.retries += self.attempts - 1
        if self.faults:
            stats.faults.update(self.faults)
        if self.result is not None:
            stats.prompt_tokens += self.result.prompt_tokens
            stats.completion_tokens += self.result.completion_tokens

    def count_stage_into(self, stage: str, fallbacks: Counter, faults: dict[str, Counter], trimmed: Counter) -> None:
        """Add this job to its ``stage``'s counts: a fallback (no value), its failed attempts by
        kind and the texts its parser trimmed."""
        fallbacks[stage] += self.value is None
        if self.faults:
            faults.setdefault(stage, Counter()).update(self.faults)
        if self.trimmed:
            trimmed[stage] += self.trimmed


@dataclass
class DispatchStats:
    """Totals over every ``run``: backend ``calls`` (attempts), ``retries``, ``invalid`` answers
    (parse failures), ``failures`` (jobs with no value), ``cached`` hits, tokens, ``wall_s`` and
    failed attempts by kind (``faults``)."""

    jobs: int = 0
    calls: int = 0
    retries: int = 0
    invalid: int = 0
    failures: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0
    faults: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Progress:
    """Where one ``Dispatcher.run`` stands, for a progress display: the ``stage`` of its jobs (the
    first part of their tags, e.g. "plan"), jobs ``done`` of ``total``, ``elapsed_s`` since the
    run began and the completion tokens per second of the answers so far."""

    stage: str
    done: int
    total: int
    elapsed_s: float
    completion_tokens: int

    @property
    def pending(self) -> int:
        return self.total - self.done

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.elapsed_s if self.elapsed_s > 0 else 0.0


class ServerFailing(LLMUnavailable):
    """Not sent: the circuit breaker is open because the server kept failing."""

    transient = False


def fault_kind(error: BaseException) -> str:
    """The kind of one failed call, as run summaries count it: "skipped" (circuit open),
    "timeout", "cache_miss", "unreachable" (connection refused or dropped), "unavailable" (e.g. the
    model is not pulled), "http_429", "http_5xx", "http_4xx", "oversize" (an answer over ``MAX_ANSWER_CHARS``), "bad_response" (unreadable body),
    or "backend_error" (a bug in a backend). An answer that arrived but cannot be used is counted
    by ``_run_job``: "truncated" (cut at its token budget), or ``answer_fault``'s kind."""
    if isinstance(error, ServerFailing):
        return "skipped"
    if isinstance(error, LLMTimeout):
        return "timeout"
    if isinstance(error, LLMOversize):
        return "oversize"
    if isinstance(error, CacheMiss):
        return "cache_miss"
    if isinstance(error, LLMUnavailable):
        return "unreachable" if error.transient else "unavailable"
    status = getattr(error, "status", None)
    if status == 429:
        return "http_429"
    if status is not None:
        return "http_5xx" if status >= 500 else "http_4xx"
    return "bad_response" if isinstance(error, LLMError) else "backend_error"


def answer_fault(error: BaseException) -> str:
    """The kind of a rejected answer: the parser's ``error.fault`` ("invalid_json" for an answer
    that is not the decision's JSON, "invalid_answer" for one naming what does not exist), or
    "invalid_answer"."""
    return getattr(error, "fault", "invalid_answer")


def corrected(request: ChatRequest, text: str, error: Exception, attempt: int, truncated: bool = False) -> ChatRequest:
    """The retry of ``request`` after ``text`` was rejected with ``error``: the bad answer and a
    corrective user turn are appended (for an answer cut at its budget, ``truncated``: a request for
    a shorter one, ``SHORTER``), and the seed moves on by ``attempt`` (deterministic)."""
    seed = request.options.seed
    if truncated:
        thinking = " and your reasoning brief" if request.options.think else ""
        correction = SHORTER.format(max_tokens=request.options.max_tokens, thinking=thinking)
    else:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        correction = CORRECTION.format(error=reason)
    return replace(
        request,
        messages=(*request.messages, {"role": "assistant", "content": text}, {"role": "user", "content": correction}),
        options=replace(request.options, seed=None if seed is None else seed + attempt),
    )


#: Where calls run: daemon threads (a call hung on a dripping server cannot keep the process alive
#: after the run has given up on it and written its results), reused from call to call.
_CALLS = DaemonCalls("llm-call")
#: Where jobs started ahead (``Dispatcher.ahead``) run until a ``run`` takes their outcome.
_AHEAD = DaemonCalls("llm-ahead")


@dataclass(frozen=True)
class Ahead:
    """Jobs a dispatcher started ahead (``Dispatcher.ahead``), by their requests' tags."""

    dispatcher: Dispatcher
    tags: tuple[str, ...]

    def drop(self) -> None:
        """Forget those of these jobs no ``run`` took (their calls end on their own)."""
        self.dispatcher._forget(self.tags)


def _total(rounds: ToolRounds | None, result: ChatResult | None) -> ChatResult | None:
    return result if rounds is None or result is None else rounds.total(result)


def _use(rounds: ToolRounds | None) -> ToolUse | None:
    return None if rounds is None else rounds.use


class Dispatcher:
    """Run chat jobs concurrently (thread-safe; one instance may serve a whole simulation).

    ``max_concurrency``: calls in flight at once, over all runs, stragglers that timed out
    included (a timed-out call cannot be cancelled; it keeps its slot until it ends, so backends
    should have their own timeouts too); about twice the server's parallel slots keeps a call
    waiting in the server for each slot that frees (benchmarks/RESULTS.md: 0.98-0.99 of an 8-slot
    server's capacity with 16, 0.90-0.97 with 8). ``timeout_s``: per call, queueing in the server included. ``retries``: extra attempts per job after the first. ``backoff_s``:
    first wait before retrying a transient error (unreachable, timeout, HTTP 429/5xx), doubling
    each time; invalid answers are retried at once. ``corrective_retry``: show the model its
    rejected answer and the reason on the retry. ``breaker_after``: transient failures in a row
    that open the circuit breaker (0: never); keep it at most ``max_concurrency``, so a hung server
    opens it before its stragglers hold every slot. ``breaker_s``: how long it stays open.
    ``max_rounds``: the most calls of a job with a toolbox before its answer's retries, the answer's
    included (the tools are off on the last). ``alternate``: send every other run of several jobs
    last job first (module docstring).
    """

    def __init__(self, max_concurrency: int = 8, timeout_s: float = 60.0, retries: int = 2, backoff_s: float = 0.5,
                 corrective_retry: bool = True, breaker_after: int = 8, breaker_s: float = 30.0,
                 max_rounds: int = DEFAULT_ROUNDS, alternate: bool = True):
        if max_concurrency < 1 or retries < 0 or breaker_after < 0:
            raise ValueError("max_concurrency must be >= 1, retries and breaker_after >= 0")
        self.max_concurrency = max_concurrency
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.corrective_retry = corrective_retry
        self.breaker_after = breaker_after
        self.breaker_s = breaker_s
        self.max_rounds = max_rounds
        self.alternate = alternate
        self._reverse = True  # the last run of several jobs was sent in reverse (so the first goes forward)
        self.stats = DispatchStats()
        self._lock = threading.Lock()
        self._failures_in_a_row = 0
        self._open_until = 0.0  # time.monotonic() until which the breaker stays open
        # Shared by every run, so the bound holds across concurrent runs and timed-out stragglers.
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._ahead: dict[str, tuple[LLMClient, ChatRequest, Future]] = {}  # by tag: jobs started ahead

    #: Called with a ``Progress`` (in the caller's thread) when a run starts, as each job ends, and
    #: every ``progress_every_s`` while jobs are pending; None: no reports. It must not raise.
    on_progress: Callable[[Progress], None] | None = None
    progress_every_s: float = 1.0

    def run(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Run ``jobs`` and return their outcomes in input order."""
        if not jobs:
            return []
        start = time.perf_counter()
        with ThreadPoolExecutor(min(self.max_concurrency, len(jobs)), thread_name_prefix="llm-job") as pool:
            futures: list = [None] * len(jobs)
            for i in self._sending_order(len(jobs)):
                futures[i] = self._started(jobs[i]) or self._submit(pool, jobs[i])
            if self.on_progress is not None:
                self._report(jobs, futures, start)
            outcomes = self._outcomes(futures)
        with self._lock:
            self.stats.jobs += len(jobs)
            self.stats.wall_s += time.perf_counter() - start
        return outcomes

    def _sending_order(self, n: int) -> Sequence[int]:
        """The order in which a run of ``n`` jobs is sent: every other run of several jobs in
        reverse (module docstring), when ``alternate`` is set."""
        if n < 2 or not self.alternate:
            return range(n)
        with self._lock:
            self._reverse = reverse = not self._reverse
        return range(n - 1, -1, -1) if reverse else range(n)

    def _submit(self, pool: ThreadPoolExecutor, job: Job) -> Future:
        """Start ``job`` on ``pool``."""
        return pool.submit(self._run_job, *job_parts(job))

    def _outcomes(self, futures: list[Future]) -> list[Outcome]:
        """Wait for ``futures``, in order (where the caller's thread waits for a run's answers)."""
        return [f.result() for f in futures]

    def ahead(self, jobs: Sequence[Job]) -> Ahead:
        """Start ``jobs`` now, for a later ``run`` to take their outcomes (module docstring); jobs
        with a toolbox are not started (a tool's effects must happen when the job is run)."""
        tags = []
        for job in jobs:
            client, request, parse, toolbox = job_parts(job)
            if toolbox is not None or not request.tag:
                continue
            future = self._submit(_AHEAD, (client, request, parse))
            with self._lock:
                self._ahead[request.tag] = (client, request, future)
            tags.append(request.tag)
        return Ahead(self, tuple(tags))

    def _started(self, job: Job) -> Future | None:
        """The future of ``job`` started ahead with the same client and an equal request, or None."""
        client, request, _, toolbox = job_parts(job)
        with self._lock:
            found = self._ahead.pop(request.tag, None) if toolbox is None else None
        if found is None or found[0] is not client or found[1] != request:
            return None
        return found[2]

    def _forget(self, tags: Sequence[str]) -> None:
        with self._lock:
            for tag in tags:
                self._ahead.pop(tag, None)

    def _report(self, jobs: Sequence[Job], futures: list, start: float) -> None:
        """Report progress until every job of ``futures`` has ended (see ``on_progress``)."""
        stage = (jobs[0][1].tag or "calls").split("/", 1)[0]
        pending, tokens = set(futures), 0
        while True:
            report = Progress(stage, len(futures) - len(pending), len(futures), time.perf_counter() - start, tokens)
            self.on_progress(report)
            if not pending:
                return
            finished, pending = wait(pending, timeout=self.progress_every_s, return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result().result
                tokens += result.completion_tokens if result is not None else 0

    def _run_job(self, client: LLMClient, request: ChatRequest, parse: Callable[[str], T],
                 toolbox: Toolbox | None = None) -> Outcome[T]:
        faults, rounds, answer = Counter(), None, None
        if toolbox is not None:
            rounds, answer = self._tool_rounds(client, request, toolbox, faults)
            request = rounds.answer_request()  # the retries go on from the rounds' conversation
        attempt, current, texts, result, error = 0, request, [], None, None
        while attempt <= self.retries:
            attempt += 1
            if attempt > 1:
                self._add(retries=1)
            try:
                result, answer = answer or self._call(client, current), None
            except LLMError as exc:
                error = f"{type(exc).__name__}: {exc}"
                faults[fault_kind(exc)] += 1
                if exc.transient:
                    self._note_failure()
                if not exc.transient or self._breaker_open():
                    break
                if attempt <= self.retries:
                    time.sleep(self.backoff_s * 2 ** (attempt - 1))
                continue
            except DiskFull:  # not the model's fault: the run stops, resumable (llm/disk_full.py)
                raise
            except Exception as exc:  # a bug in a backend: retrying will not help
                error = f"{type(exc).__name__}: {exc}"
                faults[fault_kind(exc)] += 1
                break
            self._note_answer()
            texts.append(result.text)
            try:
                value, trimmed = unwrapped(parse(result.text))
            except Exception as exc:
                if result.truncated:  # cut at its budget: a fault of its own, and a shorter answer asked for
                    error = (f"truncated: the answer reached its budget of {current.options.max_tokens} tokens "
                             f"before it ended ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
                    faults["truncated"] += 1
                else:
                    error = f"invalid answer: {exc}"
                    faults[answer_fault(exc)] += 1
                self._add(invalid=1)
                if self.corrective_retry:
                    current = corrected(request, result.text, exc, attempt, truncated=result.truncated)
                elif request.options.seed is not None:  # the same request would give the same answer
                    current = replace(request, options=replace(request.options, seed=request.options.seed + attempt))
                continue
            self._add_faults(faults)
            return Outcome(value, _total(rounds, result), attempt, None, texts, faults, _use(rounds), trimmed)
        self._add(failures=1)
        self._add_faults(faults)
        log.info("LLM job %s failed after %d attempts: %s", request.tag, attempt, error)
        return Outcome(None, _total(rounds, result), attempt, error, texts, faults, _use(rounds))

    def rounds_for(self, toolbox: Toolbox | None) -> int:
        """The bound on a job's calls: the toolbox's own ``max_rounds`` if it has one, else ours."""
        return getattr(toolbox, "max_rounds", None) or self.max_rounds

    def _tool_rounds(self, client: LLMClient, request: ChatRequest, toolbox: Toolbox,
                     faults: Counter) -> tuple[ToolRounds, ChatResult | None]:
        """Run the tool rounds of a job: the rounds, and the answer if the model gave one on a
        tool round (None: ask for it with the tools off). A failed call closes the tools."""
        rounds = ToolRounds(request, toolbox, self.rounds_for(toolbox))
        while (offered := rounds.offer()) is not None:
            try:
                result = self._call(client, offered)
            except DiskFull:
                raise
            except Exception as exc:  # noqa: BLE001 - counted; the answer's attempts report the job's error
                faults[fault_kind(exc)] += 1
                if isinstance(exc, LLMError) and exc.transient:
                    self._note_failure()
                rounds.failed()
                return rounds, None
            self._note_answer()
            if not rounds.take(result):
                return rounds, result
        return rounds, None

    def _call(self, client: LLMClient, request: ChatRequest) -> ChatResult:
        # Wait for a slot, but give up as soon as the breaker opens: the slots may all be held by
        # calls to a hung server that will not end before their HTTP timeout.
        self._refuse_if_open()
        while not self._slots.acquire(timeout=0.05):
            self._refuse_if_open()
        try:
            future = _CALLS.submit(client.chat, request)
        except BaseException:
            self._slots.release()
            raise
        # The slot is freed when the call really ends, even after we stopped waiting for it.
        future.add_done_callback(lambda _: self._slots.release())
        self._add(calls=1)
        try:
            result = future.result(timeout=self.timeout_s)
        except FutureTimeout:
            raise LLMTimeout(f"{getattr(client, 'name', 'the LLM')} gave no answer within {self.timeout_s:g} s "
                             f"({request.tag or 'untagged'})") from None
        check_answer_size(result, getattr(client, "name", "the LLM"))
        self._add(cached=int(result.cached), prompt_tokens=result.prompt_tokens,
                  completion_tokens=result.completion_tokens)
        return result

    def _breaker_open(self) -> bool:
        return time.monotonic() < self._open_until

    def _refuse_if_open(self) -> None:
        left = self._open_until - time.monotonic()
        if left > 0:
            raise ServerFailing(f"not sent: the last {self._failures_in_a_row} calls failed (unreachable, timed out "
                                f"or busy); calls are tried again in {left:.0f} s")

    def _note_failure(self) -> None:
        """A transient failure: open the breaker after ``breaker_after`` in a row (again at once
        if a try after the pause fails too)."""
        with self._lock:
            self._failures_in_a_row += 1
            if self.breaker_after and self._failures_in_a_row >= self.breaker_after:
                if not self._breaker_open():
                    log.warning("LLM server failing (%d failures in a row): calls paused for %g s",
                                self._failures_in_a_row, self.breaker_s)
                self._open_until = time.monotonic() + self.breaker_s

    def _note_answer(self) -> None:
        with self._lock:
            self._failures_in_a_row, self._open_until = 0, 0.0

    def _add_faults(self, faults: Counter) -> None:
        with self._lock:
            self.stats.faults.update(faults)

    def _add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self.stats, name, getattr(self.stats, name) + n)
