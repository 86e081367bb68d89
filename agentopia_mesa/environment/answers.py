"""What an LLM environment answers, per task: pydantic models, narrowed JSON schemas, world checks.

The model proposes and the code disposes: an answer must parse, follow the task's narrowed
schema (names, places, items and skills become enums, as for the residents' answers) and pass
``problems`` (nobody twice, nobody absent, no item off the price list), or it is retried with
the problems shown; what it proposes is then clipped to the paper's limits when it becomes a
verdict (``environment.verdicts``). Changes are asked as whole numbers in a wide range on
purpose: the limits table is the code's to enforce, not the schema's.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, create_model

from agentopia_mesa.contract import environment as e
from agentopia_mesa.contract.decisions import RatingDecision
from agentopia_mesa.llm.narrowing import cap_text, copied, restrict
from agentopia_mesa.world import schema as world

Text = Annotated[str, StringConstraints(max_length=300)]
Name = Annotated[str, StringConstraints(max_length=60)]
Delta = Annotated[int, Field(ge=-100, le=100)]

#: Longest free text asked of the environment, in characters (as ``minds.schemas.TEXT_LIMIT``).
TEXT_LIMIT = 160


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SoloAnswer(Answer):
    consumption: bool  # the slot is spent buying something: the shop comes next
    outcome: Text
    vitality: Delta
    mood: Delta
    esteem: Delta
    skill_gain: Delta
    money: int = Field(ge=-1000, le=1000)


class ShopAnswer(Answer):
    items: list[Name] = Field(min_length=1, max_length=4)


class TurnAnswer(Answer):
    verification: Name  # PASS or REJECT, for the previous reply
    failure: Name  # one of the failure types when rejected, else ""
    reason: Text
    feedback: Text  # 1-3 sentences on the surroundings
    next_speaker: Name  # someone present, or END


# One person's outcome of a public event, and of a conversation with how it felt about the others
# (comments, not docstrings: a docstring would become the schema's description, a new prompt).
class PublicOutcome(Answer):
    name: Name
    outcome: Text
    vitality: Delta
    mood: Delta
    social: Delta
    esteem: Delta
    skill_gain: Delta


class ParticipantOutcome(PublicOutcome):
    enjoyed: Delta  # how this person felt about the others, -100 (awful) to 100 (wonderful)


class GatheringAnswer(Answer):
    participants: list[ParticipantOutcome] = Field(max_length=10)


class PublicEventAnswer(Answer):
    participants: list[PublicOutcome] = Field(max_length=40)


class NewEvent(Answer):
    name: Name
    place: Name
    day: int = Field(ge=1, le=7)
    description: Text
    skill: Name = ""
    repeat_weeks: int = Field(default=1, ge=1, le=10)
    eligible: list[Name] = Field(default=[], max_length=20)  # empty: everyone may join


class EventsAnswer(Answer):
    events: list[NewEvent] = Field(max_length=10)


class EncounterAnswer(Answer):
    day: int = Field(ge=1, le=7)
    a: Name
    b: Name
    place: Name
    scene: Text


class EncountersAnswer(Answer):
    encounters: list[EncounterAnswer] = Field(max_length=500)  # the schema asks for the week's count (encounter_limit)


class JobDesign(Answer):
    based_on: Name  # the key of an existing position of the same organisation
    role: Name
    description: Text
    skills: list[Name] = Field(min_length=1, max_length=2)


class JobsAnswer(Answer):
    jobs: list[JobDesign] = Field(max_length=20)


class HiringAnswer(Answer):
    hire: list[Name] = Field(default=[], max_length=20)  # best first


class JobHires(Answer):
    job: Annotated[str, StringConstraints(max_length=80)]  # a job key (world.Key)
    hire: list[Name] = Field(max_length=100)  # its own applicants, best first


# A batch's answer is repaired, not refused (``repaired``): a name that did not apply, a job not
# in the batch and hires beyond the free places are dropped, so one slip does not cost every job.
class HiringBatchAnswer(Answer):
    hires: list[JobHires] = Field(max_length=1000)


class Drift(Answer):
    name: Name
    change: int = Field(ge=-20, le=20)


def updatable_texts() -> tuple[str, ...]:
    """The profile's words a yearly rewrite may change (paper §3.1: every updatable field): each
    free text of ``ResidentSpec`` that a world may leave empty (introduction, appearance,
    motivation, and whatever persona words the schema adds), in the schema's order."""
    return tuple(name for name, f in world.ResidentSpec.model_fields.items() if f.annotation is str and f.default == "")


