"""The LLM environment (issue: the environment thinks): every task goes to a model and is recorded,
replay makes no calls and repeats the run, a resident's words reach its needs, the code clips what
the model proposes, and whatever the model cannot do (invent, refuse) falls back to the rules."""

import json

import pytest

from agentopia_mesa.cli.main import main
from agentopia_mesa.contract import environment as e
from agentopia_mesa.contract.environment import TASKS
from agentopia_mesa.environment.answers import updatable_texts
from agentopia_mesa.environment.llm_environment import LLMEnvironment
from agentopia_mesa.environment.outcomes import apply_changes
from agentopia_mesa.llm import factory
from agentopia_mesa.llm.client import ChatResult, LLMUnavailable
from agentopia_mesa.llm.dispatcher import Dispatcher
from agentopia_mesa.llm.fake_backend import FakeBackend
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.asking import judge_all
from tests.golden.same_seed import digests

RUN = ["run", "--world", "school", "--residents", "20", "--years", "1", "--weeks-per-year", "2", "--seed", "3",
       "--env", "llm", "--env-llm", "fake", "--quiet"]


def _lines(run_dir):
    return [json.loads(line) for line in (run_dir / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    root = tmp_path_factory.mktemp("env")
    cache = root / "cache.sqlite"
    assert main([*RUN, "--llm-cache", str(cache), "--out", str(root / "recorded")]) == 0
    return root / "recorded", cache


def test_every_environment_task_is_called_and_recorded(recorded):
    run_dir, _ = recorded
    lines = [x for x in _lines(run_dir) if x.get("role") == "environment"]
    by_task = {task: sum(x["task"] == task for x in lines) for task in TASKS}
    assert all(by_task.values()), by_task  # events, solo, shop, encounters, outcome, profile, jobs, hiring, ratings
    faults = json.loads((run_dir / "faults.json").read_text())
    assert faults["environment"]["by_task"] == by_task
    assert faults["environment"]["verdicts"] == len(lines)
    assert faults["environment"]["fallbacks"] == sum(x["fallback"] for x in lines)
    summary = (run_dir / "summary.txt").read_text()
    assert f"environment: fake:schema-example; {len(lines)} verdicts" in summary
    # every environment line carries what the model saw and what was done
    assert all(x["messages"] and x["decision"] is not None and x["when"] for x in lines)
    solo = next(x for x in lines if x["task"] == "solo" and not x["fallback"])
    assert set(solo["decision"]) == {"consumption", "changes", "note", "outcome"}


def test_replay_makes_no_calls_and_repeats_every_file(recorded, tmp_path, monkeypatch):
    run_dir, cache = recorded
    made = []
    real = factory.make_backend

    def counting(spec, hosts=None, **options):
        made.append(real(spec, hosts, **options))
        return made[-1]

    monkeypatch.setattr(factory, "make_backend", counting)
    replayed = tmp_path / "replayed"
    assert main([*RUN, "--llm-cache", str(cache), "--cache-mode", "replay", "--out", str(replayed)]) == 0
    assert made and sum(b.calls for b in made) == 0
    before, after = digests(run_dir), digests(replayed)
    for name in ("decisions.jsonl", "config.json"):
        before.pop(name), after.pop(name)
    assert before == after  # metrics, residents, rewards, replay, dialogues, summary, faults: the same bytes
    assert "dialogues.jsonl" in after and (replayed / "dialogues.jsonl").read_text(encoding="utf-8")  # every conversation

    def strip(entry):
        return {k: v for k, v in entry.items() if k not in ("cached", "run")}

    assert [strip(x) for x in _lines(replayed)] == [strip(x) for x in _lines(run_dir)]


def test_an_llm_society_with_an_llm_environment_runs(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--world", "school", "--residents", "6", "--years", "1", "--weeks-per-year", "2", "--seed", "1",
                 "--mind", "llm", "--llm", "fake", "--env", "llm", "--quiet", "--out", str(out)]) == 0
    roles = {x.get("role", "resident") for x in _lines(out)}
    assert roles == {"resident", "environment"}
    assert json.loads((out / "config.json").read_text())["llm"]["env"] == "llm"


# -- one verdict at a time ------------------------------------------------------------------------

def _town(reply=None, backend=None, retries=0):
    """A small town whose environment is an LLM on a fake backend answering ``reply(request)``."""
    backend = backend or FakeBackend(reply=reply)
    holder = {}

    def make(model):
        holder["env"] = LLMEnvironment(backend, model.rule_environment, Dispatcher(max_concurrency=2, retries=retries))
        return holder["env"]

    model = AgentopiaModel(world="school", residents=6, years=1, seed=0, environment=make)
    return model, holder["env"]


def _solo(model, description: str, activity: str = "leisure") -> e.SoloTask:
    r = model.residents[0]
    return e.SoloTask(resident=r, day=1, activity=activity, skill="cooking", description=description, place=r.home.key,
                      place_name=r.home.name, pay=(40, 80))


def _solo_answer(**changes) -> str:
    answer = {"consumption": False, "outcome": "It went as it went.", "vitality": 0, "mood": 0, "esteem": 0,
              "skill_gain": 0, "money": 0}
    return json.dumps({**answer, **changes})


def test_a_residents_words_reach_its_needs():
    """The same state, two things the resident says it does, two recorded answers: different needs."""

    def reply(request):
        words = request.messages[-1]["content"]
        return _solo_answer(mood=4, esteem=1) if "neighbour" in words else _solo_answer(mood=-3, vitality=-2)

    needs = []
    for words in ("I help my neighbour carry her shopping upstairs", "I scroll my phone in bed all afternoon"):
        model, _ = _town(reply)
        r = model.residents[0]
        verdict = judge_all(model, [_solo(model, words)])[0]
        apply_changes(r, verdict.changes)
        needs.append((r.state.vitality, dict(r.state.needs)))
    assert needs[0] != needs[1]
    assert needs[0][1]["mood"] - needs[1][1]["mood"] == 7


def test_the_code_clips_what_the_model_proposes():
    def reply(request):
        task = request.tag.split("/")[0]
        if task == "env-solo":
            return _solo_answer(vitality=90, mood=-90, esteem=9, skill_gain=50, money=900)
        if task == "env-profile":
            return json.dumps({**dict.fromkeys(updatable_texts(), ""), "introduction": "Changed.", "traits": [{"name": "empathy", "change": 20}],
                               "talents": [{"name": "health", "change": -20}]})
        raise AssertionError(task)

    model, _ = _town(reply)
    r = model.residents[0]
    leisure, work = judge_all(model, [_solo(model, "a walk"), _solo(model, "extra shift", activity="work")])
    assert leisure.changes == {"vitality": 5, "mood": -5, "esteem": 1}  # the paper's solo limits; no money off work
    assert work.changes["money"] == 80 and work.changes["skills"] == {"cooking": 3}  # the pay tier's top; skill cap
    before = (r.traits["empathy"], r.talents["health"])
    profile = judge_all(model, [e.ProfileTask(resident=r, year_counts={}, diaries=[])])[0]
    assert (profile.traits["empathy"] - before[0], profile.talents["health"] - before[1]) == (
        min(5, 100 - before[0]), -min(3, before[1]))
    assert profile.text == {"introduction": "Changed."}  # an empty rewrite keeps the old text


def test_invented_items_are_corrected_then_fall_back_to_the_rules():
    seen = []

    def reply(request):
        seen.append(request.messages[-1]["content"])
        return json.dumps({"items": ["A golden yacht", "A castle"]})

    model, env = _town(reply, retries=1)
    r = model.residents[0]
    task = e.ShopTask(resident=r, day=1, price_list=model.world.price_list)
    verdict = judge_all(model, [task])[0]
    assert len(seen) == 2 and "'A golden yacht' is not on the price list" in seen[1]  # the retry shows the problem
    prices = {p.name: p.price for p in model.world.price_list}
    assert verdict.offers and all(prices[o.item] == o.price for o in verdict.offers)  # the rule shop's window
    assert env.stats.fallbacks == 1 and env.stats.fallbacks_by_task["shop"] == 1


def test_invented_names_are_refused():
    model, env = _town(lambda request: json.dumps({"encounters": [{"day": 1, "a": "Nobody", "b": "Ghost", "place": "x", "scene": "."}]}))
    idle = {1: [r.name for r in model.residents[:4]]}
    task = e.EncountersTask(idle=idle, counts={1: 1}, places={"canteen": "Canteen"}, ties=model.ties)
    judge_all(model, [task])
    assert env.stats.fallbacks_by_task["encounters"] == 1 and env.stats.faults["invalid_answer"] >= 1


class Refusing:
    backend, model, name = "fake", "refusing", "fake:refusing"

    def __init__(self):
        self.calls = 0

    def check(self):
        pass

    def chat(self, request) -> ChatResult:
        self.calls += 1
        raise LLMUnavailable("the server refused the request (503)")


def test_a_refused_call_falls_back_and_is_counted(tmp_path):
    backend = Refusing()
    model, env = _town(backend=backend, retries=0)
    verdict = judge_all(model, [_solo(model, "a walk", activity="rest")])[0]
    assert backend.calls == 1
    assert verdict.note == "rested and recovered some energy"  # the rule environment's verdict
    assert env.stats.fallbacks == 1 and env.stats.calls == 1


def test_environment_options_are_checked(capsys):
    assert main(["run", "--world", "school", "--residents", "4", "--years", "1", "--env", "llm", "--quiet"]) == 2
    assert "--env llm: name its model with --env-llm" in capsys.readouterr().err
    assert main(["run", "--world", "school", "--residents", "4", "--years", "1", "--env-llm", "fake", "--quiet"]) == 2
    assert "--env-llm: only with --env llm" in capsys.readouterr().err


def test_python_and_batch_run_get_an_llm_environment_from_a_picklable_factory():
    import pickle

    from mesa.batchrunner import batch_run

    from agentopia_mesa.environment.llm_environment import LLMEnvironmentFactory

    factory_ = pickle.loads(pickle.dumps(LLMEnvironmentFactory("fake")))
    model = AgentopiaModel(world="school", residents=4, years=1, seed=2, environment=factory_, ratings="environment",
                           calendar__weeks_per_year=1)
    model.run()
    assert isinstance(model.environment, LLMEnvironment) and model.ratings == "environment"
    assert {"solo", "events", "profile", "ratings"} <= set(model.environment.stats.by_task)
    rows = batch_run(AgentopiaModel, parameters={"world": "school", "residents": 4, "years": 1, "calendar__weeks_per_year": 1,
                                                 "environment": factory_}, rng=[1], max_steps=1, number_processes=1,
                     display_progress=False)
    assert rows and all(isinstance(row["environment"], LLMEnvironmentFactory) for row in rows)


def test_a_branch_gives_the_environment_its_model_back_and_repeats_the_run(recorded, tmp_path):
    run_dir, _ = recorded
    branch = tmp_path / "branch"
    assert main(["branch", str(run_dir), "--week", "1", "--out", str(branch), "--quiet"]) == 0

    def environment_lines(path):
        return [{k: v for k, v in x.items() if k not in ("cached", "run")} for x in _lines(path) if x.get("role") == "environment"]

    assert environment_lines(branch) == environment_lines(run_dir)  # week 1 copied; week 2 judged again through the run's cache: the same
    assert (branch / "rewards.csv").read_bytes() == (run_dir / "rewards.csv").read_bytes()
