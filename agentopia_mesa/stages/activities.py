"""Activity days (paper §4, stage 5): one free-time slot per resident per day.

Each day: booked residents go to their joint activity, public event or encounter (planned for the
week after contact, ``stages.encounters``); everyone else decides a solo activity and walks to
where it happens; then every activity is played, the environment judges its outcome (``stages.asking.judge_all``) and the
verdicts are applied.

Joint activities and encounters are conversations (paper §4.2), all of a day's played side by
side so that each step asks every mind, and the environment, in one batch: each participant's
private entry analysis; then turns, each preceded by one environment task (``TurnTask``: feedback
on the surroundings, the next speaker or the end, the verification of the previous reply); then
the outcome from the transcript; then each participant's exit (summary, reflection, notes). Each
participant sees the conversation through its own ``Conversation`` (private words only where
they were meant to go); every finished conversation is kept in ``model.conversations`` for the
week (the run's ``dialogues.jsonl``).

Public events (paper §4.3): each participant sees the event, the place and the others of its
group (``PublicEventQuestion``), says what it does and whom it noticed, but cannot talk to them;
one environment task per group (``PublicEventTask``) judges everyone from what they said. Each
group's descriptions are kept with the conversations, one "turn" per participant seen by all.
With the rule environment, which reads no descriptions, the rule mind answers for everyone.

In a rules run (the rule environment judging, the rule mind answering for everyone of the day's
gatherings) the entries, rounds, exits and public events skip the tasks, verdicts and questions
and call what the rules would answer directly (``_rule_round``, ``_rule_exits``,
``RuleMind.take_part``): the same answers, the same random draws in the same order.

So that an LLM server is not left idle, calls whose questions are known early start early
(``asking.ask_ahead``/``judge_ahead``): the joint activities' first calls while the solo decisions
are asked; with an LLM environment, the public events' descriptions and the solo outcomes while
the conversations talk. Their answers are taken, in the order above, only for equal requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentopia_mesa.contract.decisions import Utterance, spoken
from agentopia_mesa.contract.environment import (PASS, GatheringTask, PublicEventTask, ShopTask, SoloTask,
                                                 TurnRecord, TurnTask)
from agentopia_mesa.town.economy import extra_work_pay_range, material_gain
from agentopia_mesa.environment.outcomes import apply_changes, clamp_changes
from agentopia_mesa.environment.events import split_groups
from agentopia_mesa.environment.rules import RuleEnvironment
from agentopia_mesa.stages.asking import ask_ahead, ask_all, judge_ahead, judge_all, situation
from agentopia_mesa.stages.meeting import first_impression, meet
from agentopia_mesa.contract.questions import (Attendee, Conversation, EntryQuestion, EventView, ExitQuestion,
                                               PublicEventQuestion, PurchaseQuestion, Seen, SoloQuestion,
                                               SoloReflectionQuestion, TurnQuestion)
from agentopia_mesa.stages.transcripts import transcript
from agentopia_mesa.town.notebook import PEOPLE
from agentopia_mesa.town.public_event import PublicEvent
from agentopia_mesa.town.resident import ActivityRecord, Resident
from agentopia_mesa.town.state import Possession


#: The last replies of a conversation kept in its record, for later prompts (Review, Contact).
SAID_TURNS = 4


@dataclass
class Gathering:
    """People spending a slot together: a joint activity or an encounter."""

    kind: str  # "joint" or "encounter"
    title: str
    place: str
    people: list[Resident]
    transcript: list[str] = field(default_factory=list)
    gifts: list[tuple[str, str]] = field(default_factory=list)  # (giver, receiver)
    scene: str = ""  # an encounter's scene, as the environment described it
    present: list[str] = field(default_factory=list)  # who has not left
    turns: list[TurnRecord] = field(default_factory=list)
    chats: dict[str, Conversation] = field(default_factory=dict)  # each participant's side
    env_chat: dict = field(default_factory=dict)  # the environment's running chat
    entries: dict[str, str] = field(default_factory=dict)  # private entry analyses
    exits: dict[str, dict] = field(default_factory=dict)  # summaries, reflections, notes
    outcomes: dict[str, str] = field(default_factory=dict)  # the environment's outcome per participant
    ended: str = ""  # why it ended: "environment", "max_turns" or "too_few"
    closing: str = ""  # the environment's last feedback


def activity_days(model) -> None:
    model.conversations = []  # this week's, for the run's dialogues.jsonl
    for day in model.calendar.days:
        activity_day(model, day)


def activity_day(model, day: int) -> None:
    cal = model.calendar
    bookings = model.schedule.day(cal.day_index(day))
    joint: dict[str, list[Resident]] = {}
    public: dict[str, list[Resident]] = {}
    met: dict[str, list[Resident]] = {}
    idle: list[Resident] = []
    for r in model.residents:
        booking = bookings.get(r.name)
        if booking is None:
            idle.append(r)
        elif booking.kind == "joint":
            joint.setdefault(booking.ref, []).append(r)
        elif booking.kind == "encounter":
            met.setdefault(booking.ref, []).append(r)
        else:
            public.setdefault(booking.ref, []).append(r)

    gatherings = []
    for activity_id, people in joint.items():
        activity = model.schedule.activities[activity_id]
        if len(people) >= 2:
            gatherings.append(Gathering("joint", activity.name, activity.place, people))
        else:
            idle.extend(people)  # everyone else dropped out
        activity.status = "done"
    for ref, people in met.items():
        encounter = model.encounters[ref]
        if len(people) < 2:
            idle.extend(people)
            continue
        title = f"Ran into each other at {model.places[encounter.place].name}"
        gatherings.append(Gathering("encounter", title, encounter.place, people, scene=encounter.scene))

    describe = not isinstance(model.environment, RuleEnvironment)  # a model judges: it reads what residents say they do
    early = _talk_ahead(model, gatherings, day)  # their first calls, while the solo decisions are asked
    questions = [SoloQuestion(r, day=day, intention=r.intentions[day - 1], planned=r.planned[day - 1] if r.planned else "",
                              places=model.solo_places(r), describe=describe) for r in idle]
    plans = {q.resident.name: decision for q, decision in zip(questions, ask_all(model, questions), strict=True)}
    for r, question in zip(idle, questions, strict=True):
        plan = plans[r.name]
        r.go_to(model.places[_solo_place(question.places, r, plan)], plan.activity)
    if describe:  # the public events' descriptions and the solo slots' outcomes, while the conversations talk
        early += ask_ahead(model, _event_questions(model, _event_groups(model, public)))
        early += judge_ahead(model, _solo_tasks(model, idle, plans, day))

    for g in gatherings:
        for p in g.people:
            p.go_to(model.places[g.place], g.title)
    _play_together(model, gatherings, day)
    _public_events(model, public, day)
    _solo(model, idle, plans, day)
    for started in early:
        started.drop()


def _solo_place(solo_places: dict[str, list[str]], r: Resident, plan) -> str:
    """Where ``r`` does its solo ``plan``: the place it chose if the activity may happen there
    (``solo_places``: ``model.solo_places(r)``), else the first that may."""
    options = solo_places.get(plan.activity) or [r.home.key]
    return plan.place if plan.place in options else options[0]


def _record(model, r: Resident, when: str, kind: str, title: str, place: str, changes: dict,
            with_people: tuple[str, ...] = (), note: str = "", said: tuple[str, ...] = ()) -> None:
    """``r``'s activity record of the slot stamped ``when`` (``calendar.stamp("activity", day)``), counted."""
    r.records.append(ActivityRecord(when, kind, title, place, with_people, changes, note, said=said))
    r.year_counts[kind] += 1
    model.counts[kind] += 1


