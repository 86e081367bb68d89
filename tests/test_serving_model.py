"""The serving model (llm/serving_model.py) against hand-computed cases: one sequence, a batch,
chunked prefill, a prefix hit, eviction, the sequence bound."""

import json

import pytest

from agentopia_mesa.llm.serving_model import H100_COSTS, PrefixCache, ServerCosts, ServingModel, block_keys

# 10 ms a step, 1 ms a decoding sequence, 0.01 ms a context token, 0.1 ms a prefilled token.
COSTS = ServerCosts("hand", step_s=0.01, decode_s=0.001, context_s=0.0, prefill_s=0.0001, kv_tokens=4096,
                    block_tokens=4)


def run(model: ServingModel) -> None:
    while model.busy:
        model.step()


def test_one_sequence_prefills_in_one_step_then_decodes_one_token_a_step():
    model = ServingModel(ServerCosts(**{**COSTS.__dict__, "context_s": 1e-5}))
    request = model.submit(range(100), completion=10)
    run(model)
    # Prefill: 10 + 100 x 0.1 = 20 ms, and the first token. Then 9 decode steps of 10 + 1 ms, each
    # reading a context of 100 prompt tokens and 1..9 answer tokens: 945 tokens x 0.01 ms.
    assert request.first_token == pytest.approx(0.020)
    assert request.finished == pytest.approx(0.020 + 9 * 0.011 + 945e-5)
    assert model.stats.steps == 10
    totals = model.stats.total()
    assert (totals.calls, totals.prompt, totals.prefilled, totals.decoded, totals.cached) == (1, 100, 100, 10, 0)


def test_a_batch_shares_its_steps():
    model = ServingModel(COSTS)
    a, b = model.submit(range(100), 3, "plan/a"), model.submit(range(1000, 1050), 2, "plan/b")
    run(model)
    # One prefill step of 150 tokens (25 ms), a step decoding both (12 ms): b is done; one for a (11 ms).
    assert b.finished == pytest.approx(0.037)
    assert a.finished == pytest.approx(0.048)
    assert model.stats.stages["plan"].running_s == pytest.approx(2 * 0.025 + 2 * 0.012 + 0.011)  # sequence-seconds


def test_chunked_prefill_spends_what_decoding_leaves_of_the_step_budget():
    model = ServingModel(ServerCosts(**{**COSTS.__dict__, "chunk_tokens": 120}))
    a, b = model.submit(range(100), 3), model.submit(range(1000, 1050), 2)
    run(model)
    # Step 1: a's 100 tokens and 20 of b's (22 ms), a's first token. Step 2: a decodes, b's other 30
    # tokens (10 + 1 + 3 = 14 ms), b's first token. Step 3: both decode (12 ms): both done.
    assert a.first_token == pytest.approx(0.022)
    assert b.first_token == pytest.approx(0.036)
    assert a.finished == b.finished == pytest.approx(0.048)


def test_a_repeated_prompt_is_served_from_the_prefix_cache_but_for_its_last_block():
    model = ServingModel(COSTS)
    first = model.submit(range(16), 1)
    run(model)
    start = model.now
    again = model.submit(range(16), 1)
    shared = model.submit([*range(8), 99, 98, 97, 96], 1)  # the first two blocks shared
    run(model)
    assert first.cached == 0
    assert again.cached == 12  # 3 of 4 blocks: the last token is always computed
    assert shared.cached == 8
    # One step prefills 4 + 4 tokens and finishes both (1-token answers).
    assert model.now - start == pytest.approx(0.01 + 8 * 0.0001)
    assert model.stats.total().hit_rate == pytest.approx(20 / 44)


def test_eviction_drops_the_least_recently_used_block_and_breaks_the_chain_after_it():
    # 8 blocks of 4 tokens. A takes 5 (4 prompt blocks cached when it ends, 1 for its answer).
    model = ServingModel(ServerCosts(**{**COSTS.__dict__, "kv_tokens": 32}))
    model.submit(range(16), 4)
    run(model)
    assert len(model.cache.holders) == 4 and model.cache.used == 4
    # B needs 5 blocks, 4 are free: A's least recently used block goes: its first one.
    model.submit(range(100, 116), 4)
    run(model)
    assert len(model.cache.holders) == 7
    # A's prompt again finds nothing: its later blocks are cached, but a key is its whole prefix.
    again = model.submit(range(16), 4)
    run(model)
    assert again.cached == 0


