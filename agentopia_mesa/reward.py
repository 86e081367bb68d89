"""Life reward: Agentopia (arXiv 2606.07513) §6 and the released code's ``src/world/reward.py``.

Pure functions from yearly ratings, fulfilment histories and deposits to per-resident rewards,
and from yearly rewards to returns, advantages and the training selection. No model, no LLM, no
hidden state; the same inputs in any order give the same numbers.

    R_total,i = 0.4 z(social)_i + 0.4 z(subjective)_i + 0.2 z(economic)_i

- social: rank-weighted affection and respect graphs, PageRank, one reciprocity pass (§6.1);
- subjective: mean fulfilment over the period with misery penalties (§6.2);
- economic: deposit change over the period (§6.3);
- returns and advantages over the years, then the top quarter per year (§6.5, §7).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from agentopia_mesa.config import RewardConfig

Ratings = Mapping[str, Mapping[str, float]]
"""rater -> {ratee: score 0-100}: one year's private affection (or respect) ratings."""

FULFILMENT = ("mood", "material", "social", "esteem")
"""The fulfilment dimensions that are averaged; vitality only adds penalties (§6.2)."""

TOP_K = (1, 3, 10)


# -- social reward (§6.1) -------------------------------------------------------------------

def rank_weights(scores: Mapping[str, float]) -> dict[str, float]:
    """Linear rank weights of one rater's list, 100 for the first ... 0 for the last.

        w_(r) = 100 (n - r) / (n - 1)   for rank r = 1..n;   a single person gets 100

    People are ordered by score, descending, ties by name. The weight depends on the rank only:
    the last-ranked person gets 0 even if rated 90. Agentopia §6.1 item 2 / released code
    reward.py ``ranking_to_weights``.
    """
    ordered = sorted(scores, key=lambda name: (-scores[name], name))
    n = len(ordered)
    if n == 1:
        return {ordered[0]: 100.0}
    return {name: 100.0 * (n - 1 - rank) / (n - 1) for rank, name in enumerate(ordered)}


def rating_graph(ratings: Ratings, residents: Iterable[str]) -> nx.DiGraph:
    """Directed graph of one kind of regard, edge i -> j with weight ŵ_ij = w_ij / Σ_k w_ik.

    w_ij is j's rank weight in i's list (:func:`rank_weights`). Names that are not residents
    (invented by an LLM) and self-ratings are dropped before ranking. As in the released code
    (reward.py ``pagerank``), the nodes are the residents who rate or are rated, so PageRank's N
    counts only them; last-ranked people keep their edge with weight 0. A resident outside the
    graph scores 0 (§6.1 item 6). Agentopia §6.1 items 2-3.
    """
    known = set(residents)
    graph = nx.DiGraph()
    for rater in sorted(known & set(ratings)):
        scores = {j: s for j, s in ratings[rater].items() if j in known and j != rater}
        weights = rank_weights(scores) if scores else {}
        total = sum(weights.values())
        if total > 0:
            graph.add_weighted_edges_from((rater, j, w / total) for j, w in weights.items())
    return graph


def pagerank_scores(graph: nx.DiGraph, damping: float = 0.85, max_iter: int = 100, tol: float = 1e-6) -> dict[str, float]:
    """PageRank by power iteration, exactly as the released code (reward.py ``pagerank``).

        S_j <- (1 - d)/N + d Σ_i S_i ŵ_ij + d Σ_{i dangling} S_i / N

    Uniform start 1/N. Stops when the L1 change is below ``tol`` or after ``max_iter``
    iterations, returning the last iterate either way. A dangling node (no out-weight) spreads
    its score evenly over all nodes. Scores sum to 1. Agentopia §6.1 item 4.

    ``nx.pagerank(graph, damping, max_iter=max_iter, tol=tol / N)`` computes the same iteration
    (tests check agreement to 1e-12) but stops at ``N * tol`` and raises
    ``PowerIterationFailedConvergence`` instead of returning the last iterate, so it is not used.
    """
    nodes = sorted(graph)  # a fixed summation order makes the result independent of input order
    n = len(nodes)
    if n == 0:
        return {}
    dangling = [i for i in nodes if graph.out_degree(i, weight="weight") == 0]
    out_edges = [(i, [(j, edge["weight"]) for j, edge in graph[i].items()]) for i in nodes]  # read once, not per iteration
    scores = dict.fromkeys(nodes, 1.0 / n)
    for _ in range(max_iter):
        previous = scores
        teleport = (1 - damping) / n + damping * sum(previous[i] for i in dangling) / n
        scores = dict.fromkeys(nodes, teleport)
        for i, edges in out_edges:
            share = damping * previous[i]  # (d S_i) w_ij, in the order the sum always took
            for j, weight in edges:
                scores[j] += share * weight
        if sum(abs(scores[v] - previous[v]) for v in nodes) < tol:
            break
    return scores


