"""What a town's weeks cost on one GPU: the town against a server simulated in virtual time.

    python benchmarks/bench_serving.py                                   # lean, 100 residents, 2 weeks, 8B
    python benchmarks/bench_serving.py --profile paper --env llm --model 32b
    python benchmarks/bench_serving.py --towns 4                          # four towns share the server
    python benchmarks/bench_serving.py --table --weeks 2                  # the README's table
    python benchmarks/bench_serving.py --profile paper --env llm --one-order --tools first   # before the cuts

The town runs for real through the real dispatcher (``llm/virtual_server.py``): the fake backend
(``fake:verbose`` by default, ``--fake terse`` for short answers)
writes the answers, a continuous-batching server simulated in virtual time (``llm/serving_model.py``,
costs from ``H100_COSTS``) decides when each call ends; prompt and answer tokens are counted by
Gemma 3's tokenizer from the embedded GGUF (``--tokenizer words``: one token a word). Reported per
stage (the first part of a call's tag), for the first town: the virtual wall time of its dispatcher
runs; and over the server (every town): calls, "active" seconds (while at least one of the stage's
calls was in the server: calls started ahead run during other stages' runs), mean running sequences
of the stage while active, prompt tokens, of them prefilled (computed: the rest came from the prefix
cache), decoded tokens, the prefix-cache hit rate (prompt tokens found cached).

The ten years: the town's calendar has ``weeks_per_year`` weeks a year (10 by default), so a
100-resident, 10-year town is 100 weeks and 10 year ends. ``--weeks W`` simulates one year of W
weeks, its last week holding the year end; hours = 10 x (weeks_per_year x (T - T_end) / W + T_end),
T the virtual time of the W weeks, T_end that of the year end's runs (stages ``YEAR_END``). With
several towns T is the time until all have ended; the hours are those of the whole batch.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import dataclass, replace

from bench_server_use import town, town_arguments

from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.llm.serving_model import H100_COSTS, ServingModel
from agentopia_mesa.llm.virtual_server import GemmaTokenizer, VirtualDispatcher, VirtualServer, WordTokenizer, run_towns

#: Stages of the year end (stages/year_end.py, stages/life_reward.py): run once a year.
YEAR_END = ("job_wishes", "rating", "env-profile", "env-jobs", "env-hiring", "env-ratings")

PAPER_HOURS = 186  # the paper's 100-resident, 10-year run: 13.7 B tokens, 567 K calls, about 186 h


@dataclass
class Week:
    """One simulation's figures: ``virtual_s`` until every town ended, ``end_s`` of them in the
    first town's year-end runs, ``weeks`` simulated, the server's stats, the first town's per-stage
    run time, real seconds spent, calls."""

    virtual_s: float
    end_s: float
    weeks: int
    towns: int
    stats: object
    stage_wall: dict
    real_s: float
    server: VirtualServer

    def ten_year_hours(self, weeks_per_year: int) -> float:
        """Hours of 10 years (module docstring)."""
        week_s = (self.virtual_s - self.end_s) / self.weeks
        return 10 * (weeks_per_year * week_s + self.end_s) / 3600


def tools_after_system(args, model_name: str) -> bool:
    """Where the model's chat template puts the tools (``--tools``; by default as the model's own
    template: Llama 3.1's changes its system header, Qwen2.5's adds them after the system message)."""
    return args.tools == "after-system" or (args.tools == "model" and model_name.startswith("32b"))


def simulate(args, model_name: str, towns: int, tokenizer) -> Week:
    """``towns`` towns of ``args`` against one simulated ``model_name`` server."""
    costs = H100_COSTS[model_name]
    if args.max_seqs:
        costs = replace(costs, max_seqs=args.max_seqs)
    answers = FakeBackend("verbose", verbose=True) if args.fake == "verbose" else FakeBackend()
    server = VirtualServer(answers, ServingModel(costs), tokenizer, args.answers == "budget",
                           tools_after_system=tools_after_system(args, model_name))
    dispatchers = [VirtualDispatcher(server, alternate=not args.one_order) for _ in range(towns)]
    models = [town(args, server, d, seed=1 + i) for i, d in enumerate(dispatchers)]  # a sweep's runs differ
    real = time.perf_counter()
    run_towns(server, models)
    stage_wall = defaultdict(float)
    for stage, start, end in dispatchers[0].runs:
        stage_wall[stage] += end - start
    end_s = sum(stage_wall[s] for s in YEAR_END)
    return Week(server.serving.now, end_s, args.weeks, towns, server.serving.stats, dict(stage_wall),
                time.perf_counter() - real, server)


def report(args, model_name: str, w: Week) -> None:
    costs = w.server.serving.costs
    total = w.stats.total()
    print(f"{costs.name}, at most {costs.max_seqs} running, answers {args.answers} by fake:{args.fake}, runs sent {"in one order" if args.one_order else "in alternate orders"}, tools {"after the system message" if w.server.tools_after_system else "first"}: {w.towns} town(s) x {args.residents} residents x {args.weeks} week(s), profile {args.profile}, "
          f"env {args.env}: {w.virtual_s:.0f} virtual s ({w.stats.busy_s:.0f} s of engine steps, {w.stats.steps} steps), "
          f"{total.calls} calls, {total.prompt} prompt tokens ({total.hit_rate:.0%} from the prefix cache), "
          f"{total.prefilled} prefilled, {total.decoded} decoded, mean running sequences "
          f"{total.running_s / max(w.virtual_s, 1e-9):.1f}; {w.real_s:.0f} s real")
    print(f"  10 years (weeks_per_year {args.weeks_per_year}): {w.ten_year_hours(args.weeks_per_year):.1f} h for "
          f"{w.towns} town(s); year end {w.end_s:.0f} s")
    print(f"  {'stage':<16s} {'wall s':>8s} {'calls':>6s} {'active s':>8s} {'running':>8s} {'prompt':>9s} "
          f"{'prefilled':>9s} {'decoded':>8s} {'hit':>5s}")
    active = active_s(w.server.requests)
    for stage in sorted(w.stats.stages, key=lambda s: -w.stage_wall.get(s, 0)):
        s, wall = w.stats.stages[stage], w.stage_wall.get(stage, 0.0)
        print(f"  {stage:<16s} {wall:8.1f} {s.calls:6d} {active[stage]:8.1f} {s.running_s / active[stage]:8.1f} "
              f"{s.prompt:9d} {s.prefilled:9d} {s.decoded:8d} {s.hit_rate:5.0%}")


def active_s(requests) -> dict:
    """Per stage, the virtual seconds during which at least one of its requests was in the server
    (the union of their [arrived, finished] spans)."""
    spans = defaultdict(list)
    for r in requests:
        spans[r.stage].append((r.arrived, r.finished))
    out = {}
    for stage, pairs in spans.items():
        total, end = 0.0, float("-inf")
        for start, stop in sorted(pairs):
            if stop > end:
                total += stop - max(start, end)
                end = stop
        out[stage] = total
    return out


def table(args, tokenizer) -> None:
    """The README's table: hours of a 100 x 10-year town per model, profile and towns a server."""
    rows = []
    for profile, env in (("lean", "rules"), ("paper", "llm")):
        args.profile, args.env = profile, env
        for model_name in args.models:
            for towns in args.towns_list:
                w = simulate(args, model_name, towns, tokenizer)
                report(args, model_name, w)
                total = w.stats.total()
                hours = w.ten_year_hours(args.weeks_per_year)
                rows.append(f"| {H100_COSTS[model_name].name} | {profile} (env {env}) | {towns} | {hours:.1f} | "
                            f"{hours / towns:.1f} | {total.calls // towns // args.weeks} | "
                            f"{(total.prompt + total.decoded) // towns // args.weeks / 1e6:.2f} M | {total.hit_rate:.0%} | "
                            f"{total.running_s / w.virtual_s:.0f} |")
    print("\n| model, GPU | profile | towns on the server | hours, all towns, 10 years | hours per town | calls a town-week | "
          "tokens a town-week | prefix hits | mean running |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"| the paper (its own setup) | paper | 1 | {PAPER_HOURS} | {PAPER_HOURS} | 5,670 | 137 M | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    town_arguments(parser, weeks=2)
    parser.add_argument("--model", choices=sorted(H100_COSTS), default="8b")
    parser.add_argument("--towns", type=int, default=1, help="towns side by side on the one server")
    parser.add_argument("--tokenizer", choices=("gemma", "words"), default="gemma")
    parser.add_argument("--answers", choices=("written", "budget"), default="written",
                        help="answer tokens: as the fake wrote them (+1 for the end), or every answer at its max_tokens")
    parser.add_argument("--fake", choices=("verbose", "terse"), default="verbose",
                        help="who writes the answers: fake:verbose (every text at the asked length, as a capable "
                             "model writes) or the terse fake (short texts: the first table's answers)")
    parser.add_argument("--tools", choices=("model", "first", "after-system"), default="model",
                        help="where the chat template puts the tools offered: before everything (Llama 3.1), after "
                             "the system message (Qwen2.5, our note for models without tools); model: as the "
                             "model's own template (8b: first, 32b: after-system)")
    parser.add_argument("--one-order", action="store_true",
                        help="send every run's calls in the town's order (as before the dispatcher sent every "
                             "other run in reverse, for the prefix cache)")
    parser.add_argument("--max-seqs", type=int, default=0, help="the server's bound on running sequences (default: the cost model's, 256)")
    parser.add_argument("--table", action="store_true", help="every model and profile, 1 and --table-towns towns")
    parser.add_argument("--models", nargs="*", default=["8b", "32b"])
    parser.add_argument("--table-towns", dest="towns_list", nargs="*", type=int, default=[1, 4])
    args = parser.parse_args()
    args.weeks_per_year = SimulationConfig().calendar.weeks_per_year
    tokenizer = GemmaTokenizer() if args.tokenizer == "gemma" else WordTokenizer()
    if args.table:
        table(args, tokenizer)
    else:
        report(args, args.model, simulate(args, args.model, args.towns, tokenizer))


if __name__ == "__main__":
    main()
