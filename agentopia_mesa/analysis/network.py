"""Network measures of the town's social graphs (paper §8.1: "social networks").

Pure functions over networkx graphs, in the spirit of networkx's own algorithms: no model, no
files. The acquaintance graph is directed (``a -> b``: a knows b, attribute ``familiarity``
0-100); affection and respect are directed rating graphs (attribute ``score`` 0-100), of which
only ratings at or above the paper's "liked by" / "respected by" threshold (60) count as ties.
"""

from __future__ import annotations

import networkx as nx

from agentopia_mesa.config import RewardConfig

#: The paper's "liked by" / "respected by" threshold on a 0-100 rating (reward §6.1).
POSITIVE_RATING = float(RewardConfig().positive_rating)  # the reward's "liked by" / "respected by" line


def positive_ties(ratings: nx.DiGraph, threshold: float = POSITIVE_RATING, attr: str = "score") -> nx.DiGraph:
    """The sub-graph of ratings ``>= threshold`` (same nodes): who likes, or respects, whom."""
    liked = nx.DiGraph()
    liked.add_nodes_from(ratings)
    liked.add_edges_from((a, b) for a, b, s in ratings.edges(data=attr, default=0.0) if s >= threshold)
    return liked


def density(graph: nx.DiGraph) -> float:
    """Directed density ``m / (n (n - 1))``: the share of ordered pairs that are tied (0-1)."""
    return nx.density(graph) if graph.number_of_nodes() > 1 else 0.0


def clustering(graph: nx.DiGraph) -> float:
    """Average clustering coefficient of the undirected graph (Watts & Strogatz 1998), 0-1.

    A pair is tied if either side names the other. Isolated residents count as 0, as in
    ``networkx.average_clustering``.
    """
    undirected = graph.to_undirected(as_view=False)
    return nx.average_clustering(undirected) if undirected.number_of_nodes() else 0.0


def reciprocity(graph: nx.DiGraph) -> float:
    """Share of directed ties returned (``networkx.reciprocity``); 0 for an empty graph."""
    return nx.reciprocity(graph) if graph.number_of_edges() else 0.0


def communities(graph: nx.DiGraph, weight: str | None = "familiarity", seed: int = 0) -> dict[str, float]:
    """Louvain communities (Blondel et al. 2008) of the undirected, weighted graph.

    Returns ``communities`` (groups of at least two people), ``modularity`` (Newman 2006; -0.5..1,
    higher = more clearly separated groups), ``largest_community`` (share of residents in the
    biggest group, 0-1) and ``isolates`` (residents with no tie). Mutual ties add both sides'
    weights. Seeded, so the same graph always gives the same partition.
    """
    undirected = nx.Graph()
    undirected.add_nodes_from(graph)
    for a, b, w in graph.edges(data=weight, default=1.0):
        w = 1.0 if weight is None else float(w)
        if undirected.has_edge(a, b):
            undirected[a][b]["weight"] += w
        else:
            undirected.add_edge(a, b, weight=w)
    n = undirected.number_of_nodes()
    isolates = nx.number_of_isolates(undirected)
    if undirected.number_of_edges() == 0:
        return {"communities": 0, "modularity": 0.0, "largest_community": 1.0 / n if n else 0.0, "isolates": isolates}
    parts = nx.community.louvain_communities(undirected, weight="weight", seed=seed)
    return {
        "communities": sum(1 for p in parts if len(p) >= 2),
        "modularity": nx.community.modularity(undirected, parts, weight="weight"),
        "largest_community": max(len(p) for p in parts) / n,
        "isolates": isolates,
    }


def network_measures(acquaintance: nx.DiGraph, affection: nx.DiGraph, respect: nx.DiGraph, seed: int = 0) -> dict[str, float]:
    """Density, clustering and communities of the acquaintance network; density, clustering and
    reciprocity of the affection ("likes") network; density of the respect network."""
    liked = positive_ties(affection)
    respected = positive_ties(respect)
    return {
        "acquaintance_density": density(acquaintance),
        "acquaintance_clustering": clustering(acquaintance),
        "mean_acquaintances": acquaintance.number_of_edges() / max(1, acquaintance.number_of_nodes()),
        **communities(acquaintance, seed=seed),
        "affection_density": density(liked),
        "affection_clustering": clustering(liked),
        "affection_reciprocity": reciprocity(liked),
        "respect_density": density(respected),
    }


def tie_changes(before: set[tuple[str, str]], after: set[tuple[str, str]]) -> dict[str, int]:
    """Relationships formed (in ``after`` only) and dissolved (in ``before`` only) between snapshots."""
    return {"formed": len(after - before), "dissolved": len(before - after)}
