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
    from agentopia_mesa.minds.llm_settings import llm_minds

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
        }
    return report


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
        ]
    lines.append(f"  interruptions: {_counts(faults['interruptions'])}")
    lines += [f"    at week {e['week']}: {e['message']}" for e in faults["log"]]
    lines.append(f"  faults in all: {faults['total']} (by kind in {FAULTS})")
    return lines


def _counts(counts: dict) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items()) or "none"
