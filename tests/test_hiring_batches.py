"""Hiring in batches per wish rank (issue 30, paper §4.8(b)): the environment judges a group of jobs,
each with its own applicants, in one call; rank 1 in batches of ``career.hiring_batches[0]`` jobs,
later ranks of the next value. One job per call stays the default and the lean profile's."""

import json
import math
from collections import Counter

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.config import PROFILES, CareerConfig, SimulationConfig
from agentopia_mesa.contract import environment as e
from agentopia_mesa.environment.answers import schema_for
from agentopia_mesa.environment.llm_environment import LLMEnvironment
from agentopia_mesa.llm.budgets import answer_budget
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.year_end import hiring_round
from agentopia_mesa.world.schema import JobSpec


def test_batch_sizes_per_rank_and_their_one_line_errors():
    for profile in ("paper", "lean"):  # the paper's batches in both profiles
        career = SimulationConfig().with_flat_overrides(PROFILES[profile]).career
        assert [career.hiring_batch(rank) for rank in range(3)] == [10, 20, 20]  # the last value repeats
    assert CareerConfig(hiring_batches=[3]).hiring_batches == (3,)
    with pytest.raises(ValueError, match=r"^career.hiring_batches: must hold at least one entry, got \[\]$"):
        CareerConfig(hiring_batches=())
    with pytest.raises(ValueError, match=r"^career.hiring_batches\[1\]: must be a whole number in \[1, 1000\], got 0$"):
        CareerConfig(hiring_batches=(10, 0))