#: The rewrite's answer: every updatable text, then the drift of traits and talents.
ProfileAnswer = create_model("ProfileAnswer", __base__=Answer, **{name: (Text, ...) for name in updatable_texts()},
                             traits=(list[Drift], Field(max_length=12)), talents=(list[Drift], Field(max_length=12)))


ANSWERS: dict[type[e.Task], type[BaseModel]] = {
    e.SoloTask: SoloAnswer, e.ShopTask: ShopAnswer, e.TurnTask: TurnAnswer, e.GatheringTask: GatheringAnswer,
    e.PublicEventTask: PublicEventAnswer,
    e.EventsTask: EventsAnswer, e.EncountersTask: EncountersAnswer, e.NewJobsTask: JobsAnswer,
    e.HiringTask: HiringAnswer, e.HiringBatchTask: HiringBatchAnswer, e.ProfileTask: ProfileAnswer,
    e.RatingTask: RatingDecision,
}


# -- what may be named ------------------------------------------------------------------------------

END = "END"


def next_speakers(task: e.TurnTask) -> list[str]:
    """Who may speak next: those present, and END once the conversation may end (only END when it must)."""
    if task.must_end:
        return [END]
    return [*task.present, *([END] if task.may_end else [])]


def job_bases(task: e.NewJobsTask) -> list[str]:
    """Positions a new job may be based on: work positions with skill minimums, by key."""
    return sorted(j.key for j in task.jobs.values() if j.work and j.min_skills)


def job_skills(task: e.NewJobsTask) -> list[str]:
    return sorted({s for key in job_bases(task) for s in task.jobs[key].min_skills})


def encounter_days(task: e.EncountersTask) -> list[int]:
    """The days with encounters to plan."""
    return [day for day, n in sorted(task.counts.items()) if n > 0 and len(task.idle.get(day, ())) >= 2]


def encounter_limit(task: e.EncountersTask) -> int:
    """Encounters to plan this week, in all (``counts``, the days' idle residents / ``encounter_divisor``)."""
    return sum(task.counts[day] for day in encounter_days(task))


