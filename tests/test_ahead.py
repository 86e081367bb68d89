"""Calls started ahead (``Dispatcher.ahead``): a later run of an equal request takes the answer
instead of calling again, anything else is called as before; and a fake-LLM town that starts its
joint activities' first calls while the solo decisions are asked writes the same files as one
that does not (and, with the LLM environment, the public events' descriptions and the solo
slots' outcomes while the conversations talk), in the lean and the paper profile."""

import json
import threading
from dataclasses import replace

import pytest
from llm_fixtures import decision_request, parse_decision

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.stages import activities
from tests.golden.same_seed import digests


class Counting:
    """Fake answers (a valid decision naming the call's seed), counting calls per tag."""

    name = "counting"

    def __init__(self):
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self.fake = FakeBackend(reply=lambda r: json.dumps({"action": "rest", "reason": str(r.options.seed)}))

    def chat(self, request):
        with self._lock:
            self.calls[request.tag] = self.calls.get(request.tag, 0) + 1
        return self.fake.chat(request)


def test_a_run_takes_the_answer_of_an_equal_request_started_ahead():
    backend, dispatcher = Counting(), Dispatcher(max_concurrency=4)
    early = decision_request(seed=1, tag="plan/Ana/W1")
    started = dispatcher.ahead([(backend, early, parse_decision)])
    [outcome] = dispatcher.run([(backend, replace(early), parse_decision)])  # equal, not the same object
    assert started.tags == ("plan/Ana/W1",)
    assert outcome.ok and outcome.value["reason"] == "1"
    assert backend.calls == {"plan/Ana/W1": 1}


def test_a_changed_request_another_client_or_a_dropped_one_is_called_again():
    backend, other, dispatcher = Counting(), Counting(), Dispatcher(max_concurrency=4)
    dispatcher.ahead([(backend, decision_request(seed=1, tag="a"), parse_decision),
                      (backend, decision_request(seed=2, tag="b"), parse_decision)])
    dropped = dispatcher.ahead([(backend, decision_request(seed=3, tag="c"), parse_decision)])
    dropped.drop()
    changed, moved, again = dispatcher.run([(backend, decision_request(seed=9, tag="a"), parse_decision),
                                            (other, decision_request(seed=2, tag="b"), parse_decision),
                                            (backend, decision_request(seed=3, tag="c"), parse_decision)])
    assert changed.value["reason"] == "9" and moved.ok and again.ok
    assert backend.calls == {"a": 2, "b": 1, "c": 2} and other.calls == {"b": 1}


def test_a_job_with_tools_is_not_started_ahead():
    backend, dispatcher = Counting(), Dispatcher()
    started = dispatcher.ahead([(backend, decision_request(tag="exit/Ana"), parse_decision, object())])  # any toolbox
    assert started.tags == () and backend.calls == {}


RUN = ["run", "--world", "school", "--residents", "8", "--years", "1", "--weeks-per-year", "2", "--seed", "3",
       "--mind", "llm", "--llm", "fake", "--quiet"]
PROFILES = {"lean": ["--profile", "lean"], "paper": ["--profile", "paper", "--env", "llm"]}


@pytest.mark.slow
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_town_writes_the_same_files_with_its_conversations_first_calls_started_ahead(tmp_path, monkeypatch, profile):
    taken = []
    started = Dispatcher._started

    def counted(self, job):
        future = started(self, job)
        taken.append(future is not None)
        return future

    monkeypatch.setattr(Dispatcher, "_started", counted)
    assert main([*RUN, *PROFILES[profile], "--out", str(tmp_path / "ahead" / "run")]) == 0
    assert sum(taken) >= {"lean": 4, "paper": 20}[profile], "few calls started ahead were used"
    monkeypatch.setattr(activities, "ask_ahead", lambda model, questions: [])
    monkeypatch.setattr(activities, "judge_ahead", lambda model, tasks: [])
    assert main([*RUN, *PROFILES[profile], "--out", str(tmp_path / "not" / "run")]) == 0
    assert digests(tmp_path / "ahead" / "run") == digests(tmp_path / "not" / "run")
