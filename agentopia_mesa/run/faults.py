"""What went wrong in a run: ``faults.json`` and the summary's "LLM and faults" block.

``faults.json`` counts what went wrong in a run, resumed sessions included: failed LLM calls by
kind, retries and fallbacks (from the minds' stats, which checkpoints carry) and interruptions
(clean stops on a signal or a full disk, sessions that ended without one).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from agentopia_mesa.run.layout import FAULTS, RunLayout
from agentopia_mesa.run.untrusted import UntrustedFileError, read_json


def read_faults(out: Path) -> dict:
    """The run's ``faults.json`` ({} if there is none yet)."""
    path = RunLayout(out).faults
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        return read_json(path)
    except UntrustedFileError:  # a damaged log is started afresh; a link is never followed
        if path.is_symlink():
            raise
        return {}


def fault_report(model, interruptions: list[dict] = (), in_progress: bool = False) -> dict:
    """Everything that went wrong in the run so far, as ``faults.json`` holds it.

    ``llm``: the LLM minds' calls, retries, fallbacks, tokens and failed attempts by kind
    (``faults``, see ``dispatcher.fault_kind``); ``interruptions``: counts by kind of the
    ``log`` entries ({"kind", "week", "message"}, see ``session``); ``total``: failed attempts
    plus interruptions; ``in_progress``: a session is running (or died without a clean stop).
    """
    from agentopia_mesa.environment.llm_environment import llm_environment
    from agentopia_mesa.minds.assign import llm_minds

    minds = llm_minds(model)
    failed = Counter()
    for mind in minds:
        failed.update(mind.stats.faults)
    environment = llm_environment(model)
    env_failed = Counter(environment.stats.faults) if environment else Counter()
    interrupted = Counter(entry["kind"] for entry in interruptions)
    report = {
        "total": sum(failed.values()) + sum(env_failed.values()) + sum(interrupted.values()),
        "llm": {
            "minds": [mind.name for mind in minds],
            "decisions": sum(sum(m.stats.by_stage.values()) for m in minds),
            "calls": sum(m.stats.calls for m in minds),
            "retries": sum(m.stats.retries for m in minds),
            "fallbacks": sum(m.stats.fallbacks for m in minds),
            "prompt_tokens": sum(m.stats.prompt_tokens for m in minds),
            "completion_tokens": sum(m.stats.completion_tokens for m in minds),
            "faults": dict(sorted(failed.items())),
            "by_stage": _by_stage([(m.stats.by_stage, m.stats.fallbacks_by_stage, m.stats.faults_by_stage,
                                    m.stats.trimmed_by_stage) for m in minds]),
        },
        "interruptions": dict(sorted(interrupted.items())),
        "log": list(interruptions),
        "in_progress": in_progress,
    }
    if environment is not None:
        st = environment.stats
        report["environment"] = {
            "model": environment.name, "verdicts": sum(st.by_task.values()), "calls": st.calls, "retries": st.retries,
            "fallbacks": st.fallbacks, "prompt_tokens": st.prompt_tokens, "completion_tokens": st.completion_tokens,
            "by_task": dict(sorted(st.by_task.items())), "fallbacks_by_task": dict(sorted((+st.fallbacks_by_task).items())),
            "faults": dict(sorted(env_failed.items())),
            "by_task_detail": _by_stage([(st.by_task, st.fallbacks_by_task, st.faults_by_task, st.trimmed_by_task)]),
        }
    return report


def _by_stage(parts) -> dict:
    """Per stage, over ``parts`` ((decisions, fallbacks, faults by kind, trimmed) by stage, one per
    mind): decisions, fallbacks, texts trimmed to their limits and failed attempts by kind."""
    out: dict[str, dict] = {}
    for decisions, fallbacks, faults, trimmed in parts:
        for stage, n in decisions.items():
            entry = out.setdefault(stage, {"decisions": 0, "fallbacks": 0, "trimmed": 0, "faults": Counter()})
            entry["decisions"] += n
            entry["fallbacks"] += fallbacks.get(stage, 0)
            entry["trimmed"] += trimmed.get(stage, 0)
            entry["faults"].update(faults.get(stage, {}))
    return {stage: {**entry, "faults": dict(sorted(entry["faults"].items()))} for stage, entry in sorted(out.items())}


