"""Social ties: who knows whom, how well, and how their time together went.

The acquaintance graph is a networkx ``DiGraph``: an edge ``a -> b`` means *a knows b* and holds
a's side of the relationship (familiarity 0-100, sentiment -1..1, interaction counts). Ties form
when people first meet, strengthen with shared activities and messages, and fade without contact
until they are lost. The yearly affection and respect ratings (paper §6.1) live in two more
``DiGraph``s whose edge attribute ``score`` is the 0-100 rating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import networkx as nx

from agentopia_mesa.config import SocialConfig


@dataclass
class TieCounters:
    """Directed acquaintance edges (a knows b) created and lost."""

    formed: int = 0
    dissolved: int = 0


class SocialTies:
    def __init__(self, config: SocialConfig, residents: list[str]):
        self.config = config
        self.acquaintance = nx.DiGraph()
        self.acquaintance.add_nodes_from(residents)
        self.affection = nx.DiGraph()
        self.respect = nx.DiGraph()
        self.affection.add_nodes_from(residents)
        self.respect.add_nodes_from(residents)
        self.week = TieCounters()
        self.total = TieCounters()

    # -- forming and using ties -------------------------------------------------------------
    def meet(self, a: str, b: str, week_index: int, familiarity: float | None = None, family: bool = False) -> bool:
        """a and b get to know each other (both directions). Returns True if a tie was new."""
        new = 0
        start = self.config.first_meeting_familiarity if familiarity is None else familiarity
        for x, y in ((a, b), (b, a)):
            if not self.acquaintance.has_edge(x, y):
                self.acquaintance.add_edge(
                    x, y, familiarity=start, sentiment=0.0, interactions=0, conflicts=0,
                    gifts=0, messages=0, last_week=week_index, since=week_index, family=family,
                )
                new += 1
            elif family:
                self.acquaintance[x][y]["family"] = True
        self.week.formed += new
        self.total.formed += new
        return new > 0

    def interact(self, a: str, b: str, quality: float, week_index: int) -> None:
        """a spent time with b and it went with ``quality`` in [-1, 1] (from a's side)."""
        self.meet(a, b, week_index)
        tie = self.acquaintance[a][b]
        gain = self.config.familiarity_gain * (0.5 + 0.5 * quality)
        tie["familiarity"] = min(100.0, max(0.0, tie["familiarity"] + gain))
        tie["sentiment"] = 0.7 * tie["sentiment"] + 0.3 * quality
        tie["interactions"] += 1
        if quality < -0.3:
            tie["conflicts"] += 1
        tie["last_week"] = week_index

    def message(self, sender: str, recipient: str, week_index: int) -> None:
        """A message strengthens the tie both ways; one to someone known from before whose tie
        has faded away (the notebook still lets people contact them) renews it, as a meeting would."""
        self.meet(sender, recipient, week_index)
        for x, y in ((sender, recipient), (recipient, sender)):
            tie = self.acquaintance[x][y]
            tie["familiarity"] = min(100.0, tie["familiarity"] + self.config.message_gain)
            tie["messages"] += 1
            tie["last_week"] = week_index

    def gift(self, giver: str, receiver: str) -> None:
        """receiver records a gift from giver."""
        if self.acquaintance.has_edge(receiver, giver):
            self.acquaintance[receiver][giver]["gifts"] += 1

    def fade(self, week_index: int) -> None:
        """Weekly fading of ties without contact last week; lost ties are removed."""
        self.week = TieCounters()
        lost = []
        fade, lost_below, recent = self.config.weekly_fade, self.config.lost_touch_below, week_index - 1
        for a, ties in self.acquaintance._adj.items():
            for b, tie in ties.items():
                if tie["last_week"] >= recent or tie["family"]:
                    continue
                tie["familiarity"] -= fade
                if tie["familiarity"] < lost_below:
                    lost.append((a, b))
        if lost:
            self.acquaintance.remove_edges_from(lost)
            self.week.dissolved += len(lost)
            self.total.dissolved += len(lost)

    # -- reading ------------------------------------------------------------------------------
    def knows(self, a: str, b: str) -> bool:
        return self.acquaintance.has_edge(a, b)

    def tie(self, a: str, b: str) -> dict:
        return self.acquaintance[a][b]

    def side(self, a: str) -> Mapping[str, dict]:
        """a's side of its ties, read-only: name -> tie attributes (familiarity, sentiment, ...).

        The graph's own row behind a plain read-only mapping: networkx's ``graph[a]`` view costs
        a Python call per lookup, and minds look ties up hundreds of thousands of times a run.
        """
        return MappingProxyType(self.acquaintance._adj[a])

    def acquaintances(self, a: str) -> list[str]:
        """People a knows, closest first (ties broken by name)."""
        return [b for _, b in sorted((-tie["familiarity"], b) for b, tie in self.acquaintance._adj[a].items())]

    def recently_met(self, a: str, limit: int) -> list[str]:
        """People a interacted with most recently (ties by familiarity, then name)."""
        ranked = sorted((-tie["last_week"], -tie["familiarity"], b) for b, tie in self.acquaintance._adj[a].items())
        return [b for *_, b in ranked[:limit]]

    def is_friend(self, a: str, b: str) -> bool:
        return _friendly(self.acquaintance.get_edge_data(a, b), self.config.friendship_threshold)

    def n_ties(self) -> int:
        """Undirected acquaintance ties (pairs where at least one knows the other)."""
        adj = self.acquaintance._adj
        # each edge a -> b once, but a pair known both ways only from its smaller name
        return sum(1 for a, ties in adj.items() for b in ties if a <= b or a not in adj[b])

    def n_friendships(self) -> int:
        """Mutual friendships: both sides familiar and positive."""
        adj, threshold = self.acquaintance._adj, self.config.friendship_threshold
        # _friendly, inlined on both sides (every tie, every week): a tie in the graph is never empty
        return sum(1 for a, ties in adj.items() for b, tie in ties.items()
                   if a < b and tie["familiarity"] >= threshold and tie["sentiment"] > 0
                   and (back := adj[b].get(a)) is not None and back["familiarity"] >= threshold and back["sentiment"] > 0)

    def set_ratings(self, rater: str, ratings: dict[str, tuple[float, float]]) -> None:
        """Replace rater's private (affection, respect) ratings of others."""
        for graph in (self.affection, self.respect):
            graph.remove_edges_from(list(graph.out_edges(rater)))
        for ratee, (affection, respect) in ratings.items():
            self.affection.add_edge(rater, ratee, score=float(affection))
            self.respect.add_edge(rater, ratee, score=float(respect))

    def ratings(self, graph: nx.DiGraph) -> dict[str, dict[str, float]]:
        return {rater: {ratee: d["score"] for ratee, d in graph[rater].items()} for rater in graph}


def _friendly(tie: dict | None, threshold: float) -> bool:
    """One side of a friendship: familiar (at least ``threshold``) and positive."""
    return bool(tie) and tie["familiarity"] >= threshold and tie["sentiment"] > 0
