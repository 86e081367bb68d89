"""The dispatcher: input order, the concurrency bound, retries, timeouts and graceful failure.

The fakes are real classes: our Ollama API server with fault injection, reached through the
real ``ollama`` client, and small backends defined here.
"""

import json
import threading
import time

import pytest
from llm_fixtures import decision_request, parse_decision
from llm_fixtures import fake_server  # noqa: F401 (fixtures)

from agentopia_mesa.llm import ChatRequest, Dispatcher, LLMBadResponse
from agentopia_mesa.llm.dispatcher import CORRECTION
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
