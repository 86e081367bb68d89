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
