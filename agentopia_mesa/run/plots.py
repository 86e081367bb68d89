"""Matplotlib figures of a run: needs, money, ties and life reward over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from agentopia_mesa.town.state import NEEDS  # noqa: E402


def overview_figure(metrics: pd.DataFrame, rewards: pd.DataFrame | None, path: Path, title: str) -> Path:
    """Four panels: mean needs and vitality; deposits and their Gini; ties; life reward by year."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    week = metrics["week"]
    ax = axes[0, 0]
    for column in ["mean_vitality", *(f"mean_{n}" for n in NEEDS)]:
        ax.plot(week, metrics[column], label=column.removeprefix("mean_"))
    ax.set(title="Mean vitality and fulfilment (0-100)", xlabel="week", ylim=(0, 100))
    ax.legend(fontsize=8, ncol=3)

    ax = axes[0, 1]
    ax.plot(week, metrics["mean_deposit"], label="mean deposit")
    ax.plot(week, metrics["median_deposit"], label="median deposit")
    ax.set(title="Deposits", xlabel="week", ylabel="money")
    twin = ax.twinx()
    twin.plot(week, metrics["gini_deposit"], color="grey", linestyle="--", label="Gini")
    twin.set(ylabel="Gini of deposits", ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=8)
    twin.legend(loc="upper right", fontsize=8)

    ax = axes[1, 0]
    ax.plot(week, metrics["ties"], label="acquaintance ties")
    ax.plot(week, metrics["friendships"], label="mutual friendships")
    ax.bar(week, metrics["ties_formed"], color="tab:green", alpha=0.4, label="formed this week")
    ax.bar(week, -metrics["ties_dissolved"], color="tab:red", alpha=0.4, label="lost this week")
    ax.set(title="Social ties", xlabel="week")
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    if rewards is not None and not rewards.empty:
        by_year = rewards.groupby("year")
        years = list(by_year.groups)
        ax.boxplot([g["total"].to_numpy() for _, g in by_year], positions=years, widths=0.5)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set(title="Life reward by year (boxes: total) and peers' regard (lines)", xlabel="year", ylabel="total (z units)")
        twin = ax.twinx()
        twin.plot(years, by_year["liked_by"].mean(), marker="o", color="tab:red", label="mean liked-by count")
        twin.plot(years, by_year["respected_by"].mean(), marker="s", color="tab:purple", label="mean respected-by count")
        twin.set(ylabel="raters giving >= 60")
        twin.legend(loc="upper left", fontsize=8)
    else:
        ax.set(title="Life reward (computed at each year end)")
        ax.text(0.5, 0.5, "no full year simulated", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
