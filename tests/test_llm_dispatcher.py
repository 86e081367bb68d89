"""The dispatcher: input order, the concurrency bound, retries, timeouts and graceful failure.

The fakes are real classes: our Ollama API server with fault injection, reached through the
real ``ollama`` client, and small backends defined here.
"""

import json
import logging
import threading
import time
from dataclasses import replace

import pytest
from llm_fixtures import decision_request, parse_decision
from llm_fixtures import fake_server  # noqa: F401 (fixtures)

from agentopia_mesa.llm import ChatRequest, Dispatcher, LLMBadResponse
from agentopia_mesa.llm import dispatcher as dispatcher_module
from agentopia_mesa.llm.client import MAX_ANSWER_CHARS, CacheMiss, LLMOversize, LLMTimeout, LLMUnavailable
from agentopia_mesa.llm.dispatcher import CORRECTION, ServerFailing, answer_fault, corrected, fault_kind
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.ollama_backend import OllamaBackend


def echo(request: ChatRequest) -> str:
    """A valid decision whose reason is the last user message, so answers can be matched to jobs."""
    return json.dumps({"action": "rest", "reason": request.messages[-1]["content"]})


def job_request(i: int) -> ChatRequest:
    base = decision_request(seed=i, tag=f"job {i}")
    return ChatRequest(messages=(*base.messages[:1], {"role": "user", "content": f"job {i}"}),
                       schema=base.schema, options=base.options, tag=base.tag)


WAIT_S = 30  # how long a synchronised call waits for the others: only reached when the code is wrong


class ReversedCompletion:
    """Job i of n answers only after job i + 1 has answered, so answers complete in exactly the
    reverse of the input order (synchronised by events, not by sleeps; it needs all n in flight)."""

    name = "reversed"

    def __init__(self, n: int):
        self.n, self.finished, self._lock = n, [], threading.Lock()
        self.answered = [threading.Event() for _ in range(n)]
        self.fake = FakeBackend(reply=echo)

    def chat(self, request):
        i = int(request.tag.split()[-1])
        if i + 1 < self.n and not self.answered[i + 1].wait(WAIT_S):
            raise RuntimeError(f"job {i + 1} never answered: the jobs did not run at once")
        result = self.fake.chat(request)
        with self._lock:
            self.finished.append(i)
        self.answered[i].set()
        return result


def all_in_flight(limit: int):
    """A reply that answers only when ``limit`` calls are in the backend at once (a barrier):
    proves the dispatcher fills its slots, whatever the machine's load."""
    barrier = threading.Barrier(limit)

    def reply(request):
        barrier.wait(WAIT_S)  # raises BrokenBarrierError if fewer than ``limit`` calls ever overlap
        return echo(request)

    return reply


class Scripted:
    """Answers with ``texts`` in turn (raising the ones that are exceptions); records each request."""

    name = "scripted"

    def __init__(self, *texts):
        self.texts, self.requests = list(texts), []

    def chat(self, request):
        self.requests.append(request)
        text = self.texts.pop(0)
        if isinstance(text, Exception):
            raise text
        if isinstance(text, float):  # a delay, then a valid answer
            time.sleep(text)
            text = echo(request)
        return FakeBackend(reply=lambda r: text).chat(request)


def test_results_come_back_in_input_order_whatever_the_completion_order():
    n = 12
    backend = ReversedCompletion(n)
    outcomes = Dispatcher(max_concurrency=n, retries=0).run([(backend, job_request(i), parse_decision) for i in range(n)])
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert backend.finished == list(reversed(range(n)))
    assert [o.value["reason"] for o in outcomes] == [f"job {i}" for i in range(n)]


def test_input_order_under_random_server_latency(fake_server):  # noqa: F811
    server = fake_server(FakeBackend(reply=echo), latency_s=0.005, jitter_s=0.05, seed=3)
    client = OllamaBackend("schema-example", server.url)
    outcomes = Dispatcher(max_concurrency=8).run([(client, job_request(i), parse_decision) for i in range(40)])
    assert [o.value["reason"] for o in outcomes] == [f"job {i}" for i in range(40)]
    assert all(o.ok and o.attempts == 1 for o in outcomes)


