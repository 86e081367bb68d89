"""The viewer's charts, checked on their specs (no browser): the reward panels show what moves."""

import pytest

pytest.importorskip("altair")

from visualization.plots import reward_chart  # noqa: E402


def test_reward_panels_show_liked_by_and_respected_by_not_the_constant_social_mean(small_model_two_years):
    rewards = small_model_two_years.reward_table()
    spec = reward_chart(rewards).to_dict()
    components = {row["component"] for row in spec["datasets"][next(iter(spec["datasets"]))]}
    assert components == {"liked-by", "respected-by", "subjective", "economic"}
    assert spec["facet"]["column"]["sort"] == ["liked-by", "respected-by", "subjective", "economic"]


def test_rewards_without_the_counts_fall_back_to_the_social_panel(small_model_two_years):
    rewards = small_model_two_years.reward_table()[["year", "name", "social", "subjective", "economic", "total"]]
    spec = reward_chart(rewards).to_dict()
    components = {row["component"] for row in spec["datasets"][next(iter(spec["datasets"]))]}
    assert components == {"social", "subjective", "economic"}


def test_place_labels_on_the_town_map_do_not_overlap():
    from itertools import combinations

    from agentopia_mesa.world.loader import load_world
    from visualization.sources import places_table
    from visualization.town_map import LABEL_FONT, place_labels

    for name in ("apartment", "school", "rivertown"):
        world = load_world(name)
        places = places_table(world)
        cell = 470 / max(world.grid.width, world.grid.height)
        labels = place_labels(places, cell)
        public = places[~places["category"].isin(["home", "workplace"])]
        assert len(labels) >= len(public) // 2, name
        boxes = [(x * cell - 0.3 * LABEL_FONT * len(t), y * cell, x * cell + 0.3 * LABEL_FONT * len(t), y * cell + LABEL_FONT)
                 for x, y, t in labels.itertuples(index=False)]
        for a, b in combinations(boxes, 2):
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), name


def test_a_dense_affection_network_draws_strong_ties_and_says_so(small_model_two_years, monkeypatch):
    from agentopia_mesa.run.replay import week_frame
    from visualization import network

    frame = week_frame(small_model_two_years)
    pairs = network.tie_pairs(frame, "affection")
    strong = [p for p in pairs if p[2] >= network.STRONG_RATING]
    monkeypatch.setattr(network, "DENSE_PAIRS", len(pairs) - 1)
    spec = network.network_chart("test", frame, "affection").to_dict()
    edges = [d for d in spec["datasets"].values() if d and "x2" in d[0]]
    assert len(edges[0]) == len(strong) < len(pairs)
    subtitle = " ".join(spec["title"]["subtitle"])
    assert f"{len(strong)} of {len(pairs)} rated pairs drawn" in subtitle and "headline's ties count acquaintances" in subtitle
    spec = network.network_chart("test", frame, "acquaintance").to_dict()
    assert "acquaintance ties drawn" in " ".join(spec["title"]["subtitle"])


def test_chart_specs_name_the_vega_lite_version_solara_draws_them_with():
    import re
    from pathlib import Path

    import solara

    from visualization.panels import runtime_spec

    vue = (Path(solara.__file__).parent / "widgets" / "vue" / "vegalite.vue").read_text(encoding="utf-8")
    runtime = re.search(r"vega-lite@(\d+)", vue).group(1)
    spec = runtime_spec(reward_chart(__import__("pandas").DataFrame()))
    assert spec["$schema"].endswith(f"/vega-lite/v{runtime}.json")
