"""The evaluation's files in ``--out DIR``.

- ``transcripts.jsonl``: one line per play: player, model, the scene, every turn, how it ended,
  the judge's flaws and the scores;
- ``scores.csv``: one row per play: player, model, scene_id, source, actor_lines, ended_by,
  judged, the four dimensions and overall (0-100; empty when unjudged);
- ``summary.md``: means with 95 % bootstrap intervals per player, and A - B differences;
- ``summary.png``: the same as a plot;
- ``eval.json``: the settings and call counts, to say what produced the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from agentopia_mesa.evaluation.judge import Verdict
from agentopia_mesa.evaluation.play import Play
from agentopia_mesa.evaluation.summary import MEASURES, Summary, markdown
from agentopia_mesa.run.files import write_csv, write_json, write_text

FILES = ("transcripts.jsonl", "scores.csv", "summary.md", "summary.png", "eval.json")
SCORE_COLUMNS = ("player", "model", "scene_id", "source", "actor_lines", "ended_by", "judged", *MEASURES)


def scores_frame(plays: list[Play], verdicts: list[Verdict]) -> pd.DataFrame:
    rows = []
    for play, verdict in zip(plays, verdicts, strict=True):
        scores = verdict.scores or {}
        rows.append({"player": play.player, "model": play.spec, "scene_id": play.scene.scene_id,
                     "source": play.scene.source, "actor_lines": verdict.actor_lines, "ended_by": play.ended_by,
                     "judged": verdict.scores is not None, **{m: scores.get(m) for m in MEASURES}})
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def write_transcripts(path: Path, plays: list[Play], verdicts: list[Verdict]) -> None:
    lines = []
    for play, verdict in zip(plays, verdicts, strict=True):
        judgement = verdict.judgement.model_dump() if verdict.judgement is not None else None
        lines.append(json.dumps({"player": play.player, "model": play.spec, "scene_id": play.scene.scene_id,
                                 "scene": play.scene.as_dict(), "ended_by": play.ended_by,
                                 "turns": [t.as_dict() for t in play.turns], "actor_lines": verdict.actor_lines,
                                 "judgement": judgement, "scores": verdict.scores}, ensure_ascii=False))
    write_text(path, "\n".join(lines) + "\n")


def plot(summary: Summary, path: Path) -> Path:
    """Left: each player's mean per measure with its 95 % interval; right: A - B with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = 2 if summary.difference else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    ax, x = axes[0, 0], np.arange(len(MEASURES))
    width = 0.8 / max(1, len(summary.players))
    for i, (player, estimates) in enumerate(summary.players.items()):
        means = np.array([estimates[m].mean for m in MEASURES])
        errors = np.array([[estimates[m].mean - estimates[m].low for m in MEASURES],
                           [estimates[m].high - estimates[m].mean for m in MEASURES]])
        ax.bar(x + i * width, means, width, yerr=errors, capsize=3, label=f"{player}: {summary.models[player]}")
    ax.set_xticks(x + width * (len(summary.players) - 1) / 2, [m.replace("_", "\n") for m in MEASURES], fontsize=8)
    ax.set(ylim=(0, 105), ylabel="score (0-100)", title="mean per scene, 95 % bootstrap CI")
    ax.legend(fontsize=8)
    if summary.difference:
        ax = axes[0, 1]
        diffs = summary.difference
        means = np.array([diffs[m].mean for m in MEASURES])
        errors = np.array([[diffs[m].mean - diffs[m].low for m in MEASURES], [diffs[m].high - diffs[m].mean for m in MEASURES]])
        ax.errorbar(x, means, yerr=errors, fmt="o", capsize=4)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(x, [m.replace("_", "\n") for m in MEASURES], fontsize=8)
        a, b = list(summary.players)
        ax.set(ylabel="difference (points)", title=f"{a} - {b}, paired by scene, 95 % CI")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(out: Path, plays: list[Play], verdicts: list[Verdict], summary: Summary, meta: dict) -> dict[str, Path]:
    """Write every file of ``FILES`` into ``out``; their paths by name."""
    paths = {name: out / name for name in FILES}
    write_transcripts(paths["transcripts.jsonl"], plays, verdicts)
    write_csv(paths["scores.csv"], scores_frame(plays, verdicts))
    write_text(paths["summary.md"], f"# Role-play evaluation\n\n{markdown(summary)}")
    plot(summary, paths["summary.png"])
    write_json(paths["eval.json"], meta)
    return paths