def reciprocity_pass(graph: nx.DiGraph, scores: Mapping[str, float], alpha: float) -> dict[str, float]:
    """One pass after convergence ("mutual affection" bonus): j gains more from i's regard when
    j in turn values i.

        S'_j = Σ_i S_i ŵ_ij (1 + α ŵ_ji)

    No teleport term, no renormalisation; a node with no in-edges gets 0. Agentopia §6.1
    item 5 / released code reward.py ``pagerank`` (the code's post-convergence pass, not the
    pre-PageRank edge bonus of §6.1 item 7).
    """
    result = dict.fromkeys(graph, 0.0)
    for i in sorted(graph):
        for j, edge in graph[i].items():
            back = graph[j][i]["weight"] if graph.has_edge(j, i) else 0.0
            result[j] += scores[i] * edge["weight"] * (1 + alpha * back)
    return result


def regard_scores(ratings: Ratings, residents: Iterable[str], config: RewardConfig) -> dict[str, float]:
    """S' for one kind of regard: rating graph, PageRank, then the reciprocity pass.

    As in the released code the pass is applied only when ``mutual_affection_alpha`` > 0; with
    α = 0 the plain PageRank scores are returned. Residents outside the graph are absent.
    """
    graph = rating_graph(ratings, residents)
    scores = pagerank_scores(graph, config.pagerank_damping, config.pagerank_max_iter, config.pagerank_tol)
    alpha = config.mutual_affection_alpha
    return reciprocity_pass(graph, scores, alpha) if alpha > 0 else scores


def social_reward(affection: Ratings, respect: Ratings, residents: Iterable[str], config: RewardConfig) -> dict[str, float]:
    """Social standing, ≥ 0, per resident.

        social_j = a S'_aff,j + (1 - a) S'_resp,j,   a = ``affection_weight`` = 0.5

    A resident absent from a graph scores 0 there. Agentopia §6.1 item 6 / released code
    reward.py ``calculate_social_rewards``.
    """
    names = list(residents)
    liked, respected = regard_scores(affection, names, config), regard_scores(respect, names, config)
    a = config.affection_weight
    return {n: a * liked.get(n, 0.0) + (1 - a) * respected.get(n, 0.0) for n in names}


def social_metrics(affection: Ratings, respect: Ratings, residents: Iterable[str], config: RewardConfig) -> dict[str, dict[str, float]]:
    """Absolute social measures, comparable across runs; saved, not part of the reward.

    Per resident and per kind of regard (``affection`` / ``respect``), with p = ``positive_rating``:

    - ``liked_by_count`` / ``respected_by_count``: raters who gave ≥ p;
    - ``avg_{kind}_received``: mean score received (0 if none);
    - ``top{k}_{kind}_received``, k = 1, 3, 10: mean of the k highest scores received;
    - ``top{k}_{kind}_mutual``: for one's own k highest-rated people, the mean score they gave
      one back, p when they did not rate one (0 if one rated nobody).

    Unknown names and self-ratings are ignored. Agentopia §6.1 item 8 / released code reward.py
    ``compute_social_metrics`` (whose threshold and default are both 60).
    """
    names = list(residents)
    known = set(names)
    result: dict[str, dict[str, float]] = {n: {} for n in names}
    for kind, count_key, ratings in (("affection", "liked_by_count", affection), ("respect", "respected_by_count", respect)):
        given = {r: {j: float(s) for j, s in ratings[r].items() if j in known and j != r} for r in known & set(ratings)}
        received: dict[str, dict[str, float]] = {n: {} for n in names}
        for rater, scores in given.items():
            for ratee, score in scores.items():
                received[ratee][rater] = score
        for n in names:
            got = sorted(received[n].values(), reverse=True)
            mine = given.get(n, {})
            favourites = sorted(mine, key=lambda j: (-mine[j], j))
            row = result[n]
            row[count_key] = sum(1 for s in got if s >= config.positive_rating)
            row[f"avg_{kind}_received"] = _mean(got)
            for k in TOP_K:
                row[f"top{k}_{kind}_received"] = _mean(got[:k])
                row[f"top{k}_{kind}_mutual"] = _mean([received[n].get(j, config.positive_rating) for j in favourites[:k]])
    return result


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# -- subjective reward (§6.2) ---------------------------------------------------------------

