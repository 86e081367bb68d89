"""Compare the minds of a (mixed) society: life reward, liked-by and respected-by per model.

Every row of ``rewards.csv`` is one resident-year; its ``model`` column names the resident's
mind ("rules" when the column is absent). For each model and measure this reports the mean over
all its resident-years in all given runs, with a 95 % **cluster bootstrap** interval: residents
(run, name) are resampled with replacement, all their years together, because a resident's
years are not independent draws. The difference between two models (A - B) gets the same
interval from independent resamples of each, plus the relative change (A - B) / B, the form of
the paper's "respected by 24.2 % more peers and liked by 15.9 % more" (§8.1); it is not given
for the life reward, a z-score whose population mean is 0 every year.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agentopia_mesa.run.untrusted import refuse_link, refuse_links_inside
from agentopia_mesa.datasets.sources import open_runs

MEASURES = {"total": "life reward", "liked_by": "liked by", "respected_by": "respected by"}
BOOTSTRAP_DRAWS = 4000
LEVEL = 0.95


def load_rewards(run_dirs: list[str | Path]) -> pd.DataFrame:
    """Every resident-year of the runs (or sweeps), with ``run`` and ``model`` columns."""
    frames = [source.rewards.assign(run=source.run_id) for source in open_runs(run_dirs)]
    return pd.concat(frames, ignore_index=True)


def _cluster_draws(frame: pd.DataFrame, measure: str, draws: int, rng: np.random.Generator) -> tuple[float, np.ndarray, int]:
    """The mean of ``measure`` and its bootstrap replicates, resampling residents (run, name)."""
    grouped = frame.groupby(["run", "name"])[measure]
    sums, counts = grouped.sum().to_numpy(float), grouped.count().to_numpy(float)
    picks = rng.integers(0, len(sums), size=(draws, len(sums)))
    return sums.sum() / counts.sum(), sums[picks].sum(axis=1) / counts[picks].sum(axis=1), len(sums)


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The ``level`` percentile interval of bootstrap ``replicates`` (the tails cut evenly)."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


@dataclass
class Comparison:
    """``summary``: one row per model and measure; ``difference``: one row per measure for A - B."""

    summary: pd.DataFrame
    difference: pd.DataFrame | None
    pair: tuple[str, str] | None


def compare(rewards: pd.DataFrame, pair: tuple[str, str] | None = None, draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> Comparison:
    """Means and 95 % cluster-bootstrap intervals per model, and the difference of ``pair`` (A, B).

    ``pair`` defaults, with exactly two models, to (the other, "rules") if one is "rules",
    else to the two in name order, second minus first.
    """
    missing = [m for m in MEASURES if m not in rewards.columns]
    if missing:
        raise ValueError(f"rewards.csv has no {missing[0]!r} column; re-run with this version of agentopia-mesa")
    if rewards.empty:
        raise ValueError("no resident-years to compare (empty rewards.csv)")
    models = sorted(rewards["model"].unique())
    pair = _pair(models, pair)
    rng = np.random.default_rng(seed)
    rows, replicates = [], {}
    for model in models:
        frame = rewards[rewards["model"] == model]
        for measure, label in MEASURES.items():
            mean, reps, residents = _cluster_draws(frame, measure, draws, rng)
            replicates[model, measure] = (mean, reps)
            low, high = percentile_interval(reps)
            rows.append({"model": model, "measure": label, "mean": mean, "ci_low": low, "ci_high": high,
                         "residents": residents, "resident_years": len(frame), "runs": frame["run"].nunique()})
    difference = None
    if pair:
        a, b = pair
        diff_rows = []
        for measure, label in MEASURES.items():
            (mean_a, reps_a), (mean_b, reps_b) = replicates[a, measure], replicates[b, measure]
            low, high = percentile_interval(reps_a - reps_b)
            # The life reward is a z-score (mean 0 each year): a change relative to it means nothing.
            relative = (mean_a - mean_b) / abs(mean_b) if mean_b and measure != "total" else float("nan")
            diff_rows.append({"measure": label, "a": a, "b": b, "difference": mean_a - mean_b, "ci_low": low, "ci_high": high,
                              "relative": relative})
        difference = pd.DataFrame(diff_rows)
    return Comparison(pd.DataFrame(rows), difference, pair)


def _pair(models: list[str], pair: tuple[str, str] | None) -> tuple[str, str] | None:
    if pair is None:
        if len(models) != 2:
            return None
        first, second = models
        return (first, second) if second == "rules" else (second, first)
    resolved = []
    for name in pair:
        matches = [m for m in models if m == name] or [m for m in models if name in m]
        if len(matches) != 1:
            raise ValueError(f"--diff: {name!r} matches {len(matches)} of the models ({', '.join(models)}); name one exactly")
        resolved.append(matches[0])
    return resolved[0], resolved[1]


def markdown(result: Comparison) -> str:
    """The comparison as Markdown tables."""
    lines = ["| model | measure | mean | 95 % CI | residents | resident-years | runs |", "|---|---|---|---|---|---|---|"]
    for r in result.summary.itertuples(index=False):
        lines.append(f"| {r.model} | {r.measure} | {r.mean:.3f} | [{r.ci_low:.3f}, {r.ci_high:.3f}] "
                     f"| {r.residents} | {r.resident_years} | {r.runs} |")
    if result.difference is not None:
        a, b = result.pair
        lines += ["", f"Difference `{a}` - `{b}` (95 % cluster bootstrap; relative to `{b}`):", "",
                  "| measure | difference | 95 % CI | relative |", "|---|---|---|---|"]
        for r in result.difference.itertuples(index=False):
            relative = "n/a" if np.isnan(r.relative) else f"{r.relative:+.1%}"
            lines.append(f"| {r.measure} | {r.difference:+.3f} | [{r.ci_low:+.3f}, {r.ci_high:+.3f}] | {relative} |")
    return "\n".join(lines) + "\n"


def plot(result: Comparison, path: Path) -> Path:
    """One panel per measure: each model's mean with its 95 % interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(MEASURES), figsize=(4 * len(MEASURES), 3.6))
    for ax, label in zip(axes, MEASURES.values(), strict=True):
        rows = result.summary[result.summary["measure"] == label]
        x = np.arange(len(rows))
        errors = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
        ax.bar(x, rows["mean"], yerr=errors, capsize=4, color=[f"C{i}" for i in range(len(rows))])
        ax.set_xticks(x, rows["model"], rotation=20, ha="right", fontsize=8)
        ax.set_title(label)
        ax.axhline(0, color="0.6", lw=0.8)
    fig.suptitle("per model: mean over resident-years, 95 % cluster-bootstrap CI")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_comparison(run_dirs: list[str | Path], out: str | Path, pair: tuple[str, str] | None = None,
                     seed: int = 0, rewards: pd.DataFrame | None = None) -> tuple[Comparison, str]:
    """Compare the runs and write ``compare.md``, ``compare.csv`` and ``compare.png`` into ``out``
    (``rewards``: the runs' resident-years as ``load_rewards`` reads them, relabelled by the caller)."""
    result = compare(load_rewards(run_dirs) if rewards is None else rewards, pair, seed=seed)
    out = refuse_link(Path(out))  # not through a link a run directory from someone else holds
    if out.is_dir():
        refuse_links_inside(out)
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(result)
    (out / "compare.md").write_text(f"# Minds compared\n\nRuns: {', '.join(map(str, run_dirs))}\n\n{text}", encoding="utf-8")
    result.summary.to_csv(out / "compare.csv", index=False)
    plot(result, out / "compare.png")
    return result, text


def add_compare_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``compare RUN_DIR... [--diff A B] [--out DIR]`` on argparse sub-parsers."""
    parser = subparsers.add_parser(
        "compare", help="life reward, liked-by and respected-by per model of (mixed) societies, with 95%% intervals",
        description="Groups every resident-year of the runs by the resident's mind (rewards.csv column 'model') and "
                    "reports means with 95% cluster-bootstrap intervals (residents resampled), and the difference of two models.",
    )
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories or sweep directories")
    parser.add_argument("--diff", nargs=2, metavar=("A", "B"), default=None,
                        help="report A - B (model names or unique parts of them, e.g. agentopia-ft qwen3)")
    parser.add_argument("--out", type=Path, default=None, help="where compare.md/.csv/.png go (default: RUN_DIR/compare of the first run)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    parser.set_defaults(handler=_compare)
    return parser


def _compare(args) -> int:
    out = args.out or Path(args.runs[0]) / "compare"
    _, text = write_comparison(args.runs, out, tuple(args.diff) if args.diff else None, args.seed)
    print(text, end="")
    print(f"written: {out / 'compare.md'}, {out / 'compare.png'}")
    return 0
