"""What a study will cost before it starts: towns, agent-weeks, LLM calls and tokens by step, hours.

Per-agent-week costs are data (``costs.json``): measured with ``benchmarks/bench_conversations.py
--llm fake:verbose``, a society that goes out, proposes, accepts and converses and writes at the
asked lengths, for each profile, with the command and date. A step's cost is its agent-weeks times
its profile's figures (the residents', plus the environment's when it is an LLM); the role-play
evaluation is counted per call. Hours come from one seam, ``hours_for(cost)`` of a ``StepCost``
(its calls, prompt and completion tokens): a flat ``--tokens-per-second``, or ``--server NAME``: the
hours that the serving model (``llm/serving_model.py``: continuous batching, prefill and decode
rates, a prefix cache; driven by a real town in ``benchmarks/bench_serving.py``) predicts for one
100-resident, 10-year town of the profile on that GPU, per agent-week (``costs.json``'s
``serving``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agentopia_mesa.study.spec import StudySpec
from agentopia_mesa.study.towns import merged

COSTS_FILE = Path(__file__).with_name("costs.json")


@cache
def measured_costs() -> dict:
    """The per-agent-week figures of ``costs.json`` (command, date, per profile)."""
    return json.loads(COSTS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class StepCost:
    step: str
    towns: int
    agent_weeks: int
    calls: float
    prompt_tokens: float
    completion_tokens: float
    profile: str = "lean"

    @property
    def tokens(self) -> float:
        return self.prompt_tokens + self.completion_tokens


def per_agent_week(profile: str, llm_environment: bool) -> tuple[float, float, float]:
    """(calls, prompt tokens, completion tokens) of one agent-week in ``profile``'s society."""
    data = measured_costs()
    p, per_word = data["profiles"][profile], data["prompt_tokens_per_word"]
    calls, prompt, completion = p["calls"], p["prompt_words"] * per_word, p["completion_tokens"]
    if llm_environment:
        calls += p["environment_calls"]
        prompt += p["environment_prompt_words"] * per_word
        completion += p["environment_completion_tokens"]
    return calls, prompt, completion


def _town_step(spec: StudySpec, step: str, society: dict) -> StepCost:
    profile = society.get("profile", "lean")
    llm_env = society.get("env", "llm" if profile == "paper" else "rules") == "llm"
    calls, prompt, completion = per_agent_week(profile, llm_env)
    towns = spec.towns_per_generation
    weeks = towns * spec.agent_weeks_per_town
    return StepCost(step, towns, weeks, calls * weeks, prompt * weeks, completion * weeks, profile)


def plan_costs(spec: StudySpec) -> list[StepCost]:
    """The cost of each step that calls a model (training's own compute is not counted)."""
    steps = [_town_step(spec, "generation0", spec.society)]
    steps += [_town_step(spec, f"ablation {name}", merged(spec.society, over)) for name, over in spec.ablations.items()]
    steps.append(_town_step(spec, "generation1", spec.society))
    if spec.evaluation is not None:
        e = spec.evaluation
        scenes = e.scenes or 10
        calls = 2 * scenes * (2 * e.rounds + 1) + 2 * scenes  # two players' plays, then one verdict each
        per_call = per_agent_week("lean", False)
        steps.append(StepCost("evaluation", 0, 0, calls, calls * per_call[1] / per_call[0], calls * per_call[2] / per_call[0]))
    return steps


HoursFor = Callable[[StepCost], float]


def flat_rate_hours(tokens_per_second: float) -> HoursFor:
    """Hours at one throughput, prompt and completion tokens alike: the seam's simplest filling."""
    return lambda cost: cost.tokens / tokens_per_second / 3600


def servers() -> dict[str, dict]:
    """The serving model's predictions by server name (``costs.json``'s ``serving.hours_per_town``)."""
    return measured_costs()["serving"]["hours_per_town"]


