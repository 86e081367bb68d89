"""Ratings from notes (paper §6.1; issue 30 item 4): a resident rates the 20 people whose notes it
read or wrote most recently; the tie graph's order (most recently met) stays a setting, and the
lean profile keeps it."""

import pytest

from agentopia_mesa.config import PROFILES, SimulationConfig
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.life_reward import rated_people
from agentopia_mesa.town.notebook import PEOPLE


def _town(**overrides):
    model = AgentopiaModel(world="school", residents=12, years=1, seed=1, **overrides)
    r = model.residents[0]
    others = [o.name for o in model.residents[1:5]]
    for week, name in enumerate(others):  # met in this order: the last is the most recently met
        model.ties.meet(r.name, name, week)
        model.ties.interact(r.name, name, 0.5, week)
    for name in reversed(others):  # notes used in the other order: the first is the most recently used
        r.notebook.write(PEOPLE + name, f"{name}.", "", "now", 0)
    return model, r, others


def test_the_paper_rates_the_most_recently_used_notes():
    model, r, others = _town()
    assert SimulationConfig().reward.rated_people == "notes"
    people = rated_people(model, r, 3)
    assert people == others[:3]
    r.notebook.read(PEOPLE + others[3], "later")  # reading a note counts as using it
    assert rated_people(model, r, 1) == [others[3]]


def test_the_tie_graph_order_is_a_setting_and_the_lean_profiles():
    model, r, others = _town(reward__rated_people="ties")
    assert rated_people(model, r, 2) == [others[3], others[2]]
    assert PROFILES["lean"]["reward__rated_people"] == "ties"


def test_an_unknown_choice_is_one_clear_line():
    with pytest.raises(ValueError, match="reward.rated_people: must be one of notes, ties"):
        SimulationConfig().with_flat_overrides({"reward__rated_people": "friends"})
