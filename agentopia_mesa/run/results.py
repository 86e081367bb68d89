"""A run's results: its metadata at the start; metrics, rewards, summary and plot at the end."""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from agentopia_mesa.run import social_summary
from agentopia_mesa.metrics import ACTIVITY_KINDS
from agentopia_mesa.run.faults import fault_lines, fault_report
from agentopia_mesa.run.files import write_csv, write_json, write_text
from agentopia_mesa.run.layout import RunLayout
from agentopia_mesa.run.notebooks import write_notebooks
from agentopia_mesa.run.plots import overview_figure
from agentopia_mesa.run.tables import write_parquet
from agentopia_mesa.run.trajectories import llm_deciders
from agentopia_mesa.town.economy import gini
from agentopia_mesa.town.state import NEEDS


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


def write_start(out: Path | RunLayout, model, meta: dict) -> None:
    layout = RunLayout(out)
    write_json(layout.config, meta)
    write_json(layout.world, model.world.model_dump(mode="json"))


def write_results(out: Path | RunLayout, model, meta: dict, wall_seconds: float,
                  interruptions: list[dict] = (), before_summary: Callable[[], None] | None = None) -> dict[str, Path]:
    """Metrics, per-resident rows, rewards, faults, summary and the overview plot.
    ``interruptions``: the run's interruption log (see ``fault_report``). ``before_summary``: called
    just before the summary is written (the session waits there for its last checkpoint)."""
    layout = RunLayout(out)
    metrics = model.datacollector.get_model_vars_dataframe()
    residents = model.datacollector.get_agenttype_vars_dataframe(type(model.residents[0])).reset_index()
    rewards = model.reward_table()
    parquet = meta.get("tables") == "parquet"
    paths = {
        "metrics": layout.metrics,
        "residents": layout.residents_parquet if parquet else layout.residents,
        "rewards": layout.rewards,
        "summary": layout.summary,
        "faults": layout.faults,
        "plot": layout.overview,
    }
    write_csv(paths["metrics"], metrics)
    (write_parquet if parquet else write_csv)(paths["residents"], residents)
    write_csv(paths["rewards"], rewards)
    faults = fault_report(model, interruptions)
    write_json(paths["faults"], {**faults, "in_progress": True})  # until the summary: a kill in the plot is unclean
    if llm_deciders(model):
        paths["notebooks"] = layout.notebooks
        write_notebooks(layout.notebooks, model.residents)
    overview_figure(metrics, rewards, paths["plot"], f"{model.world.title}: {len(model.residents)} residents, {model.years} years")
    if before_summary is not None:
        before_summary()
    # Last: a summary means every result is written (``agentopia resume`` checks for it).
    write_text(paths["summary"], summarise(model, metrics, rewards, meta, wall_seconds, faults))
    write_json(paths["faults"], faults)
    return paths


def conversation_line(stats) -> str:
    """Conversation replies the environment verified and rejected, per speaker's model."""
    models = sorted(k.removeprefix("verified ") for k in stats if k.startswith("verified "))
    rates = [f"{m} {stats[f'rejected {m}']}/{stats[f'verified {m}']} ({stats[f'rejected {m}'] / stats[f'verified {m}']:.1%})"
             for m in models]
    return f"conversation replies rejected by the environment: {'; '.join(rates) or 'none verified'}"


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
        conversation_line(getattr(model, "conversation_stats", {})),
    ]
    if not rewards.empty:
        lines += ["", social_summary.HEADER]
        for year, g in rewards.groupby("year"):
            lines.append(
                f"  {year}: total {g['total'].mean():+.2f} / {g['total'].std(ddof=0):.2f} / {g['total'].min():+.2f} / "
                f"{g['total'].max():+.2f}; {social_summary.social_part(g)}, "
                f"subjective {g['subjective'].mean():.1f}+-{g['subjective'].std(ddof=0):.1f}, "
                f"economic {g['economic'].mean():.0f}+-{g['economic'].std(ddof=0):.0f}; "
                f"advantage mean {g['advantage'].mean():+.3f}"
            )
        final = rewards[rewards["year"] == rewards["year"].max()].sort_values("total", ascending=False)
        top = ", ".join(f"{row.name} ({row.total:+.2f})" for row in final.head(3).itertuples())
        lines.append(f"  best lives in the last year: {top}")
    faults = faults if faults is not None else fault_report(model)
    if faults["llm"]["minds"] or faults["total"] or faults.get("environment"):
        lines += ["", *fault_lines(faults)]
    return "\n".join(lines) + "\n"


