"""Per-dimension means with bootstrap intervals per player, and the paired A-B differences."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from agentopia_mesa.evaluation.answers import DIMENSIONS
from agentopia_mesa.evaluation.bootstrap import BOOTSTRAP_DRAWS, Estimate, mean_interval, paired_difference

#: The measures summarised: the four dimensions, then their mean.
MEASURES = (*DIMENSIONS, "overall")


@dataclass(frozen=True)
class Summary:
    """``players``: {player: {measure: Estimate}}; ``difference``: {measure: Estimate of A - B}
    over the scenes both players had judged (empty with one player); ``models``: {player: spec}."""

    players: dict[str, dict[str, Estimate]]
    difference: dict[str, Estimate]
    models: dict[str, str]


def summarise(scores: pd.DataFrame, seed: int = 0, draws: int = BOOTSTRAP_DRAWS) -> Summary:
    """``scores``: scores.csv's rows (player, model, scene_id, judged, one column per measure)."""
    judged = scores[scores["judged"]]
    models = dict(zip(scores["player"], scores["model"], strict=True))
    players = {player: {m: mean_interval(judged.loc[judged["player"] == player, m].to_list(), seed, draws)
                        for m in MEASURES} for player in sorted(models)}
    difference = {}
    if len(models) == 2:
        a, b = sorted(models)
        both = judged.pivot(index="scene_id", columns="player", values=list(MEASURES)).dropna()
        difference = {m: paired_difference(both[m][a].to_list(), both[m][b].to_list(), seed, draws) for m in MEASURES}
    return Summary(players, difference, models)


def markdown(summary: Summary) -> str:
    """The summary as Markdown: one table of means, one of differences."""
    players = list(summary.players)
    head = " | ".join(f"{p} `{summary.models[p]}` (95 % CI)" for p in players)
    lines = [f"| measure | {head} |", "|---|" + "---|" * len(players)]
    for m in MEASURES:
        cells = " | ".join(_cell(summary.players[p][m]) for p in players)
        lines.append(f"| {m} | {cells} |")
    counts = ", ".join(f"{p}: {summary.players[p]['overall'].n}" for p in players)
    lines += ["", f"Scenes judged: {counts}. Scores 0-100 (CoSER's rule); intervals: percentile bootstrap over scenes."]
    if summary.difference:
        a, b = players
        lines += ["", f"Difference {a} - {b}, paired by scene (95 % CI; an interval holding 0: no clear difference):", "",
                  "| measure | difference (95 % CI) | scenes |", "|---|---|---|"]
        lines += [f"| {m} | {_cell(e, signed=True)} | {e.n} |" for m, e in summary.difference.items()]
    return "\n".join(lines) + "\n"


def _cell(e: Estimate, signed: bool = False) -> str:
    if e.n == 0:
        return "n/a"
    f = "+.1f" if signed else ".1f"
    return f"{e.mean:{f}} [{e.low:{f}}, {e.high:{f}}]"
