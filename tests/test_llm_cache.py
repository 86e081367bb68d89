"""The SQLite response cache and CachedClient: record, replay, misses, threads and processes."""

import hashlib
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from llm_fixtures import decision_request, open_cache_at, record_in_process

from agentopia_mesa.llm import CachedClient, CacheMiss, ChatOptions, LLMUnavailable, ResponseCache
from agentopia_mesa.llm.cache import cache_key, request_json
from agentopia_mesa.llm.client import MAX_ANSWER_CHARS, ChatRequest, ChatResult, LLMOversize
from agentopia_mesa.llm.fake_backend import FakeBackend


def test_record_then_replay_is_identical_with_zero_backend_calls(tmp_path):
    path = tmp_path / "cache.sqlite"
    backend = FakeBackend(latency_s=0.01)
    recorder = CachedClient(backend, ResponseCache(path), "record")
    recorded = [recorder.chat(decision_request(seed=s)) for s in range(5)]
    assert backend.calls == 5 and not any(r.cached for r in recorded)

    player = CachedClient(None, ResponseCache(path), "replay", backend="fake", model="schema-example")
    player.check()
    replayed = [player.chat(decision_request(seed=s)) for s in range(5)]
    assert backend.calls == 5 and all(r.cached for r in replayed)
    assert [replace(r, cached=False) for r in replayed] == recorded
    assert (player.hits, player.misses, player.name) == (5, 0, "fake:schema-example")


def test_replay_miss_names_the_tag(tmp_path):
    backend = FakeBackend()
    client = CachedClient(backend, ResponseCache(tmp_path / "c.sqlite"), "replay")
    with pytest.raises(CacheMiss, match=r"no recorded answer for plan/Ana Lopez/Y2020-W03 from fake:schema-example"):
        client.chat(decision_request())
    assert backend.calls == 0 and client.misses == 1


def test_replay_or_record_calls_once_per_distinct_request(tmp_path):
    backend = FakeBackend()
    client = CachedClient(backend, ResponseCache(tmp_path / "c.sqlite"))
    first = client.chat(decision_request(seed=1, tag="a"))
    again = client.chat(decision_request(seed=1, tag="b"))  # the tag is not part of the key
    other = client.chat(decision_request(seed=2))
    assert backend.calls == 2 and (client.hits, client.misses) == (1, 2)
    assert again.cached and again.text == first.text and not other.cached


def test_key_covers_backend_model_messages_schema_and_options():
    request = decision_request()
    keys = {
        cache_key("fake", "m", request),
        cache_key("ollama", "m", request),
        cache_key("fake", "m2", request),
        cache_key("fake", "m", replace(request, schema=None)),
        cache_key("fake", "m", replace(request, messages=request.messages[:1])),
        cache_key("fake", "m", replace(request, options=ChatOptions(seed=8))),
        cache_key("fake", "m", replace(request, options=replace(request.options, temperature=0.1))),
    }
    assert len(keys) == 7
    assert cache_key("fake", "m", request) == cache_key("fake", "m", replace(request, tag="elsewhere"))


def test_record_mode_replaces_older_answers(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    CachedClient(FakeBackend(reply=lambda r: "old"), cache, "record").chat(decision_request())
    CachedClient(FakeBackend(reply=lambda r: "new"), cache, "record").chat(decision_request())
    assert CachedClient(FakeBackend(), cache).chat(decision_request()).text == "new"
    assert len(cache) == 1 and cache.identities() == [("fake", "schema-example")]


def test_pure_replay_check_and_mode_errors(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    with pytest.raises(LLMUnavailable, match="has no answers recorded by ollama:qwen3:4b"):
        CachedClient(None, cache, "replay", backend="ollama", model="qwen3:4b").check()
    with pytest.raises(ValueError, match="needs a backend"):
        CachedClient(None, cache, "replay-or-record")
    with pytest.raises(ValueError, match="cache mode must be one of record, replay, replay-or-record"):
        CachedClient(FakeBackend(), cache, "write")


def test_concurrent_threads_share_one_cache(tmp_path):
    backend = FakeBackend(latency_s=0.001)
    client = CachedClient(backend, ResponseCache(tmp_path / "c.sqlite"))
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda s: client.chat(decision_request(seed=s % 20)).text, range(200)))
    assert len(client.cache) == 20 and client.hits + client.misses == 200
    assert texts == [FakeBackend().chat(decision_request(seed=s % 20)).text for s in range(200)]