@pytest.mark.parametrize("limit", [1, 3, 8])
def test_concurrency_bound_is_respected(fake_server, limit):  # noqa: F811
    # No slot limit in the server: it would take them all at once. Each call waits until `limit`
    # calls are in flight together, so the bound is both reached and (max_in_flight) not exceeded.
    server = fake_server(FakeBackend(reply=all_in_flight(limit)))
    client = OllamaBackend("schema-example", server.url)
    outcomes = Dispatcher(max_concurrency=limit, retries=0).run([(client, job_request(i), parse_decision) for i in range(24)])
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert server.stats.calls == 24 and server.stats.max_in_flight == limit


@pytest.mark.parametrize("faults", [
    {"fail_first": 2, "fail_status": 500},
    {"fail_first": 2, "fail_status": 429},
    {"drop_first": 2},
    {"truncate_first": 2},
])
def test_retries_then_success(fake_server, faults):  # noqa: F811
    server = fake_server(**faults)
    client = OllamaBackend("schema-example", server.url)
    dispatcher = Dispatcher(retries=2, backoff_s=0.01)
    [outcome] = dispatcher.run([(client, decision_request(), parse_decision)])
    assert outcome.ok and outcome.attempts == 3 and outcome.error is None
    parse_decision(outcome.result.text)
    assert (dispatcher.stats.calls, dispatcher.stats.retries, dispatcher.stats.failures) == (3, 2, 0)
    if "truncate_first" in faults:
        assert len(outcome.texts) == 3 and dispatcher.stats.invalid == 2


def test_transient_errors_back_off_exponentially(fake_server):  # noqa: F811
    server = fake_server(fail_first=2, fail_status=503)
    start = time.perf_counter()
    [outcome] = Dispatcher(retries=2, backoff_s=0.1).run(
        [(OllamaBackend("schema-example", server.url), decision_request(), parse_decision)])
    assert outcome.ok and time.perf_counter() - start >= 0.1 + 0.2


def test_timeout_is_retried_and_the_straggler_keeps_its_slot():
    backend = Scripted(1.0, 0.0)  # the first call hangs for 1 s
    start = time.perf_counter()
    [outcome] = Dispatcher(max_concurrency=1, timeout_s=0.2, retries=1, backoff_s=0.0).run(
        [(backend, decision_request(), parse_decision)])
    elapsed = time.perf_counter() - start
    assert outcome.ok and outcome.attempts == 2
    assert elapsed >= 0.95  # the retry waited for the only slot, which the straggler held


def test_invalid_answer_is_retried_with_a_deterministic_correction():
    bad = '{"action": "sleep", "reason": "x"}'
    backend = Scripted(bad, '{"action": "rest", "reason": "ok"}')
    [outcome] = Dispatcher().run([(backend, decision_request(seed=5), parse_decision)])
    assert outcome.value == {"action": "rest", "reason": "ok"} and outcome.texts[0] == bad
    first, retry = backend.requests
    assert retry.messages[:-2] == first.messages
    assert retry.messages[-2] == {"role": "assistant", "content": bad}
    reason = f"action must be one of the enum, got {json.loads(bad)!r}"
    assert retry.messages[-1] == {"role": "user", "content": CORRECTION.format(error=reason)}
    assert retry.options.seed == 6 and retry.tag == first.tag


def test_final_failure_is_an_outcome_not_an_exception(fake_server):  # noqa: F811
    server = fake_server(FakeBackend(reply=echo))
    client = OllamaBackend("schema-example", server.url)

    def picky(text):
        value = parse_decision(text)
        if value["reason"] == "job 1":
            raise ValueError("job 1 is never right")
        return value

    dispatcher = Dispatcher(retries=2, corrective_retry=False)  # so the retries echo "job 1" again
    outcomes = dispatcher.run([(client, job_request(i), picky) for i in range(3)])
    assert [o.ok for o in outcomes] == [True, False, True]
    failed = outcomes[1]
    assert failed.value is None and failed.attempts == 3 and len(failed.texts) == 3
    assert failed.error == "invalid answer: job 1 is never right" and failed.result is not None
    assert dispatcher.stats.failures == 1 and dispatcher.stats.jobs == 3


