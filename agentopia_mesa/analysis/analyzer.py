"""``agentopia analyze RUN_OR_SWEEP_DIR``: measures, figures and a report for a run or a sweep.

A run directory gets ``analysis/`` with ``measures.csv`` (one row per year), ``innate.csv`` and
``correlations.csv``, four PNGs and ``report.md`` / ``report.html``. A sweep directory gets the
same per run (kept in each run's directory) plus, in ``<sweep>/analysis/``, every run's measures
in one table, each measure against each swept parameter with 95 % intervals over runs, and the
innate-field correlations averaged over runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from agentopia_mesa.analysis import figures
from agentopia_mesa.analysis.measures import innate_correlations, innate_table, run_measures
from agentopia_mesa.analysis.report import Report
from agentopia_mesa.analysis.run_data import AnalysisError, RunData, is_run_dir, load_run
from agentopia_mesa.run.layout import CORRELATIONS, INNATE, MEASURES, RunLayout, SweepLayout
from agentopia_mesa.run.untrusted import UntrustedFileError, read_json, refuse_link, refuse_links_inside
from agentopia_mesa.run.tables import read_csv
from agentopia_mesa.analysis.stats import mean_ci


#: Measures compared across sweep points (their value in each run's last year).
HEADLINE = (
    "gini_deposit", "mean_reward_subjective", "mean_misery_penalties", "mean_mood", "mean_material", "mean_deposit",
    "acquaintance_density", "mean_acquaintances", "acquaintance_clustering", "affection_density", "communities", "mobility",
    "ties_formed", "ties_dissolved", "affection_formed", "mean_liked_by",
)
TRAJECTORIES = ("gini_deposit", "mean_reward_subjective", "mean_mood", "acquaintance_density", "affection_density", "mobility")
TABLES = {
    "Social networks": ["acquaintance_density", "acquaintance_clustering", "communities", "modularity", "largest_community",
                        "affection_density", "affection_clustering", "affection_reciprocity", "respect_density"],
    "Relationships formed and dissolved": ["ties_formed", "ties_dissolved", "affection_formed", "affection_dissolved", "friendships"],
    "Inequality and mobility": ["gini_deposit", "mean_deposit", "median_deposit", "mobility", "upward", "downward", "job_changes", "employed"],
    "Well-being and life reward": ["mean_vitality", "mean_mood", "mean_material", "mean_social", "mean_esteem",
                                   "mean_reward_social", "mean_reward_subjective", "mean_reward_economic",
                                   "mean_misery_penalties", "mean_liked_by", "mean_respected_by"],
}


@dataclass
class RunAnalysis:
    measures: pd.DataFrame
    innate: pd.DataFrame
    correlations: pd.DataFrame


def analyse_run(run: RunData) -> RunAnalysis:
    """Every measure of one loaded run (no files written)."""
    table = innate_table(run)
    return RunAnalysis(run_measures(run, seed=int(run.meta.get("seed") or 0)), table, innate_correlations(table))


def write_run_tables(run_dir: Path, analysis: RunAnalysis, out: Path | None = None) -> None:
    """``measures.csv`` and ``correlations.csv`` (and ``innate.csv``) into ``out`` (default: the run directory)."""
    out = out or run_dir
    analysis.measures.to_csv(out / MEASURES, index=False)
    analysis.correlations.to_csv(out / CORRELATIONS, index=False)
    analysis.innate.to_csv(out / INNATE, index=False)


def analyze(path: str | Path, out: str | Path | None = None) -> Path:
    """Analyse a run or sweep directory; returns the path of the HTML report."""
    path = Path(path)
    if not path.is_dir():
        raise AnalysisError(f"RUN_OR_SWEEP_DIR: {path} is not a directory")
    try:  # the report goes where it is asked, not where a link in a run directory from someone else points
        out = refuse_link(Path(out)) if out else refuse_link(path / "analysis", root=path)
        if out.is_dir():
            refuse_links_inside(out)  # a report.html that is a link would be written through
    except UntrustedFileError as exc:
        raise AnalysisError(str(exc)) from None
    if SweepLayout(path).is_sweep():
        return _analyze_sweep(path, out)
    if is_run_dir(path):
        return _analyze_run(path, out)
    raise AnalysisError(f"RUN_OR_SWEEP_DIR: {path} is neither a run directory (config.json, metrics.csv) "
                        "nor a sweep directory (sweep.json)")


def _analyze_run(path: Path, out: Path) -> Path:
    run = load_run(path)
    analysis = analyse_run(run)
    out.mkdir(parents=True, exist_ok=True)
    write_run_tables(path, analysis, out)
    meta = run.meta
    report = Report(f"Emergent behaviour: {meta.get('world_name', meta.get('world'))}, {meta.get('residents')} residents, "
                    f"{meta.get('years')} years, seed {meta.get('seed')}")
    report.text(f"Run directory: {path}. Year 0 is the start; year k is the end of the k-th simulated year. "
                "Life reward totals are z-scores within each year, so well-being is read from the raw components and needs.")
    if run.missing:
        report.text("Not in this run directory (attach agentopia_mesa.analysis.YearlyRecorder to the model to record them):")
        report.bullets(run.missing)
    report.figure(figures.network_figure(analysis.measures, out / "network.png"), "Social networks over the years")
    report.figure(figures.inequality_figure(analysis.measures, out / "inequality.png"), "Inequality, mobility and needs")
    report.figure(figures.reward_figure(analysis.measures, out / "reward.png"), "Life reward components by year")
    for title, columns in TABLES.items():
        present = [c for c in columns if c in analysis.measures]
        if present:
            report.heading(title)
            report.table(analysis.measures[["year_index", "year", *present]])
    report.heading("Innate fields and life reward")
    if analysis.innate.empty:
        report.text("No per-resident start data or no life reward in this run.")
    else:
        report.figure(figures.innate_figure(analysis.innate, analysis.correlations, out / "innate.png"),
                      "What residents started with against the life reward they earned")
        report.table(analysis.correlations)
    return report.write(out)[1]


# -- sweeps -------------------------------------------------------------------------------------
def _sweep_runs(path: Path) -> tuple[dict, list[dict]]:
    sweep = read_json(SweepLayout(path).sweep)
    return sweep, sweep.get("runs", [])


def run_analysis_tables(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A finished run's measures and correlations, computed (and saved) if not there yet."""
    if not (run_dir / MEASURES).is_file() or not (run_dir / CORRELATIONS).is_file():
        write_run_tables(run_dir, analyse_run(load_run(run_dir)))
    return read_csv(run_dir / MEASURES), read_csv(run_dir / CORRELATIONS)


