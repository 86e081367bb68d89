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
time between runs), the overlap bound (the fraction a perfect overlap could reach that only the
week's real data dependencies hold back: a day's conversations, solo slots and public events side
by side, each day after the one before, every other stage after the one before; ``segments``),
and per stage (the first part of a call's tag) the wall
time its dispatcher runs took, its calls, those of them started ahead (``Dispatcher.ahead``: they
ran while other stages' runs waited) and the fraction of capacity the rest used; "between runs" is the wall time when
no dispatcher run was in progress (the simulation's own work: prompts, parsing, the rules).
``--towns N`` runs N towns side by side on the one server, as a sweep's runs would.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

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
        self.slots, self._slots = slots, threading.Semaphore(slots)
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
    """A dispatcher that notes each run (``Run``): its stage and call site, start and end, and the
    chain of calls of each job."""

    def __init__(self, slots: int, **options):
        super().__init__(**options)
        self.slots = slots
        self.runs: list[Run] = []
        self.started_ahead = 0  # jobs started ahead (``Dispatcher.ahead``)
        self.taken: Counter = Counter()  # of those, the ones a run took, by stage

    def ahead(self, jobs):
        started = super().ahead(jobs)
        self.started_ahead += len(started.tags)
        return started

    def _started(self, job):
        future = super()._started(job)
        if future is not None:
            self.taken[(job[1].tag or "calls").split("/", 1)[0]] += 1
        return future

    def run(self, jobs):
        start = time.perf_counter()
        outcomes = super().run(jobs)
        if jobs:
            tag = jobs[0][1].tag or "calls"
            self.runs.append(Run(tag.split("/", 1)[0], tag.rsplit("/", 1)[-1], start, time.perf_counter(),
                                 [_calls(o) for o in outcomes], self.slots))
        return outcomes


@dataclass
class Run:
    """One dispatcher run: its ``stage`` (the first part of its jobs' tag), ``when`` (the first job's
    stamp, e.g. "Y2020-W01-D3-turn2"), wall ``start`` and ``end`` (s), each job's ``chains`` (calls
    one after another) and the server's ``slots``."""

    stage: str
    when: str
    start: float
    end: float
    chains: list[int]
    slots: int

    @property
    def calls(self) -> int:
        return sum(self.chains)

    @property
    def longest(self) -> int:
        """The longest job's calls: latencies no overlap can shorten."""
        return max(self.chains)

    @property
    def fewest(self) -> int:
        """The fewest latencies this run alone can take: ``max(ceil(calls / slots), longest)``."""
        return max(math.ceil(self.calls / self.slots), self.longest)


#: A day's stages, by the chain of the day they are on (stages/activities.py): a resident's solo
#: slot (its decision, the environment's outcome and shop window, its purchase), a public event
#: (each participant's description, then the group's verdict); every other stage of a day is a
#: conversation's (entries, the environment's turns and the replies, the outcome, the exits).
SOLO_CHAIN = ("solo", "env-encounters", "env-solo", "env-shop", "purchase")
PUBLIC_CHAIN = ("public", "env-public")
DAY_STAGES = {*SOLO_CHAIN, *PUBLIC_CHAIN}


def segments(runs: list[Run]) -> list[list[Run]]:
    """The runs in segments that real data dependencies put one after another: every activity day
    is one segment (its solo slots, public events and conversations could overlap; tomorrow reads
    today's outcomes); every other run is a segment of its own (plan, signup, each contact round,
    review, the year end: each reads the previous one's answers from every resident).

    A run's day is its stamp's "-D<n>"; a solo decision (stamped without a day) opens the next
    day, a purchase belongs to the day it follows."""
    out: list[list[Run]] = []
    week, day, current = None, 0, None
    for run in runs:
        this_week = run.when.split("-", 2)[:2]
        if this_week != week:
            week, day, current = this_week, 0, None
        found = re.search(r"-D(\d+)", run.when)
        on_day = int(found.group(1)) if found else day + 1 if run.stage == "solo" else day if run.stage == "purchase" else None
        if on_day is None or not (found or run.stage in DAY_STAGES):
            out.append([run])
            current = None
            continue
        if current is None or on_day != day:
            current = []
            out.append(current)
        day = on_day
        current.append(run)
    return out


def overlap_latencies(segment: list[Run], slots: int) -> int:
    """The fewest latencies ``segment`` takes with perfect overlap inside it: at least its calls over
    the slots, rounded up, and at least its longest chain: a conversation's runs one after another (the
    longest conversation's entry, turns, outcome and exit), a solo slot's stages, a public event's.
    (Generous: a conversation from an encounter is not made to wait for the day's solo decisions.)"""
    calls = sum(r.calls for r in segment)
    solo = sum(max((r.longest for r in segment if r.stage == s), default=0) for s in SOLO_CHAIN)
    public = sum(max((r.longest for r in segment if r.stage == s), default=0) for s in PUBLIC_CHAIN)
    talk = sum(r.longest for r in segment if r.stage not in DAY_STAGES)
    return max(math.ceil(calls / slots), solo, public, talk)


def town(args, server: SlotServer, dispatcher: Dispatcher, seed: int = 1) -> AgentopiaModel:
    """A town whose residents (and environment, with ``--env llm``) ask ``server``; towns of other
    ``seed`` differ in residents, draws and so prompts."""
    minds = {}  # one LLM mind for everyone

    def mind(model, profile, index):
        return minds.setdefault("llm", LLMMind(server, model.rule_mind, dispatcher, seed=seed))

    def environment(model):
        return LLMEnvironment(server, model.rule_environment, dispatcher, seed=seed)

    return AgentopiaModel(world=args.world, residents=args.residents, years=1, seed=seed,
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
    for run in first.runs:
        stage_wall[run.stage] += run.end - run.start
    # A perfect dispatcher with the week's stage barriers as they are: every run in its fewest
    # latencies, no time between runs (one town's).
    fewest_s = args.latency * sum(run.fewest for run in first.runs)
    # A perfect overlap that only real data dependencies hold back (``segments``).
    parts = [(len(seg) > 1 or seg[0].stage in DAY_STAGES, overlap_latencies(seg, args.slots)) for seg in segments(first.runs)]
    overlap_s = args.latency * sum(latencies for _, latencies in parts)
    total_calls = sum(server.calls.values())
    one = server.busy_s() / args.towns
    return {"wall": wall, "cpu": cpu, "calls": total_calls, "use": server.busy_s() / (args.slots * wall),
            "ceiling": one / (args.slots * fewest_s), "overlap": one / (args.slots * overlap_s),
            "between": wall - sum(stage_wall.values()), "runs": len(first.runs),
            "day_latencies": sum(n for day, n in parts if day), "other_latencies": sum(n for day, n in parts if not day),
            "days": sum(day for day, _ in parts), "ahead": (first.started_ahead, first.taken.total()),
            "stages": {s: (stage_wall[s], server.calls[s] // args.towns, first.taken[s],
                           _stage_use(server, s, first.taken[s], args.towns, stage_wall[s]))
                       for s in sorted(stage_wall, key=stage_wall.get, reverse=True)}}


def _stage_use(server: SlotServer, stage: str, taken: int, towns: int, wall: float) -> float:
    """The fraction of capacity a stage's runs used: its calls' busy time over its runs' wall time,
    less the calls started ahead (they ran during other stages' runs)."""
    if not wall:
        return 0.0
    return (server.busy_s(stage) / towns - taken * server.latency_s) / (server.slots * wall)


def town_arguments(parser: argparse.ArgumentParser, weeks: int = 1) -> None:
    """The options ``town`` reads: residents, weeks, world, profile, environment."""
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=weeks, help="weeks (one year of this many weeks)")
    parser.add_argument("--world", default="apartment")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="lean")
    parser.add_argument("--env", choices=("rules", "llm"), default="rules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    town_arguments(parser)
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
              f"capacity used {m['use']:.2f} (one town's barrier ceiling {m['ceiling']:.2f}, overlap bound "
              f"{m['overlap']:.2f}); between runs {m['between']:.1f} s; calls started ahead {m['ahead'][0]}, "
              f"{m['ahead'][1]} of them used")
        print(f"  overlap bound: {m['days']} activity days in {m['day_latencies']:.0f} latencies, the other stages in "
              f"{m['other_latencies']:.0f}")
        print(f"  {'stage':<12s} {'wall s':>7s} {'calls':>6s} {'ahead':>6s} {'of capacity':>11s}")
        for stage, (wall, calls, ahead, use) in m["stages"].items():
            print(f"  {stage:<12s} {wall:7.2f} {calls:6d} {ahead:6d} {use:11.2f}")


if __name__ == "__main__":
    main()
