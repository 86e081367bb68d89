"""Matched-state branches: the same checkpoint, one decision changed, the rest of the world as it comes.

``capture_questions`` replays a checkpoint until the chosen residents are first asked a stage's
question and keeps those questions (the prompts to sample alternatives for). ``rollout`` loads
the checkpoint again, answers one resident's first question of that stage with a given answer,
checks that the question is the captured one (same prompt: the state really is matched), and
runs the town forward. ``judge_reply`` does the same for one conversation reply and plays only
that week: the environment's verification of the reply and the activity's outcome judge it.
Every branch of a prompt shares its past; LLM minds share one response cache, so calls made
before the forced decision are answered identically in every branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agentopia_mesa.run.checkpoints import read_checkpoint
from agentopia_mesa.minds.base import Mind
from agentopia_mesa.contract.decisions import Decision
from agentopia_mesa.minds.llm_mind import InvalidDecision, parse_decision
from agentopia_mesa.minds.prompts import messages_for, remember
from agentopia_mesa.contract.questions import ChatQuestion, Question
from agentopia_mesa.town.state import NEEDS
from agentopia_mesa.minds.schemas import schema_for
from agentopia_mesa.environment.llm_environment import llm_environment
from agentopia_mesa.llm.settings import LLMSettings
from agentopia_mesa.minds.assign import llm_minds


class _Captured(Exception):
    """Every wanted question has been seen: the capture pass can stop."""


class _Unmatched(Exception):
    """A branch's question differs from the captured one: its state is not matched."""


class _StandIn(Mind):
    """Wraps one resident's mind; ``hook(question)`` may answer that resident's questions first."""

    def __init__(self, inner: Mind, hook):
        self.inner, self.hook, self.name = inner, hook, inner.name
        # An LLM mind's answers go into its resident's context (stages.asking): a stand-in that
        # hid this would change later prompts, and the branch would no longer replay the run.
        self.keeps_replies = inner.keeps_replies

    def decide(self, question: Question) -> Decision:
        return self.decide_all([question])[0]

    def work_behind(self, question: Question):
        # Likewise the work behind its answers, which the paper profile's briefs sum up (stages.compaction).
        return self.inner.work_behind(question)

    def decide_all(self, questions: Sequence[Question]) -> list[Decision]:
        answers = [self.hook(q) for q in questions]
        rest = [q for q, a in zip(questions, answers, strict=True) if a is None]
        decided = iter(self.inner.decide_all(rest) if rest else [])
        return [a if a is not None else next(decided) for a in answers]


@dataclass
class Captured:
    """A question as it was asked: the prompt, the answer schema and the time, taken at once
    (the resident's state moves on after)."""

    question: Question
    messages: list[dict]
    schema: dict
    when: str


@dataclass
class Branch:
    """What became of one branch: the deciding resident's life reward at the horizon and the cost."""

    reward: float
    weeks: int
    llm_calls: int
    provisional: bool


class Checkpoint:
    """Fresh copies of one checkpoint, their LLM minds given clients on ``settings``' cache.

    The clients (one per spec) and the dispatcher are made once and shared by every copy, so
    branches reuse one loaded model and one response cache.
    """

    def __init__(self, path: Path, settings: LLMSettings):
        self.path, self.settings = Path(path), settings
        self._clients: dict[str, object] = {}
        self._dispatcher = None

    def load(self):
        model = read_checkpoint(self.path)
        for mind in llm_minds(model):
            mind.reattach(self._client(mind.spec), self._shared_dispatcher(), None)
        environment = llm_environment(model)
        if environment is not None:  # the branch's world is judged as the run's was
            environment.reattach(self._client(environment.spec), self._shared_dispatcher(), None)
        return model

    def _client(self, spec: str):
        """The shared client of ``spec``. Its recorded decisions are found by their prompts, never
        by their sites (llm/recorded.py): every branch replays the same weeks with different
        answers, so a site recorded by one branch names another branch's question."""
        from agentopia_mesa.llm.factory import make_client

        if spec not in self._clients:
            client = make_client(spec, cache_path=self.settings.cache, cache_mode=self.settings.cache_mode)
            if hasattr(client, "sites_trusted"):
                client.sites_trusted = False
            self._clients[spec] = client
        return self._clients[spec]

    def _shared_dispatcher(self):
        from agentopia_mesa.llm.dispatcher import Dispatcher

        if self._dispatcher is None:
            s = self.settings
            self._dispatcher = Dispatcher(max_concurrency=s.max_concurrency, timeout_s=s.timeout_s, retries=s.retries)
        return self._dispatcher


def capture_questions(checkpoint: Checkpoint, residents: Sequence[str], stage: str, max_weeks: int = 1) -> dict[str, Captured]:
    """The first ``stage`` question each of ``residents`` is asked after the checkpoint (within
    ``max_weeks`` weeks); residents never asked are missing from the result."""
    model = checkpoint.load()
    wanted, seen = set(residents), {}

    def hook(question: Question):
        name = question.resident.name
        if question.stage == stage and name not in seen:
            seen[name] = Captured(question, messages_for(question), schema_for(question),
                                  question.when)
            if wanted <= set(seen):
                raise _Captured
        return None

    _stand_in(model, wanted, hook)
    try:
        for _ in range(max_weeks):
            model.step()
    except _Captured:
        pass
    return seen