def describe_place(place) -> str:
    """A place as a participant sees it (world files give places a kind and affordances, no prose)."""
    uses = ", ".join(sorted(place.affordances))
    return f"A {place.kind.replace('_', ' ')}{f' where people {uses}' if uses else ''}; room for {place.capacity}."


def _play_together(model, gatherings: list[Gathering], day: int) -> None:
    """Every gathering of the day as a conversation (module docstring), then the outcome and the exits."""
    if not gatherings:
        return
    cfg = model.config.activity
    place_names = model.place_names
    _open(model, gatherings)
    by_rules = _by_rules(model, gatherings)
    if cfg.entry_analysis and by_rules:  # the rule mind's analyses, without the questions
        for g in gatherings:
            for name, others in _sides(g):
                g.entries[name] = model.rule_mind.entry_analysis(g.title, others)
    elif cfg.entry_analysis:
        owners = [g for g in gatherings for _ in g.people]
        questions = _entries(gatherings, day)
        for g, q, entry in zip(owners, questions, ask_all(model, questions), strict=True):
            g.entries[q.resident.name] = entry.analysis
    active = list(gatherings)
    while active:
        records = _rule_round(model, active, day) if by_rules else _round(model, active, day)
        for g, record in records:
            g.turns.append(record)
            _spread(model, g, record)
        active = [g for g in active if not g.ended]

    when, week, ties, by_name = model.calendar.stamp("activity", day), model.calendar.week_index, model.ties, model.residents_by_name
    tasks = [
        GatheringTask(kind=g.kind, title=g.title, place=g.place, place_name=place_names[g.place], people=g.people,
                      ties=model.ties, transcript=g.transcript, gifts=g.gifts, skill=_trains(model, g), scene=g.scene, day=day)
        for g in gatherings
    ]
    for g, verdict in zip(gatherings, judge_all(model, tasks), strict=True):
        names = tuple(p.name for p in g.people)
        g.outcomes = dict(verdict.notes)
        for giver, receiver in g.gifts:
            model.ties.gift(giver, receiver)
        said = tuple(f"{t.speaker}: {t.reply.speech}" for t in g.turns[-SAID_TURNS:])
        occasion = f"at {g.title}"
        for p in g.people:
            changes = verdict.changes.get(p.name, {})
            apply_changes(p, changes)
            for other in names:
                if other != p.name:
                    meet(model, p, by_name[other], occasion, when)
                    ties.interact(p.name, other, verdict.quality.get((p.name, other), 0.0), week)
            _record(model, p, when, g.kind, g.title, g.place, changes, tuple(n for n in names if n != p.name),
                    verdict.notes.get(p.name, ""), said)
    if cfg.exit_reflection and by_rules:
        _rule_exits(model, gatherings)
    elif cfg.exit_reflection:
        _exits(model, gatherings, day)
    model.conversations.extend(_conversation(model, g, day) for g in gatherings)


