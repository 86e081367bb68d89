"""Emergent-behaviour analysis: hand-checked measures, and reports for a plain run directory, a
run recorded with the YearlyRecorder, and a sweep."""

import math

import networkx as nx
import pandas as pd
import pytest

from agentopia_mesa.analysis import analyze, load_run, parameter_effects
from agentopia_mesa.run.yearly import YearlyRecorder
from agentopia_mesa.cli.analyze import add_analyze_parser, standalone_main
from agentopia_mesa.analysis.measures import run_measures
from agentopia_mesa.analysis.network import clustering, communities, density, network_measures, positive_ties, tie_changes
from agentopia_mesa.analysis.stats import fisher_ci, job_rank, mean_ci, mobility, pearson, rank_thresholds, spearman, transition_matrix
from agentopia_mesa.cli.main import main as agentopia
from agentopia_mesa.sweeps import run_sweep, sweep_from_dict


# -- pure measures on hand-made cases ------------------------------------------------------------------
def two_triangles() -> nx.DiGraph:
    """a-b-c and x-y-z, every tie mutual with familiarity 50; one weak one-way bridge c -> x."""
    g = nx.DiGraph()
    for group in ("abc", "xyz"):
        for u in group:
            for v in group:
                if u != v:
                    g.add_edge(u, v, familiarity=50.0)
    g.add_edge("c", "x", familiarity=5.0)
    g.add_node("loner")
    return g


def test_network_measures_on_two_triangles():
    g = two_triangles()
    assert density(g) == pytest.approx(13 / (7 * 6))
    # a, b, y, z close a triangle (1); c and x have 3 neighbours, one triangle of 3 pairs (1/3); loner 0.
    assert clustering(g) == pytest.approx((4 * 1 + 2 / 3) / 7)
    groups = communities(g)
    assert groups["communities"] == 2 and groups["isolates"] == 1
    assert groups["largest_community"] == pytest.approx(3 / 7) and 0.3 < groups["modularity"] < 0.6


def test_only_ratings_of_60_or_more_are_ties():
    ratings = nx.DiGraph()
    ratings.add_edge("a", "b", score=60)
    ratings.add_edge("b", "a", score=59.9)
    ratings.add_edge("b", "c", score=90)
    liked = positive_ties(ratings)
    assert set(liked.edges) == {("a", "b"), ("b", "c")} and set(liked.nodes) == {"a", "b", "c"}
    measures = network_measures(two_triangles(), ratings, nx.DiGraph())
    assert measures["affection_density"] == pytest.approx(2 / 6) and measures["affection_reciprocity"] == 0
    assert measures["respect_density"] == 0
    assert tie_changes({("a", "b"), ("b", "c")}, {("b", "c"), ("c", "a")}) == {"formed": 1, "dissolved": 1}