def test_prefix_cache_bookkeeping():
    cache = PrefixCache(capacity=4)
    keys = block_keys(list(range(12)), 4)
    assert len(keys) == 3 and block_keys(list(range(13)), 4) == keys
    assert cache.reserve((), 3)
    cache.publish(keys)
    assert cache.used == 3 and cache.private == 0
    cache.release(keys, 0)
    assert list(cache.unheld) == list(keys)
    assert cache.hits(keys) == 3
    assert cache.reserve(keys[:1], 3)  # holds the first; evicts the other two
    assert cache.hits(keys) == 1 and cache.used == 4
    assert not cache.reserve((), 1)


def test_at_most_max_seqs_run_at_once():
    model = ServingModel(ServerCosts(**{**COSTS.__dict__, "max_seqs": 1}))
    a, b = model.submit(range(10), 2), model.submit(range(20, 30), 2)
    run(model)
    # a: prefill (11 ms) + decode (11 ms); b only then: the same again.
    assert a.finished == pytest.approx(0.022)
    assert b.admitted == pytest.approx(0.022)
    assert b.finished == pytest.approx(0.044)


def test_a_request_larger_than_the_kv_cache_is_an_error_that_says_so():
    model = ServingModel(ServerCosts(**{**COSTS.__dict__, "kv_tokens": 16}))
    model.submit(range(20), 1, "review/x")
    with pytest.raises(ValueError, match="does not fit a KV cache of 16 tokens"):
        model.step()


def test_h100_presets_are_in_the_published_ranges():
    eight, big = H100_COSTS["8b"], H100_COSTS["32b"]
    # Decode of one sequence: the weights over the bandwidth, about 6-7 ms for 16 GB at 2.6 TB/s.
    assert 0.005 < eight.step_time(1, 1000, 0) < 0.008
    assert 0.011 < big.step_time(1, 1000, 0) < 0.016
    # KV cache: about 400K tokens for the 8B, about 140K for the 32B in FP8.
    assert 350_000 < eight.kv_tokens < 450_000
    assert 100_000 < big.kv_tokens < 180_000
    assert H100_COSTS["32b-bf16"].kv_tokens < 20_000


# The town's side: real dispatcher runs against the model in virtual time (llm/virtual_server.py).

def _served(answers, runs):
    """Run each of ``runs`` (lists of (prompt, parse)) through one VirtualDispatcher on a town thread;
    the server and the dispatcher."""
    from agentopia_mesa.llm.client import ChatOptions, ChatRequest
    from agentopia_mesa.llm.fake_backend import FakeBackend
    from agentopia_mesa.llm.virtual_server import VirtualDispatcher, VirtualServer, WordTokenizer, run_towns

    server = VirtualServer(FakeBackend(reply=answers), ServingModel(COSTS), WordTokenizer())
    dispatcher = VirtualDispatcher(server, corrective_retry=False)

    class Town:
        def run(self):
            for jobs in runs:
                dispatcher.run([(server, ChatRequest(({"role": "user", "content": prompt},),
                                                     options=ChatOptions(seed=1, max_tokens=50), tag=f"s{i}/x"), parse)
                                for i, (prompt, parse) in enumerate(jobs)])

    run_towns(server, [Town()])
    return server, dispatcher


def test_a_dispatcher_run_waits_for_the_virtual_server_and_the_next_run_starts_when_it_ends():
    # Prompts of 11 tokens (<bos>, the user turn: header, role, 4 words, 2 end markers; "model" turn:
    # 2); answers "x y z" and the end: 4 tokens. Both prefilled in one step (10 + 22 x 0.1 = 12.2 ms),
    # 3 decode steps of 12 ms: 48.2 ms. The second run's one call: 11.1 ms + 3 x 11 ms.
    server, dispatcher = _served(lambda r: "x y z", [[("a b c d", str), ("e f g h", str)], [("a b c d", str)]])
    first, second = dispatcher.runs
    assert first[1:] == pytest.approx((0.0, 0.0482))
    assert second[1] == pytest.approx(0.0482)
    assert [r.prompt for r in server.requests] == [11, 11, 11]
    assert server.requests[2].cached == 8  # the repeated prompt: 2 of its 3 blocks of 4
    assert second[2] == pytest.approx(0.0482 + 0.01 + 3 * 0.0001 + 3 * 0.011)