def sweep_tables(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str], int]:
    """All finished runs' measures and correlations, each row tagged with its run's parameters.

    Returns (measures, correlations, swept parameter names, number of planned runs).
    """
    sweep, runs = _sweep_runs(path)
    measures, correlations = [], []
    for entry in runs:
        run_dir = path / entry["dir"]
        if not RunLayout(run_dir).done.is_file():  # a sweep run is finished when it has done.json
            continue
        m, c = run_analysis_tables(run_dir)
        params = {k: v if isinstance(v, str | int | float | bool) else json.dumps(v, sort_keys=True) for k, v in entry["params"].items()}
        tags = {"run_id": entry["id"], "replicate": entry["replicate"], "seed": entry["seed"], **params}
        measures.append(m.assign(**tags))
        correlations.append(c.assign(**tags))
    if not measures:
        raise AnalysisError(f"RUN_OR_SWEEP_DIR: no finished runs in {path} yet; run `agentopia sweep` first")
    return pd.concat(measures, ignore_index=True), pd.concat(correlations, ignore_index=True), list(sweep.get("swept", [])), len(runs)


def parameter_effects(final: pd.DataFrame, parameter: str, measures=HEADLINE) -> pd.DataFrame:
    """Mean and 95 % t-interval over runs of each measure, per value of ``parameter`` (pooled
    over the other parameters and the seeds)."""
    rows = []
    for measure in measures:
        if measure not in final or final[measure].isna().all():
            continue
        for value, group in final.groupby(parameter, sort=True):
            mean, low, high, n = mean_ci(group[measure].tolist())
            rows.append({"measure": measure, "value": value, "mean": mean, "low": low, "high": high, "n": n})
    return pd.DataFrame(rows, columns=["measure", "value", "mean", "low", "high", "n"])


def _effects_wide(effects: pd.DataFrame, parameter: str) -> pd.DataFrame:
    """One row per measure, one column per parameter value: ``mean [low, high]``."""
    cell = effects.assign(text=[f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in zip(effects["mean"], effects["low"], effects["high"], strict=True)])
    wide = cell.pivot(index="measure", columns="value", values="text")
    wide = wide.loc[list(dict.fromkeys(effects["measure"]))]
    wide.columns = [f"{parameter}={v}" for v in wide.columns]
    return wide.reset_index()


def _analyze_sweep(path: Path, out: Path) -> Path:
    sweep, _ = _sweep_runs(path)
    measures, correlations, swept, planned = sweep_tables(path)
    out.mkdir(parents=True, exist_ok=True)
    measures.to_csv(out / MEASURES, index=False)
    correlations.to_csv(out / CORRELATIONS, index=False)
    final = measures.loc[measures.groupby("run_id")["year_index"].idxmax()]
    final.to_csv(out / "final_year.csv", index=False)
    done = measures["run_id"].nunique()
    report = Report(f"Sweep {sweep.get('name', path.name)}: {done} of {planned} runs finished")
    report.text(f"Sweep directory: {path}. World {sweep.get('world')}; each run's measures are in its own directory "
                "(runs/<id>/measures.csv) and all together in analysis/measures.csv. Intervals are 95 % Student-t "
                "intervals over runs (seeds and the other parameters pooled).")
    report.table(pd.DataFrame([{"parameter": p, "values": ", ".join(str(v) for v in sorted(measures[p].dropna().unique()))} for p in swept]))
    if not swept:
        report.text("Nothing is swept here (one parameter set): the tables show the spread over seeds.")
        final = final.assign(all_runs="all")
        swept_for_plots = ["all_runs"]
        measures = measures.assign(all_runs="all")
    else:
        swept_for_plots = swept
    effects_all = []
    for parameter in swept_for_plots:
        effects = parameter_effects(final, parameter)
        effects_all.append(effects.assign(parameter=parameter))
        report.heading(f"Against {parameter}")
        report.figure(figures.effects_figure(effects, parameter, out / f"effects_{parameter}.png"),
                      f"Each measure in the last year against {parameter}")
        report.figure(figures.trajectories_figure(measures, parameter, list(TRAJECTORIES), out / f"trajectories_{parameter}.png"),
                      f"Measures over the years by {parameter}")
        report.table(_effects_wide(effects, parameter))
    pd.concat(effects_all, ignore_index=True).to_csv(out / "effects.csv", index=False)
    report.heading("Innate fields and life reward (mean correlation over runs)")
    rows = []
    for (innate, outcome), group in correlations.groupby(["innate", "outcome"], sort=False):
        mean, low, high, n = mean_ci(group["pearson_r"].tolist())
        rows.append({"innate": innate, "outcome": outcome, "mean_r": mean, "low": low, "high": high,
                     "mean_rho": group["spearman_rho"].mean(), "runs": n})
    report.table(pd.DataFrame(rows))
    return report.write(out)[1]