def test_permanent_errors_are_not_retried(fake_server):  # noqa: F811
    server = fake_server()
    [missing] = Dispatcher(backoff_s=0.0).run([(OllamaBackend("qwen3:4b", server.url), decision_request(), parse_decision)])
    assert missing.attempts == 1 and "ollama pull qwen3:4b" in missing.error
    backend = Scripted(LLMBadResponse("HTTP 400: bad request"), KeyError("bug"))
    [bad, bug] = Dispatcher(backoff_s=0.0).run([(backend, decision_request(), parse_decision)] * 2)
    assert (bad.attempts, bug.attempts) == (1, 1)
    assert {bad.error, bug.error} == {"LLMBadResponse: HTTP 400: bad request", "KeyError: 'bug'"}


def test_stats_add_up_tokens_and_wall_time(fake_server):  # noqa: F811
    client = OllamaBackend("schema-example", fake_server().url)
    dispatcher = Dispatcher()
    outcomes = dispatcher.run([(client, job_request(i), parse_decision) for i in range(5)])
    stats = dispatcher.stats
    assert stats.jobs == stats.calls == 5 and stats.wall_s > 0
    assert stats.prompt_tokens == sum(o.result.prompt_tokens for o in outcomes) > 0
    assert stats.completion_tokens == sum(o.result.completion_tokens for o in outcomes) > 0
    assert Dispatcher().run([]) == []


def test_the_bound_holds_across_concurrent_runs(fake_server):  # noqa: F811
    server = fake_server(FakeBackend(reply=all_in_flight(3)))
    client = OllamaBackend("schema-example", server.url)
    dispatcher = Dispatcher(max_concurrency=3, retries=0)
    batches = [[(client, job_request(i), parse_decision) for i in range(12)] for _ in range(2)]
    outcomes = []
    runners = [threading.Thread(target=lambda b=batch: outcomes.extend(dispatcher.run(b))) for batch in batches]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert len(outcomes) == 24 and all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert server.stats.calls == 24 and server.stats.max_in_flight == 3


# -- what failed, counted by kind ------------------------------------------------------------

OK = '{"action": "rest", "reason": "ok"}'


@pytest.mark.parametrize(("error", "kind"), [
    (ServerFailing("paused"), "skipped"),
    (LLMTimeout("slow"), "timeout"),
    (LLMOversize("big"), "oversize"),
    (CacheMiss("not recorded"), "cache_miss"),
    (LLMUnavailable("refused"), "unreachable"),
    (LLMUnavailable("model not pulled", transient=False), "unavailable"),
    (LLMBadResponse("busy", status=429), "http_429"),
    (LLMBadResponse("down", status=500), "http_5xx"),
    (LLMBadResponse("down", status=503), "http_5xx"),
    (LLMBadResponse("odd", status=499), "http_4xx"),
    (LLMBadResponse("bad request", status=400), "http_4xx"),
    (LLMBadResponse("unreadable body"), "bad_response"),
    (KeyError("bug"), "backend_error"),
])
def test_fault_kinds(error, kind):
    assert fault_kind(error) == kind


class NotJSON(ValueError):
    fault = "invalid_json"  # as the minds' parse errors say what kind of rejection they are


def test_rejected_answers_are_counted_by_the_parsers_kind():
    assert answer_fault(NotJSON("x")) == "invalid_json"
    assert answer_fault(ValueError("x")) == "invalid_answer"


