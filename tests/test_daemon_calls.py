"""DaemonCalls: calls on reused daemon threads; a hung call never delays another."""

import threading
import time

import pytest

from agentopia_mesa.llm.daemon_calls import DaemonCalls


def test_a_thread_is_reused_once_its_call_has_ended():
    calls = DaemonCalls("test-call")
    threads = [calls.submit(threading.current_thread).result(timeout=5) for _ in range(5)]
    assert len(set(threads)) == 1 and threads[0].daemon and threads[0].name == "test-call"


def test_a_hung_call_gets_no_successor_and_delays_no_other():
    calls, release = DaemonCalls("test-call"), threading.Event()
    hung = calls.submit(release.wait)
    start = time.perf_counter()
    assert calls.submit(sum, [1, 2]).result(timeout=5) == 3
    assert time.perf_counter() - start < 1 and not hung.done()
    release.set()
    assert hung.result(timeout=5) is True


def test_the_calls_exception_reaches_the_caller():
    with pytest.raises(ZeroDivisionError):
        DaemonCalls("test-call").submit(lambda: 1 / 0).result(timeout=5)


def test_idle_threads_end_and_new_calls_still_run():
    calls = DaemonCalls("test-call", idle_s=0.05)
    first = calls.submit(threading.current_thread).result(timeout=5)
    first.join(timeout=5)
    assert not first.is_alive()
    assert calls.submit(threading.current_thread).result(timeout=5) is not first


def test_many_calls_at_once_all_run():
    calls, gate = DaemonCalls("test-call", idle_s=0.01), threading.Barrier(8)
    futures = [calls.submit(gate.wait, 5) for _ in range(8)]  # each waits for all 8: 8 threads at once
    assert sorted(f.result(timeout=10) for f in futures) == list(range(8))
