"""Replay is exact: a recorded run in which calls timed out (and their answers arrived late, into
the cache) replays to the same decisions and results; a replay miss is an error naming the call."""

import json
import sqlite3
import threading
import time

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm import factory
from agentopia_mesa.world.loader import load_world, resize_world

COMMON = ["run", "--world", "school", "--residents", "4", "--years", "1", "--weeks-per-year", "2",
          "--mind", "llm", "--quiet"]
DELAY_S, TIMEOUT_S = 0.8, 0.3


class LateForTags:
    """The fake backend, answering the calls of chosen tags only after ``DELAY_S`` (past the
    dispatcher's timeout): ``always`` tags every time, ``once`` tags the first time."""

    def __init__(self, inner, always: set[str], once: set[str]):
        self.inner, self.always, self.once = inner, always, set(once)
        self.backend, self.model, self.name = inner.backend, inner.model, inner.name
        self.late: list[str] = []
        self._lock = threading.Lock()

    def check(self) -> None:
        self.inner.check()

    def chat(self, request):
        with self._lock:
            slow = request.tag in self.always or request.tag in self.once
            self.once.discard(request.tag)
        if slow:
            time.sleep(DELAY_S)
            with self._lock:
                self.late.append(request.tag)
        return self.inner.chat(request)


def _tags():
    names = [r.name for r in resize_world(load_world("school"), 4).residents]
    always = {f"plan/{names[1]}/Y2020-W01-plan", f"review/{names[2]}/Y2020-W01-review"}
    once = {f"plan/{names[3]}/Y2020-W01-plan"}
    return always, once


def _record(tmp_path, monkeypatch, cache):
    always, once = _tags()
    made = []
    real = factory.make_backend

    def late_fake(spec, hosts=None, **options):
        backend = real(spec, hosts, **options)
        if spec == "fake":
            made.append(LateForTags(backend, always, once))
            return made[-1]
        return backend

    recorded = tmp_path / "recorded"
    with monkeypatch.context() as patch:
        patch.setattr(factory, "make_backend", late_fake)
        assert main([*COMMON, "--llm", "fake", "--llm-timeout", str(TIMEOUT_S), "--llm-cache", str(cache),
                     "--cache-mode", "record", "--out", str(recorded)]) == 0
    # The timed-out calls go on and their late answers land in the cache after the run gave up on them.
    deadline = time.monotonic() + 20
    with sqlite3.connect(cache) as db:
        while time.monotonic() < deadline:
            stored = {tag for (tag,) in db.execute("SELECT tag FROM responses")}
            if always <= stored:
                break
            time.sleep(0.1)
    assert always <= stored
    return recorded, always, once


def _decisions(run_dir):
    lines = [json.loads(line) for line in (run_dir / "decisions.jsonl").read_text().splitlines()]
    return [{k: v for k, v in e.items() if k not in ("cached", "run")} for e in lines]


def test_timeouts_and_late_answers_replay_exactly(tmp_path, monkeypatch):
    cache = tmp_path / "cache.sqlite"
    recorded, always, once = _record(tmp_path, monkeypatch, cache)
    decisions = _decisions(recorded)
    fallbacks = {f"{e['stage']}/{e['resident']}/{e['when']}" for e in decisions if e["fallback"]}
    assert always <= fallbacks and not once & fallbacks  # once: timed out, then answered on the retry
    assert all("gave no answer" in e["error"] for e in decisions if e["fallback"])
    for spec in ("replay", "fake"):  # pure replay, and replay through the backend's own spec
        replayed = tmp_path / f"replayed-{spec}"
        assert main([*COMMON, "--llm", spec, "--llm-cache", str(cache), "--cache-mode", "replay",
                     "--out", str(replayed)]) == 0
        assert _decisions(replayed) == decisions
        for name in ("metrics.csv", "rewards.csv", "residents.csv"):
            assert (replayed / name).read_text() == (recorded / name).read_text(), name
        faults = [json.loads((d / "faults.json").read_text())["llm"] for d in (recorded, replayed)]
        assert faults[0] == faults[1] and faults[0]["faults"]["timeout"] >= 7


def test_a_replay_miss_is_an_error_naming_the_call(tmp_path, capsys):
    cache = tmp_path / "cache.sqlite"
    assert main([*COMMON, "--llm", "fake", "--llm-cache", str(cache), "--out", str(tmp_path / "seed0")]) == 0
    capsys.readouterr()
    other_seed = [*COMMON, "--seed", "1", "--llm", "replay", "--llm-cache", str(cache)]
    assert main([*other_seed, "--cache-mode", "replay", "--out", str(tmp_path / "miss")]) != 0
    err = capsys.readouterr().err
    assert "replay miss" in err and "/Y2020-W01-plan" in err and err.count("\n") == 1
    # A spec that recorded nothing fails before the first week.
    assert main([*COMMON, "--llm", "replay:fake:other-model", "--llm-cache", str(cache), "--cache-mode", "replay",
                 "--out", str(tmp_path / "wrong")]) == 2
    assert "no answers recorded by fake:other-model" in capsys.readouterr().err
    # replay-or-record records what is missing instead.
    assert main([*COMMON, "--seed", "1", "--llm", "fake", "--llm-cache", str(cache), "--cache-mode", "replay-or-record",
                 "--out", str(tmp_path / "filled")]) == 0


@pytest.mark.parametrize("mode", ["replay", "replay-or-record"])
def test_recorded_fallbacks_are_replayed_not_the_late_answer(tmp_path, mode):
    from agentopia_mesa.llm import CachedClient, Dispatcher, ResponseCache
    from agentopia_mesa.llm.fake_backend import FakeBackend
    from agentopia_mesa.llm.recorded import dispatch_recorded
    from llm_fixtures import decision_request, parse_decision

    cache = ResponseCache(tmp_path / "c.sqlite")
    slow = CachedClient(FakeBackend(latency_s=0.5), cache, "record")
    request = decision_request()
    (outcome,) = dispatch_recorded(Dispatcher(timeout_s=0.1, retries=0), [(slow, request, parse_decision)])
    assert outcome.value is None and outcome.faults["timeout"] == 1
    time.sleep(0.8)
    assert cache.get(slow.key(request)) is not None  # the late answer is in the cache ...
    fake = FakeBackend()
    replaying = CachedClient(fake if mode != "replay" else None, cache, mode, backend="fake", model="schema-example")
    (again,) = dispatch_recorded(Dispatcher(), [(replaying, request, parse_decision)])
    assert again.value is None and again.error == outcome.error and again.faults == outcome.faults  # ... but unused
    assert fake.calls == 0