def test_the_correction_names_the_error_and_an_unseeded_request_stays_unseeded():
    request = decision_request(seed=5)
    retry = corrected(request, "bad", ValueError(), 2)  # no message: the error's type
    assert retry.messages[-1]["content"] == CORRECTION.format(error="ValueError") and retry.options.seed == 7
    retry = corrected(request, "bad", ValueError("first line\nsecond line"), 1)
    assert retry.messages[-1]["content"] == CORRECTION.format(error="first line")
    unseeded = replace(request, options=replace(request.options, seed=None))
    assert corrected(unseeded, "bad", ValueError("x"), 1).options.seed is None


def test_backoff_doubles_and_every_failed_attempt_of_a_job_that_succeeds_is_counted(monkeypatch):
    sleeps = []
    monkeypatch.setattr(dispatcher_module.time, "sleep", sleeps.append)  # the backoff waits, not taken
    backend = Scripted(LLMUnavailable("refused"), LLMUnavailable("refused"), LLMTimeout("slow"), OK)
    dispatcher = Dispatcher(retries=3, backoff_s=0.1)
    [outcome] = dispatcher.run([(backend, decision_request(), parse_decision)])
    assert outcome.ok and outcome.attempts == 4
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])
    assert outcome.faults == {"unreachable": 2, "timeout": 1}
    assert dispatcher.stats.faults == {"unreachable": 2, "timeout": 1} and dispatcher.stats.retries == 3


def test_a_backend_bug_is_one_counted_fault():
    dispatcher = Dispatcher()
    [outcome] = dispatcher.run([(Scripted(KeyError("bug")), decision_request(), parse_decision)])
    assert outcome.faults == {"backend_error": 1} and dispatcher.stats.faults == {"backend_error": 1}


def test_rejected_answers_are_counted_and_plain_retries_move_the_seed():
    def parse(text):
        if text == "nope":
            raise NotJSON("not JSON")
        return parse_decision(text)

    backend = Scripted("nope", "nope", OK)
    dispatcher = Dispatcher(retries=2, corrective_retry=False)
    [outcome] = dispatcher.run([(backend, decision_request(seed=5), parse)])
    assert outcome.ok and outcome.faults == {"invalid_json": 2} and dispatcher.stats.invalid == 2
    assert [r.options.seed for r in backend.requests] == [5, 6, 7]  # else the same answer would come back
    assert all(r.messages == backend.requests[0].messages for r in backend.requests)
    backend = Scripted("nope", OK)
    unseeded = replace(decision_request(), options=replace(decision_request().options, seed=None))
    [outcome] = Dispatcher(retries=1, corrective_retry=False).run([(backend, unseeded, parse)])
    assert outcome.ok and [r.options.seed for r in backend.requests] == [None, None]  # sent again as it was


def test_a_failed_job_is_logged_with_its_tag_attempts_and_error(caplog):
    with caplog.at_level(logging.INFO, logger="agentopia_mesa.llm.dispatcher"):
        Dispatcher().run([(Scripted(KeyError("bug")), decision_request(tag="plan/Ann"), parse_decision)])
    assert [r.getMessage() for r in caplog.records] == ["LLM job plan/Ann failed after 1 attempts: KeyError: 'bug'"]


class Nameless:
    """A backend without a ``name``: answers ``text`` after ``delay_s``."""

    def __init__(self, text: str = OK, delay_s: float = 0.0):
        self.text, self.delay_s = text, delay_s

    def chat(self, request):
        time.sleep(self.delay_s)
        return FakeBackend(reply=lambda r: self.text).chat(request)


def test_timeouts_and_oversize_answers_name_the_backend_and_the_request():
    dispatcher = Dispatcher(timeout_s=0.1, retries=0)
    [slow] = dispatcher.run([(Scripted(0.5), decision_request(tag="plan/Ann"), parse_decision)])
    assert slow.error == "LLMTimeout: scripted gave no answer within 0.1 s (plan/Ann)"
    [slow] = dispatcher.run([(Nameless(delay_s=0.5), decision_request(tag=""), parse_decision)])
    assert slow.error == "LLMTimeout: the LLM gave no answer within 0.1 s (untagged)"
    huge = "x" * (MAX_ANSWER_CHARS + 1)
    [big] = dispatcher.run([(Scripted(huge), decision_request(), parse_decision)])
    assert big.faults == {"oversize": 1}
    assert big.error == f"LLMOversize: scripted sent an answer of {len(huge)} characters; at most {MAX_ANSWER_CHARS} are accepted"
    [big] = dispatcher.run([(Nameless(huge), decision_request(), parse_decision)])
    assert big.faults == {"oversize": 1} and big.error.startswith("LLMOversize: the LLM sent an answer")


