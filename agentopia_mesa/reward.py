"""Life reward (Agentopia, arXiv 2606.07513, §6; the released code's ``reward.py``).

Pure functions from ratings, fulfilment histories and deposits to per-resident rewards, and
from yearly rewards to returns and advantages. No model, no LLM, no hidden state.

    R_total = 0.4 z(social) + 0.4 z(subjective) + 0.2 z(economic)

- social: rank-weighted affection and respect graphs, PageRank, one reciprocity pass (§6.1);
- subjective: mean fulfilment over the period with misery penalties (§6.2);
- economic: deposit change over the period (§6.3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from agentopia_mesa.config import RewardConfig

Ratings = Mapping[str, Mapping[str, float]]
"""rater -> {ratee: score 0-100}."""

FULFILMENT = ("mood", "material", "social", "esteem")


# -- social reward (§6.1) -------------------------------------------------------------------

def rank_weights(scores: Mapping[str, float]) -> dict[str, float]:
    """Linear rank weights: 100 for the highest score ... 0 for the lowest, equally spaced.

    Ties in score are ordered by name. A single person gets 100. The weight depends on the
    rank only, not the raw score (the last-ranked person gets 0 even if rated 90).
    """
    ordered = sorted(scores, key=lambda name: (-scores[name], name))
    n = len(ordered)
    if n == 1:
        return {ordered[0]: 100.0}
    return {name: 100.0 * (n - 1 - i) / (n - 1) for i, name in enumerate(ordered)}


def rating_graph(ratings: Ratings, residents: Iterable[str]) -> nx.DiGraph:
    """Directed graph with edge weight w_ij = rank weight of j in i's list / sum of i's weights.

    Every resident is a node. Names that are not residents (invented by an LLM) and
    self-ratings are dropped before ranking; a rater whose weights sum to 0 has no out-edges.
    """
    names = list(residents)
    known = set(names)
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for rater in sorted(ratings):
        if rater not in known:
            continue
        scores = {j: float(s) for j, s in ratings[rater].items() if j in known and j != rater}
        if not scores:
            continue
        weights = rank_weights(scores)
        total = sum(weights.values())
        if total <= 0:
            continue
        for ratee, w in weights.items():
            if w > 0:
                graph.add_edge(rater, ratee, weight=w / total)
    return graph


def pagerank_scores(graph: nx.DiGraph, damping: float = 0.85, max_iter: int = 100, tol: float = 1e-6) -> dict[str, float]:
    """Power-iteration PageRank as in the paper's code.

        S_j <- (1 - d)/N + d * sum_i S_i w_ij + d * sum_{i dangling} S_i / N

    Uniform start 1/N; stops when the L1 change is below ``tol`` or after ``max_iter``
    iterations (the last iterate is returned, never an error). Written out rather than
    ``nx.pagerank`` because networkx scales the tolerance by N and raises on non-convergence.
    """
    nodes = list(graph)
    n = len(nodes)
    if n == 0:
        return {}
    scores = dict.fromkeys(nodes, 1.0 / n)
    out_edges = {i: list(graph[i].items()) for i in nodes}
    dangling = [i for i in nodes if not out_edges[i]]
    for _ in range(max_iter):
        spread = damping * sum(scores[i] for i in dangling) / n
        new = dict.fromkeys(nodes, (1 - damping) / n + spread)
        for i in nodes:
            s = damping * scores[i]
            for j, data in out_edges[i]:
                new[j] += s * data["weight"]
        change = sum(abs(new[v] - scores[v]) for v in nodes)
        scores = new
        if change < tol:
            break
    return scores


def reciprocity_pass(graph: nx.DiGraph, scores: Mapping[str, float], alpha: float) -> dict[str, float]:
    """One pass after convergence: j gains more from i's regard when j values i in turn.

        S'_j = sum_i S_i * w_ij * (1 + alpha * w_ji)

    No teleport term, no renormalisation; a node nobody rates gets 0.
    """
    result = dict.fromkeys(graph, 0.0)
    for i, j, data in graph.edges(data=True):
        back = graph[j][i]["weight"] if graph.has_edge(j, i) else 0.0
        result[j] += scores[i] * data["weight"] * (1 + alpha * back)
    return result


def social_reward(affection: Ratings, respect: Ratings, residents: Iterable[str], config: RewardConfig) -> dict[str, float]:
    """affection_weight * S'_affection + (1 - affection_weight) * S'_respect per resident."""
    names = list(residents)
    parts = []
    for ratings in (affection, respect):
        graph = rating_graph(ratings, names)
        scores = pagerank_scores(graph, config.pagerank_damping, config.pagerank_max_iter, config.pagerank_tol)
        parts.append(reciprocity_pass(graph, scores, config.mutual_affection_alpha))
    a = config.affection_weight
    return {n: a * parts[0].get(n, 0.0) + (1 - a) * parts[1].get(n, 0.0) for n in names}


def social_metrics(affection: Ratings, respect: Ratings, residents: Iterable[str], config: RewardConfig) -> dict[str, dict[str, float]]:
    """Absolute social measures, comparable across runs (not part of the reward, §6.1 item 8).

    Per resident: how many raters gave >= ``positive_rating`` (liked_by_count,
    respected_by_count), the average received, the top-1/3/10 averages received, and the mutual
    averages: how one's own favourites rate one back (60 when they did not rate one).
    """
    names = list(residents)
    known = set(names)
    result = {}
    received = {dim: {n: [] for n in names} for dim in ("affection", "respect")}
    for dim, ratings in (("affection", affection), ("respect", respect)):
        for rater, scores in ratings.items():
            if rater not in known:
                continue
            for ratee, score in scores.items():
                if ratee in known and ratee != rater:
                    received[dim][ratee].append(float(score))
    for n in names:
        row: dict[str, float] = {}
        for dim, label, ratings in (("affection", "liked", affection), ("respect", "respected", respect)):
            got = sorted(received[dim][n], reverse=True)
            row[f"{label}_by_count"] = sum(1 for s in got if s >= config.positive_rating)
            row[f"avg_{dim}_received"] = sum(got) / len(got) if got else 0.0
            for k in (1, 3, 10):
                row[f"top{k}_{dim}_received"] = sum(got[:k]) / len(got[:k]) if got else 0.0
            own = ratings.get(n, {})
            favourites = [j for j in sorted(own, key=lambda j: (-own[j], j)) if j in known and j != n][:3]
            back = [float(ratings.get(j, {}).get(n, 60.0)) for j in favourites]
            row[f"mutual_{dim}"] = sum(back) / len(back) if back else 0.0
        result[n] = row
    return result


# -- subjective reward (§6.2) ---------------------------------------------------------------

@dataclass(frozen=True)
class SubjectiveScore:
    score: float
    penalties: int


def misery_threshold(values: Sequence[float], percentile: float = 0.25) -> float | None:
    """The value at index max(0, floor(percentile * n) - 1) of the sorted values.

    None when there are no values or they are all equal (then nobody is penalised).
    """
    if not values or min(values) == max(values):
        return None
    ordered = sorted(values)
    return ordered[max(0, math.floor(percentile * len(ordered)) - 1)]


def subjective_reward(history: Mapping[str, Sequence[Mapping[str, float]]], config: RewardConfig) -> dict[str, SubjectiveScore]:
    """Mean fulfilment over the period, with penalties for the population's bottom quartile.

    Thresholds come from all residents x all snapshots, per dimension (and for vitality).
    Each fulfilment value below its threshold is lowered by ``misery_penalty_value``; the
    score is the mean of the adjusted values. Each snapshot with vitality below its threshold
    subtracts ``misery_penalty_value`` / (number of fulfilment values). Vitality is never
    averaged in.
    """
    p, penalty = config.misery_threshold_percentile, config.misery_penalty_value
    thresholds = {
        dim: misery_threshold([s[dim] for snaps in history.values() for s in snaps], p) for dim in (*FULFILMENT, "vitality")
    }
    result = {}
    for name, snaps in history.items():
        values, count = [], 0
        for s in snaps:
            for dim in FULFILMENT:
                t = thresholds[dim]
                low = t is not None and s[dim] < t
                values.append(s[dim] - penalty * low)
                count += low
        score = sum(values) / len(values) if values else 0.0
        t = thresholds["vitality"]
        low_vitality = sum(1 for s in snaps if t is not None and s["vitality"] < t)
        if values:
            score -= low_vitality * penalty / len(values)
        result[name] = SubjectiveScore(score, count + low_vitality)
    return result


# -- economic reward (§6.3) -----------------------------------------------------------------

def economic_reward(deposit_start: Mapping[str, float], deposit_end: Mapping[str, float]) -> dict[str, float]:
    """Deposit at the period's end minus deposit at its start, in currency units."""
    return {n: float(deposit_end[n]) - float(deposit_start[n]) for n in deposit_start}