def test_statistics_on_hand_computed_cases():
    mean, low, high, n = mean_ci([1, 2, 3])
    assert (mean, n) == (2, 3) and high - mean == pytest.approx(4.303 / math.sqrt(3))
    assert math.isnan(mean_ci([5])[1]) and mean_ci([])[3] == 0
    assert pearson([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1)
    assert spearman([1, 2, 3, 4], [1, 4, 9, 100]) == pytest.approx(1)  # monotone, not linear
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    low, high = fisher_ci(0.5, 28)
    assert low == pytest.approx(math.tanh(math.atanh(0.5) - 1.96 / 5)) and high > 0.5


def test_job_ranks_and_mobility():
    cuts = rank_thresholds([100, 200, 300, 400, 0])  # unpaid positions do not set the cut points
    assert cuts == [175, 250, 325]
    assert [job_rank(i, cuts) for i in (0, 100, 200, 300, 400)] == [0, 1, 2, 3, 4]
    before = {"ann": 1, "bo": 2, "cy": 4, "di": 0}
    after = {"ann": 2, "bo": 2, "cy": 3, "di": 0, "newcomer": 4}
    assert mobility(before, after) == {"mobility": 0.5, "upward": 0.25, "downward": 0.25}
    matrix = transition_matrix(before, after, 5)
    assert matrix[1, 2] == matrix[4, 3] == matrix[2, 2] == matrix[0, 0] == 1 and matrix.sum() == 4


# -- reports -------------------------------------------------------------------------------------------
def test_analyze_a_plain_agentopia_run_directory(tmp_path, capsys):
    run = tmp_path / "run"
    assert agentopia(["run", "--world", "school", "--residents", "12", "--years", "2", "--out", str(run), "--quiet"]) == 0
    assert standalone_main(add_analyze_parser, "analyze", [str(run)]) == 0
    out = run / "analysis"
    measures = pd.read_csv(out / "measures.csv")
    assert list(measures["year_index"]) == [0, 1, 2]
    assert measures["gini_deposit"].between(0, 1).all() and measures["mobility"].iloc[1:].between(0, 1).all()
    assert measures.loc[1:, "mean_reward_subjective"].notna().all()
    # `agentopia run` attaches the yearly recorder, so the network measures are there too
    assert measures["acquaintance_density"].between(0, 1).all() and measures["acquaintance_density"].iloc[-1] > 0
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "<img" in html  # self-contained
    correlations = pd.read_csv(out / "correlations.csv")
    assert set(correlations["innate"]) == {"start_deposit", "start_income", "start_acquaintances"}
    assert "report:" in capsys.readouterr().out


def test_recorded_run_has_network_measures_every_year(tmp_path):
    from agentopia_mesa.model import AgentopiaModel
    from agentopia_mesa.run.results import run_metadata, write_results, write_start

    model = AgentopiaModel(world="apartment", residents=15, years=2, seed=4)
    meta = run_metadata(model, "apartment", 4)
    write_start(tmp_path, model, meta)
    YearlyRecorder(tmp_path).attach(model)
    model.run()
    write_results(tmp_path, model, meta, 1.0)
    measures = run_measures(load_run(tmp_path))
    assert list(measures["year_index"]) == [0, 1, 2]
    for column in ("acquaintance_density", "acquaintance_clustering", "affection_density", "respect_density", "modularity"):
        assert measures[column].between(-0.5, 1).all(), column
    assert measures.loc[0, "affection_density"] == 0  # nobody has rated anybody before the first year end
    assert measures.loc[2, "acquaintance_density"] == pytest.approx(
        model.ties.acquaintance.number_of_edges() / (15 * 14))
    assert measures.loc[1:, "affection_formed"].notna().all()
    yearly = pd.read_csv(tmp_path / "residents_yearly.csv")
    start = yearly[yearly["year_index"] == 0].set_index("name")
    assert all(start.loc[r.name, "deposit"] == r.profile.deposit for r in model.residents)


def test_sweep_report_compares_each_measure_across_swept_values(tmp_path):
    spec = sweep_from_dict({"sweep": {"name": "decay", "years": 1, "residents": 6, "seeds": 2},
                            "grid": {"needs__decay": [0.05, 0.4]}})
    out = tmp_path / "sweep"
    assert run_sweep(spec, out, progress=False).complete
    report = analyze(out)
    assert report == out / "analysis" / "report.html"
    effects = pd.read_csv(out / "analysis" / "effects.csv")
    mood = effects[(effects["measure"] == "mean_mood")].set_index("value")
    assert list(mood["n"]) == [2, 2] and (mood["low"] <= mood["mean"]).all() and (mood["mean"] <= mood["high"]).all()
    assert mood.loc[0.4, "mean"] < mood.loc[0.05, "mean"]
    assert {"effects_needs__decay.png", "trajectories_needs__decay.png", "report.md"} <= {p.name for p in (out / "analysis").iterdir()}
    final = pd.read_csv(out / "analysis" / "final_year.csv")
    assert len(final) == 4 and not parameter_effects(final, "needs__decay").empty


def test_analyze_refuses_what_is_not_a_run_or_sweep(tmp_path, capsys):
    assert standalone_main(add_analyze_parser, "analyze", [str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "neither a run directory" in err
