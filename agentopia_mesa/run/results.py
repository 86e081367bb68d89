"""The run directory: everything one simulation writes (config, metrics, rewards, summary, plots).

``faults.json`` counts what went wrong in a run, resumed sessions included: failed LLM calls by
kind, retries and fallbacks (from the minds' stats, which checkpoints carry) and interruptions
(clean stops on a signal or a full disk, sessions that ended without one). The summary's "LLM
and faults" block shows the same numbers.
"""

from __future__ import annotations

import json
import platform
import shutil
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from agentopia_mesa.run.atomic import replacing
from agentopia_mesa.run.lock import check_overwritable
from agentopia_mesa.town.economy import gini
from agentopia_mesa.metrics import ACTIVITY_KINDS
from agentopia_mesa.run.plots import overview_figure
from agentopia_mesa.town.state import NEEDS


FAULTS_FILE = "faults.json"


class RunDirError(ValueError):
    pass


def prepare_run_dir(out: Path, overwrite: bool = False) -> Path:
    """Create ``out``; refuse to mix a new run into a non-empty directory unless ``overwrite``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"out: {out} exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise RunDirError(f"out: {out} already holds files; choose another --out or pass --overwrite")
        check_overwritable(out)  # only a run directory that no other process is writing
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_json(path: Path, data) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8), atomically."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    with replacing(path) as tmp:
        frame.to_csv(tmp, index=False)


def run_metadata(model, world_arg: str, seed: int | None) -> dict:
    return {
        "world": world_arg,
        "world_name": model.world.name,
        "residents": len(model.residents),
        "years": model.years,
        "seed": seed,
        "config": model.config.to_dict(),
        "config_digest": model.config.digest(),
        "versions": {
            "agentopia-mesa": version("agentopia-mesa"),
            "mesa": version("mesa"),
            "networkx": version("networkx"),
            "python": platform.python_version(),
        },
    }


def write_start(out: Path, model, meta: dict) -> None:
    write_json(out / "config.json", meta)
    write_json(out / "world.json", model.world.model_dump(mode="json"))


def read_faults(out: Path) -> dict:
    """The run's ``faults.json`` ({} if there is none yet)."""
    path = Path(out) / FAULTS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def fault_report(model, interruptions: list[dict] = (), in_progress: bool = False) -> dict:
    """Everything that went wrong in the run so far, as ``faults.json`` holds it.

    ``llm``: the LLM minds' calls, retries, fallbacks, tokens and failed attempts by kind
    (``faults``, see ``dispatcher.fault_kind``); ``interruptions``: counts by kind of the
    ``log`` entries ({"kind", "week", "message"}, see ``session``); ``total``: failed attempts
    plus interruptions; ``in_progress``: a session is running (or died without a clean stop).
    """
    from agentopia_mesa.minds.llm_settings import llm_minds

    minds = llm_minds(model)
    failed = Counter()
    for mind in minds:
        failed.update(mind.stats.faults)
    interrupted = Counter(entry["kind"] for entry in interruptions)
    return {
        "total": sum(failed.values()) + sum(interrupted.values()),
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


def write_results(out: Path, model, meta: dict, wall_seconds: float,
                  interruptions: list[dict] = ()) -> dict[str, Path]:
    """Metrics, per-resident rows, rewards, faults, summary and the overview plot.
    ``interruptions``: the run's interruption log (see ``fault_report``)."""
    metrics = model.datacollector.get_model_vars_dataframe()
    residents = model.datacollector.get_agenttype_vars_dataframe(type(model.residents[0])).reset_index()
    rewards = model.reward_table()
    paths = {
        "metrics": out / "metrics.csv",
        "residents": out / "residents.csv",
        "rewards": out / "rewards.csv",
        "summary": out / "summary.txt",
        "faults": out / FAULTS_FILE,
        "plot": out / "overview.png",
    }
    write_csv(paths["metrics"], metrics)
    write_csv(paths["residents"], residents)
    write_csv(paths["rewards"], rewards)
    faults = fault_report(model, interruptions)
    write_json(paths["faults"], {**faults, "in_progress": True})  # until the summary: a kill in the plot is unclean
    overview_figure(metrics, rewards, paths["plot"], f"{model.world.title}: {len(model.residents)} residents, {model.years} years")
    # Last: a summary means every result is written (``agentopia resume`` checks for it).
    write_text(paths["summary"], summarise(model, metrics, rewards, meta, wall_seconds, faults))
    write_json(paths["faults"], faults)
    return paths


def summarise(model, metrics: pd.DataFrame, rewards: pd.DataFrame, meta: dict, wall_seconds: float,
              faults: dict | None = None) -> str:
    first, last = metrics.iloc[0], metrics.iloc[-1]
    start_deposits = [r.profile.deposit for r in model.residents]
    lines = [
        f"Agentopia-Mesa run: {model.world.title} ({meta['world']}), {len(model.residents)} residents, "
        f"{model.years} years x {model.config.calendar.weeks_per_year} weeks, seed {meta['seed']}",
        f"wall time: {wall_seconds:.2f} s ({wall_seconds / max(1, model.weeks_done) * 1000:.1f} ms per week)",
        "",
        "needs (mean, start -> end): "
        + ", ".join(f"{n} {first[f'mean_{n}']:.0f}->{last[f'mean_{n}']:.0f}" for n in ("vitality", *NEEDS)),
        f"deposits: mean {first['mean_deposit']:.0f} -> {last['mean_deposit']:.0f}, "
        f"Gini {gini(start_deposits):.2f} -> {last['gini_deposit']:.2f}",
        f"ties: {first['ties']:.0f} -> {last['ties']:.0f} (formed {model.ties.total.formed}, "
        f"lost {model.ties.total.dissolved}); mutual friendships {last['friendships']:.0f}",
        f"jobs: {model.job_changes_total} job changes; {len(model.jobs) - model.initial_job_count} new jobs created; "
        f"{last['employed']:.0f} employed at the end",
        "activities: " + ", ".join(f"{k} {int(metrics[f'n_{k}'].sum())}" for k in ACTIVITY_KINDS),
        f"purchases {int(metrics['purchases'].sum())}, messages {int(metrics['messages'].sum())}, gifts {int(metrics['gifts'].sum())}",
    ]
    if not rewards.empty:
        lines += ["", "life reward by year (total: mean / sd / min / max; raw components: mean and sd)"]
        for year, g in rewards.groupby("year"):
            lines.append(
                f"  {year}: total {g['total'].mean():+.2f} / {g['total'].std(ddof=0):.2f} / {g['total'].min():+.2f} / "
                f"{g['total'].max():+.2f}; social {g['social'].mean():.4f}+-{g['social'].std(ddof=0):.4f}, "
                f"subjective {g['subjective'].mean():.1f}+-{g['subjective'].std(ddof=0):.1f}, "
                f"economic {g['economic'].mean():.0f}+-{g['economic'].std(ddof=0):.0f}; "
                f"advantage mean {g['advantage'].mean():+.3f}"
            )
        final = rewards[rewards["year"] == rewards["year"].max()].sort_values("total", ascending=False)
        top = ", ".join(f"{row.name} ({row.total:+.2f})" for row in final.head(3).itertuples())
        lines.append(f"  best lives in the last year: {top}")
    faults = faults if faults is not None else fault_report(model)
    if faults["llm"]["minds"] or faults["total"]:
        lines += ["", *fault_lines(faults)]
    return "\n".join(lines) + "\n"


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
    lines.append(f"  interruptions: {_counts(faults['interruptions'])}")
    lines += [f"    at week {e['week']}: {e['message']}" for e in faults["log"]]
    lines.append(f"  faults in all: {faults['total']} (by kind in {FAULTS_FILE})")
    return lines


def _counts(counts: dict) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items()) or "none"