def _round(model, active: list[Gathering], day: int) -> list[tuple[Gathering, TurnRecord]]:
    """One turn of every ``active`` gathering: the environment's verdicts (a gathering it ends is
    marked ``ended``), then the replies of the next speakers, not spread yet."""
    cfg = model.config.activity
    tasks = _turn_tasks(model, active, day)
    speaking = []
    for g, task, verdict in zip(active, tasks, judge_all(model, tasks), strict=True):
        if g.turns and verdict.verification:
            _verified(model, g.turns[-1], verdict)
        speaker = verdict.next_speaker
        if task.must_end or not speaker or speaker not in g.present:
            _end(g, verdict.feedback, cfg.max_turns)
            continue
        if verdict.feedback:
            seen = Seen("feedback", text=verdict.feedback)  # immutable: one for everyone present
            for n in g.present:
                g.chats[n].seen.append(seen)
        speaking.append((g, speaker, verdict.feedback))
    questions = [_turn_question(model, g, name, day) for g, name, _ in speaking]
    return [(g, TurnRecord(q.turn, name, reply, feedback, model=model.minds[name].name, when=q.when))
            for (g, name, feedback), q, reply in zip(speaking, questions, ask_all(model, questions), strict=True)]


def _by_rules(model, gatherings: list[Gathering]) -> bool:
    """Whether the rules judge the turns and the rule mind answers for everyone in ``gatherings``
    (a rules run): then ``_rule_round`` plays them."""
    rule_mind = model.rule_mind
    return type(model.environment) is RuleEnvironment and all(model.minds[p.name] is rule_mind for g in gatherings for p in g.people)


