"""Matplotlib figures of the emergent-behaviour measures: one run over the years, and a sweep's
measures against each swept parameter (means with 95 % intervals over runs)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from agentopia_mesa.analysis.stats import mean_ci  # noqa: E402

LABELS = {
    "acquaintance_density": "acquaintance density",
    "acquaintance_clustering": "acquaintance clustering",
    "mean_acquaintances": "acquaintances per resident",
    "affection_density": "affection density (ratings >= 60)",
    "affection_clustering": "affection clustering",
    "respect_density": "respect density (ratings >= 60)",
    "communities": "communities (>= 2 people)",
    "modularity": "modularity",
    "gini_deposit": "Gini of deposits",
    "mobility": "job rank mobility (share moving)",
    "upward": "upward mobility",
    "downward": "downward mobility",
    "ties_formed": "acquaintances formed / year",
    "ties_dissolved": "acquaintances lost / year",
    "affection_formed": "likes formed / year",
    "affection_dissolved": "likes lost / year",
    "mean_reward_social": "social reward (PageRank, raw)",
    "mean_reward_subjective": "subjective reward (raw)",
    "mean_reward_economic": "economic reward (deposit change)",
    "mean_misery_penalties": "misery penalties / resident",
    "mean_liked_by": "liked by (people)",
    "mean_respected_by": "respected by (people)",
    "mean_mood": "mean mood", "mean_material": "mean material", "mean_social": "mean social need",
    "mean_esteem": "mean esteem", "mean_vitality": "mean vitality", "mean_deposit": "mean deposit",
    "friendships": "mutual friendships",
}


def label(measure: str) -> str:
    return LABELS.get(measure, measure.replace("_", " "))


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _lines(ax, frame: pd.DataFrame, columns, title: str, **kw) -> None:
    drawn = False
    for column in columns:
        if column in frame and frame[column].notna().any():
            ax.plot(frame["year_index"], frame[column], marker="o", label=label(column), **kw)
            drawn = True
    ax.set(title=title, xlabel="years lived")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if drawn:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "not recorded in this run", ha="center", va="center", transform=ax.transAxes, color="grey")


def network_figure(measures: pd.DataFrame, path: Path) -> Path:
    """Densities, clustering, communities, and relationships formed and lost, by year."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    _lines(axes[0, 0], measures, ["acquaintance_density", "affection_density", "respect_density"], "Network density")
    _lines(axes[0, 1], measures, ["acquaintance_clustering", "affection_clustering"], "Clustering")
    _lines(axes[1, 0], measures, ["communities"], "Acquaintance communities (Louvain; dashed: modularity)")
    if "modularity" in measures and measures["modularity"].notna().any():
        twin = axes[1, 0].twinx()
        twin.plot(measures["year_index"], measures["modularity"], color="grey", linestyle="--", marker=".")
        twin.set(ylabel="modularity", ylim=(0, 1))
    _lines(axes[1, 1], measures, ["ties_formed", "ties_dissolved", "affection_formed", "affection_dissolved"],
           "Relationships formed and dissolved")
    return _save(fig, path)


def inequality_figure(measures: pd.DataFrame, path: Path) -> Path:
    """Gini of deposits, social mobility, and needs at each year end."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    _lines(axes[0], measures, ["gini_deposit"], "Inequality of deposits")
    axes[0].set_ylim(0, 1)
    _lines(axes[1], measures, ["mobility", "upward", "downward"], "Social mobility (job rank, per year)")
    _lines(axes[2], measures, ["mean_vitality", "mean_mood", "mean_material", "mean_social", "mean_esteem"],
           "Vitality and fulfilment (0-100)")
    return _save(fig, path)


def reward_figure(measures: pd.DataFrame, path: Path) -> Path:
    """Mean raw life-reward components per year and how many like / respect each resident."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), constrained_layout=True)
    _lines(axes[0], measures, ["mean_reward_social"], "Social")
    _lines(axes[1], measures, ["mean_reward_subjective"], "Subjective")
    _lines(axes[2], measures, ["mean_reward_economic"], "Economic")
    _lines(axes[3], measures, ["mean_liked_by", "mean_respected_by", "mean_misery_penalties"], "Standing and misery")
    return _save(fig, path)


def innate_figure(table: pd.DataFrame, correlations: pd.DataFrame, path: Path) -> Path:
    """Each innate field against the mean yearly life reward, one point per resident."""
    fields = [f for f in ("start_deposit", "start_income", "start_acquaintances") if f in table]
    fig, axes = plt.subplots(1, max(1, len(fields)), figsize=(5 * max(1, len(fields)), 3.8), constrained_layout=True, squeeze=False)
    for ax, field in zip(axes[0], fields, strict=False):
        ax.scatter(table[field], table["life_reward"], s=12, alpha=0.7)
        row = correlations[(correlations["innate"] == field) & (correlations["outcome"] == "life_reward")]
        r = row["pearson_r"].iloc[0] if len(row) else math.nan
        ax.set(title=f"{field.replace('_', ' ')}: r = {r:+.2f}", xlabel=field.replace("_", " "), ylabel="mean yearly life reward (z)")
    return _save(fig, path)


def _axes_grid(n: int, width: float = 4.2, height: float = 3.2):
    cols = min(3, max(1, n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), constrained_layout=True, squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def effects_figure(effects: pd.DataFrame, parameter: str, path: Path) -> Path:
    """Each measure (final year) against one swept parameter: mean over runs with 95 % interval."""
    measures = list(dict.fromkeys(effects["measure"]))
    fig, axes = _axes_grid(len(measures))
    for ax, measure in zip(axes, measures, strict=True):
        rows = effects[effects["measure"] == measure]
        x = _positions(rows["value"])
        yerr = [(rows["mean"] - rows["low"]).fillna(0).clip(lower=0), (rows["high"] - rows["mean"]).fillna(0).clip(lower=0)]
        ax.errorbar(x, rows["mean"], yerr=yerr, marker="o", capsize=4)
        if not _numeric(rows["value"]):
            ax.set_xticks(x, [str(v) for v in rows["value"]])
        ax.set(title=label(measure), xlabel=parameter)
    fig.suptitle(f"Measures in the last year against {parameter} (mean, 95 % CI over runs)")
    return _save(fig, path)


def trajectories_figure(measures: pd.DataFrame, parameter: str, columns: list[str], path: Path) -> Path:
    """Chosen measures over the years, one line per value of ``parameter`` (band: 95 % CI)."""
    columns = [c for c in columns if c in measures and measures[c].notna().any()]
    fig, axes = _axes_grid(len(columns))
    for ax, column in zip(axes, columns, strict=True):
        for value, group in measures.groupby(parameter, sort=True):
            stats = [mean_ci(g[column].tolist()) + (k,) for k, g in group.groupby("year_index")]
            frame = pd.DataFrame(stats, columns=["mean", "low", "high", "n", "year_index"]).dropna(subset=["mean"])
            line = ax.plot(frame["year_index"], frame["mean"], marker=".", label=f"{parameter}={value}")[0]
            ax.fill_between(frame["year_index"], frame["low"], frame["high"], color=line.get_color(), alpha=0.15)
        ax.set(title=label(column), xlabel="years lived")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
    return _save(fig, path)


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _positions(values: pd.Series):
    return values.to_numpy() if _numeric(values) else list(range(len(values)))