def test_stats_add_up_over_runs_and_count_cached_answers():
    class Cached:
        name = "cached"

        def chat(self, request):
            return replace(FakeBackend(reply=echo).chat(request), cached=True)

    dispatcher = Dispatcher()
    start = time.perf_counter()
    dispatcher.run([(Nameless(delay_s=0.3), decision_request(), parse_decision)])
    first = dispatcher.stats.wall_s
    dispatcher.run([(Cached(), job_request(i), parse_decision) for i in range(2)])
    elapsed = time.perf_counter() - start
    assert dispatcher.stats.jobs == 3 and dispatcher.stats.cached == 2
    assert 0.3 <= first < dispatcher.stats.wall_s <= elapsed


def test_calls_run_on_daemon_threads():
    # A call hung on a server must not keep the process alive at exit (see test_hardening).
    daemon = []

    class Recorder:
        name = "recorder"

        def chat(self, request):
            daemon.append(threading.current_thread().daemon)
            return FakeBackend(reply=echo).chat(request)

    Dispatcher().run([(Recorder(), job_request(i), parse_decision) for i in range(3)])
    assert daemon == [True] * 3


@pytest.mark.parametrize("bad", [{"max_concurrency": 0}, {"retries": -1}, {"breaker_after": -1}])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError, match=r"^max_concurrency must be >= 1, retries and breaker_after >= 0$"):
        Dispatcher(**bad)


def test_breaker_after_0_never_pauses_calls():
    backend = Scripted(*[LLMUnavailable("refused")] * 10)
    outcomes = Dispatcher(max_concurrency=1, retries=0, breaker_after=0).run([(backend, decision_request(), parse_decision)] * 10)
    assert len(backend.requests) == 10 and all(o.faults == {"unreachable": 1} for o in outcomes)


def test_an_answer_resets_the_count_of_failures_in_a_row():
    backend = Scripted(LLMUnavailable("refused"), OK, LLMUnavailable("refused"), OK)
    dispatcher = Dispatcher(max_concurrency=1, retries=0, breaker_after=2)
    outcomes = [dispatcher.run([(backend, decision_request(), parse_decision)])[0] for _ in range(4)]
    assert [o.ok for o in outcomes] == [False, True, False, True]  # never two failures in a row: never paused


def test_the_breaker_warns_once_when_it_opens(caplog):
    barrier = threading.Barrier(4)

    class DownTogether:
        name = "down"

        def chat(self, request):
            barrier.wait(WAIT_S)  # all four fail at once: three of them after the second opened it
            raise LLMUnavailable("refused")

    dispatcher = Dispatcher(max_concurrency=4, retries=0, breaker_after=2)
    with caplog.at_level(logging.WARNING, logger="agentopia_mesa.llm.dispatcher"):
        outcomes = dispatcher.run([(DownTogether(), job_request(i), parse_decision) for i in range(4)])
    assert all(o.faults == {"unreachable": 1} for o in outcomes)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["LLM server failing (2 failures in a row): calls paused for 30 s"]


