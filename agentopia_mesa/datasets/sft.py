"""The rejection-sampling fine-tuning (RFT) dataset of Agentopia §7.

For every run: rank the residents of each year by that year's advantage, keep the top 25 %
(at least one), and emit every LLM call those residents made in those years that the model
answered and that was used (no fallback, not rejected) as one chat sample with metadata. A
conversation reply the environment rejected (``dialogues.jsonl``, verification REJECT) is left out
as rejected too: the paper keeps such replies out of training data. The decisions are streamed from each run's ``decisions.jsonl`` straight into the output file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.datasets.formats import chat_messages, check_layout, sft_sample
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
    runs: list[str] = field(default_factory=list)
    years: list[YearSummary] = field(default_factory=list)
    samples: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls_selected: int = 0  # LLM calls of the selected agent-years, before exclusions
    calls_all: int = 0  # every recorded decision of the runs
    excluded: Counter = field(default_factory=Counter)  # fallback / rejected / other stage
    by_stage: Counter = field(default_factory=Counter)
    by_model: Counter = field(default_factory=Counter)
    selected_agent_years: int = 0
    agent_years: int = 0
    selected_without_calls: int = 0  # kept agent-years with no usable LLM call (e.g. rule-minded residents)


def sample_metadata(entry: dict, source: RunSource, advantage: float) -> dict:
    """Where a sample came from: run, resident, year, advantage, model, stage, time, provenance."""
    return {
        "run": source.run_id, "resident": entry["resident"], "year": int(entry["year"]),
        "advantage": float(advantage), "model": str(entry.get("model") or ""), "stage": str(entry.get("stage") or ""),
        "when": str(entry.get("when") or ""), "week_index": int(entry.get("week_index") or 0),
        **source.provenance,
    }


def export_sft(
    run_dirs: list[str | Path],
    out: str | Path,
    fraction: float = TOP_FRACTION,
    layout: str = "chat",
    first_years: int | None = None,
    models: Collection[str] | None = None,
    stages: Collection[str] | None = None,
) -> SFTStats:
    """Write the RFT dataset of ``run_dirs`` (runs or sweeps) to ``out`` (JSON lines).

    ``fraction``: share of residents kept per year (at least one). ``layout``: "chat" or
    "sharegpt". ``first_years``: use only each run's first N years. ``models``: rank and keep only
    residents with these minds (e.g. the base model of a mixed society). ``stages``: keep only
    calls of these stages. Written to a temporary file and renamed, so ``out`` is never half done.
    """
    check_layout(layout)
    sources = open_runs(run_dirs)
    check_models(sources, models)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stats = SFTStats(str(out), layout, fraction, runs=[s.run_id for s in sources])
    with replacing(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for source in sources:
            by_year = advantages_by_year(source.rewards, first_years, source.gamma, models)
            chosen = select_agent_years(by_year, fraction)
            _summarise_years(stats, source, by_year, chosen)
            with_calls = set()
            rejected = rejected_replies(source.path)
            for entry in read_trajectories(source.decisions):
                stats.calls_all += 1
                key = (entry.get("resident"), entry.get("year"))
                if key not in chosen:
                    continue
                stats.calls_selected += 1
                reason = "rejected" if (entry.get("resident"), entry.get("when")) in rejected else _excluded(entry, stages)
                if reason:
                    stats.excluded[reason] += 1
                    continue
                sample = sft_sample(chat_messages(entry["messages"], entry["response"]),
                                    sample_metadata(entry, source, chosen[key]), layout)
                f.write(json.dumps(sample, ensure_ascii=False) + "\n")
                with_calls.add(key)
                stats.samples += 1
                stats.prompt_tokens += int(entry.get("prompt_tokens") or 0)
                stats.completion_tokens += int(entry.get("completion_tokens") or 0)
                stats.by_stage[entry.get("stage")] += 1
                stats.by_model[entry.get("model")] += 1
            stats.selected_without_calls += len(set(chosen) - with_calls)
    return stats


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
    if entry.get("role") == "environment":  # the environment's judgement, not the resident's role-play
        return "environment"
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
