"""The SQLite response cache and CachedClient: record, replay, misses, threads and processes."""

import multiprocessing
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from llm_fixtures import decision_request, record_in_process

from agentopia_mesa.llm import CachedClient, CacheMiss, ChatOptions, LLMUnavailable, ResponseCache
from agentopia_mesa.llm.cache import cache_key
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
