"""Results do not depend on which request finishes first: a fake-LLM run writes the same files
with one call at a time and with 16 in flight while the answers come back in a scrambled order
(each call waits a few milliseconds drawn from its request), in the lean and the paper profile."""

import hashlib

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.llm.fake_backend import FakeBackend
from tests.golden.same_seed import digests

RUN = ["run", "--world", "school", "--residents", "6", "--years", "1", "--weeks-per-year", "2", "--seed", "5",
       "--mind", "llm", "--llm", "fake", "--quiet"]
PROFILES = {"lean": ["--profile", "lean"], "paper": ["--profile", "paper", "--env", "llm"]}


@pytest.fixture
def scrambled(monkeypatch):
    """Fake answers that take 0-4 ms, by a hash of the request: concurrent calls end out of order."""
    chat = FakeBackend.chat

    def slow_chat(self, request):
        digest = hashlib.sha256(repr((request.tag, request.messages[-1]["content"])).encode()).digest()
        __import__("time").sleep(digest[0] / 64_000)
        return chat(self, request)

    monkeypatch.setattr(FakeBackend, "chat", slow_chat)


def _files(tmp_path, name: str, options: list[str]) -> dict[str, str]:
    out = tmp_path / name / "run"  # the same run id in both
    assert main([*RUN, *options, "--out", str(out)]) == 0
    found = digests(out)
    del found["config.json"]  # it records --max-concurrency, the one setting that differs
    assert {"decisions.jsonl", "dialogues.jsonl"} <= set(found)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_run_writes_the_same_files_whatever_order_its_calls_end_in(tmp_path, scrambled, profile):
    one_at_a_time = _files(tmp_path, "1", [*PROFILES[profile], "--max-concurrency", "1"])
    sixteen = _files(tmp_path, "16", [*PROFILES[profile], "--max-concurrency", "16"])
    assert sixteen == one_at_a_time
