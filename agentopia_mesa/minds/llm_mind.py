"""LLMMind: every stage's decision from a language model, with the RuleMind as the safety net.

All questions of a stage go to the dispatcher at once (bounded concurrency); each answer must
parse as the decision's JSON, follow the question's narrowed schema and pass the question's
world checks, or it is retried; a question that still fails is answered by the RuleMind and
recorded as a fallback. Decisions come back in question order whatever the completion order.
``MindStats`` counts calls, retries, fallbacks, tokens and failed attempts by kind; it is pickled
with the mind, so a resumed run's totals cover the whole run.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agentopia_mesa.llm.budgets import family_of
from agentopia_mesa.llm.client import ChatOptions, ChatRequest, LLMClient
from agentopia_mesa.llm.dispatcher import Ahead, Dispatcher, Repaired
from agentopia_mesa.llm.narrowing import trim_to_schema
from agentopia_mesa.llm.recorded import SiteCounter, decoded, dispatch_sited
from agentopia_mesa.minds.base import Mind
from agentopia_mesa.contract.decisions import Decision
from agentopia_mesa.minds.prompts import messages_for, remember
from agentopia_mesa.contract.questions import ChatQuestion, CompactionQuestion, Question, Work
from agentopia_mesa.minds.notebook_tools import tools_for
from agentopia_mesa.minds.rule_mind import RuleMind
from agentopia_mesa.minds.schemas import budget_for, lengths_schema, schema_for, text_limits
from agentopia_mesa.trimming import trim_text


class InvalidDecision(ValueError):
    """An answer that follows the decision's schema but not the world's facts (it names people,
    places or items that do not exist, or breaks a rule of the question)."""

    fault = "invalid_answer"  # how the dispatcher counts it (dispatcher.answer_fault)


class InvalidJSON(InvalidDecision):
    """An answer that is not the decision's JSON (truncated, not JSON, or breaking the schema)."""

    fault = "invalid_json"


def parse_decision(question: Question, text: str) -> Decision:
    """Parse and check one answer; raises with a message the model can be shown on retry. Free
    texts over their limits are trimmed (``checked_decision``)."""
    return checked_decision(question, text)[0]


def checked_decision(question: Question, text: str) -> tuple[Decision, int]:
    """The answer's decision and how many of its free texts were trimmed to their limits: the
    question's lengths (``schemas.lengths_schema``, characters) and words (``Question.trimmed``).
    What cannot be repaired (not JSON, the schema broken otherwise, names that do not exist)
    raises with a message the model can be shown on retry."""
    try:
        decision = question.decision.model_validate_json(text)
        cut = 0
        if any(_over(decision, path, limit) for path, limit in text_limits(question)):
            raise ValueError("a text over its limit")
    except ValueError as exc:
        try:
            data, cut = trim_to_schema(json.loads(text), lengths_schema(question))
            decision = question.decision.model_validate(data)
        except ValueError:
            raise InvalidJSON(f"not valid {question.decision.__name__} JSON: {str(exc).splitlines()[0]}") from None
    decision, words_cut = question.trimmed(decision)
    problems = question.problems(decision)
    if problems:
        raise InvalidDecision("; ".join(problems))
    return decision, cut + words_cut


def _over(value, path: tuple[str, ...], limit: int) -> bool:
    """Whether a text at ``path`` of ``value`` (a decision; "*": each item of a list) passes ``limit``."""
    if not path:
        return len(value) > limit
    head, rest = path[0], path[1:]
    if head == "*":
        return any(_over(item, rest, limit) for item in value)
    return _over(getattr(value, head), rest, limit)


@dataclass
class MindStats:
    """A mind's totals: backend ``calls`` (retries included, calls skipped by the circuit breaker
    not), ``retries``, ``fallbacks`` (decisions the rule mind made), tokens, decisions
    ``by_stage`` and failed attempts by kind (``faults``, see ``dispatcher.fault_kind``); by stage,
    the fallbacks, the failed attempts by kind and the free texts trimmed to their limits."""

    calls: int = 0
    fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_stage: Counter = field(default_factory=Counter)
    retries: int = 0
    faults: Counter = field(default_factory=Counter)
    fallbacks_by_stage: Counter = field(default_factory=Counter)
    faults_by_stage: dict[str, Counter] = field(default_factory=dict)
    trimmed_by_stage: Counter = field(default_factory=Counter)

    def __setstate__(self, state: dict) -> None:
        """Checkpoints written before a field existed load with its default."""
        self.__dict__.update(MindStats().__dict__, **state)


