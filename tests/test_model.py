"""The weekly cycle end to end: determinism, stage rules, movement on the grid."""

import math

import pandas as pd
import pytest

from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.minds.base import Mind
from agentopia_mesa.contract.questions import PlanQuestion
from agentopia_mesa.minds.rule_mind import RuleMind
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.plan import plan
from agentopia_mesa.stages.week_start import week_start


def _metrics(seed, years=1, residents=25, world="apartment"):
    model = AgentopiaModel(world=world, residents=residents, years=years, seed=seed)
    model.run()
    return model.datacollector.get_model_vars_dataframe(), model.reward_table()


def test_same_seed_same_history():
    (m1, r1), (m2, r2) = _metrics(3), _metrics(3)
    pd.testing.assert_frame_equal(m1, m2)
    pd.testing.assert_frame_equal(r1, r2)


def test_different_seed_different_history():
    m1, _ = _metrics(3)
    m2, _ = _metrics(4)
    assert not m1.equals(m2)


def test_model_stops_after_the_last_week_and_collects_every_week():
    config = SimulationConfig().with_overrides(calendar={"weeks_per_year": 4})
    model = AgentopiaModel(world="school", residents=12, years=2, seed=1, config=config)
    model.run()
    assert not model.running
    assert model.weeks_done == 8
    metrics = model.datacollector.get_model_vars_dataframe()
    assert list(metrics["week"]) == list(range(9))  # initial state + 8 weeks
    assert sorted(model.reward_table()["year"].unique()) == [2020, 2021]


def test_week_start_decays_mood_social_esteem_by_15_percent_and_pays_income():
    model = AgentopiaModel(world="apartment", residents=5, years=1, seed=0)
    r = model.residents[0]
    r.state.needs.update(mood=80, social=47, esteem=10, material=33)
    deposit = r.state.deposit
    week_start(model)
    assert r.state.needs == {"mood": 80 - 12, "social": 47 - math.floor(47 * 0.15), "esteem": 10 - 1, "material": 33}
    assert r.state.deposit == deposit + r.weekly_income
    assert r.history[-1]["mood"] == 68  # the week-begin snapshot feeds the subjective reward


class _AlwaysLuxurious(Mind):
    """A mind that always wants the luxurious standard; everything else as RuleMind."""

    def __init__(self, rng):
        self.rules = RuleMind(rng)

    def decide(self, question):
        decision = self.rules.decide(question)
        if isinstance(question, PlanQuestion):
            return decision.model_copy(update={"living_standard": "luxurious"})
        return decision


def test_plan_charges_the_standard_and_downgrades_the_unaffordable_to_frugal():
    model = AgentopiaModel(world="apartment", residents=4, years=1, seed=0, minds=lambda m, spec, i: _AlwaysLuxurious(m.random))
    rich, poor = model.residents[0], model.residents[1]
    rich.state.deposit, poor.state.deposit = 10_000, 450
    rich.state.needs["material"] = poor.state.needs["material"] = 50
    plan(model)
    assert (rich.living_standard, rich.state.deposit, rich.need("material")) == ("luxurious", 9_500, 60)
    assert (poor.living_standard, poor.state.deposit, poor.need("material")) == ("frugal", 350, 45)
    assert len(rich.intentions) == model.config.calendar.days_per_week


def test_activity_changes_stay_within_the_paper_limits(small_model_two_years):
    limits = small_model_two_years.config.activity
    per_kind = {"joint": limits.joint, "encounter": limits.joint, "public": limits.public}
    checked = 0
    for r in small_model_two_years.residents:
        for record in r.records + r.last_records:
            bounds = per_kind.get(record.kind, limits.solo)
            for key, value in record.changes.items():
                if key == "skills":
                    assert all(bounds.skills[0] <= v <= bounds.skills[1] for v in value.values())
                elif key == "money" and record.kind == "shopping":
                    assert value <= 0  # the price of what was bought (the apartment's library card is free)
                else:
                    low, high = getattr(bounds, key)
                    assert low <= value <= high, (record, key)
                checked += 1
    assert checked > 50