@dataclass(frozen=True)
class SubjectiveScore:
    """One resident's subjective reward: ``score`` on the 0-100 fulfilment scale (penalties can
    take it a little lower), and ``penalties``, the number of misery penalties applied."""

    score: float
    penalties: int


def misery_threshold(values: Sequence[float], percentile: float = 0.25) -> float | None:
    """The misery threshold of one dimension: the value at index max(0, ⌊p n⌋ - 1) of the sorted
    values. None (no penalty) when there are no values or all are equal.

    Agentopia §6.2 item 2 / released code reward.py ``compute_subjective_rewards``.
    """
    if len(set(values)) <= 1:
        return None
    return sorted(values)[max(0, math.floor(percentile * len(values)) - 1)]


def subjective_reward(history: Mapping[str, Sequence[Mapping[str, float]]], config: RewardConfig) -> dict[str, SubjectiveScore]:
    """Mean fulfilment over the period, with penalties for the population's bottom quartile.

    ``history`` maps each resident to its snapshots of the period (about 10: nine week-begin
    states and the current one), each with mood, material, social, esteem and vitality. With
    thresholds θ_d from :func:`misery_threshold` over all residents x all snapshots, penalty P:

        v'_d = v_d - P [v_d < θ_d]                              for the 4 fulfilment dimensions
        score = mean(v') - P · #{snapshots with vitality < θ_vitality} / #v'

    Vitality is never averaged in. ``penalties`` counts both kinds. Agentopia §6.2 / released
    code reward.py ``compute_subjective_rewards``.
    """
    p, penalty = config.misery_threshold_percentile, config.misery_penalty_value
    thresholds = {dim: misery_threshold([s[dim] for snaps in history.values() for s in snaps], p) for dim in (*FULFILMENT, "vitality")}

    def below(snapshot: Mapping[str, float], dim: str) -> bool:
        return thresholds[dim] is not None and snapshot[dim] < thresholds[dim]

    result = {}
    for name, snapshots in history.items():
        if not snapshots:
            raise ValueError(f"{name}: no fulfilment snapshots for the reward period; pass at least the current state")
        adjusted = [s[dim] - penalty * below(s, dim) for s in snapshots for dim in FULFILMENT]
        misery = sum(below(s, dim) for s in snapshots for dim in FULFILMENT)
        low_vitality = sum(below(s, "vitality") for s in snapshots)
        score = _mean(adjusted) - low_vitality * penalty / len(adjusted)
        result[name] = SubjectiveScore(score, misery + low_vitality)
    return result


# -- economic reward (§6.3) -----------------------------------------------------------------

def economic_reward(deposit_start: Mapping[str, float], deposit_end: Mapping[str, float]) -> dict[str, float]:
    """Deposit at the period's end minus deposit at its start (``Y{year}-W00-begin``), in raw
    currency units, per resident of ``deposit_start``. Agentopia §6.3 / released code world.py."""
    return {n: float(deposit_end[n]) - float(deposit_start[n]) for n in deposit_start}


# -- total life reward (§6.4) ---------------------------------------------------------------

def zscore(values: Mapping[str, float]) -> dict[str, float]:
    """(x - mean) / σ across the mapping, σ the population standard deviation, taken as 1 when
    it is 0 (then every z is 0). Agentopia §6.4 / released code reward.py
    ``calculate_total_rewards``. Mean and σ are computed exactly (``statistics``) so equal
    values give σ = 0, not a rounding residue."""
    if not values:
        return {}
    xs = list(values.values())
    mean, std = statistics.mean(xs), statistics.pstdev(xs) or 1.0
    return {k: (v - mean) / std for k, v in values.items()}