class LLMMind(Mind):
    """Decides through ``client``. Every decision made goes, as one dict (see ``run.trajectories``), to
    ``recorder`` (the run's trajectories) and to each of ``listeners`` (live views): the explicit
    channels through which anything outside the mind learns what it decided."""

    keeps_replies = True

    def __init__(
        self,
        client: LLMClient,
        fallback: RuleMind,
        dispatcher: Dispatcher | None = None,
        temperature: float = 0.7,
        max_tokens: int | None = None,
        seed: int = 0,
        recorder: Callable[[dict], None] | None = None,
        spec: str | None = None,
        think: int | None = None,
    ):
        self.client = client
        self.name = client.name
        self.spec = spec or client.name  # how to rebuild the client (see minds/assign.py, llm/wiring.py)
        self.fallback = fallback
        self.dispatcher = dispatcher or Dispatcher()
        self.temperature = temperature
        self.max_tokens = max_tokens  # a ceiling on every budget (None: the budgets alone)
        self.think = think  # reasoning: None the server's default, 0 off, N tokens on (llm/thinking.py)
        self.family = family_of(getattr(client, "model", "") or "")  # tokens per word (llm/budgets.py)
        self.seed = seed
        self.recorder = recorder
        self.listeners: list[Callable[[dict], None]] = []
        self.stats = MindStats()
        self.sites = SiteCounter()  # numbers calls per tag, to find recorded decisions (llm/recorded.py)
        self._work: dict[tuple[str, str], Work] = {}  # (resident, stage) -> the work behind its last answer

    def __getstate__(self) -> dict:
        """Checkpoints keep the mind's settings and stats, not its live client or recorder."""
        state = dict(self.__dict__)
        state.update(client=None, dispatcher=None, recorder=None, listeners=[], _work={})  # asked within its stage
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({"listeners": [], "sites": SiteCounter(), "think": None, "family": "", "_work": {}, **state})

    def reattach(self, client: LLMClient, dispatcher: Dispatcher, recorder: Callable[[dict], None] | None) -> None:
        """Give a mind restored from a checkpoint its client, dispatcher and recorder back."""
        self.client, self.dispatcher, self.recorder = client, dispatcher, recorder

    def decide(self, question: Question) -> Decision:
        return self.decide_all([question])[0]

    def call_site(self, question: Question) -> tuple[str, ChatOptions]:
        """The call's tag and options, known before its prompt is rendered."""
        r = question.resident
        tag = f"{question.stage}/{r.name}/{question.when}"
        # A per-call seed from the run seed and the call site: reproducible, and cache keys differ per call.
        seed = int.from_bytes(hashlib.sha256(f"{self.seed}/{tag}/{len(r.records)}".encode()).digest()[:4], "big")
        budget = budget_for(question, self.family, self.think)
        if self.max_tokens is not None:
            budget = min(self.max_tokens, budget)
        return tag, ChatOptions(temperature=self.temperature, seed=seed, max_tokens=budget, think=self.think)

    def request_for(self, question: Question, site: tuple[str, ChatOptions] | None = None) -> ChatRequest:
        tag, options = site or self.call_site(question)
        return ChatRequest(messages=tuple(messages_for(question)), schema=schema_for(question), options=options, tag=tag)

    def decide_all(self, questions: Sequence[Question]) -> list[Decision]:
        if self.client is None:
            raise RuntimeError(f"LLM mind {self.name} has no client; call reattach() after loading a checkpoint")
        jobs = []
        for q in questions:
            tag, options = self.call_site(q)
            site = self.sites.site(tag, options, q.context.week_index)
            toolbox = _toolbox(q)
            jobs.append((self.client, site, functools.partial(self.request_for, q, (tag, options)), _parser(q), toolbox))
        answers = dispatch_sited(self.dispatcher, jobs)  # recorded outcomes replay exactly (tool calls too)
        decisions = []
        for question, (messages, outcome) in zip(questions, answers, strict=True):
            fallback = outcome.value is None
            decision = self.fallback.decide(question) if fallback else outcome.value
            if isinstance(question, ChatQuestion):  # the running chat goes on from this answer
                remember(question, decoded(messages), decision.model_dump_json() if fallback else outcome.texts[-1])
            self._account(question, messages, outcome, decision, fallback)
            if _compacted(question):
                self._keep_work(question, None if fallback else outcome)
            decisions.append(decision)
        return decisions

    def work_behind(self, question: Question) -> Work | None:
        """The reasoning and note-tool calls (``TOOL_BRIEF_STAGES`` only) behind the last answer to
        ``question``'s resident at its stage (with ``memory.compaction`` on), once; None if it had
        neither or was the rule mind's."""
        return self._work.pop((question.resident.name, question.stage), None)

    def _keep_work(self, question: Question, outcome) -> None:
        """Keep the work behind ``outcome``'s answer to ``question`` (None: the rule mind's, no work)."""
        result, use = (outcome.result, outcome.tool_use) if outcome is not None else (None, None)
        reasoning = result.reasoning if result is not None else ""
        if question.stage not in TOOL_BRIEF_STAGES:
            use = None  # elsewhere only a thinking model's reasoning asks for a brief
        calls = tuple(_call_line(c.name, c.arguments, text) for c, text in zip(use.calls, use.results)) if use else ()
        work = Work(trim_text(reasoning, max_chars=REASONING_CHARS), calls)
        key = (question.resident.name, question.stage)
        if work:
            self._work[key] = work
        else:
            self._work.pop(key, None)

    def ahead(self, questions: Sequence[Question]) -> Ahead | None:
        """Start the calls of ``questions`` (prepared, ``stages.asking.prepare``) that a later
        ``decide_all`` will ask, if they are the same by then (``Dispatcher.ahead``); nothing is
        decided or recorded now. None: nothing started (no client, or answers come from a replay)."""
        if self.client is None or getattr(self.client, "mode", None) == "replay":
            return None
        return self.dispatcher.ahead([(self.client, self.request_for(q), _parser(q), _toolbox(q)) for q in questions])

    def _account(self, question, messages, outcome, decision, fallback: bool) -> None:
        stats = self.stats
        outcome.count_into(stats)
        stats.by_stage[question.stage] += 1
        stats.fallbacks += fallback
        outcome.count_stage_into(question.stage, stats.fallbacks_by_stage, stats.faults_by_stage, stats.trimmed_by_stage)
        entry = {
            "resident": question.resident.name,
            "model": self.name,
            "stage": question.stage,
            "when": question.when,
            "week_index": question.context.week_index,
            **outcome.trajectory(messages, decision.model_dump(mode="json"), fallback),
        }
        errors = [] if fallback else question.errors(decision)
        if errors:  # carried out in part; the errors go back to the resident (contract.questions)
            entry.update(rejected=True, errors=errors)
        if outcome.tool_use is not None:  # the notebook's tool rounds before the answer
            entry["tool_use"] = outcome.tool_use.record()
        if self.recorder:
            self.recorder(entry)
        if self.listeners:
            entry = {**entry, "messages": decoded(messages)}
        for listen in self.listeners:
            listen(entry)