def _rule_round(model, active: list[Gathering], day: int) -> list[tuple[Gathering, TurnRecord]]:
    """``_round`` when the rules judge and answer (``_by_rules``), without the tasks, verdicts and
    questions in between: the same verdicts (``RuleEnvironment.next_speaker``: no feedback, every
    reply passes, the end as soon as it is allowed), the same replies (``RuleMind.reply``) asked
    in the same order, so the same random draws."""
    cfg, mind, side = model.config.activity, model.rule_mind, model.ties.side
    verified = f"verified {mind.name}"
    speaking = []
    for g in active:
        turns, present = g.turns, g.present
        if turns:
            turns[-1].verification = PASS
            model.conversation_stats[verified] += 1
        speaker = RuleEnvironment.next_speaker(g.people, turns, present, cfg.min_turns, cfg.max_turns)
        if not speaker:
            _end(g, "", cfg.max_turns)
        else:
            speaking.append((g, speaker))
    when = situation(model).stamp(f"D{day}-{TurnQuestion.stage}-t")  # TurnQuestion.when, less the turn
    records = []
    for g, name in speaking:
        turn, present = len(g.turns) + 1, tuple(g.present)
        reply = mind.reply(model.residents_by_name[name], side(name), present, turn)
        records.append((g, TurnRecord(turn, name, reply, "", mind.name, when + str(turn))))
    return records


def _end(g: Gathering, closing: str, max_turns: int) -> None:
    """Mark ``g`` ended after the environment's last feedback (``closing``), and say why."""
    g.closing = closing
    g.ended = "too_few" if len(g.present) < 2 else "max_turns" if len(g.turns) >= max_turns else "environment"


def _open(model, gatherings: list[Gathering]) -> None:
    """Each participant's side of every gathering not opened yet; everyone is present."""
    cfg = model.config.activity
    for g in gatherings:
        if g.chats:
            continue
        names = tuple(p.name for p in g.people)
        g.present = list(names)
        place = model.places[g.place]
        g.chats = {n: Conversation(g.kind, g.title, place.name, names, g.scene, describe_place(place), cfg.min_turns,
                                   cfg.max_turns, cfg.reply_words)
                   for n in names}


def _entries(gatherings: list[Gathering], day: int) -> list[EntryQuestion]:
    return [EntryQuestion(p, chat=g.chats[p.name], day=day) for g in gatherings for p in g.people]


def _turn_tasks(model, active: list[Gathering], day: int) -> list[TurnTask]:
    """The environment's task before the next reply of each ``active`` gathering."""
    cfg, place_names = model.config.activity, model.place_names
    return [TurnTask(kind=g.kind, title=g.title, place_name=place_names[g.place], people=g.people, present=tuple(g.present),
                     turns=g.turns, turn=len(g.turns) + 1, min_turns=cfg.min_turns, max_turns=cfg.max_turns,
                     scene=g.scene, day=day, chat=g.env_chat) for g in active]


def _turn_question(model, g: Gathering, name: str, day: int) -> TurnQuestion:
    return TurnQuestion(model.residents_by_name[name], chat=g.chats[name], day=day, turn=len(g.turns) + 1,
                        present=tuple(g.present))


def _talk_ahead(model, gatherings: list[Gathering], day: int) -> list:
    """Start the first calls of the day's joint activities (``gatherings``, known before anyone's
    solo decision) so that the server answers them while the solo decisions are asked; what to
    ``drop()`` when they have been played (``asking.ask_ahead``: nothing is decided, drawn or
    recorded now, and a call whose question has changed by then is not used). The first calls are
    the entries with entry analysis, else the first replies when the rules judge the turns (they
    draw no random numbers and need no calls); with a model judging the turns, its first verdicts
    come first and are not started here."""
    if not any(hasattr(model.minds[p.name], "ahead") for g in gatherings for p in g.people):
        return []  # minds that answer at once (the rules)
    _open(model, gatherings)
    if model.config.activity.entry_analysis:
        return ask_ahead(model, _entries(gatherings, day))
    if not isinstance(model.environment, RuleEnvironment):
        return []
    tasks = _turn_tasks(model, gatherings, day)
    firsts = [(g, RuleEnvironment.turn(task)) for g, task in zip(gatherings, tasks, strict=True)]
    return ask_ahead(model, [_turn_question(model, g, verdict.next_speaker, day) for g, verdict in firsts
                             if verdict.next_speaker in g.present and not verdict.feedback])


def _verified(model, record: TurnRecord, verdict) -> None:
    """The environment's verification of a reply: a REJECT marks it (it is not taken back)."""
    record.verification, record.failure, record.reason = verdict.verification, verdict.failure, verdict.reason
    stats = model.conversation_stats
    stats[f"verified {record.model}"] += 1
    if record.rejected:
        stats[f"rejected {record.model}"] += 1