# -- total, returns, advantages (§6.4, §6.5) ------------------------------------------------

def zscore(values: Mapping[str, float]) -> dict[str, float]:
    """(x - mean) / population std; std taken as 1 when it is 0."""
    if not values:
        return {}
    xs = list(values.values())
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs)) or 1.0
    return {k: (v - mean) / std for k, v in values.items()}


@dataclass(frozen=True)
class LifeReward:
    social: float
    subjective: float
    economic: float
    z_social: float
    z_subjective: float
    z_economic: float
    total: float


def life_reward(
    social: Mapping[str, float], subjective: Mapping[str, float], economic: Mapping[str, float], config: RewardConfig
) -> dict[str, LifeReward]:
    """R_total = w_s z(social) + w_sub z(subjective) + w_e z(economic), z across residents."""
    zs, zsub, ze = zscore(social), zscore(subjective), zscore(economic)
    ws, wsub, we = config.social_weight, config.subjective_weight, config.economy_weight
    return {
        n: LifeReward(social[n], subjective[n], economic[n], zs[n], zsub[n], ze[n], ws * zs[n] + wsub * zsub[n] + we * ze[n])
        for n in social
    }


def normalised_returns(rewards: Sequence[float], gamma: float) -> list[float]:
    """Ĝ_t = G_t / [(1 - gamma^(T-t+1)) / (1 - gamma)] with G_t = r_t + gamma G_{t+1}.

    The normaliser is the discounted number of remaining years, so a constant reward r gives
    Ĝ_t = r for every t.
    """
    returns, g = [], 0.0
    T = len(rewards)
    for t in range(T, 0, -1):
        g = rewards[t - 1] + gamma * g
        remaining = (1 - gamma ** (T - t + 1)) / (1 - gamma) if gamma != 1 else T - t + 1
        returns.append(g / remaining)
    return returns[::-1]


def advantages(rewards: Sequence[float], gamma: float) -> list[float]:
    """A_k = Ĝ_k - Ĝ_{k-1} with a virtual Ĝ_0 = 0 (so A_1 = Ĝ_1)."""
    g = normalised_returns(rewards, gamma)
    return [g[k] - (g[k - 1] if k else 0.0) for k in range(len(g))]


def select_top(advantages_by_year: Mapping[int, Mapping[str, float]], fraction: float) -> dict[int, list[str]]:
    """Per year, the residents with the highest advantage: max(1, floor(fraction * n)) of them.

    Ties are broken by name, so the selection does not depend on input order.
    """
    chosen = {}
    for year, adv in advantages_by_year.items():
        k = max(1, math.floor(fraction * len(adv))) if adv else 0
        chosen[year] = sorted(adv, key=lambda n: (-adv[n], n))[:k]
    return chosen
