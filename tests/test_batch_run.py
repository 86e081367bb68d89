"""Mesa's batch_run drives AgentopiaModel as Mesa users expect: seeds via rng=, every constant a
keyword, model and agent reporters (including the yearly life reward) in the rows."""

import pandas as pd
from mesa.batchrunner import batch_run

from agentopia_mesa.model import AgentopiaModel

RESIDENTS, WEEKS = 8, 10  # one simulated year of the default 10 weeks


def test_batch_run_round_trip_in_two_processes():
    rows = batch_run(
        AgentopiaModel,
        parameters={"world": "apartment", "residents": RESIDENTS, "years": 1, "needs__decay": [0.05, 0.3]},
        rng=[11, 12],
        max_steps=WEEKS,
        number_processes=2,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    assert len(frame) == 2 * 2 * RESIDENTS  # parameter sets x seeds x residents, last step only
    assert set(frame["RunId"]) == {0, 1, 2, 3} and set(frame["Step"]) == {WEEKS}
    assert pd.api.types.is_integer_dtype(frame["Step"])  # not 10.0: Mesa keys collections by model.time
    assert {"gini_deposit", "mean_mood", "ties", "friendships"} <= set(frame.columns)  # model reporters
    assert frame[["life_reward", "reward_social", "reward_subjective", "reward_economic"]].notna().all().all()

    # A row is exactly what the same model, built by hand with that seed, reports.
    model = AgentopiaModel(world="apartment", residents=RESIDENTS, years=1, needs__decay=0.3, rng=12)
    model.run()
    mine = frame[(frame["needs__decay"] == 0.3) & (frame["seed"] == 12)].set_index("name")
    totals = model.reward_table().set_index("name")["total"]
    pd.testing.assert_series_equal(mine["life_reward"].sort_index(), totals.sort_index(), check_names=False)
    assert mine["mean_mood"].iloc[0] == model.datacollector.get_model_vars_dataframe()["mean_mood"].iloc[-1]

    # The swept constant reaches the simulation: faster decay, sadder town.
    by_decay = frame.groupby("needs__decay")["mean_mood"].mean()
    assert by_decay[0.3] < by_decay[0.05]


def test_rng_and_seed_are_the_same_seed():
    a = AgentopiaModel(residents=RESIDENTS, years=1, rng=5)
    b = AgentopiaModel(residents=RESIDENTS, years=1, seed=5)
    for m in (a, b):
        m.run()
    pd.testing.assert_frame_equal(a.reward_table(), b.reward_table())


def test_mesa_documented_datacollector_calls_work_on_a_standalone_model():
    from agentopia_mesa.town.resident import Resident

    model = AgentopiaModel(world="school", residents=RESIDENTS, years=1, calendar__weeks_per_year=2, seed=1)
    model.run()
    agents = model.datacollector.get_agent_vars_dataframe()
    pd.testing.assert_frame_equal(agents, model.datacollector.get_agenttype_vars_dataframe(Resident))
    assert len(agents) == 3 * RESIDENTS and {"name", "life_reward", "deposit"} <= set(agents.columns)
    assert list(agents.index.names) == ["Step", "AgentID"]
    assert len(model.datacollector.get_model_vars_dataframe()) == 3


def test_batch_run_of_a_towns_settings_is_the_town_the_builder_makes():
    """batch_run takes a RunSettings (run/batch.py): the paper's society, judged by an LLM environment,
    row for row the town build_model makes of the same settings."""
    import pickle

    from agentopia_mesa.environment.llm_environment import LLMEnvironment
    from agentopia_mesa.run.batch import batch_parameters
    from agentopia_mesa.run.builder import build_model
    from agentopia_mesa.run.town_options import run_settings

    settings = run_settings({"world": "school", "residents": 6, "years": 1, "weeks_per_year": 2, "seed": 12,
                             "set": {"calendar__days_per_week": 2}, "mind": "llm", "mix": "fake=0.5", "profile": "paper"})
    parameters = batch_parameters(settings)
    assert {"minds", "environment", "ratings"} <= set(parameters) and all(len(v) == 1 for v in parameters.values())
    pickle.loads(pickle.dumps(parameters))  # what number_processes > 1 needs
    rows = pd.DataFrame(batch_run(AgentopiaModel, parameters=parameters, rng=[12], max_steps=2, number_processes=1,
                                  display_progress=False))
    model, _ = build_model(settings)
    assert isinstance(model.environment, LLMEnvironment)
    model.run()
    totals = model.reward_table().set_index("name")["total"]
    pd.testing.assert_series_equal(rows.set_index("name")["life_reward"].sort_index(), totals.sort_index(), check_names=False)
