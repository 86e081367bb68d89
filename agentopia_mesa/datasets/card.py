"""Dataset cards: a Markdown summary written next to every exported dataset."""

from __future__ import annotations

from pathlib import Path

from agentopia_mesa.datasets.sources import package_version


def card_path(out: str | Path) -> Path:
    """``data/sft.jsonl`` -> ``data/sft.md`` (the ``datasets`` loader ignores .md files)."""
    return Path(out).with_suffix(".md")


def _table(header: list[str], rows: list[list]) -> list[str]:
    def cell(v):
        return f"{round(v, 3) + 0.0:+.3f}" if isinstance(v, float) else str(v)  # + 0.0: no "-0.000"

    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)]


def _counts(counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "none"


_TOOLS = {"standard": "as `tool_calls` and `tool` messages",
          "json": "in the JSON convention of the embedded and fake backends (--tools json)"}


def sft_card(stats) -> str:
    """The card of an RFT dataset (``SFTStats``): counts, tokens, selected vs all rewards."""
    years = stats.years
    weighted = sum(y.selected for y in years) or 1
    everyone = sum(y.residents for y in years) or 1
    sel_total = sum(y.mean_total_selected * y.selected for y in years) / weighted
    all_total = sum(y.mean_total_all * y.residents for y in years) / everyone
    sel_adv = sum(y.mean_advantage_selected * y.selected for y in years) / weighted
    all_adv = sum(y.mean_advantage_all * y.residents for y in years) / everyone
    lines = [
        f"# Agentopia RFT dataset: {Path(stats.out).name}",
        "",
        "Rejection-sampling fine-tuning data (Agentopia §7): per run and year, the residents with the "
        f"top {stats.fraction:.0%} advantages (at least one); every LLM call of those agent-years the model "
        "answered and that was used (no fallback, not rejected) is one chat sample, as the model saw it "
        "(conversations as multi-turn chats, notebook tool rounds as `tool_calls` and `tool` messages); "
        "the environment's calls are mixed in up to a share of the role-play output tokens.",
        "",
        f"- file: `{stats.out}` ({stats.layout} layout, JSON lines; tool rounds {_TOOLS[stats.tools]}), "
        f"agentopia-mesa {package_version()}",
        f"- runs: {len(stats.runs)} ({', '.join(stats.runs)})",
        f"- agent-years: {stats.selected_agent_years} selected of {stats.agent_years}"
        + (f"; {stats.selected_without_calls} selected without a usable LLM call" if stats.selected_without_calls else ""),
        f"- samples: **{stats.samples}** from {stats.calls_selected} calls of the selected agent-years "
        f"({stats.calls_all} recorded in all); left out: {_counts(stats.excluded)}",
        f"- invalid answers left out: {stats.invalid_answers} (answers of those calls that failed validation; "
        "a call answered validly on a retry is kept, its answer after the clean request)",
        f"- samples with several assistant turns (conversations, tool rounds): {stats.multi_turn}; "
        f"with tool calls: {stats.with_tool_calls}",
        '- earlier assistant turns not trained on (`"weight": 0`: a reply the environment rejected, a fallback\'s '
        f"answer, kept as context): {sum(stats.masked_turns.values())} ({_counts(stats.masked_turns)}) in "
        f"{stats.masked_samples} samples",
        f"- tokens: {stats.prompt_tokens} prompt + {stats.completion_tokens} completion = "
        f"{stats.prompt_tokens + stats.completion_tokens} (as counted by the model that answered)",
        f"- samples by stage: {_counts(stats.by_stage)}",
        f"- samples by model: {_counts(stats.by_model)}",
        *_mix_lines(stats),
        "",
        "## Life reward: selected vs all",
        "",
        *_table(["", "mean total", "mean advantage"], [["selected", sel_total, sel_adv], ["all", all_total, all_adv]]),
        "",
        "## Per year",
        "",
        *_table(["run", "year", "residents", "kept", "total (kept)", "total (all)", "advantage (kept)", "advantage (all)",
                 "lowest kept advantage"],
                [[y.run, y.year, y.residents, y.selected, y.mean_total_selected, y.mean_total_all,
                  y.mean_advantage_selected, y.mean_advantage_all, y.threshold] for y in years]),
        "",
    ]
    return "\n".join(lines)


def _mix_lines(stats) -> list[str]:
    """The environment mix: budget, what was mixed in by task, what was left out."""
    if not stats.env_mix:
        return ["- environment mix: off (--env-mix 0)"]
    return [
        f"- environment mix: **{stats.mixed}** samples, {stats.mixed_tokens} output tokens of a budget of "
        f"{stats.env_budget} ({stats.env_mix:.0%} of {stats.output_tokens} role-play output tokens), seed {stats.seed}; "
        f"from {sum(stats.candidates_by_task.values())} used environment calls of {stats.env_calls}; "
        f"left out: {_counts(stats.env_excluded)}",
        f"- mixed in by task (of the used calls): "
        + (", ".join(f"{task} {stats.mixed_by_task[task]}/{n}" for task, n in stats.candidates_by_task.most_common()) or "none")
        + (f"; subsampled: {', '.join(stats.subsampled)}" if stats.subsampled else ""),
    ]


def dpo_card(stats) -> str:
    """The card of a preference-pair dataset (``DPOStats``): pairs, margins and what they cost."""
    if stats.branch == "conversations":
        how = ("Conversation pairs: from one checkpoint, several replies were sampled for a resident's first "
               "conversation turn of the week (the prompt: its running chat up to the turn); each was played in its "
               "own branch of that week and judged by the environment: a reply it passed beats one it rejected; between "
               f"equal verdicts the activity's outcome for the speaker (need points) decides if it differs by at least "
               f"{stats.min_margin:g}. Margins below are outcome differences.")
        judged = [f"- verdicts of the alternatives: {', '.join(f'{k} {v}' for k, v in stats.judged.most_common()) or 'none'}"]
    else:
        how = ("Matched-state pairs: from one checkpoint, several answers were sampled for the same prompt; each "
               "branch was rolled forward and scored by the deciding resident's life-reward change; pairs whose scores "
               f"differ (by at least {stats.min_margin:g}) were kept, the higher one chosen.")
        judged = []
    lines = [
        f"# Agentopia preference pairs: {Path(stats.out).name}",
        "",
        how,
        "",
        f"- file: `{stats.out}` ({stats.layout} layout, JSON lines), agentopia-mesa {package_version()}",
        f"- run: {stats.run} from checkpoint week {stats.week}; stage {stats.stage}; horizon {stats.horizon_weeks} week(s)"
        + (" (provisional settlement at its end)" if stats.provisional else " (to the year-end settlement)"),
        f"- sampler: {stats.sampler}, temperature {stats.temperature:g}, {stats.samples} samples per prompt",
        f"- prompts: {stats.prompts}; distinct answers {stats.distinct_answers}; pairs **{stats.pairs}** "
        f"(skipped: too close {stats.too_close}; single distinct answer {stats.single_answer}; branch not matched {stats.unmatched})",
        *judged,
        f"- margins: {', '.join(f'{m:.3f}' for m in stats.margins) or 'none'}",
        f"- cost: {stats.wall_s:.1f} s wall, {stats.rollouts} rollouts, {stats.rollout_weeks} simulated weeks, "
        f"{stats.llm_calls} LLM decisions in rollouts + {stats.sample_calls} sampling calls ({stats.sample_cached} from the cache)"
        + (f"; {stats.wall_s / stats.pairs:.1f} s per pair" if stats.pairs else ""),
        "",
    ]
    return "\n".join(lines)


def write_card(out: str | Path, text: str) -> Path:
    path = card_path(out)
    path.write_text(text, encoding="utf-8")
    return path
