"""Year-end careers as the README promises them: profile drift of at most +-5 (traits) and +-3
(talents) a year, and the job season (at most 3 ranked wishes; matching by skill, age and capacity)."""

import random

import pytest
from pydantic import ValidationError

from agentopia_mesa.contract.environment import HiringTask
from agentopia_mesa.environment.careers import drift_profile, job_season
from agentopia_mesa.environment.rules import RuleEnvironment
from agentopia_mesa.config import CareerConfig, SimulationConfig
from agentopia_mesa.contract.decisions import STAY, JobWishDecision
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.world.schema import JobSpec

YEAR = 4  # weeks in a year for the short towns here


def _profiles(model) -> dict[str, tuple[dict, dict]]:
    return {r.name: (dict(r.traits), dict(r.talents)) for r in model.residents}


def test_profiles_drift_at_most_5_for_traits_and_3_for_talents_a_year():
    config = SimulationConfig().with_overrides(calendar={"weeks_per_year": YEAR})
    model = AgentopiaModel(world="apartment", residents=30, years=2, seed=4, config=config)
    snapshots = [_profiles(model)]
    for _ in range(2):
        for _ in range(YEAR):
            model.step()
        snapshots.append(_profiles(model))
    assert not model.running
    moved = 0
    for before, after in zip(snapshots, snapshots[1:]):
        for name, (traits, talents) in after.items():
            old_traits, old_talents = before[name]
            assert traits.keys() == old_traits.keys() and talents.keys() == old_talents.keys()
            assert all(abs(traits[k] - old_traits[k]) <= 5 for k in traits), (name, old_traits, traits)
            assert all(abs(talents[k] - old_talents[k]) <= 3 for k in talents), (name, old_talents, talents)
            assert all(0 <= v <= 100 for v in (*traits.values(), *talents.values()))
            moved += traits != old_traits or talents != old_talents
    assert moved > 30  # profiles do drift: most residents change in each of the two years
    assert CareerConfig().max_trait_drift == 5 and CareerConfig().max_talent_drift == 3


def test_drift_is_clamped_to_the_configured_bound():
    model = AgentopiaModel(world="school", residents=6, years=1, seed=2)
    tight = CareerConfig(max_trait_drift=1, max_talent_drift=0)
    rng = random.Random(0)
    for _ in range(20):  # twenty years, each led by a busy social and study life (tendencies of +1)
        for r in model.residents:
            before = (dict(r.traits), dict(r.talents))
            r.traits, r.talents = drift_profile(r, {"joint": 10, "study": 10, "exercise": 10, "public": 5, "encounter": 0}, rng, tight)
            assert all(abs(r.traits[k] - before[0][k]) <= 1 for k in r.traits)
            assert r.talents == before[1]


# -- the job season ---------------------------------------------------------------------------------

def _job(key: str, skill: int, capacity: int, max_age: int | None = None) -> JobSpec:
    return JobSpec(key=key, organisation="Works", role=key.title(), weekly_income=100, min_skills={"craft": skill},
                   capacity=capacity, max_age=max_age, place="works")


@pytest.fixture
def town():
    """Ten residents, jobless, with a craft skill of 0 and age 30 next year unless a test says otherwise."""
    model = AgentopiaModel(world="school", residents=10, years=1, seed=1)
    people = model.residents
    for r in people:
        r.job_key, r.state.skills = None, {"craft": 0}
    return people, {r.name: 30 for r in people}


def _season(people, jobs, wishes, ages):
    jobs = {j.key: j for j in jobs}
    by_index = {i: r.name for i, r in enumerate(people)}
    named = {by_index[i]: list(w) for i, w in wishes.items()}
    rules = RuleEnvironment(SimulationConfig(), random.Random(0))

    def select(rank, applicants, holders):  # the rule environment's hiring task
        return {key: rules.rank_applicants(HiringTask(job=jobs[key], applicants=people, ages=ages, vacancies=0, rank=rank,
                                                      leniency=CareerConfig().skill_match_leniency))
                for key, people in applicants.items()}

    return job_season(people, jobs, named, ages, select, CareerConfig())


def test_at_most_three_ranked_wishes(town):
    people, ages = town
    jobs = [_job(f"hard{i}", 200, 1) for i in range(3)] + [_job("open", 10, 5)]
    for r in people[:2]:
        r.state.skills["craft"] = 50  # short of every hard job (80 % of 200 = 160), enough for the open one
    _season(people, jobs, {0: ["hard0", "hard1", "hard2", "open"], 1: ["hard0", "hard1", "open"]}, ages)
    assert people[0].job_key is None  # "open" was the 4th wish: never considered
    assert people[1].job_key == "open"
    # and the decision an LLM mind gives may not hold a fourth wish at all
    assert JobWishDecision(wishes=["a", "b", "c"]).wishes == ["a", "b", "c"]
    with pytest.raises(ValidationError, match="at most 3 items"):
        JobWishDecision(wishes=["a", "b", "c", "d"])


def test_the_most_skilled_applicants_fill_the_free_places(town):
    people, ages = town
    holder, best, second, third = people[:4]
    holder.job_key = "team"
    best.state.skills["craft"], second.state.skills["craft"], third.state.skills["craft"] = 150, 120, 110
    moves = _season(people, [_job("team", 100, 2)], {0: [STAY], 1: ["team"], 2: ["team"], 3: ["team"]}, ages)
    assert [r.job_key for r in (holder, best, second, third)] == ["team", "team", None, None]  # one free place of two
    assert moves == [(best.name, None, "team")]


def test_skills_must_reach_80_percent_of_each_minimum(town):
    people, ages = town
    people[0].state.skills["craft"], people[1].state.skills["craft"] = 80, 79
    _season(people, [_job("lenient", 100, 5)], {0: ["lenient"], 1: ["lenient"]}, ages)
    assert (people[0].job_key, people[1].job_key) == ("lenient", None)


def test_age_limits_bar_applicants_and_end_jobs(town):
    people, ages = town
    people[0].job_key = "junior"  # will be 31: loses the job first
    for r in people[:3]:
        r.state.skills["craft"] = 100
    ages.update({people[0].name: 31, people[1].name: 31, people[2].name: 30})
    moves = _season(people, [_job("junior", 50, 3, max_age=30)], {0: [STAY], 1: ["junior"], 2: ["junior"]}, ages)
    assert [r.job_key for r in people[:3]] == [None, None, "junior"]
    assert moves == [(people[0].name, "junior", None), (people[2].name, None, "junior")]
