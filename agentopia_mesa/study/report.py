"""``DIR/report.md``: generation 0's society, the cost spent beside the plan, tuned minus base in
generation 1 beside the paper's numbers, the role-play evaluation and the ablations.

Only what the steps recorded goes in (no wall times: those are in each ``step.json``), so a study
run in one go and one killed and resumed write the same report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from agentopia_mesa.study import steps

if TYPE_CHECKING:
    from agentopia_mesa.study.runner import Study

REPORT = "report.md"
#: Emergent measures of generation 0, per world over the years (analysis/measures.py's names).
EMERGENT = {"acquaintance_density": "network density", "acquaintance_clustering": "clustering", "communities": "communities",
            "gini_deposit": "Gini (deposits)", "mobility": "mobility", "mean_liked_by": "liked by", "mean_respected_by": "respected by"}
#: The paper's gains of the tuned model (agentopia-paper.md §8.1): relative to the base model.
PAPER_GAINS = {"respected by": "+24.2 %", "liked by": "+15.9 %", "CoSER": "+15.6 %"}


def emergent_measures(study: Study, step: str) -> pd.DataFrame:
    """One row per town and year: world, seed, year and the ``EMERGENT`` measures."""
    from agentopia_mesa.analysis.measures import run_measures
    from agentopia_mesa.analysis.run_data import load_run

    frames = []
    for town in study.outputs(step)["towns"]:
        measures = run_measures(load_run(study.dir / town["dir"]))
        frame = measures[["year_index", *[m for m in EMERGENT if m in measures]]].copy()
        frames.append(frame.assign(world=town["world"], seed=town["seed"]))
    return pd.concat(frames, ignore_index=True)


def _figure(frame: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = [m for m in EMERGENT if m in frame]
    columns = 4
    rows = -(-len(measures) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.8 * columns, 2.6 * rows), squeeze=False)
    axes = axes.flatten()
    for ax in axes[len(measures):]:
        ax.set_visible(False)
    for ax, measure in zip(axes, measures):
        for world, rows in frame.groupby("world"):
            means = rows.groupby("year_index")[measure].mean()
            ax.plot(means.index, means.to_numpy(), marker="o", label=str(Path(world).stem))
        ax.set_title(EMERGENT[measure], fontsize=9)
        ax.set_xlabel("year")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _final_table(frame: pd.DataFrame, by: str) -> str:
    last = frame[frame["year_index"] == frame["year_index"].max()]
    measures = [m for m in EMERGENT if m in frame]
    table = last.groupby(by)[measures].mean()
    lines = [f"| {by} | " + " | ".join(EMERGENT[m] for m in measures) + " |", "|---" * (len(measures) + 1) + "|"]
    for key, row in table.iterrows():
        lines.append(f"| {Path(str(key)).stem if by == 'world' else key} | " + " | ".join(f"{row[m]:.3f}" for m in measures) + " |")
    return "\n".join(lines)


def _cost_table(study: Study) -> str:
    from agentopia_mesa.study.costs import plan_costs

    lines = ["| step | agent-weeks | calls planned | calls spent | tokens planned | tokens spent |", "|---|---:|---:|---:|---:|---:|"]
    for cost in plan_costs(study.spec):
        step = cost.step.replace("ablation ", "ablation.")
        record = steps.finished(study.dir, step, study.inputs().get(step) or "")
        spent = (record or {}).get("outputs", {}).get("spent")
        if spent:
            lines.append(f"| {cost.step} | {cost.agent_weeks:,} | {cost.calls:,.0f} | {spent['calls']:,} | {cost.tokens:,.0f} "
                         f"| {spent['prompt_tokens'] + spent['completion_tokens']:,} |")
    return "\n".join(lines)


def _counted_as(*specs: str | None) -> str:
    """What the spent tokens are: words where a fake backend answered, the server's tokens elsewhere."""
    fake = {str(spec).split(":")[0] == "fake" for spec in specs if spec}
    if fake == {True}:
        return "the fake backend counts words, not tokens"
    if True in fake:
        return "tokens as the servers report them; the fake backend's are words"
    return "tokens as the servers report them"


def _gains(study: Study) -> str:
    diff = pd.read_csv(study.dir / study.outputs("compare")["difference"])
    lines = ["| measure | tuned - base | 95 % CI | relative | paper |", "|---|---:|---|---:|---:|"]
    for r in diff.itertuples(index=False):
        relative = "n/a" if pd.isna(r.relative) else f"{r.relative:+.1%}"
        lines.append(f"| {r.measure} | {r.difference:+.3f} | [{r.ci_low:+.3f}, {r.ci_high:+.3f}] | {relative} "
                     f"| {PAPER_GAINS.get(r.measure, '–')} |")
    return "\n".join(lines)


def write_report(study: Study) -> Path:
    """Write ``report.md`` and its figures from the finished steps; return the report's path."""
    s, out = study.spec, study.dir
    gen0 = emergent_measures(study, "generation0")
    _figure(gen0, out / "generation0.png")
    text = [f"# Study {s.name}", "",
            f"{len(s.generation0.worlds)} worlds x {len(s.generation0.seeds)} seeds, {s.generation0.residents} residents, "
            f"{s.generation0.years} years ({s.agent_weeks_per_town:,} agent-weeks a town); role model `{s.role}`, "
            f"environment `{s.environment or 'rules'}`, society {s.society or '{}'}.", "",
            "## Cost: planned and spent", "",
            "Planned from the measured per-agent-week costs (`agentopia study plan`); spent as the towns' decisions record "
            f"({_counted_as(s.role, s.environment)}).", "", _cost_table(study), "",
            "## Generation 0: the emergent society", "", "![generation 0](generation0.png)", "",
            "Final year, mean over seeds:", "", _final_table(gen0, "world"), ""]
    data, training = study.outputs("data"), study.outputs("training")
    text += ["## Data and training", "",
             f"Top {s.selection.top_fraction:.0%} of resident-years, environment mix {s.selection.env_mix:.0%}: "
             f"{data['samples']} samples (`{data['sft']}`). Backend `{s.training.backend}`; tuned model `{training['model']}`.", "",
             f"## Generation 1: tuned minus base ({s.tuned_share:.0%} tuned, same worlds and seeds)", "",
             "Mean over resident-years, 95 % cluster-bootstrap intervals (residents resampled; both minds live in the "
             "same towns, seeded as generation 0):", "", _gains(study), "", "![compare](compare/compare.png)", ""]
    if s.evaluation is not None and (out / "evaluation" / "summary.md").exists():
        summary = (out / "evaluation" / "summary.md").read_text(encoding="utf-8").split("\n", 1)[1].strip()
        text += ["## Role-play evaluation: tuned (A) vs base (B)", "", f"Paper: CoSER {PAPER_GAINS['CoSER']}.", "", summary, ""]
    if s.ablations:
        frames = [gen0.assign(ablation="(study)")]
        frames += [emergent_measures(study, f"ablation.{name}").assign(ablation=name) for name in s.ablations]
        text += ["## Ablations", "", "Generation 0's final year under each set of overrides, mean over towns:", "",
                 _final_table(pd.concat(frames, ignore_index=True), "ablation"), ""]
        text += [f"- `{name}`: {over}" for name, over in s.ablations.items()] + [""]
    path = out / REPORT
    from agentopia_mesa.run.files import write_text

    write_text(path, "\n".join(text))
    return path