def _spread(model, g: Gathering, record: TurnRecord) -> None:
    """A reply reaches those present as each may see it; a gift changes hands; a leaver leaves.
    (A ``Seen`` is immutable, so those who see the same thing share one.)"""
    name, reply = record.speaker, record.reply
    others = [n for n in g.present if n != name]
    record.audience = tuple(others)
    sides = [g.chats[n].seen for n in others]
    g.transcript.append(f"{name}: {reply.speech}")
    said = Seen("said", name, reply.speech)
    for seen in sides:
        seen.append(said)
    for part in reply.private:
        to = tuple(part.visible_to)
        g.transcript.append(f"{name} (privately to {', '.join(to)}): {part.text}")
        told, hidden = Seen("private", name, part.text, to), Seen("hidden", name, "", to)
        for n, seen in zip(others, sides):
            seen.append(told if n in to else hidden)
    if reply.gift_to and _give(model, model.residents_by_name[name], reply.gift_to, reply.gift_item):
        record.gave = reply.gift_item
        g.gifts.append((name, reply.gift_to))
        g.transcript.append(f"{name} gave {reply.gift_item} to {reply.gift_to}.")
        gift = Seen("gift", name, reply.gift_item, (reply.gift_to,))
        for seen in sides:
            seen.append(gift)
    if reply.leave:
        g.present.remove(name)
        g.transcript.append(f"{name} left.")
        left = Seen("left", name)
        for seen in sides:
            seen.append(left)


def _exits(model, gatherings: list[Gathering], day: int) -> None:
    """Each participant's summary, reflection and notes on the others (a note replaces the first impression)."""
    questions = [ExitQuestion(p, chat=g.chats[p.name], day=day, outcome=g.outcomes.get(p.name, ""))
                 for g in gatherings for p in g.people]
    owners = [g for g in gatherings for _ in g.people]
    when, week = model.calendar.stamp("activity", day), model.calendar.week_index
    for g, q, decision in zip(owners, questions, ask_all(model, questions), strict=True):
        p = q.resident
        g.exits[p.name] = {"summary": decision.summary, "reflection": decision.reflection,
                           "notes": {n.about: n.summary for n in decision.notes}}
        for note in decision.notes:
            p.notebook.write(PEOPLE + note.about, note.summary, note.summary, when, week)
        if p.records and p.records[-1].title == g.title:
            p.records[-1].summary = decision.summary


def _rule_exits(model, gatherings: list[Gathering]) -> None:
    """``_exits`` when the rule mind answers for everyone (``_by_rules``), without the questions:
    its summaries and reflections (``RuleMind.exit_words``), never a note."""
    for g in gatherings:
        for p, (name, others) in zip(g.people, _sides(g), strict=True):
            summary, reflection = model.rule_mind.exit_words(g.title, others)
            g.exits[name] = {"summary": summary, "reflection": reflection, "notes": {}}
            if p.records and p.records[-1].title == g.title:
                p.records[-1].summary = summary


def _sides(g: Gathering) -> list[tuple[str, list[str]]]:
    """Each participant of ``g`` with the others, in order (``ChatQuestion.others``)."""
    names = [p.name for p in g.people]
    return [(name, [n for n in names if n != name]) for name in names]


def _conversation(model, g: Gathering, day: int) -> dict:
    """A finished conversation as one line of the run's ``dialogues.jsonl``."""
    return transcript(model, day, g.kind, g.title, g.place, [p.name for p in g.people], g.turns, scene=g.scene,
                      entries=g.entries, ended=g.ended, closing=g.closing, outcomes=g.outcomes, exits=g.exits)


def _trains(model, g: Gathering) -> str | None:
    """The skill a gathering trains: fitness for a joint activity at a place for exercise."""
    return "fitness" if model.places[g.place].affords("exercise") and g.kind == "joint" else None


def _give(model, giver: Resident, receiver_name: str, item: str) -> bool:
    owned = next((p for p in giver.state.possessions if p.name == item), None)
    receiver = model.residents_by_name.get(receiver_name)
    if owned is None or receiver is None or receiver is giver:
        return False
    giver.state.possessions.remove(owned)
    receiver.state.possessions.append(owned)
    model.counts["gifts"] += 1
    return True