@dataclass(frozen=True)
class LifeReward:
    """One resident's life reward at one settlement: raw components, their z-scores, the total."""

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
    """R_total,i = w_s z(social)_i + w_sub z(subjective)_i + w_e z(economic)_i.

    w_s = ``social_weight`` = 0.4, w_e = ``economy_weight`` = 0.2, w_sub = 1 - w_s - w_e; z-scores
    across all residents of this settlement (:func:`zscore`), so totals have mean 0. Agentopia
    §6.4 / released code reward.py ``calculate_total_rewards``.
    """
    if not set(social) == set(subjective) == set(economic):
        raise ValueError(
            f"life_reward needs the same residents in every component: social has {len(social)}, "
            f"subjective {len(subjective)}, economic {len(economic)}"
        )
    zs, zsub, ze = zscore(social), zscore(subjective), zscore(economic)
    ws, wsub, we = config.social_weight, config.subjective_weight, config.economy_weight
    return {
        n: LifeReward(social[n], subjective[n], economic[n], zs[n], zsub[n], ze[n], ws * zs[n] + wsub * zsub[n] + we * ze[n])
        for n in social
    }


# -- returns, advantages, selection (§6.5, §7) ----------------------------------------------

def _returns_from_year_begin(rewards: Sequence[float], gamma: float) -> list[float]:
    """[Ĝ_0, Ĝ_1, ..., Ĝ_T] for the stream (r_0 = 0, r_1, ..., r_T), as the released code does."""
    stream = [0.0, *rewards]
    returns, g = [], 0.0
    for remaining, r in enumerate(reversed(stream), start=1):
        g = r + gamma * g
        steps = (1 - gamma**remaining) / (1 - gamma) if gamma != 1 else remaining
        returns.append(g / steps)
    return returns[::-1]


def normalised_returns(rewards: Sequence[float], gamma: float) -> list[float]:
    """Normalised discounted returns Ĝ_1 ... Ĝ_T of one resident's yearly totals r_1 ... r_T.

        G_t = r_t + γ G_{t+1},  G_T = r_T;     Ĝ_t = G_t / [(1 - γ^(T-t+1)) / (1 - γ)]

    The divisor is the discounted number of remaining years (T - t + 1 when γ = 1), so a constant
    reward r gives Ĝ_t = r at every t. Agentopia §6.5 / released code reward.py
    ``calculate_returns``.
    """
    return _returns_from_year_begin(rewards, gamma)[1:]


def advantages(rewards: Sequence[float], gamma: float) -> list[float]:
    """Advantage of each year k = 1 ... T: A_k = Ĝ_k - Ĝ_{k-1}.

    Ĝ_0 belongs to a virtual year-begin point with reward r_0 = 0, normalised like the others:
    Ĝ_0 = γ G_1 / [(1 - γ^(T+1)) / (1 - γ)] (released code reward.py ``calculate_returns`` /
    ``calculate_advantages``). A_1 is therefore measured against a near-zero baseline; selection
    happens per year, where that baseline is proportional to G_1 and does not change the order.
    A constant reward r gives A_k = 0 for k ≥ 2. Agentopia §6.5.
    """
    g = _returns_from_year_begin(rewards, gamma)
    return [g[k] - g[k - 1] for k in range(1, len(g))]


def select_top(advantages_by_year: Mapping[int, Mapping[str, float]], fraction: float) -> dict[int, list[str]]:
    """Per year, the residents whose trajectories are kept for training: the highest advantages,
    max(1, ⌊fraction · n⌋) of them (25 of 100 with ``rft_top_fraction`` = 0.25), ties by name.

    Agentopia §7 item 3 / released code scripts/build_rft_data.py (per-period selection,
    ``max(1, int(len(items) * top_fraction))``). A year with no residents selects nobody.
    """
    chosen = {}
    for year, adv in advantages_by_year.items():
        k = max(1, int(fraction * len(adv))) if adv else 0
        chosen[year] = sorted(adv, key=lambda n: (-adv[n], n))[:k]
    return chosen
