"""Over ten years the society lives: ties form and dissolve, people change jobs, deposits spread."""

import pytest

from agentopia_mesa.model import AgentopiaModel


@pytest.mark.slow
@pytest.mark.parametrize("world", ["apartment", "school", "rivertown"])
def test_ten_years_of_a_built_in_world(world):
    model = AgentopiaModel(world=world, years=10, seed=0)
    model.run()
    metrics = model.datacollector.get_model_vars_dataframe()
    rewards = model.reward_table()
    assert len(model.residents) == 100 and model.weeks_done == 100

    # Friendships form and fade.
    assert model.ties.total.formed > 100
    assert model.ties.total.dissolved > 20
    assert metrics["friendships"].iloc[-1] > 10
    assert metrics["ties"].max() < 100 * 99 / 2 * 0.6, "the town should not become one big clique"

    # People change jobs; new harder jobs appear. (Rivertown's seed gives 9 changes in ten years since
    # the weekly encounters moved its random draws; 10-20 before: a threshold, not a rate.)
    assert model.job_changes_total >= 5
    assert len(model.jobs) > model.initial_job_count

    # Spending tracks income and deposits spread out.
    final = {r.name: r.state.deposit for r in model.residents}
    assert len(set(final.values())) > 50
    assert metrics["gini_deposit"].iloc[-1] > 0.2
    start_income = {r.name: r.weekly_income for r in model.residents}
    top = sorted(start_income, key=start_income.get)[-20:]
    bottom = sorted(start_income, key=start_income.get)[:20]
    assert sum(final[n] for n in top) > sum(final[n] for n in bottom)

    # Needs stay within their range and are not frozen.
    for need in ("mood", "material", "social", "esteem", "vitality"):
        series = metrics[f"mean_{need}"]
        assert series.between(0, 100).all()
        assert series.std() > 0.5

    # The life reward has spread in every component; advantages average about 0 after year 1.
    for year, group in rewards.groupby("year"):
        for column in ("social", "subjective", "economic"):
            assert group[column].std() > 0, (year, column)
        assert abs(group["total"].mean()) < 1e-9
        if year > rewards["year"].min():
            assert abs(group["advantage"].mean()) < 0.25, year