def test_a_bad_batch_setting_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["run", "--world", "school", "--residents", "4", "--years", "1", "--quiet", "--out", str(tmp_path / "r"),
                 "--set", "career__hiring_batches=[0]"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "career.hiring_batches[0]" in err


def test_jobs_are_grouped_in_order_and_a_group_of_one_stays_its_own_task():
    model = AgentopiaModel(world="school", residents=4, years=1, seed=0)
    tasks = [e.HiringTask(job=j, applicants=[], ages={}, vacancies=1, rank=0, leniency=0.8) for j in list(model.jobs.values())[:7]]
    asked = e.hiring_batches(tasks, 3)
    assert [type(t).__name__ for t in asked] == ["HiringBatchTask", "HiringBatchTask", "HiringTask"]
    assert [t for b in asked[:2] for t in b.tasks] + [asked[2]] == tasks
    assert e.hiring_batches(tasks, 1) == tasks


@pytest.mark.parametrize("seed", [1, 5])
def test_the_rule_environment_hires_the_same_people_in_batches(seed):
    """Ranked job by job in the season's order, a batch draws what the single tasks drew."""
    def season(batches):
        model = AgentopiaModel(world="school", residents=30, years=1, seed=seed, calendar__weeks_per_year=1,
                               career__hiring_batches=batches)
        kinds, judge = Counter(), model.environment.judge_all
        model.environment.judge_all = lambda tasks: (kinds.update(type(t).__name__ for t in tasks), judge(tasks))[1]
        model.step()  # one week: a year end
        return [r.job_key for r in model.residents], model.job_changes_total, model.random.random(), kinds

    jobs, changes, draw, kinds = season((1,))
    assert changes > 0 and kinds["HiringTask"] > 1 and not kinds["HiringBatchTask"]
    for batches in ((10, 20), (2,)):
        batched_jobs, batched_changes, batched_draw, batched_kinds = season(batches)
        assert batched_kinds["HiringBatchTask"] >= 1
        assert (batched_jobs, batched_changes, batched_draw) == (jobs, changes, draw)


def _town(reply=None, batches=(3,), residents=20):
    """A town judged by a fake LLM environment (``reply(request)``, None: the fake's own answer),
    every request and environment record kept."""
    backend, requests, records = FakeBackend(reply=reply), [], []
    chat = backend.chat
    backend.chat = lambda request: (requests.append(request), chat(request))[1]
    model = AgentopiaModel(world="school", residents=residents, years=1, seed=0, career__hiring_batches=batches,
                           environment=lambda m: LLMEnvironment(backend, m.rule_environment,
                                                                Dispatcher(max_concurrency=1, retries=0),
                                                                recorder=records.append))
    return model, requests, records


def _jobs(model, count, capacity=2):
    """``count`` new jobs in the town, each with two applicants of its own."""
    people = model.residents
    applicants = {}
    for i in range(count):
        job = JobSpec(key=f"works/j{i}", organisation="Works", role=f"Role {i}", weekly_income=100,
                      min_skills={"craft": 10}, capacity=capacity, min_age=16, max_age=70, place="works")
        model.jobs[job.key] = job
        applicants[job.key] = [people[2 * i % len(people)], people[(2 * i + 1) % len(people)]]
    return applicants


@pytest.mark.parametrize("jobs, size", [(7, 3), (3, 3), (1, 10), (5, 1)])
def test_the_llm_environment_makes_one_call_per_batch(jobs, size):
    model, requests, records = _town(batches=(size,))
    applicants = _jobs(model, jobs)
    ages = {r.name: 30 for r in model.residents}
    chosen = hiring_round(model, 0, applicants, Counter(), ages)
    assert len(requests) == len(records) == math.ceil(jobs / size)
    assert all(r["task"] == "hiring" and not r["fallback"] for r in records)
    assert set(chosen) == set(applicants)  # every job has its verdict
    for key, names in chosen.items():  # the fake names only the job's own applicants, within its places
        assert set(names) <= {p.name for p in applicants[key]} and len(names) <= 2
    batched = [r for r in requests if "HIRING," in r.messages[-1]["content"]]
    assert len(batched) == (jobs // size if size > 1 else 0) + (jobs % size > 1)
    if batched:  # the prompt lists each job with its applicants, ages and skills; the schema one entry per job
        text, schema = batched[0].messages[-1]["content"], batched[0].schema
        assert "job works/j0:" in text and "aged 16-70" in text and "\"craft\" 10" in text
        assert applicants["works/j0"][0].name in text
        entries = schema["properties"]["hires"]["prefixItems"]
        assert [x["properties"]["job"]["const"] for x in entries] == [f"works/j{i}" for i in range(min(size, jobs))]
        assert entries[0]["properties"]["hire"]["items"]["enum"] == [p.name for p in applicants["works/j0"]]


def test_the_batch_budget_grows_with_its_jobs():
    model, _, _ = _town()
    applicants = _jobs(model, 12)
    ages = {r.name: 30 for r in model.residents}
    tasks = [e.HiringTask(job=model.jobs[k], applicants=p, ages=ages, vacancies=2, rank=0, leniency=0.8)
             for k, p in applicants.items()]
    budgets = [answer_budget(schema_for(e.HiringBatchTask(tasks=tasks[:n]))) for n in (2, 6, 12)]
    assert budgets[0] < budgets[1] < budgets[2]
    assert budgets[2] > 4 * answer_budget(schema_for(tasks[0]))


def test_a_bad_batch_answer_is_repaired_not_refused():
    """An unknown job, a name that did not apply, and more hires than free places are dropped."""
    def reply(request):
        return json.dumps({"hires": [
            {"job": "works/nowhere", "hire": [first]},
            {"job": "works/j0", "hire": ["Nobody Here", second, first, second, third]},
            {"job": "works/j1", "hire": [first]},  # applied to j0, not to j1
            {"job": "works/j1", "hire": [other]},  # a job named again continues its list
        ]})

    model, requests, records = _town(reply)
    applicants = _jobs(model, 3, capacity=2)
    applicants["works/j0"].append(model.residents[10])
    first, second, third = (p.name for p in applicants["works/j0"])
    other = applicants["works/j1"][0].name
    chosen = hiring_round(model, 0, applicants, Counter({"works/j2": 2}), {r.name: 30 for r in model.residents})
    assert chosen == {"works/j0": [second, first], "works/j1": [other], "works/j2": []}
    [record] = records
    assert not record["fallback"] and record["invalid_attempts"] == 0
    # left out: the unknown job, "Nobody Here", the repeated name, the third hire, j1's non-applicant
    assert record["trimmed"] == 5 and model.environment.stats.trimmed_by_task["hiring"] == 5
    assert "job works/j2" not in requests[0].messages[-1]["content"]  # full: not asked about


def test_a_batch_of_full_jobs_makes_no_call():
    model, requests, records = _town()
    applicants = _jobs(model, 3, capacity=1)
    chosen = hiring_round(model, 0, applicants, Counter({k: 1 for k in applicants}), {r.name: 30 for r in model.residents})
    assert chosen == {k: [] for k in applicants} and not requests and not records


def test_a_paper_profile_fake_run_hires_in_batches(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "12", "--years", "1", "--weeks-per-year", "1", "--seed", "3",
                 "--mind", "llm", "--llm", "fake", "--profile", "paper", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["config"]["career"]["hiring_batches"] == [10, 20]
    lines = [json.loads(x) for x in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    hiring = [x for x in lines if x.get("task") == "hiring"]
    batches = [x for x in hiring if isinstance(x["decision"]["ranked"], dict)]
    assert batches and not any(x["fallback"] for x in hiring)
    jobs = [len(x["decision"]["ranked"]) for x in batches]
    assert max(jobs) > 1 and all(n <= 20 for n in jobs)
    assert all(x["messages"][-1]["content"].startswith("HIRING, ") for x in batches)
