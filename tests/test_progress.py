"""Progress inside a week (stage, calls done and pending, tokens/s) and the embedded backend's
timeout from its measured speed."""

import importlib.util

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm import ChatOptions, ChatRequest, Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.timeouts import dispatch_timeout, timeout_for, tokens_per_second
from agentopia_mesa.llm.settings import LLMSettings, MixEntry


def _request(i: int) -> ChatRequest:
    return ChatRequest(messages=({"role": "user", "content": f"question {i}"},), options=ChatOptions(seed=i),
                       tag=f"plan/Resident {i}/Y2020-W01-plan")


def test_the_dispatcher_reports_stage_calls_done_pending_and_tokens_per_second():
    reports = []
    dispatcher = Dispatcher(max_concurrency=2)
    dispatcher.on_progress = reports.append
    backend = FakeBackend(latency_s=0.05, reply=lambda request: "one two three")
    outcomes = dispatcher.run([(backend, _request(i), str) for i in range(5)])
    assert all(o.ok for o in outcomes)
    assert (reports[0].stage, reports[0].done, reports[0].pending) == ("plan", 0, 5)
    assert (reports[-1].done, reports[-1].pending, reports[-1].completion_tokens) == (5, 0, 15)
    assert [r.done for r in reports] == sorted(r.done for r in reports) and reports[-1].tokens_per_s > 0


def test_the_progress_bar_shows_the_stage_while_a_week_runs(tmp_path, capsys):
    assert main(["run", "--world", "school", "--residents", "3", "--years", "1", "--weeks-per-year", "1",
                 "--mind", "llm", "--llm", "fake", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "W1 plan: 0/3 calls done, 3 pending" in err and "tokens/s" in err


def test_timeout_from_measured_speed():
    assert timeout_for(None, 120) == 120  # no measurement: the fixed timeout
    assert timeout_for(1000.0, 120) == 120  # a fast machine keeps the floor
    assert timeout_for(4.0, 120, max_concurrency=8) == 2 * 8 * 256 / 4.0  # a slow one waits for its queue
    assert timeout_for(4.0, 120, max_concurrency=8, n_parallel=8) == 128.0
    speed = tokens_per_second(FakeBackend(latency_s=0.2, reply=lambda request: "a b c d"))
    assert 5 < speed <= 20
    assert dispatch_timeout(LLMSettings(mix=[MixEntry("fake", 1.0)], timeout_s=7.0)) == 7.0  # servers: fixed


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("xllamacpp") is None, reason="needs the embedded extra")
def test_embedded_timeout_is_measured_in_a_warm_up_call():
    # A floor of 1 s is below any CPU's time for 8 queued 256-token answers.
    assert dispatch_timeout(LLMSettings(mix=[MixEntry("embedded", 1.0)], timeout_s=1.0)) > 1.0
    assert dispatch_timeout(LLMSettings(mix=[MixEntry("embedded", 1.0)], timeout_s=1.0, cache_mode="replay")) == 1.0
