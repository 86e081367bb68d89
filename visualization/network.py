"""The social network (Altair over a networkx layout): node size = social reward, edge width =
rating. Layouts are cached and each new one starts from the last, so the picture drifts instead of
jumping from week to week."""

from __future__ import annotations

from collections import OrderedDict

import altair as alt
import networkx as nx
import pandas as pd

GRAPHS: dict[str, str] = {
    "affection": "affection ratings (0-100, set at each year end)",
    "acquaintance": "acquaintance (familiarity 0-100)",
}


def tie_pairs(frame: dict, graph: str) -> list[tuple[int, int, float]]:
    """Undirected ties of ``frame`` as (i, j, weight 0-100): the mean of both directions' rating
    (affection score, or familiarity), a missing direction counting as absent, not zero."""
    edges = frame.get(graph) or []
    pairs: dict[tuple[int, int], list[float]] = {}
    for edge in edges:
        a, b, weight = edge[0], edge[1], edge[2]
        pairs.setdefault((min(a, b), max(a, b)), []).append(weight)
    return [(a, b, sum(w) / len(w)) for (a, b), w in pairs.items()]


#: Above this many rated pairs the affection graph is a hairball (a 100-resident town has about
#: 2,000 by year 10): only strong ratings are drawn, the threshold ``liked-by`` counts use.
DENSE_PAIRS = 300
STRONG_RATING = 60.0


def drawn_pairs(frame: dict, graph: str, pairs: list) -> tuple[list, str]:
    """The pairs to draw and a subtitle line saying how they relate to the headline's tie count
    (every acquaintance pair): how many of how many are drawn, and by which rule."""
    if graph == "affection":
        if len(pairs) > DENSE_PAIRS:
            strong = [p for p in pairs if p[2] >= STRONG_RATING]
            return strong, (f"{len(strong)} of {len(pairs)} rated pairs drawn: mean rating >= {STRONG_RATING:.0f} "
                            "(weaker ones hidden); the headline's ties count acquaintances")
        return pairs, f"{len(pairs)} rated pairs drawn; the headline's ties count acquaintances"
    total = int(frame.get("metrics", {}).get("ties") or len(pairs))
    if len(pairs) < total:
        return pairs, f"{len(pairs)} of {total} acquaintance ties drawn: familiarity >= 20 (weaker ones hidden)"
    return pairs, f"all {len(pairs)} acquaintance ties drawn"


class LayoutCache:
    """Spring layouts per (source, graph, week); a new week starts from the latest positions."""

    def __init__(self, limit: int = 400):
        self.limit = limit
        self._by_week: OrderedDict[tuple, dict] = OrderedDict()
        self._latest: dict[tuple, dict] = {}

    def positions(self, source_key, graph: str, week: int, names: list[str], pairs) -> dict[str, tuple[float, float]]:
        key = (source_key, graph, week)
        if key in self._by_week:
            self._by_week.move_to_end(key)
            return self._by_week[key]
        g = nx.Graph()
        g.add_nodes_from(names)
        g.add_weighted_edges_from((names[a], names[b], w / 100.0) for a, b, w in pairs)
        start = self._latest.get((source_key, graph))
        if start is not None and set(start) == set(names):
            pos = nx.spring_layout(g, pos=start, iterations=12, seed=7)
        else:
            pos = nx.spring_layout(g, iterations=80, seed=7)
        pos = {n: (float(p[0]), float(p[1])) for n, p in pos.items()}
        self._latest[(source_key, graph)] = pos
        self._by_week[key] = pos
        if len(self._by_week) > self.limit:
            self._by_week.popitem(last=False)
        return pos


LAYOUTS = LayoutCache()


def network_chart(source_key, frame: dict, graph: str = "affection", colour_by: str = "mood", size: int = 470) -> alt.LayerChart:
    """Nodes sized by social reward (ties drawn, before the first year end), edges by rating."""
    from visualization.town_map import COLOUR_BY

    residents = frame["residents"]
    names = residents["name"]
    pairs = tie_pairs(frame, graph)
    note = GRAPHS.get(graph, graph)
    if graph == "affection" and not pairs:
        graph, pairs = "acquaintance", tie_pairs(frame, "acquaintance")
        note = "no affection ratings before the first year end: acquaintance shown"
    pairs, drawn_note = drawn_pairs(frame, graph, pairs)
    pos = LAYOUTS.positions(source_key, graph, frame["week"], names, pairs)

    degree = [0] * len(names)
    for a, b, _ in pairs:
        degree[a] += 1
        degree[b] += 1
    social = residents["reward_social"]
    has_reward = any(v is not None for v in social)
    nodes = pd.DataFrame(
        {
            "name": names,
            "x": [pos[n][0] for n in names],
            "y": [pos[n][1] for n in names],
            "ties": degree,
            "social_reward": [v if v is not None else 0.0 for v in social],
            colour_by: residents.get(colour_by, residents["mood"]),
        }
    )
    edges = pd.DataFrame(
        [
            {"x": pos[names[a]][0], "y": pos[names[a]][1], "x2": pos[names[b]][0], "y2": pos[names[b]][1], "rating": w}
            for a, b, w in pairs
        ],
        columns=["x", "y", "x2", "y2", "rating"],
    )
    axis_x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-1.1, 1.1], nice=False))
    axis_y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-1.1, 1.1], nice=False))
    edge_layer = (
        alt.Chart(edges)
        .mark_rule(color="#3949ab")
        .encode(
            x=axis_x, y=axis_y, x2="x2:Q", y2="y2:Q",
            strokeWidth=alt.StrokeWidth("rating:Q", title="rating", scale=alt.Scale(domain=[0, 100], range=[0.1, 3]),
                                        legend=alt.Legend(orient="bottom")),
            # weak ties fade out, so a dense year-end graph still shows its strong bonds
            opacity=alt.Opacity("rating:Q", scale=alt.Scale(domain=[0, 100], range=[0.02, 0.7]), legend=None),
        )
    )
    size_field = "social_reward" if has_reward else "ties"
    title, scheme, domain = COLOUR_BY.get(colour_by, COLOUR_BY["mood"])
    colour_scale = alt.Scale(scheme=scheme, domain=list(domain)) if domain else alt.Scale(scheme=scheme)
    node_layer = (
        alt.Chart(nodes)
        .mark_circle(opacity=0.95, stroke="#263238", strokeWidth=0.6)
        .encode(
            x=axis_x, y=axis_y,
            size=alt.Size(f"{size_field}:Q", title="social reward" if has_reward else "ties",
                          scale=alt.Scale(range=[15, 320]), legend=alt.Legend(orient="bottom", tickCount=4)),
            color=alt.Color(f"{colour_by}:Q", title=title, scale=colour_scale, legend=None),
            tooltip=[
                alt.Tooltip("name:N"), alt.Tooltip("ties:Q"),
                alt.Tooltip("social_reward:Q", title="social reward", format=".4f"), alt.Tooltip(f"{colour_by}:Q", title=title),
            ],
        )
    )
    title = alt.TitleParams(f"Social network: {frame['label']}", subtitle=[note, drawn_note])
    return alt.layer(edge_layer, node_layer).properties(width=size, height=size, title=title)