#: A stage whose decisions fall back to the rules more often than this is named in a warning.
WARN_FALLBACK_SHARE = 0.10
#: ... once it has made at least this many decisions (fewer say little).
WARN_MIN_DECISIONS = 5


def stage_warnings(faults: dict) -> list[str]:
    """One line per stage (the minds') and task (the environment's) whose fallback share passes
    ``WARN_FALLBACK_SHARE``, naming its most frequent fault: what a user must see in the first week."""
    lines = []
    for who, block, key in (("the rule mind", faults["llm"], "by_stage"),
                            ("the rule environment", faults.get("environment") or {}, "by_task_detail")):
        for stage, entry in (block.get(key) or {}).items():
            n, fell = entry["decisions"], entry["fallbacks"]
            if n >= WARN_MIN_DECISIONS and fell > WARN_FALLBACK_SHARE * n:
                top = max(entry["faults"].items(), key=lambda kv: kv[1], default=None)
                cause = f"; top fault: {top[0]} ({top[1]})" if top else ""
                lines.append(f"warning: {stage}: {fell} of {n} decisions ({fell / n:.0%}) fell back to {who}{cause}")
    return lines


def fault_lines(faults: dict) -> list[str]:
    """The summary's "LLM and faults" block for a ``fault_report``."""
    llm = faults["llm"]
    lines = ["LLM and faults"]
    if llm["minds"]:
        share = llm["fallbacks"] / max(1, llm["decisions"])
        lines += [
            f"  minds: {', '.join(llm['minds'])}; {llm['decisions']} decisions, {llm['calls']} calls, "
            f"{llm['retries']} retries, {llm['fallbacks']} fallbacks to the rule mind ({share:.1%})",
            f"  tokens: {llm['prompt_tokens']:,} prompt + {llm['completion_tokens']:,} completion",
            f"  failed LLM calls by kind: {_counts(llm['faults'])}",
            f"  fallbacks by stage: {_counts({k: v['fallbacks'] for k, v in llm.get('by_stage', {}).items() if v['fallbacks']})}",
            f"  answers cut at their token budget (truncated) by stage: "
            f"{_counts({k: v['faults']['truncated'] for k, v in llm.get('by_stage', {}).items() if v['faults'].get('truncated')})}",
            f"  free texts trimmed to their length limits by stage: "
            f"{_counts({k: v['trimmed'] for k, v in llm.get('by_stage', {}).items() if v['trimmed']})}",
        ]
    env = faults.get("environment")
    if env:
        share = env["fallbacks"] / max(1, env["verdicts"])
        lines += [
            f"  environment: {env['model']}; {env['verdicts']} verdicts, {env['calls']} calls, {env['retries']} retries, "
            f"{env['fallbacks']} fallbacks to the rule environment ({share:.1%})",
            f"    by task: {_counts(env['by_task'])}",
            f"    fallbacks by task: {_counts(env['fallbacks_by_task'])}",
            f"    tokens: {env['prompt_tokens']:,} prompt + {env['completion_tokens']:,} completion",
            f"    failed LLM calls by kind: {_counts(env['faults'])}",
            f"    truncated by task: "
            f"{_counts({k: v['faults']['truncated'] for k, v in env.get('by_task_detail', {}).items() if v['faults'].get('truncated')})}",
            f"    trimmed by task: {_counts({k: v['trimmed'] for k, v in env.get('by_task_detail', {}).items() if v['trimmed']})}",
        ]
    lines += [f"  {line}" for line in stage_warnings(faults)]
    lines.append(f"  interruptions: {_counts(faults['interruptions'])}")
    lines += [f"    at week {e['week']}: {e['message']}" for e in faults["log"]]
    lines.append(f"  faults in all: {faults['total']} (by kind in {FAULTS})")
    return lines


def _counts(counts: dict) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items()) or "none"
