"""An environment's answer that passes its answer schema but breaks the world's schema (a job role
starting with "- ", an event named like a spreadsheet formula, a profile text with a control
character) is refused where answers are checked: retried with the field named, then the rules decide
(issue #32). On main such a job ended the run with the world's ``JobSpec`` error."""

import json
from collections import Counter

from agentopia_mesa.contract import environment as e
from agentopia_mesa.environment import answers
from agentopia_mesa.stages.asking import judge_all
from agentopia_mesa.stages.public_events import event_places, town_skills
from tests.test_llm_environment import _town


def _jobs_task(model):
    return e.NewJobsTask(jobs=model.jobs, residents=model.residents, count=1, year=2026, income_max=500)


def _events_task(model):
    return e.EventsTask(templates=model.world.events, running=[], last_used={}, week_index=0, days=7,
                        places=event_places(model), residents=[r.name for r in model.residents], skills=town_skills(model))


def _bad_jobs(task):
    base = answers.job_bases(task)[0]
    return {"jobs": [{"based_on": base, "role": "- Chief of Everything", "description": "Runs it all.",
                      "skills": [answers.job_skills(task)[0]]}]}


def _bad_events(task):
    low, _ = answers.new_event_bounds(task)
    place = next(iter(task.places))
    events = [{"name": f"Gathering {i}", "place": place, "day": 1, "description": "A meeting."} for i in range(max(1, low))]
    events[0]["name"] = "=HYPERLINK(\"http://x\")"
    return {"events": events}


def _bad_profile(task):
    return {**dict.fromkeys(answers.updatable_texts(), ""), "introduction": "A bell rings \x07 twice.", "traits": [], "talents": []}


CASES = {  # task name -> (task maker, bad answer maker, the field the retry must name)
    "jobs": (_jobs_task, _bad_jobs, "jobs[0].role"),
    "events": (_events_task, _bad_events, "events[0].name"),
    "profile": (lambda model: e.ProfileTask(resident=model.residents[0], year_counts=Counter(), diaries=[]), _bad_profile,
                "introduction"),
}


def test_every_verdict_the_world_can_refuse_is_retried_then_falls_back():
    for name, (make_task, bad, field) in CASES.items():
        seen, holder = [], {}

        def reply(request, holder=holder, bad=bad):
            seen.append(request.messages[-1]["content"])
            return json.dumps(bad(holder["task"]))

        model, env = _town(reply, retries=1)
        holder["task"] = task = make_task(model)
        parsed = answers.ANSWERS[type(task)].model_validate(bad(task))  # the answer schema takes it
        assert any(p.startswith(field) for p in answers.problems(task, parsed)), name
        judge_all(model, [task])
        assert len(seen) == 2 and field in seen[1], (name, seen[1:])  # retried, the field named
        assert env.stats.fallbacks_by_task[name] == 1, name  # then the rules decided


def test_a_blank_role_takes_the_base_role_and_passes():
    model, _ = _town(lambda request: "{}")
    task = _jobs_task(model)
    answer = answers.JobsAnswer.model_validate({"jobs": [{**_bad_jobs(task)["jobs"][0], "role": ""}]})
    assert answers.problems(task, answer) == []
