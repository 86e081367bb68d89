"""How busy a whole LLM town keeps a server of known capacity, and where the server waits for us.

    python benchmarks/bench_server_use.py                                  # 100 residents, 1 week, 64 slots, 0.2 s
    python benchmarks/bench_server_use.py --slots 8 --latency 0.05 --concurrency 8 16
    python benchmarks/bench_server_use.py --profile paper --env llm

The server is in-process (``SlotServer``): the fake backend's answers after a fixed ``latency``
inside one of K slots, so capacity is K / latency calls per second and nothing but the
simulation and the dispatcher can leave it idle. ``bench_dispatcher.py`` measures one stage over
HTTP; this measures a week: every stage, the CPU work between stages, and stages with fewer
requests than slots.

Reported per concurrency level: wall seconds of the simulation, calls, the fraction of capacity
used (busy slot-seconds / (K x wall)), the barrier ceiling (the fraction a perfect dispatcher
would reach with the week's stages as they are: each dispatcher run in its fewest latencies, no
time between runs), and per stage (the first part of a call's tag) the wall
time its dispatcher runs took, its calls and its fraction; "between runs" is the wall time when
no dispatcher run was in progress (the simulation's own work: prompts, parsing, the rules).
``--towns N`` runs N towns side by side on the one server, as a sweep's runs would.
"""

from __future__ import annotations

import argparse
import math
import os
import threading
import time
from collections import Counter, defaultdict

from agentopia_mesa.config import PROFILES, SimulationConfig
from agentopia_mesa.environment.llm_environment import LLMEnvironment
from agentopia_mesa.llm.client import ChatRequest, ChatResult
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.minds.llm_mind import LLMMind
from agentopia_mesa.model import AgentopiaModel


class SlotServer:
    """The fake backend behind K slots with a fixed latency; it counts calls and busy seconds (the
    latency, as a server's slot would be busy) per stage, the first part of a call's tag."""

    backend = "fake"

    def __init__(self, slots: int, latency_s: float):
        self.fake = FakeBackend()
        self.model, self.name = self.fake.model, self.fake.name
        self.latency_s = latency_s
        self.calls: Counter = Counter()
        self._slots = threading.Semaphore(slots)
        self._lock = threading.Lock()

    def check(self) -> None:
        """Always available."""

    def chat(self, request: ChatRequest) -> ChatResult:
        with self._slots:
            time.sleep(self.latency_s)
            result = self.fake.chat(request)
        with self._lock:
            self.calls[request.tag.split("/", 1)[0]] += 1
        return result

    def busy_s(self, stage: str | None = None) -> float:
        """Slot-seconds spent answering (one stage's, or all)."""
        return self.latency_s * (self.calls[stage] if stage else sum(self.calls.values()))


def _calls(outcome) -> int:
    """The calls one job made, one after another: its tool rounds and its answer's attempts."""
    return outcome.attempts + (outcome.tool_use.rounds if outcome.tool_use is not None else 0)


class MeteredDispatcher(Dispatcher):
    """A dispatcher that notes each run's stage, start and end, and the fewest latencies the run
    could take with ``slots`` slots: ``max(ceil(calls / slots), the longest job's calls)``."""

    def __init__(self, slots: int, **options):
        super().__init__(**options)
        self.slots = slots
        self.runs: list[tuple[str, float, float, int]] = []  # (stage, start, end, fewest latencies)

    def run(self, jobs):
        start = time.perf_counter()
        outcomes = super().run(jobs)
        if jobs:
            chains = [_calls(o) for o in outcomes]
            fewest = max(math.ceil(sum(chains) / self.slots), max(chains))
            self.runs.append(((jobs[0][1].tag or "calls").split("/", 1)[0], start, time.perf_counter(), fewest))
        return outcomes


def town(args, server: SlotServer, dispatcher: Dispatcher) -> AgentopiaModel:
    """A town whose residents (and environment, with ``--env llm``) ask ``server``."""
    minds = {}  # one LLM mind for everyone

    def mind(model, profile, index):
        return minds.setdefault("llm", LLMMind(server, model.rule_mind, dispatcher, seed=1))

    def environment(model):
        return LLMEnvironment(server, model.rule_environment, dispatcher, seed=1)

    return AgentopiaModel(world=args.world, residents=args.residents, years=1, seed=1,
                          config=SimulationConfig().with_flat_overrides(PROFILES[args.profile]), minds=mind,
                          environment=environment if args.env == "llm" else None, calendar__weeks_per_year=args.weeks)


def measure(args, concurrency: int) -> dict:
    """Run ``args.towns`` towns side by side on one server, each with its own dispatcher (as a
    sweep's runs would); per-stage figures are the first town's."""
    server = SlotServer(args.slots, args.latency)
    dispatchers = [MeteredDispatcher(args.slots, max_concurrency=concurrency, timeout_s=600) for _ in range(args.towns)]
    towns = [town(args, server, d) for d in dispatchers]
    cpu, start = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=t.run) for t in towns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    first = dispatchers[0]
    stage_wall = defaultdict(float)
    for stage, begin, end, _ in first.runs:
        stage_wall[stage] += end - begin
    # A perfect dispatcher with the week's stage barriers as they are: every run in its fewest
    # latencies, no time between runs (one town's).
    fewest_s = args.latency * sum(fewest for *_, fewest in first.runs)
    total_calls = sum(server.calls.values())
    one = server.busy_s() / args.towns
    return {"wall": wall, "cpu": cpu, "calls": total_calls, "use": server.busy_s() / (args.slots * wall),
            "ceiling": one / (args.slots * fewest_s), "between": wall - sum(stage_wall.values()),
            "runs": len(first.runs),
            "stages": {s: (stage_wall[s], server.calls[s] // args.towns,
                           server.busy_s(s) / args.towns / (args.slots * stage_wall[s]) if stage_wall[s] else 0.0)
                       for s in sorted(stage_wall, key=stage_wall.get, reverse=True)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=1, help="weeks (one year of this many weeks)")
    parser.add_argument("--world", default="apartment")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="lean")
    parser.add_argument("--env", choices=("rules", "llm"), default="rules")
    parser.add_argument("--slots", type=int, default=64, help="the server's parallel slots (K)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per call inside a slot")
    parser.add_argument("--concurrency", nargs="*", type=int, default=None, help="default: K")
    parser.add_argument("--towns", type=int, default=1, help="towns run side by side on the server (a sweep's runs)")
    args = parser.parse_args()
    print(f"{args.residents} residents x {args.weeks} week(s), {args.world}, profile {args.profile}, env {args.env}; "
          f"{args.towns} town(s) side by side; server K={args.slots} slots x {args.latency * 1000:g} ms; load average {os.getloadavg()[0]:.1f}")
    for level in args.concurrency or [args.slots]:
        m = measure(args, level)
        print(f"concurrency {level}: {m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU, {m['calls']} calls "
              f"({m['cpu'] / max(1, m['calls']) * 1000:.2f} ms CPU per call), {m['runs']} dispatcher runs a town; "
              f"capacity used {m['use']:.2f} (one town's barrier ceiling {m['ceiling']:.2f}); between runs {m['between']:.1f} s")
        print(f"  {'stage':<12s} {'wall s':>7s} {'calls':>6s} {'of capacity':>11s}")
        for stage, (wall, calls, use) in m["stages"].items():
            print(f"  {stage:<12s} {wall:7.2f} {calls:6d} {use:11.2f}")


if __name__ == "__main__":
    main()