@dataclass
class Judged:
    """What the environment made of one forced conversation reply: its verification of the reply
    (``passed``: not REJECT) and the activity's outcome for the speaker (``outcome``: the need
    points it gave the speaker, summed over ``town.state.NEEDS``; ``note``: its line), and the cost."""

    passed: bool
    verification: str
    outcome: float
    note: str
    llm_calls: int


@dataclass
class _Forced:
    model: object
    weeks: int
    llm_calls: int
    rows_before: int


def _forced_run(checkpoint: Checkpoint, resident: str, captured: Captured, answer: str, weeks: int | None) -> _Forced | None:
    """Load the checkpoint, answer ``resident``'s first ``captured`` stage question with ``answer``
    and run ``weeks`` weeks (None: to the end of the year). None if the branch's question is not the
    captured one (the state is not matched) or the answer does not fit it."""
    model = checkpoint.load()
    per_year = model.config.calendar.weeks_per_year
    weeks = weeks if weeks is not None else per_year - model.weeks_done % per_year
    forced = []

    def hook(q: Question):
        if q.stage != captured.question.stage or forced:
            return None
        if messages_for(q) != captured.messages:
            raise _Unmatched
        try:
            forced.append(parse_decision(q, answer))
        except InvalidDecision:
            raise _Unmatched from None
        if isinstance(q, ChatQuestion):  # the running chat goes on from the forced reply, as from a mind's
            remember(q, captured.messages, answer)
        return forced[0]

    minds = llm_minds(model)  # before the stand-in hides the deciding resident's mind
    _stand_in(model, {resident}, hook)
    calls_before = _llm_calls(minds)
    rows_before = len(model.reward_rows)
    model.total_weeks = max(model.total_weeks, model.weeks_done + weeks)  # a branch may outlive its run
    model.running = True
    try:
        for _ in range(weeks):
            model.step()
    except _Unmatched:
        return None
    if not forced:
        return None
    return _Forced(model, weeks, _llm_calls(minds) - calls_before, rows_before)


def rollout(checkpoint: Checkpoint, resident: str, captured: Captured, answer: str, horizon: int | None) -> Branch | None:
    """Branch at the checkpoint: ``resident`` answers its first ``captured`` stage question with
    ``answer``; run ``horizon`` weeks (None: to the end of the year) and settle its life reward.

    The reward is that of the last year-end inside the horizon, or, if the horizon ends mid-year,
    of a provisional settlement at its end. Returns None if the branch's question is not the
    captured one (the state is not matched) or the answer does not fit it.
    """
    branch = _forced_run(checkpoint, resident, captured, answer, horizon)
    if branch is None:
        return None
    model = branch.model
    provisional = model.weeks_done % model.config.calendar.weeks_per_year != 0
    if provisional:
        model.award_life_reward()
    rows = [row for row in model.reward_rows[branch.rows_before:] if row["name"] == resident]
    before = [row for row in model.reward_rows[:branch.rows_before] if row["name"] == resident]
    change = rows[-1]["total"] - (before[-1]["total"] if before else 0.0)
    return Branch(reward=change, weeks=branch.weeks, llm_calls=branch.llm_calls, provisional=provisional)


def judge_reply(checkpoint: Checkpoint, resident: str, captured: Captured, answer: str) -> Judged | None:
    """Branch at the checkpoint: ``resident`` says ``answer`` at its first conversation turn
    (``captured``, a ``TurnQuestion``); play the week and read what the environment judged: its
    verification of that reply and the activity's outcome for ``resident`` (the week's transcript
    and the resident's activity record). None if the branch does not match or the turn was not found."""
    branch = _forced_run(checkpoint, resident, captured, answer, 1)
    if branch is None:
        return None
    for talk in branch.model.conversations:
        turn = next((t for t in talk["turns"] if t["speaker"] == resident and t["when"] == captured.when), None)
        if turn is not None:
            break
    else:
        return None
    speaker = branch.model.residents_by_name[resident]
    record = next((r for r in speaker.records if r.when == talk["when"] and r.title == talk["activity"]), None)
    changes = record.changes if record is not None else {}
    return Judged(passed=not turn["rejected"], verification=turn["verification"],
                  outcome=float(sum(changes.get(need, 0) for need in NEEDS)), note=talk["outcomes"].get(resident, ""),
                  llm_calls=branch.llm_calls)


def _stand_in(model, names: set[str], hook) -> None:
    for name in names & model.minds.keys():
        model.minds[name] = _StandIn(model.minds[name], hook)


def _llm_calls(minds) -> int:
    return sum(m.stats.calls for m in minds)  # the residents' calls (an LLM environment's are not counted)