def serving_model_hours(spec: StudySpec, server: str) -> HoursFor:
    """Hours as the serving model predicts them on ``server``: a step's agent-weeks at the predicted
    hours per agent-week of its profile (a 100-resident town alone on the server, the paper profile
    with the LLM environment, lean with the rules), scaled by the step's tokens per agent-week over
    that society's (an ablation without the LLM environment sends fewer); a step without towns (the
    evaluation) at the lean profile's hours per token."""
    known = servers()
    if server not in known:
        raise ValueError(f"--server: unknown server {server!r}; known: {', '.join(sorted(known))}")
    serving = measured_costs()["serving"]
    per_token = {profile: known[server][profile] / serving["agent_weeks_per_town"] / sum(per_agent_week(profile, profile == "paper")[1:])
                 for profile in ("lean", "paper")}
    return lambda cost: cost.tokens * per_token[cost.profile if cost.agent_weeks else "lean"]


def plan_table(spec: StudySpec, hours_for: HoursFor | None = None, server: str | None = None) -> str:
    """The plan's cost table (markdown), with the paper's run beside it. ``hours_for(cost)`` turns a
    step's ``StepCost`` into hours (``flat_rate_hours``, or ``serving_model_hours``, then name its
    ``server``)."""
    steps = plan_costs(spec)
    total = StepCost("**total**", sum(s.towns for s in steps), sum(s.agent_weeks for s in steps), sum(s.calls for s in steps),
                     sum(s.prompt_tokens for s in steps), sum(s.completion_tokens for s in steps))
    hours = [hours_for(cost) if hours_for else None for cost in steps]
    rows = [_row(cost, h) for cost, h in zip(steps, hours)] + [_row(total, sum(hours) if hours_for else None)]
    paper = measured_costs()["paper_run"]
    rows.append(f"| paper: one 100 x 10 run | 1 | {paper['agent_weeks']:,} | {paper['calls']:,.0f} | {_big(paper['tokens'])} (all) | – "
                f"| {paper['hours']} h (reported) |")
    data = measured_costs()
    head = ("| step | towns | agent-weeks | LLM calls | prompt tokens | completion tokens | hours |\n"
            "|---|---:|---:|---:|---:|---:|---:|")
    weekly = [f"- per agent-week, {name}: " + ", ".join(f"{v:,.0f} {k}" for k, v in zip(
        ("calls", "prompt tokens", "completion tokens"), per_agent_week(name, name == "paper"))) for name in data["profiles"]]
    calendar = {k: v for k, v in (spec.society.get("set") or {}).items() if k.startswith("calendar__") and k != "calendar__weeks_per_year"}
    if calendar:  # measured on the full week: fewer days or contact rounds make fewer calls
        weekly.append(f"- the figures are of the full week; this study's {calendar} make its towns cheaper than planned")
    return "\n".join([head, *rows, "", *weekly,
                      f"- paper: {paper['calls'] / paper['agent_weeks']:.0f} calls and "
                      f"{paper['tokens'] / paper['agent_weeks'] / 1e6:.2f} M tokens per agent-week",
                      f"- measured: `{data['command']}` ({data['date']}); prompt tokens = words x {data['prompt_tokens_per_word']}",
                      *_server_lines(server)])


def _server_lines(server: str | None) -> list[str]:
    if server is None:
        return []
    serving = measured_costs()["serving"]
    row = serving["hours_per_town"][server]
    return [f"- hours: the serving model's prediction on {row['name']} ({server}): one 100 x 10 town alone on the server "
            f"takes {row['lean']} h lean, {row['paper']} h paper; smaller towns batch less, so theirs are a floor",
            f"- predicted by: `{serving['command']}` ({serving['date']}); {serving['note']}"]


def _row(c: StepCost, hours: float | None) -> str:
    shown = "–" if hours is None else f"{hours:,.1f}" if hours >= 1 or hours == 0 else f"{hours:.2g}"  # a small study's minutes show
    return f"| {c.step} | {c.towns} | {c.agent_weeks:,} | {c.calls:,.0f} | {_big(c.prompt_tokens)} | {_big(c.completion_tokens)} | {shown} |"


def _big(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f}"