def test_concurrent_processes_do_not_corrupt_the_file(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    workers, n = 4, 40
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.starmap(record_in_process, [(path, w, n) for w in range(workers)])
    assert all(results[0][s] == r[s] for r in results for s in range(n))  # shared requests agree
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone() == (n + workers * n,)
    player = CachedClient(None, ResponseCache(path), "replay", backend="fake", model="schema-example")
    for result in results:
        assert all(player.chat(decision_request(seed=s)).text == text for s, text in result.items())


def test_processes_opening_one_new_cache_at_the_same_instant_all_get_it(tmp_path):
    """Switching a new file to WAL takes a lock SQLite does not wait for: before the set-up was
    retried, 8 processes opening one new cache at once failed ("database is locked") in about
    one trial of four, and CI lost a run to it."""
    workers, trials = 8, 12
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for trial in range(trials):
            path, start = str(tmp_path / f"new{trial}.sqlite"), time.time() + 0.25
            assert set(pool.starmap(open_cache_at, [(path, start)] * workers)) == {"ok"}


def test_calls_from_many_threads_share_one_connection(tmp_path):
    """The dispatcher runs each call on a new thread: a connection per thread left three file
    descriptors open per call, and a 100-resident LLM run died of it ("Too many open files")."""
    import os
    import threading

    client = CachedClient(FakeBackend(), ResponseCache(tmp_path / "c.sqlite"), mode="replay-or-record")
    client.chat(decision_request(seed=0))
    before = len(os.listdir("/proc/self/fd"))
    for i in range(1, 201):
        thread = threading.Thread(target=client.chat, args=(decision_request(seed=i),))
        thread.start()
        thread.join()
    assert len(os.listdir("/proc/self/fd")) - before < 5
    assert len(client.cache) == 201


def test_the_key_format_is_pinned_so_recorded_caches_stay_valid():
    # Canonical JSON: sorted keys, no spaces, non-ASCII kept as is. Changing any of this would
    # silently turn every recorded cache into misses.
    request = ChatRequest(messages=({"role": "user", "content": "Zoë: café?"},), schema={"type": "object", "required": ["a"]},
                          options=ChatOptions(seed=1), tag="t")
    canonical = ('{"messages":[{"content":"Zoë: café?","role":"user"}],'
                 '"options":{"max_tokens":256,"seed":1,"temperature":0.7,"top_p":null},'
                 '"schema":{"required":["a"],"type":"object"}}')
    assert request_json(request) == canonical
    assert cache_key("fake", "modèle", request) == hashlib.sha256(('["fake", "modèle"]' + canonical).encode()).hexdigest()
    # The same schema built in another order is the same request.
    reordered = replace(request, schema={"required": ["a"], "type": "object"},
                        messages=({"content": "Zoë: café?", "role": "user"},))
    assert cache_key("fake", "m", reordered) == cache_key("fake", "m", request)


def test_a_cache_path_that_cannot_be_used_is_one_value_error_naming_why(tmp_path):
    with pytest.raises(ValueError) as directory:
        ResponseCache(tmp_path)
    assert str(directory.value) == (f"--llm-cache: {tmp_path} cannot be used as the SQLite response cache "
                                    "(it is a directory); give another path or remove the file")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"cannot be used as the SQLite response cache \(File exists\); give another"):
        ResponseCache(tmp_path / "file" / "c.sqlite")  # its folder is a file
    (tmp_path / "garbage.sqlite").write_bytes(b"not a database, just text" * 100)
    with pytest.raises(ValueError, match=r"response cache \(file is not a database\); give another"):
        ResponseCache(tmp_path / "garbage.sqlite")  # sqlite3's errors carry no strerror
    cache = ResponseCache(tmp_path / "new" / "deeper" / "c.sqlite")  # missing folders are made
    assert len(cache) == 0 and (tmp_path / "new" / "deeper" / "c.sqlite").is_file()


