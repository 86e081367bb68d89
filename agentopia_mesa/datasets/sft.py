"""The rejection-sampling fine-tuning (RFT) dataset of Agentopia §7.

For every run: rank the residents of each year by that year's advantage, keep the top 25 %
(at least one), and emit every LLM call those residents made in those years that the model
answered and that was used (no fallback, not rejected) as one chat sample with metadata, as the
model saw it (``datasets.roleplay``: conversations as multi-turn chats, notebook tool rounds as
``tool_calls`` and ``tool`` messages). A conversation reply the environment rejected
(``dialogues.jsonl``, verification REJECT) is left out as rejected too: the paper keeps such
replies out of training data. A later sample of the same conversation still shows such a reply
(or a fallback's answer) as an earlier assistant turn, since the resident saw it: that turn is
marked ``"weight": 0`` (``datasets.history``). Then the environment's calls are mixed in up to a share of the
role-play output tokens (``datasets.env_mix``). The decisions are streamed from each run's
``decisions.jsonl`` straight into the output file (a second pass writes the mixed-in calls).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from agentopia_mesa.bounds import MAX_SEED, in_range
from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.datasets.env_mix import ENV_MIX, MIX_SEED, EnvCall, choose_environment, output_tokens
from agentopia_mesa.datasets.formats import chat_messages, check_layout, sft_sample
from agentopia_mesa.datasets.history import UnusedTurns
from agentopia_mesa.datasets.roleplay import check_tools, is_multi_turn, offered_tools, roleplay_messages
from agentopia_mesa.datasets.selection import TOP_FRACTION, advantages_by_year, select_agent_years, trainable
from agentopia_mesa.datasets.sources import RunSource, open_runs
from agentopia_mesa.run.dialogues import rejected_replies
from agentopia_mesa.run.trajectories import read_trajectories


@dataclass
class YearSummary:
    """One run-year for the dataset card."""

    run: str
    year: int
    residents: int
    selected: int
    mean_total_all: float
    mean_total_selected: float
    mean_advantage_all: float
    mean_advantage_selected: float
    threshold: float  # the lowest advantage kept


@dataclass
class SFTStats:
    """What went into a dataset and what was left out, for the card."""

    out: str
    layout: str
    fraction: float
    tools: str = "standard"  # how tool rounds are written (roleplay.TOOL_FORMATS)
    runs: list[str] = field(default_factory=list)
    years: list[YearSummary] = field(default_factory=list)
    samples: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls_selected: int = 0  # residents' LLM calls of the selected agent-years, before exclusions
    calls_all: int = 0  # every recorded decision of the runs (the environment's too)
    excluded: Counter = field(default_factory=Counter)  # fallback / rejected / no answer / other stage
    invalid_answers: int = 0  # answers of the selected calls that failed validation (never samples)
    multi_turn: int = 0  # samples with more than one assistant turn (conversations, tool rounds)
    with_tool_calls: int = 0  # samples with tool calls
    masked_turns: Counter = field(default_factory=Counter)  # earlier assistant turns marked "weight": 0, by reason
    masked_samples: int = 0  # samples with such turns (``datasets.history``)
    output_tokens: int = 0  # the role-play samples' output tokens (``env_mix.output_tokens``): the mix's base
    env_mix: float = ENV_MIX
    seed: int = MIX_SEED
    env_calls: int = 0  # the environment's calls of the kept years
    env_excluded: Counter = field(default_factory=Counter)  # fallback / rejected / no answer
    env_budget: int = 0  # output tokens the mixed-in calls may have
    mixed: int = 0  # environment samples written
    mixed_tokens: int = 0
    mixed_by_task: Counter = field(default_factory=Counter)
    candidates_by_task: Counter = field(default_factory=Counter)
    subsampled: list[str] = field(default_factory=list)  # tasks not taken whole
    by_stage: Counter = field(default_factory=Counter)
    by_model: Counter = field(default_factory=Counter)
    selected_agent_years: int = 0
    agent_years: int = 0
    selected_without_calls: int = 0  # kept agent-years with no usable LLM call (e.g. rule-minded residents)


def sample_metadata(entry: dict, source: RunSource, advantage: float | None) -> dict:
    """Where a sample came from: run, resident, year, advantage (None for the environment's calls),
    model, stage, time, provenance; the environment's calls add ``role`` and ``task``."""
    metadata = {
        "run": source.run_id, "resident": entry["resident"], "year": int(entry["year"]),
        "advantage": None if advantage is None else float(advantage), "model": str(entry.get("model") or ""),
        "stage": str(entry.get("stage") or ""), "when": str(entry.get("when") or ""),
        "week_index": int(entry.get("week_index") or 0), **source.provenance,
    }
    if entry.get("role") == "environment":
        metadata.update(role="environment", task=str(entry.get("task") or ""))
    return metadata


def export_sft(
    run_dirs: list[str | Path],
    out: str | Path,
    fraction: float = TOP_FRACTION,
    layout: str = "chat",
    first_years: int | None = None,
    models: Collection[str] | None = None,
    stages: Collection[str] | None = None,
    env_mix: float = ENV_MIX,
    seed: int = MIX_SEED,
    tools: str = "standard",
) -> SFTStats:
    """Write the RFT dataset of ``run_dirs`` (runs or sweeps) to ``out`` (JSON lines).

    ``fraction``: share of residents kept per year (at least one). ``layout``: "chat" or
    "sharegpt". ``first_years``: use only each run's first N years. ``models``: rank and keep only
    residents with these minds (e.g. the base model of a mixed society). ``stages``: keep only
    calls of these stages. ``env_mix``: the environment's calls of those years mixed in up to this
    share of the role-play output tokens (0: none), the largest tasks subsampled with ``seed``.
    ``tools``: how tool rounds are written (``roleplay.TOOL_FORMATS``: "standard" ``tool_calls`` /
    ``tool`` messages, or "json", the plain turns the embedded and fake backends sent).
    Written to a temporary file and renamed, so ``out`` is never half done.
    """
    check_layout(layout)
    check_tools(tools)
    in_range("--top", fraction, 0, 1, above_low=True)
    in_range("--env-mix", env_mix, 0, 1e6)
    in_range("--seed", seed, 0, MAX_SEED, whole=True)
    sources = open_runs(run_dirs)
    check_models(sources, models)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stats = SFTStats(str(out), layout, fraction, runs=[s.run_id for s in sources], env_mix=env_mix, seed=seed, tools=tools)
    candidates: list[EnvCall] = []
    with replacing(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for index, source in enumerate(sources):
            by_year = advantages_by_year(source.rewards, first_years, source.gamma, models)
            chosen = select_agent_years(by_year, fraction)
            _summarise_years(stats, source, by_year, chosen)
            with_calls = set()
            rejected = rejected_replies(source.path)
            unused = UnusedTurns()
            for line, entry in enumerate(read_trajectories(source.decisions)):
                stats.calls_all += 1
                if entry.get("role") == "environment":
                    if entry.get("year") in by_year:
                        _consider(stats, candidates, EnvCall(index, line, str(entry.get("task") or ""), output_tokens(entry)), entry)
                    continue
                reason = "rejected" if (entry.get("resident"), entry.get("when")) in rejected else _excluded(entry, None)
                unused.note(entry, reason)
                key = (entry.get("resident"), entry.get("year"))
                if key not in chosen:
                    continue
                stats.calls_selected += 1
                stats.invalid_answers += int(entry.get("invalid_attempts") or 0)
                reason = reason or _excluded(entry, stages)
                if reason:
                    stats.excluded[reason] += 1
                    continue
                messages = roleplay_messages(entry, source.tool_rounds, tools)
                masked = unused.mark(entry, messages)
                stats.masked_turns.update(masked)
                stats.masked_samples += bool(masked)
                offered = offered_tools(entry) if tools == "standard" else None  # "json": described in the system message
                sample = sft_sample(messages, sample_metadata(entry, source, chosen[key]), layout, offered)
                f.write(json.dumps(sample, ensure_ascii=False) + "\n")
                with_calls.add(key)
                _count(stats, entry, messages)
            stats.selected_without_calls += len(set(chosen) - with_calls)
        _mix_environment(stats, sources, candidates, f)
    return stats


def _count(stats: SFTStats, entry: dict, messages: list[dict]) -> None:
    stats.samples += 1
    stats.prompt_tokens += int(entry.get("prompt_tokens") or 0)
    stats.completion_tokens += int(entry.get("completion_tokens") or 0)
    stats.output_tokens += output_tokens(entry)
    stats.multi_turn += is_multi_turn(messages)
    stats.with_tool_calls += bool((entry.get("tool_use") or {}).get("calls"))  # in either way of writing them
    stats.by_stage[entry.get("stage")] += 1
    stats.by_model[entry.get("model")] += 1


def _consider(stats: SFTStats, candidates: list[EnvCall], call: EnvCall, entry: dict) -> None:
    """Count an environment call of a kept year; keep it as a candidate for the mix if it was used."""
    stats.env_calls += 1
    reason = "fallback" if entry.get("fallback") else "rejected" if entry.get("rejected") else None if trainable(entry) else "no answer"
    if reason:
        stats.env_excluded[reason] += 1
        return
    candidates.append(call)
    stats.candidates_by_task[call.task] += 1


def _mix_environment(stats: SFTStats, sources: list[RunSource], candidates: list[EnvCall], f) -> None:
    """Choose the environment calls within the budget and append them to ``f`` (a second pass over
    the runs' decisions)."""
    stats.env_budget = round(stats.env_mix * stats.output_tokens)
    mixed, stats.subsampled = choose_environment(candidates, stats.env_budget, stats.seed) if stats.env_mix else ([], [])
    wanted: dict[int, set[int]] = {}
    for call in mixed:
        wanted.setdefault(call.source, set()).add(call.line)
        stats.mixed_tokens += call.tokens
        stats.mixed_by_task[call.task] += 1
    for index, lines in wanted.items():
        source = sources[index]
        for line, entry in enumerate(read_trajectories(source.decisions)):
            if line in lines:
                messages = chat_messages(entry["messages"], entry["response"])
                f.write(json.dumps(sft_sample(messages, sample_metadata(entry, source, None), stats.layout), ensure_ascii=False) + "\n")
                stats.mixed += 1


def check_models(sources: list[RunSource], models: Collection[str] | None) -> None:
    """Raise ``ValueError`` if a name in ``models`` is no resident's mind in any of ``sources``,
    listing the minds the runs have (a typo would otherwise write an empty dataset)."""
    if not models:
        return
    found = sorted({str(m) for source in sources for m in source.rewards["model"].unique()})
    unknown = [m for m in models if m not in found]
    if unknown:
        raise ValueError(f"--model: no resident of these runs has the mind {unknown[0]!r}; "
                         f"the runs' minds are: {', '.join(found) or 'none'}")


def _excluded(entry: dict, stages: Collection[str] | None) -> str | None:
    if entry.get("fallback"):
        return "fallback"
    if entry.get("rejected"):
        return "rejected"
    if not trainable(entry):
        return "no answer"
    if stages is not None and entry.get("stage") not in stages:
        return "other stage"
    return None


def _summarise_years(stats: SFTStats, source: RunSource, by_year: dict, chosen: dict) -> None:
    totals = {(str(r.name), int(r.year)): float(r.total) for r in source.rewards.itertuples(index=False)}
    for year, advantages in by_year.items():
        kept = [name for name in advantages if (name, year) in chosen]
        stats.agent_years += len(advantages)
        stats.selected_agent_years += len(kept)
        if not advantages:
            continue
        everyone = list(advantages)
        stats.years.append(YearSummary(
            run=source.run_id, year=year, residents=len(everyone), selected=len(kept),
            mean_total_all=_mean(totals.get((n, year), 0.0) for n in everyone),
            mean_total_selected=_mean(totals.get((n, year), 0.0) for n in kept),
            mean_advantage_all=_mean(advantages[n] for n in everyone),
            mean_advantage_selected=_mean(advantages[n] for n in kept),
            threshold=min(advantages[n] for n in kept),
        ))


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")
