"""What tool rounds cost: decisions with a notebook toolbox against the same decisions without one.

    python benchmarks/bench_tools.py                       # embedded Gemma 3 270M, 6 decisions, 8 rounds
    python benchmarks/bench_tools.py --llm fake --decisions 200

A decision is bench_embedded.py's daily choice, with a note in the system prompt that the
resident keeps a notebook (list_notes, read_note, update_note; a note must be read before it is
rewritten). Each decision runs once as a plain job and once as a job with its own notebook
through one Dispatcher (one call at a time, so seconds per decision are comparable), and the
script prints seconds, model calls, tool calls and refused calls per decision, the tools called,
valid answers, and each tool decision's calls in order. The embedded model calls tools by the
JSON convention of llm/json_tools.py.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from dataclasses import replace

from bench_embedded import decision, valid

from agentopia_mesa.llm import Dispatcher, ToolCall, make_backend

NOTEBOOK = (" You keep a notebook of notes about your life. Before you answer you may use its tools to "
            "list, read or update notes; write down what you plan.")


def _spec(tool: str, description: str, **properties: dict) -> dict:
    return {"type": "function", "function": {"name": tool, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": list(properties)}}}


class Notebook:
    """Notes in a dict; rewriting an existing note needs a read of it first."""

    def __init__(self):
        self.notes = {"plans": "Save money for a bike.", "friends": "Ben bakes on Saturdays."}
        self.read: set[str] = set()

    def specs(self) -> list[dict]:
        note = {"type": "string", "enum": ["plans", "friends", "health"]}
        return [_spec("list_notes", "The names of your notes."), _spec("read_note", "Read a note.", name=note),
                _spec("update_note", "Rewrite a note.", name=note, text={"type": "string", "maxLength": 80})]

    def call(self, call: ToolCall) -> str:
        name, text = call.arguments.get("name"), call.arguments.get("text")
        if call.name == "list_notes":
            return ", ".join(sorted(self.notes))
        if call.name == "read_note":
            self.read.add(name)
            return self.notes.get(name, f"refused: there is no note {name!r}")
        if name in self.notes and name not in self.read:
            return f"refused: read {name!r} before you rewrite it"
        self.notes[name] = str(text)
        return f"saved {name!r}"


def tooled(i: int):
    request = decision(i)
    system = {**request.messages[0], "content": request.messages[0]["content"] + NOTEBOOK}
    return replace(request, messages=(system, *request.messages[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", default="embedded", help="backend spec: embedded or fake")
    parser.add_argument("--decisions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=8, help="most calls per decision, the answer's included")
    args = parser.parse_args()
    backend = make_backend(args.llm)
    backend.check()
    print(f"{args.llm}, {args.decisions} decisions, {args.rounds} rounds, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    dispatcher = Dispatcher(max_concurrency=1, timeout_s=600, max_rounds=args.rounds)
    n = args.decisions
    for label, jobs in (("plain", [(backend, tooled(i), lambda t: t) for i in range(n)]),
                        ("tools", [(backend, tooled(i), lambda t: t, Notebook()) for i in range(n)])):
        start = time.perf_counter()
        outcomes = dispatcher.run(jobs)
        wall = time.perf_counter() - start
        uses = [o.tool_use for o in outcomes if o.tool_use is not None]
        calls = [c for u in uses for c in u.calls]
        refused = sum(r.startswith("refused") for u in uses for r in u.results)
        model_calls = sum(o.attempts + (o.tool_use.rounds if o.tool_use else 0) for o in outcomes)
        print(f"{label}: {wall / n:.3f} s per decision, {model_calls / n:.1f} model calls, {len(calls) / n:.1f} "
              f"tool calls ({refused} refused) per decision, {sum(valid(o.value or '') for o in outcomes) / n:.0%} "
              f"valid, prompt tokens {sum(o.result.prompt_tokens for o in outcomes if o.result) / n:.0f} per decision")
        if uses:
            print(f"  tools called: {dict(Counter(c.name for c in calls))}")
            for i, use in enumerate(uses[:8]):  # the first few, in full
                steps = [f"{c.name}({json.dumps(c.arguments)}) -> {r[:40]!r}" for c, r in zip(use.calls, use.results)]
                print(f"  decision {i}: {'; '.join(steps) or 'no calls'}; answer {outcomes[i].texts[-1:]}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
