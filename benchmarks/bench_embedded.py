"""Seconds per JSON decision with the embedded model (Gemma 3 270M Q4_K_M, xllamacpp, in-process).

    python benchmarks/bench_embedded.py                        # 12 decisions, 2 threads
    python benchmarks/bench_embedded.py --decisions 24 --parallel 1 2 --compare-layout

A decision is a resident's daily choice: a system prompt with the profile and state (about 150
tokens), and a JSON schema with an action enum and a short reason. For each ``--parallel`` n the
model is loaded with n slots and the decisions go through a Dispatcher with n concurrent calls.
``--compare-layout`` also times llama.cpp's own ``json_schema`` path (free whitespace), which the
backend avoids.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from agentopia_mesa.llm import ChatOptions, ChatRequest, Dispatcher
from agentopia_mesa.llm.embedded_backend import EmbeddedBackend

SCHEMA = {"type": "object", "properties": {"action": {"enum": ["work", "rest", "socialize", "study", "exercise"]},
                                           "reason": {"type": "string", "maxLength": 60}},
          "required": ["action", "reason"], "additionalProperties": False}
SYSTEM = ("You are {name}, {age}, a {job} in Rivertown. Traits: {traits}. You value family, health and "
          "learning. Each day you choose one activity: work (earns money, tires you), rest (restores "
          "vitality), socialize (meets friends, lifts mood), study (builds skills), exercise (health). "
          'Reply only with JSON: {{"action": one of the activities, "reason": a short sentence}}.')
USER = ("It is {day}. Vitality {vitality}/100. Needs (fulfilment 0-100): mood {mood}, material {material}, "
        "social {social}, esteem {esteem}. Deposit {deposit} coins. What do you do today?")
PEOPLE = [("Ana Lopez", 34, "nurse", "kind, anxious"), ("Ben Okafor", 51, "baker", "cheerful, stubborn"),
          ("Chen Wei", 27, "teacher", "curious, shy"), ("Dora Nagy", 45, "mechanic", "practical, blunt")]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def decision(i: int) -> ChatRequest:
    name, age, job, traits = PEOPLE[i % len(PEOPLE)]
    state = {k: (37 * i + 11 * j) % 90 + 5 for j, k in enumerate(("vitality", "mood", "material", "social", "esteem"))}
    return ChatRequest(
        messages=({"role": "system", "content": SYSTEM.format(name=name, age=age, job=job, traits=traits)},
                  {"role": "user", "content": USER.format(day=DAYS[i % 7], deposit=120 + 13 * i, **state)}),
        schema=SCHEMA, options=ChatOptions(temperature=0.7, seed=i, max_tokens=96), tag=f"bench/{name}/{i}")


def valid(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("action") in SCHEMA["properties"]["action"]["enum"]


def run(parallel: int, n: int) -> dict:
    backend = EmbeddedBackend(n_ctx=2048, n_parallel=parallel)
    start = time.perf_counter()
    backend.check()
    load_s = time.perf_counter() - start
    backend.chat(decision(1000))  # warm-up: first-call allocations and the system prompt prefix
    start = time.perf_counter()
    outcomes = Dispatcher(max_concurrency=parallel, timeout_s=300).run(
        [(backend, decision(i), lambda t: t) for i in range(n)])
    wall = time.perf_counter() - start
    latencies = [o.result.latency_s for o in outcomes]
    return {"parallel": parallel, "load_s": load_s, "s_per_decision": wall / n,
            "median_call_s": statistics.median(latencies), "max_call_s": max(latencies),
            "completion_tokens": statistics.mean(o.result.completion_tokens for o in outcomes),
            "prompt_tokens": statistics.mean(o.result.prompt_tokens for o in outcomes),
            "valid": sum(valid(o.value) for o in outcomes) / n,
            "actions": sorted({json.loads(o.value)["action"] for o in outcomes if valid(o.value)})}


def schema_path(n: int) -> dict:
    """The same decisions through llama.cpp's ``json_schema`` (flexible whitespace)."""
    server = EmbeddedBackend(n_ctx=2048).server
    times, tokens, ok = [], [], 0
    for i in range(n):
        r = decision(i)
        start = time.perf_counter()
        data = server.handle_chat_completions({"messages": list(r.messages), "json_schema": r.schema,
                                               "temperature": 0.7, "seed": i, "max_tokens": 96})
        times.append(time.perf_counter() - start)
        tokens.append(data["usage"]["completion_tokens"])
        ok += valid(data["choices"][0]["message"]["content"])
    return {"s_per_decision": statistics.mean(times), "completion_tokens": statistics.mean(tokens), "valid": ok / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=12)
    parser.add_argument("--parallel", nargs="*", type=int, default=[1, 2], help="slots = concurrent calls")
    parser.add_argument("--compare-layout", action="store_true")
    args = parser.parse_args()
    print(f"{args.decisions} decisions, n_threads=2, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'slots':>5s} {'load s':>6s} {'s/decision':>10s} {'median call s':>13s} {'max call s':>10s} "
          f"{'prompt tok':>10s} {'answer tok':>10s} {'valid':>5s}  actions")
    for parallel in args.parallel:
        r = run(parallel, args.decisions)
        print(f"{r['parallel']:5d} {r['load_s']:6.2f} {r['s_per_decision']:10.2f} {r['median_call_s']:13.2f} "
              f"{r['max_call_s']:10.2f} {r['prompt_tokens']:10.0f} {r['completion_tokens']:10.1f} "
              f"{r['valid']:5.0%}  {','.join(r['actions'])}")
    if args.compare_layout:
        r = schema_path(args.decisions)
        print(f"json_schema path (free whitespace), 1 slot: {r['s_per_decision']:.2f} s/decision, "
              f"{r['completion_tokens']:.1f} answer tokens, {r['valid']:.0%} valid")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