def test_residents_stand_where_their_last_activity_happened(small_model_two_years):
    model = small_model_two_years
    for r in model.residents:
        assert r.cell is r.place.cell
        assert r in r.place.cell.agents
    assert {r.place.kind for r in model.residents} - {"home"}, "nobody ever left home"


def test_possessions_never_exceed_the_cap(small_model_two_years):
    cap = small_model_two_years.config.economy.max_possessions
    assert all(len(r.state.possessions) <= cap for r in small_model_two_years.residents)


def test_contact_and_scheduling_produce_joint_activities_with_agreed_people(small_model_two_years):
    model = small_model_two_years
    metrics = model.datacollector.get_model_vars_dataframe()
    assert metrics["n_joint"].sum() > 0 and metrics["n_public"].sum() > 0 and metrics["n_encounter"].sum() > 0
    for r in model.residents:
        for record in r.records:
            if record.kind == "joint":
                assert record.with_people, record
                assert all(model.ties.knows(r.name, other) for other in record.with_people)


@pytest.mark.parametrize("weeks_per_year", [52])
def test_calendar_is_configurable(weeks_per_year):
    config = SimulationConfig().with_overrides(calendar={"weeks_per_year": weeks_per_year})
    model = AgentopiaModel(world="rivertown", residents=8, years=1, seed=2, config=config)
    model.run()
    assert model.weeks_done == weeks_per_year
    assert len(model.reward_table()) == 8


def test_rule_mind_answers_at_most_as_many_invitations_as_a_decision_holds():
    """A popular resident in a big town can hold more invitations than one answer may carry."""
    from agentopia_mesa.contract.questions import ContactQuestion, Invitation
    from agentopia_mesa.minds.rule_mind import MAX_REPLIES
    from agentopia_mesa.stages.asking import prepare

    model = AgentopiaModel(world="apartment", residents=25, years=1, seed=0)
    r, other = model.residents[0], model.residents[1].name
    invitations = [Invitation(f"J{i}", "Meet", other, 0, 2, "D2", model.social_places[0], (other,))
                   for i in range(MAX_REPLIES + 5)]
    question = ContactQuestion(r, round=2, rounds=3, invitations=invitations, known=[other],
                               free_days={0: [1, 2, 3]}, places=model.social_places)
    decision = RuleMind(model.random).decide(prepare(model, question))
    assert [reply.activity_id for reply in decision.replies] == [f"J{i}" for i in range(MAX_REPLIES)]


def test_the_garbage_collector_is_off_during_a_week_and_as_it_was_after(monkeypatch):
    import gc

    import agentopia_mesa.model as model_module

    during = []
    real_review = model_module.review
    monkeypatch.setattr(model_module, "review", lambda model: (during.append(gc.isenabled()), real_review(model)))
    model = AgentopiaModel(world="apartment", residents=5, years=1, seed=0)
    before = gc.get_threshold()
    model.step()
    assert during == [False] and gc.isenabled() and gc.get_threshold() == before
    gc.disable()  # a process that switched it off keeps it off
    try:
        model.step()
        assert during == [False, False] and not gc.isenabled()
    finally:
        gc.enable()
    monkeypatch.setattr(model_module, "COLLECT_DURING_WEEK", True)  # the older setting: a higher threshold
    model.step()
    assert during == [False, False, True] and gc.get_threshold() == before


def test_what_a_week_leaves_is_frozen_until_the_next_week_and_a_finished_run_leaves_nothing_frozen(monkeypatch):
    import gc

    import agentopia_mesa.model as model_module

    frozen_during = []
    real_review = model_module.review
    monkeypatch.setattr(model_module, "review", lambda model: (frozen_during.append(gc.get_freeze_count()), real_review(model)))
    model_module.thaw()  # an unfinished model of an earlier test leaves its last week frozen
    model = AgentopiaModel(world="apartment", residents=5, years=1, seed=0, config=_two_weeks())
    model.step()
    assert gc.get_freeze_count() > 0 and gc.isenabled()  # between weeks: the town is frozen
    model.step()
    assert frozen_during == [0, 0]  # unfrozen while a week runs
    assert not model.running and gc.get_freeze_count() == 0  # finished: nothing left frozen


def _two_weeks() -> SimulationConfig:
    return SimulationConfig().with_overrides(calendar={"weeks_per_year": 2})
