"""Matched-state preference pairs (beyond the paper): which answer to one prompt fared better?

From one checkpoint of a run: capture the prompt each chosen resident is asked first at a stage
(plan by default), sample N answers for it at temperature > 0, roll each distinct answer forward
``horizon`` weeks in its own branch (``branching.rollout``), score it by the deciding resident's
life-reward change, and emit ``{"prompt", "chosen", "rejected"}`` when the best and worst
answers (or, with ``pairs="all"``, any two) differ by at least ``min_margin``.

With ``branch="conversations"`` the branched decision is a resident's conversation turn, and
each alternative reply is judged by the environment in one week of its own branch (its
verification PASS over REJECT, then the activity's outcome for the speaker) instead of a life.

Cost: one prompt costs N sampling calls plus up to N rollouts of ``horizon`` weeks, each a full
simulation of the town in which every LLM-minded resident keeps deciding through its model (the
weeks before the forced decision are shared through the response cache). With M LLM residents
making about c calls a week, a prompt costs about N * horizon * M * c LLM calls; the card and
``DPOStats`` report the measured seconds per pair.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from agentopia_mesa.bounds import MAX_SEED, in_range
from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.run.checkpoints import checkpoint_path, list_checkpoints, read_checkpoint
from agentopia_mesa.contract.questions import TurnQuestion
from agentopia_mesa.datasets.branching import Captured, Checkpoint, capture_questions, judge_reply, rollout
from agentopia_mesa.datasets.card import dpo_card, write_card
from agentopia_mesa.datasets.formats import check_layout, preference_pair
from agentopia_mesa.datasets.sources import RunSource
from agentopia_mesa.llm.client import ChatOptions, ChatRequest
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.factory import make_client
from agentopia_mesa.llm.budgets import family_of
from agentopia_mesa.minds.llm_mind import LLMMind, parse_decision
from agentopia_mesa.minds.schemas import budget_for
from agentopia_mesa.llm.settings import LLMSettings

PAIRINGS = ("best-worst", "all")
#: Bounds checked before any work: each prompt costs samples x horizon simulated weeks.
MAX_SAMPLES = 64
MAX_PROMPTS = 1000
MAX_HORIZON = 520  # weeks: 52 years of the paper's 10-week years
MAX_TEMPERATURE = 5.0
#: What a branch is judged by: "life" (the deciding resident's life-reward change over the horizon)
#: or "conversations" (a conversation reply, by the environment's verification and the activity's outcome).
BRANCHES = ("life", "conversations")


@dataclass
class DPOStats:
    out: str
    layout: str
    run: str
    week: int
    stage: str
    horizon_weeks: int | None
    sampler: str
    temperature: float
    samples: int
    min_margin: float
    provisional: bool = False
    prompts: int = 0
    distinct_answers: int = 0
    pairs: int = 0
    too_close: int = 0
    single_answer: int = 0
    unmatched: int = 0
    margins: list[float] = field(default_factory=list)
    branch: str = "life"
    judged: Counter = field(default_factory=Counter)  # conversations: the alternatives' verifications (PASS, REJECT)
    rollouts: int = 0
    rollout_weeks: int = 0
    llm_calls: int = 0
    sample_calls: int = 0
    sample_cached: int = 0  # of the sampling calls, those the response cache answered
    wall_s: float = 0.0


def export_dpo(
    run_dir: str | Path,
    out: str | Path,
    *,
    week: int | None = None,
    stage: str = "plan",
    residents: list[str] | None = None,
    prompts: int = 4,
    samples: int = 4,
    temperature: float = 1.0,
    horizon: int | None = None,
    min_margin: float = 0.05,
    pairs: str = "best-worst",
    llm: str | None = None,
    cache: str | Path | None = None,
    layout: str = "chat",
    seed: int = 0,
    max_concurrency: int = 4,
    branch: str = "life",
) -> DPOStats:
    """Write matched-state preference pairs from a checkpoint of ``run_dir`` to ``out``.

    ``week``: the checkpoint (weeks completed; default the latest before the run's end).
    ``stage``: whose first question is branched (plan, contact, solo, review, ...). ``residents``:
    the deciding residents (default: up to ``prompts`` of those with LLM minds, or of everyone
    when ``llm`` is given). ``samples``: answers sampled per prompt at ``temperature`` (> 0).
    ``horizon``: weeks rolled forward (default: to the end of the current year). ``min_margin``:
    least life-reward difference for a pair. ``llm``: the sampler's spec (default: the
    resident's own mind). ``cache``: the response cache all branches share (default: next to
    ``out``). ``seed``: picks residents and sampling seeds.

    ``branch="conversations"``: the branched question is a resident's first conversation turn of
    the week after the checkpoint (``stage`` and ``horizon`` do not apply); residents default to
    up to ``prompts`` of those with LLM minds who speak in a conversation that week. Each
    alternative reply is played in its own branch of that week and judged by the environment
    (``branching.judge_reply``): a reply it passed beats one it rejected; between equal verdicts,
    the activity's outcome for the speaker (need points) decides, if the two differ by at least
    ``min_margin``. The prompt of a pair is the speaker's running chat up to the turn.
    """
    check_layout(layout)
    if pairs not in PAIRINGS:
        raise ValueError(f"--pairs: {pairs!r} is not one of {', '.join(PAIRINGS)}")
    in_range("--temperature", temperature, 0, MAX_TEMPERATURE, above_low=True)  # above 0: different answers
    in_range("--samples", samples, 2, MAX_SAMPLES, whole=True)  # two answers at least make a pair
    in_range("--prompts", prompts, 1, MAX_PROMPTS, whole=True)
    in_range("--min-margin", min_margin, 0, 1e6)
    in_range("--seed", seed, 0, MAX_SEED, whole=True)
    if week is not None:
        in_range("--week", week, 0, 10**6, whole=True)
    if horizon is not None:
        in_range("--horizon", horizon, 1, MAX_HORIZON, whole=True)
    if branch not in BRANCHES:
        raise ValueError(f"--branch: {branch!r} is not one of {', '.join(BRANCHES)}")
    conversations = branch == "conversations"
    if conversations:
        stage, horizon = TurnQuestion.stage, 1
    started = time.perf_counter()
    run_dir, out = Path(run_dir), Path(out)
    source = RunSource(run_dir)
    meta = source.meta
    path = _checkpoint(run_dir, meta, week)
    settings = LLMSettings.from_dict(meta.get("llm"))
    settings.cache = str(cache or out.with_name(out.stem + ".cache.sqlite"))
    settings.cache_mode, settings.check = "replay-or-record", False
    checkpoint = Checkpoint(path, settings)
    base = read_checkpoint(path)
    # Who speaks in a conversation that week is known only by playing it: capture everyone, then choose.
    deciders = _deciders(base, residents, None if conversations and not residents else prompts, llm, seed)
    stats = DPOStats(str(out), layout, source.run_id, base.weeks_done, stage, horizon, llm or "the resident's own model",
                     temperature, samples, min_margin, branch=branch)
    captured = capture_questions(checkpoint, list(deciders), stage)
    if conversations and not residents and len(captured) > prompts:
        captured = {name: captured[name] for name in sorted(random.Random(seed).sample(sorted(captured), prompts))}
    dispatcher = Dispatcher(max_concurrency=max_concurrency, timeout_s=settings.timeout_s, retries=settings.retries)
    clients: dict[str, object] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with replacing(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for name, asked in sorted(captured.items()):
            spec = deciders[name]
            if spec not in clients:
                clients[spec] = make_client(spec, cache_path=settings.cache, cache_mode=settings.cache_mode)
            answers = _sample(clients[spec], dispatcher, asked, samples, temperature, _seed(seed, name))
            stats.prompts += 1
            stats.distinct_answers += len(answers)
            if len(answers) < 2:
                stats.single_answer += 1
                continue
            judge = _judged if conversations else _lived
            scored = [s for s in (judge(stats, checkpoint, name, asked, text, horizon) for text in answers) if s is not None]
            for (high, chosen, better), (low, rejected, worse) in _pairs(scored, pairs):
                margin = high[-1] - low[-1]
                if high == low or (high[:-1] == low[:-1] and margin < min_margin):  # equal lives say nothing about the answers
                    stats.too_close += 1
                    continue
                metadata = {
                    "run": source.run_id, "resident": name, "stage": stage, "when": asked.when,
                    "week": stats.week, "horizon_weeks": stats.horizon_weeks, "model": clients[spec].name, "temperature": temperature,
                    **_prefixed("chosen", better), **_prefixed("rejected", worse), "margin": margin, "candidates": len(answers),
                    **source.provenance,
                }
                f.write(json.dumps(preference_pair(asked.messages, chosen, rejected, metadata, layout), ensure_ascii=False) + "\n")
                f.flush()
                stats.pairs += 1
                stats.margins.append(margin)
    stats.sample_calls, stats.sample_cached = dispatcher.stats.calls, dispatcher.stats.cached
    stats.wall_s = time.perf_counter() - started
    write_card(out, dpo_card(stats))
    return stats


def _checkpoint(run_dir: Path, meta: dict, week: int | None) -> Path:
    """The checkpoint to branch from: ``week``'s, or the latest one before the run's end."""
    weeks = [int(p.stem.split("-")[1]) for p in list_checkpoints(run_dir)]
    if week is not None:
        if week not in weeks:
            raise ValueError(f"--week: no checkpoint at week {week} in {run_dir} (there are: {weeks or 'none'}; "
                             "a run keeps its newest 3, taken every --checkpoint-every weeks)")
        return checkpoint_path(run_dir, week)
    total = int(meta.get("years", 0)) * int(meta.get("config", {}).get("calendar", {}).get("weeks_per_year", 10))
    open_weeks = [w for w in weeks if w < total]
    if not open_weeks:
        raise ValueError(f"{run_dir}: no checkpoint before the run's end to branch from (there are: {weeks or 'none'}); "
                         "pass --week, or run with a smaller --checkpoint-every")
    return checkpoint_path(run_dir, max(open_weeks))


def _deciders(model, residents: list[str] | None, prompts: int | None, llm: str | None, seed: int) -> dict[str, str]:
    """{resident: sampler spec} of the residents whose decisions are branched: ``residents``, or
    ``prompts`` of those with a sampler chosen with ``seed`` (None: all of them)."""
    specs = {name: (llm or (mind.spec if isinstance(mind, LLMMind) else None)) for name, mind in model.minds.items()}
    if residents:
        unknown = [n for n in residents if n not in specs]
        if unknown:
            raise ValueError(f"--resident: {unknown[0]!r} does not live in this run")
        chosen = list(residents)
    else:
        pool = sorted(n for n, s in specs.items() if s)
        if not pool:
            raise ValueError("no resident of this run decides with an LLM; pass --llm SPEC to sample their alternatives")
        chosen = pool if prompts is None else sorted(random.Random(seed).sample(pool, min(prompts, len(pool))))
    missing = [n for n in chosen if not specs[n]]
    if missing:
        raise ValueError(f"--resident: {missing[0]!r} decides by rules in this run; pass --llm SPEC to sample its alternatives")
    return {n: specs[n] for n in chosen}


def _seed(seed: int, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"dpo/{seed}/{name}".encode()).digest()[:4], "big")


def _sample(client, dispatcher: Dispatcher, asked: Captured, n: int, temperature: float, seed: int) -> list[str]:
    """Up to ``n`` distinct valid answers (raw texts) to the captured question, first occurrence kept."""
    question = asked.question
    budget = budget_for(question, family_of(getattr(client, "model", "") or ""))
    jobs = [(client, ChatRequest(asked.messages, asked.schema, ChatOptions(temperature=temperature, seed=seed + i, max_tokens=budget),
                                 f"dpo/{question.stage}/{question.resident.name}/{i}"),
             lambda text: parse_decision(question, text)) for i in range(n)]
    distinct: dict[str, str] = {}
    for outcome in dispatcher.run(jobs):
        if outcome.value is not None:
            distinct.setdefault(outcome.value.model_dump_json(), outcome.texts[-1])
    return list(distinct.values())


def _lived(stats: DPOStats, checkpoint: Checkpoint, name: str, asked: Captured, text: str, horizon: int | None):
    """(score, text, metadata) of an answer by the life it led to (``rollout``), or None if its branch did not match."""
    branch = rollout(checkpoint, name, asked, text, horizon)
    if branch is None:
        stats.unmatched += 1
        return None
    stats.rollouts += 1
    stats.rollout_weeks += branch.weeks
    stats.llm_calls += branch.llm_calls
    stats.provisional |= branch.provisional
    stats.horizon_weeks = branch.weeks
    return (branch.reward,), text, {"reward": branch.reward}


def _judged(stats: DPOStats, checkpoint: Checkpoint, name: str, asked: Captured, text: str, horizon: int | None):
    """(score, text, metadata) of a conversation reply as the environment judged it (``judge_reply``):
    the score is (passed, outcome), so a passed reply ranks above a rejected one whatever the outcome."""
    judged = judge_reply(checkpoint, name, asked, text)
    if judged is None:
        stats.unmatched += 1
        return None
    stats.rollouts += 1
    stats.rollout_weeks += 1
    stats.llm_calls += judged.llm_calls
    stats.horizon_weeks = 1
    stats.judged[judged.verification or "unverified"] += 1
    return (judged.passed, judged.outcome), text, {"verification": judged.verification, "outcome": judged.outcome, "note": judged.note}


def _prefixed(side: str, metadata: dict) -> dict:
    return {f"{side}_{key}": value for key, value in metadata.items()}


def _pairs(scored: list[tuple[tuple, str, dict]], pairing: str):
    """(better, worse) pairs of (score, text, metadata), highest score first: the best against the
    worst, or every two answers."""
    ranked = sorted(scored, key=lambda s: s[0], reverse=True)  # stable: ties keep the sampling order
    if len(ranked) < 2:
        return []
    if pairing == "best-worst":
        return [(ranked[0], ranked[-1])]
    return list(itertools.combinations(ranked, 2))
