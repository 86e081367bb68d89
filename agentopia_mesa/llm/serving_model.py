"""A continuous-batching LLM server simulated in virtual time: what a town's calls cost on a GPU.

Pure and single-threaded: ``ServingModel.submit`` queues a request (its prompt's token ids and
the number of tokens its answer has), ``ServingModel.step`` runs one engine step and returns the
requests it finished. ``llm/virtual_server.py`` drives it from a real town; ``study plan`` may
import it alone.

The engine follows vLLM's V1 scheduler in the parts that decide a town's speed (vLLM docs,
"Automatic Prefix Caching", "Optimization and Tuning: chunked prefill"):

- each step decodes one token for every running sequence whose prompt is in, then spends what is
  left of ``chunk_tokens`` prefilling prompts, oldest first (chunked prefill); the step that
  finishes a prompt also samples its first answer token;
- at most ``max_seqs`` sequences run at once; a waiting request is admitted only when the KV cache
  can hold its whole prompt and answer (we reserve both at admission, so nothing is preempted;
  vLLM reserves block by block and preempts instead: a small difference while memory is not full);
- the KV cache holds ``kv_tokens`` tokens in blocks of ``block_tokens``; a prompt's full blocks
  stay cached after its sequence ends, keyed by their whole prefix, and are evicted least recently
  used first when new blocks are needed. A request's prompt blocks already cached are not
  prefilled again (at least its last token always is, as in vLLM). Answer tokens are not cached.

Step time (``ServerCosts.step_time``), seconds::

    step_s + decode_s * decoding + context_s * context + prefill_s * prefilled

``decoding``: sequences decoding a token this step, ``context``: the tokens those sequences attend
to (their prompt and answer so far: the KV cache each step reads), ``prefilled``: prompt tokens
computed this step. Decode is bound by memory bandwidth (the weights once a step, the KV cache once
a sequence), prefill by arithmetic; ``H100_COSTS`` holds the figures and their sources.
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Sequence as Tokens
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServerCosts:
    """One model on one GPU under one serving engine. Seconds: ``step_s`` per engine step (the
    weights read once, kernel launches), ``decode_s`` per sequence decoding in a step,
    ``context_s`` per token of context a decoding sequence reads, ``prefill_s`` per prompt token
    computed. ``kv_tokens``: KV cache capacity in tokens (running sequences and the prefix cache
    share it); ``max_seqs``: sequences running at once; ``chunk_tokens``: tokens one step computes
    at most (decoded and prefilled); ``block_tokens``: the KV cache's block size. ``source``: where
    the figures come from."""

    name: str
    step_s: float
    decode_s: float
    context_s: float
    prefill_s: float
    kv_tokens: int
    max_seqs: int = 256
    chunk_tokens: int = 8192
    block_tokens: int = 16
    source: str = ""

    def step_time(self, decoding: int, context: int, prefilled: int) -> float:
        """Seconds of one engine step (module docstring)."""
        return self.step_s + self.decode_s * decoding + self.context_s * context + self.prefill_s * prefilled


def roofline_costs(name: str, *, params_b: float, weight_bytes: float, layers: int, kv_heads: int,
                   head_dim: int, kv_bytes: float = 2.0, gpu_gb: float = 80.0, memory_fraction: float = 0.9,
                   overhead_gb: float = 3.0, bandwidth_tb_s: float = 3.35, tflops: float = 989.0,
                   bandwidth_use: float = 0.77, prefill_mfu: float = 0.5, decode_mfu: float = 0.5,
                   launch_s: float = 0.001, source: str = "", **engine) -> ServerCosts:
    """Costs from a model's shape and a GPU's datasheet (a roofline with stated efficiencies).

    ``params_b``: parameters (billions); ``weight_bytes``: bytes a parameter takes (2 bf16, 1 fp8);
    ``layers``, ``kv_heads``, ``head_dim``: the attention's shape, so a token's KV cache takes
    ``2 * layers * kv_heads * head_dim * kv_bytes`` bytes. The GPU: ``gpu_gb`` of memory of which the
    engine takes ``memory_fraction`` (vLLM's ``gpu_memory_utilization`` default 0.9), less the
    weights and ``overhead_gb`` (activations, CUDA graphs), for the KV cache; ``bandwidth_tb_s`` and
    ``tflops`` (dense, in the weights' type) reached at ``bandwidth_use`` and ``prefill_mfu``;
    decode's own arithmetic (2 flops a parameter a token) at ``decode_mfu``, which mostly overlaps
    the weights' reading while a batch is under a few hundred sequences. ``launch_s``: the engine's own time a step (scheduling, launches)."""
    bandwidth = bandwidth_tb_s * 1e12 * bandwidth_use
    weights = params_b * 1e9 * weight_bytes
    kv_per_token = 2 * layers * kv_heads * head_dim * kv_bytes
    flops_per_token = 2 * params_b * 1e9
    return ServerCosts(
        name=name, step_s=launch_s + weights / bandwidth,
        decode_s=flops_per_token / (tflops * 1e12 * decode_mfu), context_s=kv_per_token / bandwidth,
        prefill_s=flops_per_token / (tflops * 1e12 * prefill_mfu),
        kv_tokens=int((gpu_gb * memory_fraction * 1e9 - weights - overhead_gb * 1e9) / kv_per_token),
        source=source, **engine)


_H100 = ("NVIDIA H100 SXM datasheet: 3.35 TB/s HBM3, 989 TFLOPS dense BF16, 1,979 dense FP8; decode at 77 % of "
         "the memory-bandwidth roofline as measured for Llama-3.1-8B on vLLM at one request (J. Musgrave, "
         "'vLLM throughput-latency sweep on NVIDIA A100', johnmusgrave.com); prefill and decode arithmetic at 50 % "
         "MFU (ours; with it 256 sequences of 600 tokens of context decode 11K tokens/s on the 8B, near the "
         "~12.5K tokens/s published for Llama 3.1 8B BF16 on one H100, morphllm.com/vllm-benchmarks); vLLM "
         "defaults max_num_seqs 256, max_num_batched_tokens 8192, block 16, gpu_memory_utilization 0.9")

#: The cost models of ``bench_serving.py`` and the README's table: one H100 SXM 80 GB, vLLM.
H100_COSTS = {
    # Llama-3.1-8B-Instruct config.json: 32 layers, 8 KV heads of 128, 8.03 B parameters; bf16.
    "8b": roofline_costs("Llama-3.1-8B bf16, 1x H100", params_b=8.03, weight_bytes=2, layers=32, kv_heads=8,
                         head_dim=128, source=_H100),
    # Qwen2.5-32B-Instruct config.json: 64 layers, 8 KV heads of 128, 32.8 B parameters; FP8 weights
    # (bf16 weights, 65.5 GB, leave about 4 GB of an 80 GB card's 72 for the KV cache: 16K tokens).
    "32b": roofline_costs("Qwen2.5-32B FP8 weights, 1x H100", params_b=32.8, weight_bytes=1, layers=64, kv_heads=8,
                          head_dim=128, tflops=1979.0, source=_H100),
    # The same with vLLM's FP8 KV cache (``--kv-cache-dtype fp8``, vLLM docs "Quantized KV Cache"):
    # a token's KV takes half the bytes, so twice the tokens fit and each is read in half the time.
    "32b-kv8": roofline_costs("Qwen2.5-32B FP8 weights and KV cache, 1x H100", params_b=32.8, weight_bytes=1,
                              layers=64, kv_heads=8, head_dim=128, kv_bytes=1.0, tflops=1979.0, source=_H100),
    "32b-bf16": roofline_costs("Qwen2.5-32B bf16, 1x H100", params_b=32.8, weight_bytes=2, layers=64, kv_heads=8,
                               head_dim=128, source=_H100),
}


@dataclass(eq=False)
class Request:
    """One request in the server: its ``prompt`` tokens, the ``completion`` tokens its answer has,
    its ``tag``, when it ``arrived`` (virtual s) and its place in its client's order of sending,
    ``sent`` (which of the requests that arrive at the same time the server takes first). Filled in as it runs: ``cached`` prompt tokens
    found in the prefix cache, ``prefilled`` and ``generated`` so far, ``finished`` (virtual s)."""

    prompt: int
    completion: int
    tag: str = ""
    arrived: float = 0.0
    sent: int = 0
    cached: int = 0
    prefilled: int = 0
    generated: int = 0
    admitted: float | None = None
    first_token: float | None = None
    finished: float | None = None
    _keys: tuple = ()  # the keys of its prompt's full blocks (the token ids are not kept)
    _pinned: int = 0  # of those, how many it holds in the prefix cache
    _private: int = 0  # blocks it holds outside the prefix cache

    @property
    def stage(self) -> str:
        return self.tag.split("/", 1)[0] or "calls"

    @property
    def in_prefill(self) -> bool:
        return self.prefilled < self.prompt


def block_keys(ids: Tokens[int], block_tokens: int) -> tuple:
    """One key per full block of ``ids``: the block's tokens and everything before them (a hash
    chain, as vLLM's prefix cache keys blocks)."""
    keys, parent = [], None
    for start in range(0, len(ids) - block_tokens + 1, block_tokens):
        parent = hash((parent, tuple(ids[start:start + block_tokens])))
        keys.append(parent)
    return tuple(keys)


class PrefixCache:
    """KV cache blocks: ``capacity`` blocks, of which cached prompt blocks (by key, with how many
    running requests hold each) and private blocks (partial prompt blocks, answers, prompts being
    prefilled). Blocks no request holds stay cached until evicted, least recently used first."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.holders: dict = {}  # key -> running requests holding the block
        self.unheld: OrderedDict = OrderedDict()  # keys no request holds, least recently used first
        self.private = 0

    @property
    def used(self) -> int:
        return len(self.holders) + self.private

    def hits(self, keys: tuple) -> int:
        """How many of ``keys``, from the first, are cached."""
        n = 0
        while n < len(keys) and keys[n] in self.holders:
            n += 1
        return n

    def reserve(self, hit_keys: tuple, private: int) -> bool:
        """Hold ``hit_keys`` (cached) and take ``private`` new blocks, evicting unheld blocks if
        needed; False (and nothing done) if the blocks are not there."""
        freed_by_hits = sum(1 for k in hit_keys if self.holders[k] == 0)
        if self.capacity - self.used + len(self.unheld) - freed_by_hits < private:
            return False
        for key in hit_keys:
            self.holders[key] += 1
            self.unheld.pop(key, None)
        self._make_room(private)
        self.private += private
        return True

    def publish(self, keys: tuple) -> int:
        """A request's freshly computed prompt blocks ``keys`` (private so far) become cached and
        held by it; a key cached meanwhile by another request is held instead and the duplicate
        block freed. Returns the blocks moved out of the request's private ones."""
        for key in keys:
            if key in self.holders:
                self.unheld.pop(key, None)
            else:
                self.holders[key] = 0
            self.holders[key] += 1
        self.private -= len(keys)
        return len(keys)

    def release(self, keys: tuple, private: int) -> None:
        """A request ended: its held ``keys`` become evictable (most recent last), its ``private``
        blocks free."""
        for key in keys:
            self.holders[key] -= 1
            if self.holders[key] == 0:
                self.unheld[key] = None
                self.unheld.move_to_end(key)
        self.private -= private

    def _make_room(self, blocks: int) -> None:
        while self.capacity - self.used < blocks:
            key, _ = self.unheld.popitem(last=False)
            del self.holders[key]


@dataclass
class StageTotals:
    """What one stage's requests cost: ``calls``, ``prompt`` tokens, of them ``cached`` (prefix
    hits) and ``prefilled`` (computed), ``decoded`` tokens and ``running_s``: sequence-seconds
    running (its mean running sequences over a span is this over the span)."""

    calls: int = 0
    prompt: int = 0
    cached: int = 0
    prefilled: int = 0
    decoded: int = 0
    running_s: float = 0.0

    @property
    def hit_rate(self) -> float:
        return self.cached / self.prompt if self.prompt else 0.0


@dataclass
class ServingStats:
    """Totals over a simulation: ``steps``, ``busy_s`` (virtual seconds spent in steps) and per
    stage (``stages``, by the first part of a request's tag)."""

    steps: int = 0
    busy_s: float = 0.0
    stages: dict = field(default_factory=lambda: defaultdict(StageTotals))

    def total(self) -> StageTotals:
        out = StageTotals()
        for s in self.stages.values():
            for name in ("calls", "prompt", "cached", "prefilled", "decoded", "running_s"):
                setattr(out, name, getattr(out, name) + getattr(s, name))
        return out


class ServingModel:
    """The server (module docstring) in virtual seconds, ``now``; not thread-safe."""

    def __init__(self, costs: ServerCosts):
        self.costs = costs
        self.now = 0.0
        self.cache = PrefixCache(costs.kv_tokens // costs.block_tokens)
        self.waiting: list[Request] = []
        self.running: list[Request] = []
        self.stats = ServingStats()

    @property
    def busy(self) -> bool:
        return bool(self.waiting or self.running)

    def submit(self, ids: Tokens[int], completion: int, tag: str = "") -> Request:
        """Queue a request: its prompt's token ``ids`` and ``completion`` tokens to generate (at
        least 1: the end-of-answer token)."""
        request = Request(len(ids), max(1, completion), tag, self.now)
        request._keys = block_keys(ids, self.costs.block_tokens)
        self.waiting.append(request)
        return request

    def step(self) -> list[Request]:
        """One engine step (module docstring); the requests it finished. Raises ``ValueError`` when
        a request can never run (its prompt and answer exceed the KV cache)."""
        budget = self.costs.chunk_tokens
        decoding = [r for r in self.running if not r.in_prefill]
        budget -= len(decoding)
        self._admit()
        chunks = []
        for request in self.running:
            if request.in_prefill and budget > 0:
                n = min(request.prompt - request.prefilled, budget)
                chunks.append((request, n))
                budget -= n
        if not decoding and not chunks:
            if self.waiting:
                r = self.waiting[0]
                raise ValueError(f"a request of {r.prompt} prompt + {r.completion} answer tokens does not fit a KV "
                                 f"cache of {self.costs.kv_tokens} tokens ({r.tag or 'untagged'})")
            return []
        context = sum(r.prompt + r.generated for r in decoding)
        dt = self.costs.step_time(len(decoding), context, sum(n for _, n in chunks))
        for request in self.running:
            self.stats.stages[request.stage].running_s += dt
        self.now += dt
        self.stats.steps += 1
        self.stats.busy_s += dt
        for request in decoding:
            request.generated += 1
            self.stats.stages[request.stage].decoded += 1
        for request, n in chunks:
            request.prefilled += n
            self.stats.stages[request.stage].prefilled += n
            if not request.in_prefill:  # the prompt is in: publish its blocks, sample the first token
                fresh = request._keys[request._pinned:]
                request._private -= self.cache.publish(fresh)
                request._pinned = len(request._keys)
                request.generated = 1
                request.first_token = self.now
                self.stats.stages[request.stage].decoded += 1
        finished = [r for r in self.running if r.generated >= r.completion]
        for request in finished:
            request.finished = self.now
            self.cache.release(request._keys[:request._pinned], request._private)
            request._keys = ()
            self.running.remove(request)
        return finished

    def advance(self) -> list[Request]:
        """Step until at least one request finishes (or none is left); the finished ones."""
        while self.busy:
            finished = self.step()
            if finished:
                return finished
        return []

    def _admit(self) -> None:
        """Admit waiting requests, oldest first, while a sequence slot and KV blocks are free."""
        block = self.costs.block_tokens
        while self.waiting and len(self.running) < self.costs.max_seqs:
            request = self.waiting[0]
            # vLLM always computes a prompt's last token: a full hit leaves the last block to compute.
            hit = min(self.cache.hits(request._keys), (request.prompt - 1) // block)
            private = math.ceil((request.prompt + request.completion) / block) - hit
            if not self.cache.reserve(request._keys[:hit], private):
                return
            self.waiting.pop(0)
            request._pinned, request._private = hit, private
            request.cached = request.prefilled = hit * block
            request.admitted = self.now
            totals = self.stats.stages[request.stage]
            totals.calls += 1
            totals.prompt += request.prompt
            totals.cached += request.cached
            self.running.append(request)