@dataclass
class EventGroup:
    """One group at a public event (paper §4.3): its people took part side by side, without talking."""

    event: PublicEvent
    place_name: str
    people: list[Resident]
    said: list[TurnRecord] = field(default_factory=list)  # what each said it did, one "turn" each, seen by all
    noticed: dict[str, list[str]] = field(default_factory=dict)  # whom each noticed


def _public_events(model, public: dict[str, list[Resident]], day: int) -> None:
    """Each participant sees its group, says what it does and whom it noticed; one environment task
    judges each group; someone noticed becomes an acquaintance, with a first-impression note if the
    one who noticed had none."""
    groups = _event_groups(model, public)
    if not groups:
        return
    for g in groups:
        for p in g.people:
            p.go_to(model.places[g.event.place], g.event.name)
    # As with a solo slot's words, only a model judging reads what residents say they did: with the
    # rules judging, the rule mind plays the event for everyone (no calls, as before descriptions),
    # without the questions (RuleMind.take_part).
    if not isinstance(model.environment, RuleEnvironment):
        questions = _event_questions(model, groups)
        owners = [g for g in groups for _ in g.people]
        for g, q, decision in zip(owners, questions, ask_all(model, questions), strict=True):
            _took_part(g, q.resident.name, Utterance(speech=decision.description, private=[]), decision.noticed,
                       tuple(a.name for a in q.others), q.when, model.minds[q.resident.name].name)
    else:
        mind, words, now = model.rule_mind, model.config.activity.public_words, situation(model)
        for g in groups:
            names = [p.name for p in g.people]
            said_when = now.stamp(f"D{g.event.day}-{PublicEventQuestion.stage}")  # PublicEventQuestion.when
            for p in g.people:
                seen_by = tuple(n for n in names if n != p.name)
                description, noticed = mind.take_part(p, g.event.name, words, seen_by)
                _took_part(g, p.name, spoken(description), noticed, seen_by, said_when, mind.name)
    tasks = [PublicEventTask(event=g.event, place_name=g.place_name, people=g.people, day=day,
                             descriptions={t.speaker: t.reply.speech for t in g.said}) for g in groups]
    when, week = model.calendar.stamp("activity", day), model.calendar.week_index
    for g, verdict in zip(groups, judge_all(model, tasks), strict=True):
        ev = g.event
        for p in g.people:
            changes = verdict.changes.get(p.name, {})
            apply_changes(p, changes)
            for other in g.noticed[p.name]:  # one-sided: only the one who noticed takes a note
                model.ties.meet(p.name, other, week, familiarity=10.0)
                p.notebook.meet(other, first_impression(model.residents_by_name[other], f"at {ev.name}"), when, week)
            _record(model, p, when, "public", ev.name, ev.place, changes, tuple(g.noticed[p.name]), verdict.notes.get(p.name, ""))
        model.conversations.append(transcript(model, day, "public", ev.name, ev.place, [p.name for p in g.people], g.said,
                                              scene=ev.description, outcomes=dict(verdict.notes), noticed=g.noticed))


def _took_part(g: EventGroup, name: str, said: Utterance, noticed: list[str], seen_by: tuple[str, ...], when: str,
               mind: str) -> None:
    """``name``'s part in ``g``: what it said it did (seen by ``seen_by``, the rest of the group) and
    whom of them it noticed."""
    g.said.append(TurnRecord(len(g.said) + 1, name, said, when=when, audience=seen_by, model=mind))
    g.noticed[name] = [n for n in dict.fromkeys(noticed) if n in seen_by]


def _event_groups(model, public: dict[str, list[Resident]]) -> list[EventGroup]:
    """The day's groups at public events (``public``: participants by event id)."""
    events = {e.event_id: e for e in model.public_events}
    groups = []
    for event_id, people in public.items():
        event = events.get(event_id)
        if event is None:
            continue
        place_name = model.places[event.place].name
        for names in split_groups([p.name for p in people], model.config.events.group_thresholds):
            groups.append(EventGroup(event, place_name, [model.residents_by_name[n] for n in names]))
    return groups