def test_a_retry_is_sent_when_the_rejected_answer_has_come_back():
    answers = iter(["not it", "x y z"])

    def parse(text):
        if text != "x y z":
            raise ValueError("no")
        return text

    server, _ = _served(lambda r: next(answers), [[("a b c d", parse)]])
    rejected, accepted = server.requests
    assert accepted.arrived == pytest.approx(rejected.finished) and rejected.finished > 0


def test_a_call_started_ahead_shares_the_batch_and_its_run_takes_the_answer_without_moving_the_clock():
    from agentopia_mesa.llm.client import ChatOptions, ChatRequest
    from agentopia_mesa.llm.fake_backend import FakeBackend
    from agentopia_mesa.llm.virtual_server import VirtualDispatcher, VirtualServer, WordTokenizer, run_towns

    server = VirtualServer(FakeBackend(reply=lambda r: "x y z"), ServingModel(COSTS), WordTokenizer())
    dispatcher = VirtualDispatcher(server)

    def job(prompt, tag):
        request = ChatRequest(({"role": "user", "content": prompt},), options=ChatOptions(seed=1), tag=tag)
        return server, request, str

    class Town:
        def run(self):
            early = dispatcher.ahead([job("a b c d", "later/a")])
            dispatcher.run([job("e f g h", "now/b")])
            dispatcher.run([job("a b c d", "later/a")])
            early.drop()

    run_towns(server, [Town()])
    (_, start_b, end_b), (_, start_a, end_a) = dispatcher.runs
    assert (start_b, end_b) == pytest.approx((0.0, 0.0482))  # one batch from time 0, as in the first case
    assert start_a == end_a == pytest.approx(0.0482)
    assert len(server.requests) == 2


def test_requests_carry_their_towns_order_of_sending_and_every_other_run_goes_in_reverse():
    # Two runs of two calls each: the first sent forward (places 0, 1), the second in reverse (the
    # last job gets place 2); the server takes calls that arrive together in that order.
    server, _ = _served(lambda r: "x y z", [[("a b c d", str), ("e f g h", str)], [("a b c d", str), ("e f g h", str)]])
    first, second = server.requests[:2], server.requests[2:]
    assert sorted((r.sent, r.tag) for r in first) == [(0, "s0/x"), (1, "s1/x")]
    assert sorted((r.sent, r.tag) for r in second) == [(2, "s1/x"), (3, "s0/x")]


def test_the_tools_break_the_prefix_when_first_and_keep_the_system_message_when_after_it():
    from agentopia_mesa.llm.client import ChatRequest
    from agentopia_mesa.llm.virtual_server import WordTokenizer, prompt_ids

    encode = WordTokenizer().encode
    messages = ({"role": "system", "content": "persona and notebook"}, {"role": "user", "content": "plan"})
    tools = ({"type": "function", "function": {"name": "read_note"}},)
    plain = prompt_ids(ChatRequest(messages), encode)
    first = prompt_ids(ChatRequest(messages, tools=tools), encode)
    after = prompt_ids(ChatRequest(messages, tools=tools), encode, tools_after_system=True)
    system = 1 + 1 + 1 + 3  # <bos>, the turn's start, "system", its three words
    tool_ids = encode(json.dumps(list(tools)))
    assert first[1:1 + len(tool_ids)] == tool_ids and first[1] != plain[1]  # nothing shared after <bos>
    assert after[:system] == plain[:system] and len(after) == len(first) > len(plain)
    # Without a system message the tools go first either way.
    alone = ({"role": "user", "content": "plan"},)
    assert prompt_ids(ChatRequest(alone, tools=tools), encode, True) == prompt_ids(ChatRequest(alone, tools=tools), encode)