#: What a compaction is shown of the work behind an answer: its reasoning, and each tool call's result, in characters.
REASONING_CHARS = 6000
RESULT_CHARS = 160
#: Stages whose note-tool rounds alone ask for a brief: the paper's cycle table names a compaction
#: call after Plan and Review, its two long tool-using generations; after any stage, a thinking
#: model's reasoning does (paper §3.5).
TOOL_BRIEF_STAGES = ("plan", "review")


def _compacted(question: Question) -> bool:
    """Whether ``question``'s answer may be compacted (``stages.compaction``): compaction on
    (``MemoryConfig.compacts``), and an answer kept among the week's earlier answers that is not itself a brief."""
    return question.memory.compacts and not isinstance(question, (ChatQuestion, CompactionQuestion))


def _call_line(name: str, arguments: dict, result: str) -> str:
    """One tool call and the start of its result, in a line; its arguments by name (a recorded call's
    come back from the cache in that order, so a replay renders the same line)."""
    shown = ", ".join(f"{key}={arguments[key]}" for key in sorted(arguments))
    return f"{name}({shown}) -> {trim_text(' '.join(result.split()), max_chars=RESULT_CHARS)}"


def _toolbox(question: Question):
    """The notebook tools the question's model may call, or None."""
    return tools_for(question) if question.memory.notes == "tools" else None


def _parser(question: Question) -> Callable[[str], Decision | Repaired]:
    def parse(text: str) -> Decision | Repaired:
        decision, trimmed = checked_decision(question, text)
        return Repaired(decision, trimmed) if trimmed else decision
    return parse