def _event_questions(model, groups: list[EventGroup]) -> list[PublicEventQuestion]:
    """Each participant's question: the event, the place and the others of its group."""
    questions = []
    for g in groups:
        ev = g.event
        view = EventView(ev.event_id, ev.name, ev.day, ev.place, ev.description, ev.skill)
        attendees = [_attendee(o) for o in g.people]  # immutable: each shown to everyone else in the group
        for p in g.people:
            questions.append(PublicEventQuestion(p, event=view, place_name=g.place_name, words=model.config.activity.public_words,
                                                 others=[a for o, a in zip(g.people, attendees) if o is not p]))
    return questions


def _attendee(r: Resident) -> Attendee:
    job = r.job
    return Attendee(r.name, r.age, f"{job.role} at {job.organisation}" if job else "")


def _solo_tasks(model, people: list[Resident], plans: dict, day: int) -> list[SoloTask]:
    """The environment's task for each of ``people``'s solo slot, from its ``plans``."""
    economy = model.config.economy
    tasks = []
    for r in people:
        plan = plans[r.name]
        skill = plan.skill or "general knowledge"
        pay = extra_work_pay_range(r.state.skills.get(skill, 0), economy) if plan.activity == "work" else (0, 0)
        tasks.append(SoloTask(resident=r, day=day, activity=plan.activity, skill=skill, description=plan.description,
                              place=r.place.key, place_name=r.place.name, pay=pay))
    return tasks


def _solo(model, people: list[Resident], plans: dict, day: int) -> None:
    when = model.calendar.stamp("activity", day)
    tasks = _solo_tasks(model, people, plans, day)
    shoppers = []
    for task, verdict in zip(tasks, judge_all(model, tasks), strict=True):
        r = task.resident
        apply_changes(r, verdict.changes)
        if verdict.consumption:
            shoppers.append((r, task, verdict.changes, verdict.note, verdict.outcome))
        else:
            _record(model, r, when, task.activity, verdict.note, r.place.key, verdict.changes, note=verdict.outcome)
    _shop(model, shoppers, day)
    if model.config.activity.solo_reflection:
        _reflect(model, people, day)


def _reflect(model, people: list[Resident], day: int) -> None:
    """Each of ``people`` whose mind keeps its answers for its context (an LLM mind) reflects on its
    solo slot (paper §4.1, step 4); the reflection is what it wrote of the slot (the record's
    ``summary``, in later prompts). A rule mind's would be unused: it is not asked."""
    thinking = [r for r in people if model.minds[r.name].keeps_replies and r.records]
    questions = [SoloReflectionQuestion(r, day=day, activity=r.records[-1].kind, title=r.records[-1].title,
                                        outcome=r.records[-1].note) for r in thinking]
    for r, decision in zip(thinking, ask_all(model, questions), strict=True):
        r.records[-1].summary = decision.reflection


def _shop(model, shoppers: list, day: int) -> None:
    """The shop for those of the day's solo slots spent shopping: the environment's window, then
    each resident's choice, paid for and recorded."""
    if not shoppers:
        return
    economy, when = model.config.economy, model.calendar.stamp("activity", day)
    windows = [ShopTask(resident=r, day=day, price_list=model.world.price_list, description=task.description,
                        count=economy.shop_offers) for r, task, _, _, _ in shoppers]
    questions = [PurchaseQuestion(r, offers=verdict.offers)
                 for (r, *_), verdict in zip(shoppers, judge_all(model, windows), strict=True)]
    for (r, _, changes, note, outcome), question, decision in zip(shoppers, questions, ask_all(model, questions), strict=True):
        offer = next((o for o in question.offers if o.item == decision.item), None)
        if offer is not None and offer.price <= r.state.deposit:
            bought = clamp_changes({"money": -offer.price, "material": material_gain(offer.price)}, model.config.activity.solo)
            r.state.change_deposit(-offer.price)  # the price is paid in full, whatever the money limit
            r.state.change_need("material", bought.get("material", 0))
            r.state.possessions.append(Possession(offer.item, offer.price, model.calendar.stamp("activity", day)))
            changes = {**changes, "money": -offer.price, "material": bought.get("material", 0)}
            note = f"bought {offer.item} for {offer.price}"
            model.counts["purchases"] += 1
        _record(model, r, when, "shopping", note, r.place.key, changes, note=outcome)