def test_lock_waits_follow_busy_timeout(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite", busy_timeout_s=2.5)
    assert cache._connection().execute("PRAGMA busy_timeout").fetchone() == (2500,)
    assert ResponseCache(tmp_path / "d.sqlite")._connection().execute("PRAGMA busy_timeout").fetchone() == (60_000,)


def test_one_connection_per_process_reused_by_every_thread_and_closed_from_any(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    for _ in range(20):
        cache.get("nothing")
        len(cache)
    assert len(cache._all) == 1  # reused: a connection per call would leak file handles
    threads = [threading.Thread(target=cache.get, args=("nothing",)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache._all) == 1  # other threads share it (a connection per thread leaked one per call)
    closer = threading.Thread(target=cache.close)  # closed from another thread
    closer.start()
    closer.join()
    assert cache._all == []
    assert cache.get("nothing") is None and len(cache._all) == 1  # usable again after close


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_opens_its_own_connection(tmp_path):
    # SQLite connections must not cross a fork: the child makes its own, and reads what the parent wrote.
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k", decision_request(), _result("from the parent"))
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        try:
            ok = cache.get("k")["text"] == "from the parent" and cache._local.pid == os.getpid()
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    assert cache.get("k")["text"] == "from the parent"  # the parent's connection still works


def _result(text: str, **kw) -> ChatResult:
    return ChatResult(text=text, prompt_tokens=3, completion_tokens=2, latency_s=0.5, model="m", backend="b", **kw)


def test_get_returns_the_whole_stored_row_and_the_first_writer_wins(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    request = decision_request(tag="plan/x")
    cache.put("k", request, _result("first"))
    cache.put("k", request, _result("second"))  # ignored: the first writer wins by default
    row = cache.get("k")
    assert {k: v for k, v in row.items() if k != "created"} == {
        "text": "first", "prompt_tokens": 3, "completion_tokens": 2, "latency_s": 0.5, "model": "m", "backend": "b",
        "tag": "plan/x", "tool_calls": [], "extra": {}}
    assert row["created"] > 0
    cache.put("k", request, _result("third"), replace_existing=True)
    assert cache.get("k")["text"] == "third" and cache.get("other") is None


def test_job_outcomes_round_trip_first_writer_wins_and_are_per_model(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    assert cache.get_outcome("k") is None and not cache.has_outcomes("fake", "m")
    outcome = {"value": {"action": "rest"}, "texts": ["a", "b"], "error": None, "faults": {"timeout": 1}}
    cache.put_outcome("k", "fake", "m", "plan/x", outcome)
    cache.put_outcome("k", "fake", "m", "plan/x", {"error": "later"})  # ignored
    assert cache.get_outcome("k") == outcome
    cache.put_outcome("k", "fake", "m", "plan/x", {"error": "replaced"}, replace_existing=True)
    assert cache.get_outcome("k") == {"error": "replaced"}
    assert cache.has_outcomes("fake", "m") and not cache.has_outcomes("fake", "other") and not cache.has_outcomes("x", "m")
    assert cache.identities() == [("fake", "m")]  # a model with decisions but no answers still counts


def test_client_key_is_the_cache_key_of_its_backend_and_model(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    client = CachedClient(FakeBackend(), cache)
    request = decision_request()
    assert client.key(request) == cache_key("fake", "schema-example", request)
    client.chat(request)
    assert cache.get(cache_key("fake", "schema-example", request))["text"] == FakeBackend().chat(request).text


def test_pure_replay_defaults_and_untagged_misses(tmp_path):
    client = CachedClient(None, ResponseCache(tmp_path / "c.sqlite"), "replay")
    assert (client.backend, client.model, client.name) == ("replay", "unknown", "replay:unknown")
    with pytest.raises(CacheMiss, match="no recorded answer for an untagged request from replay:unknown"):
        client.chat(decision_request(tag=""))
    with pytest.raises(LLMUnavailable, match="by replay:unknown: record a run first, or replay the model it was recorded with$") as nothing:
        client.check()
    assert nothing.value.transient is False  # not worth retrying: the dispatcher gives up at once


class Named:
    """A backend whose name is not "backend:model"; it answers with ``result``."""

    backend, model, name = "fake", "schema-example", "my-server"

    def __init__(self, result: ChatResult):
        self.result = result

    def chat(self, request):
        return self.result


def test_the_client_uses_its_inner_backends_name(tmp_path):
    client = CachedClient(Named(_result("x" * (MAX_ANSWER_CHARS + 1))), ResponseCache(tmp_path / "c.sqlite"))
    assert client.name == "my-server"
    with pytest.raises(LLMOversize, match="^my-server sent an answer"):
        client.chat(decision_request())
    assert len(client.cache) == 0  # never stored


def test_a_fresh_answer_is_not_marked_cached_even_if_the_inner_client_says_so(tmp_path):
    # A cache in front of another cache: the inner hit is a new answer for the outer one.
    client = CachedClient(Named(_result("{}", cached=True)), ResponseCache(tmp_path / "c.sqlite"))
    assert client.chat(decision_request()).cached is False
    assert client.chat(decision_request()).cached is True