def new_event_bounds(task: e.EventsTask) -> tuple[int, int]:
    """How many new events: the week holds max/2 to max in all, with the running ones."""
    running = sum(1 for ev in task.running if ev.until_week >= task.week_index)
    return max(0, max(1, task.max_events // 2) - running), max(0, task.max_events - running)


# -- schemas ----------------------------------------------------------------------------------------

@functools.cache
def _base(answer: type[BaseModel]) -> dict:
    schema = answer.model_json_schema()
    cap_text(schema, TEXT_LIMIT)
    return schema


def schema_for(task: e.Task) -> dict:
    """The answer's JSON schema with what exists for this task as enums."""
    schema = copied(_base(ANSWERS[type(task)]))
    props, defs = schema.get("properties", {}), schema.get("$defs", {})
    match task:
        case e.ShopTask():
            low, high = task.count
            props["items"]["items"] = {"type": "string", "enum": list(dict.fromkeys(p.name for p in task.price_list))}
            props["items"]["minItems"] = min(low, len(task.price_list))
            props["items"]["maxItems"] = min(high, len(task.price_list))
        case e.TurnTask():
            restrict(props["verification"], [e.PASS, e.REJECT] if task.turns else [e.PASS])
            restrict(props["failure"], ["", *e.FAILURES])
            restrict(props["next_speaker"], next_speakers(task))
        case e.GatheringTask():
            _one_each(schema, "ParticipantOutcome", task.people)
        case e.PublicEventTask():
            _one_each(schema, "PublicOutcome", task.people)
        case e.EventsTask():
            low, high = new_event_bounds(task)
            event = defs["NewEvent"]["properties"]
            restrict(event["place"], list(task.places))
            restrict(event["skill"], ["", *task.skills])
            event["day"]["maximum"] = task.days
            event["eligible"]["items"] = {"type": "string", "enum": task.residents or [""]}
            event["repeat_weeks"]["maximum"] = task.max_repeat
            props["events"]["minItems"], props["events"]["maxItems"] = low, high
        case e.EncountersTask():
            # One variant per day: its free people are the only names a pair of that day may take,
            # so constrained decoding cannot pair someone on a day they are booked.
            pair = schema.pop("$defs")["EncounterAnswer"]
            variants = []
            for day in encounter_days(task) or [1]:
                variant = copied(pair)
                variant["properties"]["day"] = {"type": "integer", "const": day}
                restrict(variant["properties"]["a"], list(task.idle.get(day, ())))
                restrict(variant["properties"]["b"], list(task.idle.get(day, ())))
                restrict(variant["properties"]["place"], list(task.places))
                variants.append(variant)
            props["encounters"]["items"] = {"anyOf": variants}
            props["encounters"]["minItems"] = props["encounters"]["maxItems"] = encounter_limit(task)
        case e.NewJobsTask():
            design = defs["JobDesign"]["properties"]
            restrict(design["based_on"], job_bases(task))
            design["skills"]["items"] = {"type": "string", "enum": job_skills(task) or [""]}
            props["jobs"]["minItems"] = props["jobs"]["maxItems"] = task.count
        case e.HiringTask():
            props["hire"]["items"] = {"type": "string", "enum": [r.name for r in task.applicants] or [""]}
            props["hire"]["maxItems"] = task.vacancies
        case e.HiringBatchTask():  # one entry per open job, in order, each naming its own applicants
            jobs = task.open
            positions = _one_per(schema.pop("$defs")["JobHires"], "job", [t.job.key for t in jobs])
            for position, job in zip(positions, jobs, strict=True):
                hire = position["properties"]["hire"]
                hire["items"] = {"type": "string", "enum": [r.name for r in job.applicants]}
                hire["maxItems"] = min(job.vacancies, len(job.applicants))  # each at most once: a budget that fits
            _as_tuple(schema, "hires", positions)
        case e.ProfileTask():
            drift = schema.pop("$defs")["Drift"]
            for prop, names in (("traits", task.resident.traits), ("talents", task.resident.talents)):
                item = copied(drift)
                restrict(item["properties"]["name"], list(names))
                props[prop]["items"] = item
                props[prop]["maxItems"] = len(names)
        case e.RatingTask():
            people = task.question.people
            restrict(defs["Rating"]["properties"]["name"], people)
            props["ratings"]["maxItems"] = len(people)
    return schema


def _one_each(schema: dict, item: str, people: list) -> None:
    """``participants``: exactly one ``item`` per person, in order, each naming its person."""
    _as_tuple(schema, "participants", _one_per(schema.pop("$defs")[item], "name", [p.name for p in people]))


def _one_per(base: dict, field: str, values: list[str]) -> list[dict]:
    """A copy of the object schema ``base`` per value, its ``field`` fixed to that value."""
    positions = []
    for value in values:
        one = copied(base)
        one["properties"][field] = {"type": "string", "const": value}
        positions.append(one)
    return positions


def _as_tuple(schema: dict, prop: str, positions: list[dict]) -> None:
    """``prop``: an array of exactly one value per position, in order."""
    schema["properties"][prop] = {"type": "array", "prefixItems": positions,
                                  "minItems": len(positions), "maxItems": len(positions)}


# -- repairs ------------------------------------------------------------------------------------------

def repaired(task: e.Task, answer: BaseModel) -> tuple[BaseModel, int]:
    """``answer`` with what can be left out without changing the rest left out, and how many
    things were: an encounter whose person already meets someone that day, or one over the day's
    count, is dropped (the week's other encounters stand, as a planner keeps the good part of a
    plan); in a batch of hiring, so is a job not in the batch and a name that did not apply to
    its job or comes after the job's free places are taken (``_repaired_hires``). Everything else
    is as answered."""
    match task:
        case e.EncountersTask():
            return _repaired_encounters(task, answer)
        case e.HiringBatchTask():
            return _repaired_hires(task, answer)
    return answer, 0


def _repaired_encounters(task: e.EncountersTask, answer: EncountersAnswer) -> tuple[EncountersAnswer, int]:
    """The encounters in order, less any that books someone twice a day or overfills its day;
    returns the answer and how many were left out."""
    kept, used, planned = [], set(), Counter()
    for pair in answer.encounters:
        people = {(pair.day, pair.a), (pair.day, pair.b)}
        if people & used or planned[pair.day] >= task.counts.get(pair.day, 0):
            continue
        kept.append(pair)
        used |= people
        planned[pair.day] += 1
    dropped = len(answer.encounters) - len(kept)
    return (answer.model_copy(update={"encounters": kept}) if dropped else answer), dropped


def _repaired_hires(task: e.HiringBatchTask, answer: HiringBatchAnswer) -> tuple[HiringBatchAnswer, int]:
    """One entry per job of the batch that was named, in the order first named, holding only its
    own applicants, each once, at most its free places; a job named twice continues its list.
    Returns the answer and how many jobs and names were left out (a repeated name counts too)."""
    jobs = {t.job.key: t for t in task.tasks}
    hires: dict[str, list[str]] = {}
    dropped = 0
    for entry in answer.hires:
        job = jobs.get(entry.job)
        if job is None:
            dropped += 1
            continue
        applicants, hired = {r.name for r in job.applicants}, hires.setdefault(entry.job, [])
        for name in entry.hire:
            if name in applicants and name not in hired and len(hired) < job.vacancies:
                hired.append(name)
            else:
                dropped += 1
    return HiringBatchAnswer(hires=[JobHires(job=key, hire=names) for key, names in hires.items()]), dropped


# -- world checks -------------------------------------------------------------------------------------

def problems(task: e.Task, answer: BaseModel) -> list[str]:
    """Everything in ``answer`` the town does not allow (empty: usable)."""
    out: list[str] = []
    match task:
        case e.ShopTask():
            prices = {p.name for p in task.price_list}
            out += [f"items: {i!r} is not on the price list" for i in answer.items if i not in prices]
            if len(set(answer.items)) != len(answer.items):
                out.append("items: each item at most once")
            low, high = task.count
            if not min(low, len(prices)) <= len(answer.items) <= high:
                out.append(f"items: offer {low}-{high} items")
        case e.TurnTask():
            allowed = next_speakers(task)
            if answer.next_speaker not in allowed:
                out.append(f"next_speaker: {answer.next_speaker!r} is not one of {allowed}")
            if answer.verification not in (e.PASS, e.REJECT):
                out.append(f"verification: {answer.verification!r} is neither {e.PASS} nor {e.REJECT}")
            if answer.verification == e.REJECT and answer.failure not in e.FAILURES:
                out.append(f"failure: a rejection names one of {', '.join(e.FAILURES)}")
        case e.GatheringTask() | e.PublicEventTask():
            names = [p.name for p in task.people]
            given = [p.name for p in answer.participants]
            if sorted(given) != sorted(names):
                out.append(f"participants: give exactly one outcome for each of {names}")
        case e.EventsTask():
            low, high = new_event_bounds(task)
            if not low <= len(answer.events) <= high:
                out.append(f"events: create {low}-{high} new events")
            recent = {ev.name for ev in task.running if ev.until_week >= task.week_index}
            recent |= {name for name, week in task.last_used.items() if task.week_index - week <= task.lookback}
            residents = set(task.residents)
            seen = set()
            for i, ev in enumerate(answer.events):
                if ev.place not in task.places:
                    out.append(f"events: {ev.place!r} is not a public place for events")
                if ev.name in recent or ev.name in seen:
                    out.append(f"events: {ev.name!r} ran in the last weeks or twice; invent another")
                if ev.skill and ev.skill not in task.skills:
                    out.append(f"events: skill {ev.skill!r} is unknown")
                if not 1 <= ev.day <= task.days:
                    out.append(f"events: day {ev.day} is not a day of the week")
                out += [f"events: {n!r} is not a resident" for n in ev.eligible if n not in residents]
                out += _world_problems(f"events[{i}].name", ev.name, _WORLD_NAME)
                out += _world_problems(f"events[{i}].description", ev.description, _WORLD_TEXT)
                seen.add(ev.name)
        case e.EncountersTask():
            for pair in answer.encounters:
                here = set(task.idle.get(pair.day, ()))
                if pair.a == pair.b or pair.a not in here or pair.b not in here:
                    out.append(f"encounters: {pair.a!r} and {pair.b!r} are not two different people free on day {pair.day}")
                if pair.place not in task.places:
                    out.append(f"encounters: {pair.place!r} is not a public place")
        case e.NewJobsTask():
            bases, skills = set(job_bases(task)), set(job_skills(task))
            if len(answer.jobs) != task.count:
                out.append(f"jobs: design exactly {task.count}")
            for i, job in enumerate(answer.jobs):
                if job.based_on not in bases:
                    out.append(f"jobs: {job.based_on!r} is not an existing work position")
                else:  # the role the verdict will give the job (verdicts.py), as the world's JobSpec checks it
                    out += _world_problems(f"jobs[{i}].role", job.role or task.jobs[job.based_on].role, _WORLD_NAME)
                out += _world_problems(f"jobs[{i}].description", job.description, _WORLD_TEXT)
                out += [f"jobs: skill {s!r} is unknown" for s in job.skills if s not in skills]
        case e.HiringTask():
            allowed = {r.name for r in task.applicants}
            out += [f"hire: {n!r} did not apply" for n in answer.hire if n not in allowed]
            if len(set(answer.hire)) != len(answer.hire):
                out.append("hire: each applicant at most once")
            if len(answer.hire) > task.vacancies:
                out.append(f"hire: at most {task.vacancies} (the free places)")
        case e.ProfileTask():
            r = task.resident
            out += [f"traits: {d.name!r} is not one of your traits" for d in answer.traits if d.name not in r.traits]
            out += [f"talents: {d.name!r} is not one of your talents" for d in answer.talents if d.name not in r.talents]
            for name in updatable_texts():
                out += _world_problems(name, getattr(answer, name), _WORLD_TEXT)
        case e.RatingTask():
            allowed = set(task.question.people)
            out += [f"ratings: {x.name!r} is not one of the people to rate" for x in answer.ratings if x.name not in allowed]
    return out


# What the world file's schema would refuse (world/schema.py): a verdict the town keeps (a job's role,
# an event's name, a profile's text) must pass the same checks, here where a bad answer is retried and
# then falls back, not later where a refusal would end the run.
_WORLD_NAME = TypeAdapter(world.Name)
_WORLD_TEXT = TypeAdapter(world.Text)


def _world_problems(field: str, value: str, kind: TypeAdapter) -> list[str]:
    """``[]`` if ``value`` is what the world file allows for ``field``, else one line naming the field."""
    try:
        kind.validate_python(value)
    except ValidationError as exc:
        return [f"{field}: {exc.errors()[0]['msg']}"]
    return []