def test_a_job_waiting_for_a_slot_gives_up_as_soon_as_the_breaker_opens():
    started, release = threading.Event(), threading.Event()

    class Hung:
        name = "hung"

        def chat(self, request):
            started.set()
            release.wait(WAIT_S)
            return FakeBackend(reply=echo).chat(request)

    dispatcher = Dispatcher(max_concurrency=1, timeout_s=0.2, retries=0, breaker_after=1)
    first = []
    runner = threading.Thread(target=lambda: first.extend(dispatcher.run([(Hung(), job_request(0), parse_decision)])))
    runner.start()
    try:
        assert started.wait(WAIT_S)  # the only slot is held by a call that will not end by itself
        start = time.perf_counter()
        [waiting] = dispatcher.run([(Hung(), job_request(1), parse_decision)])
        waited = time.perf_counter() - start
    finally:
        release.set()
        runner.join()
    assert first[0].faults == {"timeout": 1}
    # The first call's timeout (0.2 s) opened the breaker; the waiting job saw it within one poll.
    assert waiting.faults == {"skipped": 1} and waited < 1.0


# -- progress ---------------------------------------------------------------------------------

class Slow:
    """Answers "one two three" (3 completion tokens) after the delay its message names; "boom"
    is a bug in the backend."""

    name = "slow"

    def chat(self, request):
        content = request.messages[-1]["content"]
        if content == "boom":
            raise KeyError("bug")
        time.sleep(float(content))
        return FakeBackend(reply=lambda r: "one two three").chat(request)


def ask(content: str, tag: str = "") -> ChatRequest:
    return ChatRequest(messages=({"role": "user", "content": content},), tag=tag)


def test_progress_is_reported_while_waiting_and_counts_the_tokens_of_answers_only():
    reports = []
    dispatcher = Dispatcher(max_concurrency=2, retries=0)
    dispatcher.on_progress, dispatcher.progress_every_s = reports.append, 0.05
    start = time.perf_counter()
    outcomes = dispatcher.run([(Slow(), ask("0.5"), str), (Slow(), ask("boom"), str)])
    elapsed = time.perf_counter() - start
    assert [o.ok for o in outcomes] == [True, False]
    assert {r.stage for r in reports} == {"calls"}  # untagged jobs
    assert sum(r.done == 1 for r in reports) >= 3  # reports every 0.05 s while the slow one is pending
    assert (reports[-1].done, reports[-1].completion_tokens) == (2, 3)
    assert all(0 <= r.elapsed_s <= elapsed for r in reports)


def test_progress_is_reported_as_each_job_ends_under_the_first_jobs_stage():
    reports = []
    dispatcher = Dispatcher(max_concurrency=2, retries=0)
    dispatcher.on_progress, dispatcher.progress_every_s = reports.append, 30.0  # no periodic report
    start = time.perf_counter()
    dispatcher.run([(Slow(), ask("0.05", "plan/Ann"), str), (Slow(), ask("0.5", "review/Bob"), str)])
    assert [(r.stage, r.done) for r in reports] == [("plan", 0), ("plan", 1), ("plan", 2)]
    assert time.perf_counter() - start < 10
    reports.clear()
    dispatcher.run([(Slow(), ask("0", "solo/Cid/Y2020"), str)])  # a single job
    assert [(r.stage, r.done) for r in reports] == [("solo", 0), ("solo", 1)]


def test_every_other_run_of_several_jobs_is_sent_in_reverse_and_answered_in_input_order():
    sent = []

    def record(request):
        sent.append(request.tag)
        return echo(request)

    client = FakeBackend(reply=record)
    dispatcher = Dispatcher(max_concurrency=1)  # one call at a time: the order of sending is the order of calls
    runs = [[0, 1, 2], [3], [4, 5, 6], [7, 8]]
    for numbers in runs:
        outcomes = dispatcher.run([(client, job_request(i), parse_decision) for i in numbers])
        assert [o.value["reason"] for o in outcomes] == [f"job {i}" for i in numbers]
    # forward, a lone job (never counts), reverse, forward: each run starts with the prompts the last one sent last
    assert sent == [f"job {i}" for i in (0, 1, 2, 3, 6, 5, 4, 7, 8)]

    sent.clear()
    one_order = Dispatcher(max_concurrency=1, alternate=False)
    for numbers in runs:
        one_order.run([(client, job_request(i), parse_decision) for i in numbers])
    assert sent == [f"job {i}" for i in range(9)]
