"""LLMEnvironment: the environment model judged by a language model, the rule environment as the safety net.

Each task becomes one chat request (``environment.prompts``) with a narrowed JSON schema
(``environment.answers``); all tasks of a stage go to the dispatcher at once, through the same
cache and exact replay as the residents' calls (``llm.recorded``). An answer that does not parse
or names what does not exist is retried with the problems shown; a task that still fails is
judged by the ``RuleEnvironment`` and recorded as a ``fallback``. Answers become verdicts on the
simulation's thread, in task order, clipped by the code (``environment.verdicts``).

Every verdict goes, as one dict with ``role: "environment"`` and its ``task``, to ``recorder``
(the run's ``decisions.jsonl``). ``EnvironmentStats`` counts calls, retries, fallbacks and tokens
by task; it is pickled with the environment, so a resumed run's totals cover the whole run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from agentopia_mesa.contract import environment as e
from agentopia_mesa.environment import answers, prompts
from agentopia_mesa.environment.base import EnvironmentModel
from agentopia_mesa.environment.rules import RuleEnvironment
from agentopia_mesa.environment.verdicts import to_verdict
from agentopia_mesa.llm.budgets import answer_budget, family_of
from agentopia_mesa.llm.client import ChatOptions, ChatRequest, LLMClient
from agentopia_mesa.llm.dispatcher import Ahead, Dispatcher, Repaired
from agentopia_mesa.llm.narrowing import trim_to_schema
from agentopia_mesa.llm.recorded import SiteCounter, decoded, dispatch_sited
from agentopia_mesa.llm.settings import LLMSettings
from agentopia_mesa.llm.thinking import think_for
from agentopia_mesa.llm.wiring import client_for, dispatcher_for



class InvalidVerdict(ValueError):
    """An answer that names what does not exist or breaks a rule of the task."""

    fault = "invalid_answer"


class InvalidVerdictJSON(InvalidVerdict):
    fault = "invalid_json"


def parse_answer(task: e.Task, text: str) -> BaseModel:
    """Parse and check one answer; raises with a message the model is shown on retry. Free texts
    over their limits are trimmed (``checked_answer``)."""
    return checked_answer(task, text)[0]


def checked_answer(task: e.Task, text: str) -> tuple[BaseModel, int]:
    """The answer and how many of its parts were repaired: free texts trimmed to the lengths its
    schema allows (the code disposes of lengths) and parts left out (``answers.repaired``); what
    cannot be repaired raises with a message the model is shown on retry."""
    model = answers.ANSWERS[type(task)]
    cut = 0
    try:
        answer = model.model_validate_json(text)
    except ValueError as exc:
        try:  # texts over their limits, cut
            data, cut = trim_to_schema(json.loads(text), answers.schema_for(task))
            answer = model.model_validate(data) if cut else None
        except ValueError:
            answer = None
        if answer is None:
            raise InvalidVerdictJSON(f"not valid {model.__name__} JSON: {str(exc).splitlines()[0]}") from None
    found = answers.problems(task, answer)
    if found:
        raise InvalidVerdict("; ".join(found))
    answer, dropped = answers.repaired(task, answer)
    return answer, cut + dropped


@dataclass
class EnvironmentStats:
    """Calls (retries included), retries, fallbacks to the rules and tokens; verdicts and fallbacks by task."""

    calls: int = 0
    retries: int = 0
    fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_task: Counter = field(default_factory=Counter)
    fallbacks_by_task: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    faults_by_task: dict[str, Counter] = field(default_factory=dict)
    trimmed_by_task: Counter = field(default_factory=Counter)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(EnvironmentStats().__dict__, **state)


def _empty(task: e.Task) -> e.Verdict | None:
    """The verdict of a task with nothing to judge (no call is made), or None."""
    match task:
        case e.EncountersTask() if not answers.encounter_limit(task) or not task.places:
            return e.EncountersVerdict([])
        case e.HiringTask() if task.vacancies <= 0:
            return e.HiringVerdict([])
        case e.HiringBatchTask() if not task.open:
            return e.HiringBatchVerdict({t.job.key: [] for t in task.tasks})
        case e.NewJobsTask() if task.count <= 0 or not answers.job_bases(task):
            return e.NewJobsVerdict([])
        case e.RatingTask() if not task.question.people:
            return e.RatingVerdict(ratings=[])
    return None


class LLMEnvironment(EnvironmentModel):
    """Judges through ``client``; ``fallback`` (the model's ``RuleEnvironment``) decides what the model could not."""

    def __init__(self, client: LLMClient, fallback: RuleEnvironment, dispatcher: Dispatcher | None = None,
                 temperature: float = 0.7, seed: int = 0, spec: str | None = None,
                 recorder: Callable[[dict], None] | None = None, think: int | None = None):
        self.client = client
        self.name = client.name
        self.spec = spec or client.name
        self.fallback = fallback
        self.config = fallback.config
        self.dispatcher = dispatcher or Dispatcher()
        self.temperature = temperature
        self.seed = seed
        self.recorder = recorder
        self.think = think  # reasoning: None the server's default, 0 off, N tokens on (llm/thinking.py)
        self.family = family_of(getattr(client, "model", "") or "")  # tokens per word (llm/budgets.py)
        self.stats = EnvironmentStats()
        self.sites = SiteCounter()  # numbers calls per tag, to find recorded verdicts (llm/recorded.py)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(client=None, dispatcher=None, recorder=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({"sites": SiteCounter(), "think": None, "family": "", **state})

    def reattach(self, client: LLMClient, dispatcher: Dispatcher, recorder: Callable[[dict], None] | None) -> None:
        self.client, self.dispatcher, self.recorder = client, dispatcher, recorder

    def call_site(self, task: e.Task) -> tuple[str, ChatOptions]:
        """The call's tag and options, known before its prompt is rendered."""
        tag = f"env-{task.task}/{_label(task)}/{task.when}"
        seed = int.from_bytes(hashlib.sha256(f"{self.seed}/{tag}".encode()).digest()[:4], "big")
        budget = answer_budget(answers.schema_for(task), self.family) + (self.think or 0)
        return tag, ChatOptions(temperature=self.temperature, seed=seed, max_tokens=budget, think=self.think)

    def request_for(self, task: e.Task, site: tuple[str, ChatOptions] | None = None) -> ChatRequest:
        tag, options = site or self.call_site(task)
        return ChatRequest(messages=tuple(prompts.messages_for(task, self.config)), schema=answers.schema_for(task),
                           options=options, tag=tag)

    def judge_all(self, tasks: Sequence[e.Task]) -> list[e.Verdict | None]:
        if self.client is None:
            raise RuntimeError(f"LLM environment {self.name} has no client; call reattach() after loading a checkpoint")
        verdicts: list[e.Verdict | None] = [_empty(t) for t in tasks]
        todo = [i for i, v in enumerate(verdicts) if v is None]
        jobs = []
        for i in todo:
            tag, options = self.call_site(tasks[i])
            site = self.sites.site(tag, options, tasks[i].context.week_index)
            jobs.append((self.client, site, functools.partial(self.request_for, tasks[i], (tag, options)), _parser(tasks[i]), None))
        for i, (messages, outcome) in zip(todo, dispatch_sited(self.dispatcher, jobs), strict=True):
            task = tasks[i]
            fallback = outcome.value is None
            verdict = self.fallback.judge(task) if fallback else to_verdict(task, outcome.value, self.fallback.rng, self.config)
            if isinstance(task, e.TurnTask):
                prompts.remember(task, decoded(messages), json.dumps(verdict_json(verdict)) if fallback else outcome.texts[-1])
            self._account(task, messages, outcome, verdict, fallback)
            verdicts[i] = verdict
        return verdicts

    def ahead(self, tasks: Sequence[e.Task]) -> Ahead | None:
        """Start the calls of ``tasks`` (their situation filled in) that a later ``judge_all`` will
        make, if they are the same by then (``Dispatcher.ahead``); nothing is judged or recorded
        now. None: nothing started (no client, or verdicts come from a replay)."""
        if self.client is None or getattr(self.client, "mode", None) == "replay":
            return None
        return self.dispatcher.ahead([(self.client, self.request_for(t), _parser(t)) for t in tasks if _empty(t) is None])

    def _account(self, task: e.Task, messages, outcome, verdict, fallback: bool) -> None:
        stats = self.stats
        outcome.count_into(stats)
        stats.by_task[task.task] += 1
        stats.fallbacks += fallback
        outcome.count_stage_into(task.task, stats.fallbacks_by_task, stats.faults_by_task, stats.trimmed_by_task)
        if self.recorder is None:
            return
        self.recorder({
            "resident": task.subject,
            "model": self.name,
            "stage": task.task,
            "when": task.when,
            "week_index": task.context.week_index,
            **outcome.trajectory(messages, verdict_json(verdict), fallback),
            "role": "environment",
            "task": task.task,
        })


def _label(task: e.Task) -> str:
    if isinstance(task, e.HiringTask):
        return f"{task.job.key}#{task.rank + 1}"
    if isinstance(task, e.HiringBatchTask):  # the first job and how many more
        return f"{task.tasks[0].job.key}+{len(task.tasks) - 1}#{task.rank + 1}"
    return task.subject or "town"


def _parser(task: e.Task) -> Callable[[str], BaseModel | Repaired]:
    def parse(text: str) -> BaseModel | Repaired:
        answer, trimmed = checked_answer(task, text)
        return Repaired(answer, trimmed) if trimmed else answer
    return parse


def verdict_json(verdict) -> object:
    """A verdict as JSON-able data (ordered pairs as "a -> b", job specs and offers as dicts)."""
    if verdict is None:
        return None
    if isinstance(verdict, BaseModel):
        return json.loads(verdict.model_dump_json())
    if isinstance(verdict, e.GatheringVerdict):
        return {"changes": verdict.changes, "quality": {f"{a} -> {b}": q for (a, b), q in verdict.quality.items()},
                "notes": verdict.notes}
    if isinstance(verdict, e.NewJobsVerdict):
        return {"jobs": [json.loads(j.model_dump_json()) for j in verdict.jobs]}
    return json.loads(json.dumps(dataclasses.asdict(verdict), default=str))


def llm_environment(model) -> LLMEnvironment | None:
    """The model's LLM environment, or None when the rules judge."""
    environment = getattr(model, "environment", None)
    return environment if isinstance(environment, LLMEnvironment) else None


@dataclass(frozen=True)
class LLMEnvironmentFactory:
    """A picklable ``environment`` argument for ``AgentopiaModel``: an LLM environment on ``spec``
    (e.g. ``mesa.batch_run(AgentopiaModel, parameters={..., "environment": LLMEnvironmentFactory("fake")})``).
    ``cache``: a SQLite response cache to record into and replay from (None: no cache)."""

    spec: str
    cache: str | None = None
    cache_mode: str = "replay-or-record"
    temperature: float = 0.7
    max_concurrency: int = 8
    timeout_s: float = 120.0
    think: str = "off"  # reasoning of a model that can (llm/thinking.py), unless the spec says

    def __call__(self, model) -> LLMEnvironment:
        settings = LLMSettings(env="llm", env_llm=self.spec, cache=self.cache, cache_mode=self.cache_mode,
                               temperature=self.temperature, max_concurrency=self.max_concurrency,
                               timeout_s=self.timeout_s, think=self.think, check=False)
        seed = getattr(model, "_seed", 0)
        return environment_for(settings, seed if isinstance(seed, int) else 0)(model)


def environment_for(llm: LLMSettings, seed: int) -> Callable[[object], LLMEnvironment] | None:
    """The ``environment`` argument of the model for a run's LLM settings: None (the rule
    environment) or a factory that builds the LLM environment, its client and dispatcher from the
    LLM wiring, with the model's rule environment as its fallback."""
    spec = llm.env_spec
    if spec is None:
        return None
    client, dispatcher = client_for(spec, llm), dispatcher_for(llm)

    def make(model) -> LLMEnvironment:
        return LLMEnvironment(client, model.rule_environment, dispatcher, temperature=llm.temperature, seed=seed,
                              spec=spec, think=think_for(spec, client, llm.think))

    return make


def reattach_environment(model, settings: LLMSettings) -> None:
    """After loading a checkpoint: a new client (same spec, same cache) for the model's LLM environment."""
    environment = llm_environment(model)
    if environment is not None:
        environment.reattach(client_for(environment.spec, settings), dispatcher_for(settings), None)
