"""Dispatcher throughput against a server of known capacity: the Ollama API server over a fake
model, with a fixed latency per call and K parallel slots (capacity = K / latency).

    python benchmarks/bench_dispatcher.py                      # 50 ms, K=8, 400 decisions
    python benchmarks/bench_dispatcher.py --latency 0.1 --slots 4 --concurrency 1 4 8

Every call goes through the real path: Dispatcher -> OllamaBackend -> official ``ollama``
client -> HTTP -> server (slot, sleep, fake answer) -> JSON parse. Reports decisions per second,
the fraction of server capacity used, the speed-up over one call at a time, and our CPU per
call: the server runs in a process of its own (``--same-process`` puts it back in ours, as before),
so the column is the dispatcher's, the backend's and the HTTP client's CPU alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import time

from agentopia_mesa.llm import ChatOptions, ChatRequest, Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.ollama_api_server import OllamaAPIServer, ServerFaults
from agentopia_mesa.llm.ollama_backend import OllamaBackend

SCHEMA = {"type": "object", "properties": {"action": {"enum": ["work", "rest", "socialize", "study"]},
                                           "reason": {"type": "string", "maxLength": 60}},
          "required": ["action", "reason"], "additionalProperties": False}


def requests(n: int) -> list[ChatRequest]:
    return [ChatRequest(messages=({"role": "user", "content": f"Resident {i}: what do you do today?"},),
                        schema=SCHEMA, options=ChatOptions(seed=i, max_tokens=64), tag=f"bench/{i}")
            for i in range(n)]


def timed(dispatcher: Dispatcher, client, batch: list[ChatRequest]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) to run ``batch``."""
    start, cpu = time.perf_counter(), time.process_time()
    outcomes = dispatcher.run([(client, r, json.loads) for r in batch])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok][:3]
    return elapsed, cpu


def _serve(faults: ServerFaults, urls, stop) -> None:
    with OllamaAPIServer(FakeBackend(), faults=faults) as server:
        urls.put(server.url)
        stop.wait()


@contextlib.contextmanager
def server_process(faults: ServerFaults):
    """The server in a child process; yields its URL."""
    context = multiprocessing.get_context("fork")
    urls, stop = context.Queue(), context.Event()
    child = context.Process(target=_serve, args=(faults, urls, stop), daemon=True)
    child.start()
    try:
        yield urls.get(timeout=30)
    finally:
        stop.set()
        child.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per call inside a slot")
    parser.add_argument("--slots", type=int, default=8, help="parallel slots of the server (K)")
    parser.add_argument("--decisions", type=int, default=400)
    parser.add_argument("--sequential", type=int, default=40, help="calls for the one-at-a-time baseline")
    parser.add_argument("--concurrency", nargs="*", type=int, default=None, help="default: K/2, K, 2K")
    parser.add_argument("--repeats", type=int, default=3, help="best of")
    parser.add_argument("--same-process", action="store_true",
                        help="run the server in this process (the CPU column then counts it too)")
    args = parser.parse_args()
    k = args.slots
    levels = args.concurrency or sorted({max(1, k // 2), k, 2 * k})
    capacity = k / args.latency
    faults = ServerFaults(latency_s=args.latency, slots=k)
    if args.same_process:
        server = OllamaAPIServer(FakeBackend(), faults=faults)
        serving = contextlib.nullcontext(server.__enter__().url)
    else:
        server, serving = None, server_process(faults)
    with serving as url:
        client = OllamaBackend("schema-example", url)
        client.chat(requests(1)[0])  # warm the connection
        sequential = min(timed(Dispatcher(max_concurrency=1), client, requests(args.sequential))[0]
                         for _ in range(args.repeats)) / args.sequential
        print(f"server: {args.latency * 1000:g} ms per call, K={k} slots, capacity {capacity:.0f} decisions/s; "
              f"{args.decisions} decisions, best of {args.repeats}")
        print(f"sequential: {sequential * 1000:.1f} ms per decision ({1 / sequential:.1f}/s)")
        print(f"{'concurrency':>11s} {'wall s':>7s} {'decisions/s':>11s} {'of capacity':>11s} {'speed-up':>8s} "
              f"{'CPU ms/call':>11s}{' max in flight' if server else ''}")
        for level in levels:
            if server:
                server.stats.max_in_flight = 0
            wall, cpu = min(timed(Dispatcher(max_concurrency=level), client, requests(args.decisions))
                            for _ in range(args.repeats))
            rate = args.decisions / wall
            print(f"{level:11d} {wall:7.2f} {rate:11.1f} {rate / capacity:11.2f} {rate * sequential:7.1f}x "
                  f"{cpu / args.decisions * 1000:11.2f}" + (f" {server.stats.max_in_flight:13d}" if server else ""))
    if server:
        server.__exit__(None, None, None)


if __name__ == "__main__":
    main()
