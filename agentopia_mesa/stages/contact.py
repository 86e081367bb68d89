"""Contact and scheduling (paper §4, stages 3-4).

Several rounds of messages, joint-activity proposals, replies and cancellations; then the
rules in ``town/scheduling.py`` resolve proposals into activities and tell losers why. With
``activity.contact_errors = "next_slot"`` (the paper) the actions of an answer that cannot be
carried out are told to the resident in its next round (``ContactQuestion.last_errors``); with
``activity.contact_summary`` each LLM resident then sums up the stage (``summarise_contact``).
"""

from __future__ import annotations

from agentopia_mesa.stages.asking import ask_all
from agentopia_mesa.contract.questions import ContactQuestion, ContactSummaryQuestion, Invitation
from agentopia_mesa.town.scheduling import JointActivity


def contact(model) -> None:
    cal = model.calendar
    # Bookings change only when proposals are resolved, so free days are the same in every round.
    bookings = _bookings_ahead(model)
    free = {r.name: _free_days(bookings, r.name) for r in model.residents}
    known = {r.name: contactable(model, r) for r in model.residents}
    views: dict[tuple[str, str], Invitation] = {}  # an activity as one person sees it, the same in every round
    rule_mind = model.rule_mind
    # In a rules run, a resident with nothing to answer is not asked: its answer would be empty (its inbox is read all the same).
    quiet = rule_mind.quiet_in_contact if all(m is rule_mind for m in model.minds.values()) else None
    errors: dict[str, list[str]] = {}  # what of each resident's last round could not be carried out
    for round_ in range(1, cal.config.contact_rounds + 1):
        pending, own = _activities_by_person(model, views)
        questions = []
        for r in model.residents:
            invitations, own_activities = pending.get(r.name, []), own.get(r.name, [])
            if quiet is not None and quiet(r, round_, invitations, own_activities, known[r.name]):
                model.inbox.pop(r.name, None)
            else:
                questions.append(_question(model, r, round_, invitations, own_activities, free[r.name], known[r.name],
                                           errors.pop(r.name, [])))
        inbox_next: dict[str, list[tuple[str, str]]] = {}
        for question, decision in zip(questions, ask_all(model, questions), strict=True):
            _apply(model, question, decision, inbox_next)
            failed = question.errors(decision)
            if failed:
                errors[question.resident.name] = failed
                model.counts["contact_errors"] += len(failed)
        model.inbox = inbox_next
    resolution = model.schedule.resolve()
    for name, activity, reason in resolution.losers:
        _tell(model.inbox, name, "scheduler", f"You could not join '{activity.name}': {reason}.")
    for activity_id, reason in resolution.failed.items():
        activity = model.schedule.activities[activity_id]
        _tell(model.inbox, activity.proposer, "scheduler", f"'{activity.name}' will not happen: {reason}.")
    for name, booking in resolution.displaced:
        _tell(model.inbox, name, "scheduler", f"You dropped a {booking.kind} booking for a joint activity.")
    model.counts["joint_confirmed"] += len(resolution.confirmed)
    model.counts["joint_failed"] += len(resolution.failed)
    if model.config.activity.contact_summary:
        summarise_contact(model, errors)


def summarise_contact(model, errors: dict[str, list[str]]) -> None:
    """Each resident whose mind keeps its answers for its context (an LLM mind) sums up the contact
    stage (the paper's "Summary of the Contact Stage"): the messages since its last round (still
    in its inbox for next week), its bookings of the week and its last round's errors. The summary
    is kept among its earlier answers of the week (``stages.asking``); a rule mind's would be unused."""
    questions = [ContactSummaryQuestion(r, news=list(model.inbox.get(r.name, [])), booked=_booked(model, r.name),
                                        last_errors=errors.get(r.name, []))
                 for r in model.residents if model.minds[r.name].keeps_replies]
    ask_all(model, questions)


def _booked(model, name: str) -> list[str]:
    """``name``'s bookings this week, one line a day (joint activities, public events)."""
    cal, schedule = model.calendar, model.schedule
    events = {e.event_id: e for e in model.public_events}
    lines = []
    for day in cal.days:
        booking = schedule.booking(name, cal.day_index(day))
        if booking is None:
            continue
        if booking.kind == "joint":
            a = schedule.activities[booking.ref]
            others = [n for n in a.participants if n != name]
            lines.append(f"day {day}: {a.name} at {model.place_names.get(a.place, a.place)} with {', '.join(others)}")
        elif booking.ref in events:
            lines.append(f"day {day}: the public event {events[booking.ref].name}")
    return lines


def contactable(model, r) -> list[str]:
    """Whom ``r`` may contact: people it has a note on (paper §3.4; a tie may cool, a note stays),
    closest first (familiarity, then name), at most ``memory.listed_people`` of them."""
    tie = model.ties.side(r.name).get

    def closeness(name: str) -> float:
        t = tie(name)
        return -t["familiarity"] if t is not None else 0.0

    # By name, then (a stable sort) by familiarity: as sorting by (familiarity, name), but two
    # sorts on plain keys compare faster than one on tuples.
    ordered = sorted(r.notebook.people)
    ordered.sort(key=closeness)
    return ordered[:model.config.memory.listed_people]


def _tell(inbox: dict, name: str, sender: str, text: str) -> None:
    inbox.setdefault(name, []).append((sender, text))


def _correspond(model, sender, recipient, text: str, when: str) -> None:
    """Both sides keep the message in their recent correspondence (``memory.correspondence`` each)."""
    keep = model.config.memory.correspondence
    if keep:
        for me, other in ((sender, recipient), (recipient, sender)):
            log = me.correspondence.setdefault(other.name, [])
            log.append((when, sender.name, text))
            del log[:-keep]


def _view(model, a: JointActivity, viewer: str) -> Invitation:
    cal = model.calendar
    weeks_ahead, day0 = divmod(a.day_index - cal.day_index(1), cal.config.days_per_week)
    others = tuple(n for n in (a.proposer, *a.invitees) if n != viewer)
    return Invitation(a.activity_id, a.name, a.proposer, weeks_ahead, day0 + 1, cal.describe_day(a.day_index), a.place, others)


def _activities_by_person(model, views: dict[tuple[str, str], Invitation]) -> tuple[dict[str, list[Invitation]], dict[str, list[Invitation]]]:
    """Invitations awaiting each person's answer, and the activities each person could cancel.
    ``views``: the invitations made so far this stage, by (activity id, viewer), reused."""

    def view(a: JointActivity, viewer: str) -> Invitation:
        seen = views.get((a.activity_id, viewer))
        if seen is None:
            seen = views[a.activity_id, viewer] = _view(model, a, viewer)
        return seen

    pending: dict[str, list[Invitation]] = {}
    own: dict[str, list[Invitation]] = {}
    for a in model.schedule.activities.values():
        if a.status == "proposed":
            own.setdefault(a.proposer, []).append(view(a, a.proposer))
            for n in a.invitees:
                if n not in a.replies:
                    pending.setdefault(n, []).append(view(a, n))
        elif a.status == "confirmed":
            for n in a.participants:
                own.setdefault(n, []).append(view(a, n))
    return pending, own


def _bookings_ahead(model) -> dict[int, list[tuple[int, dict]]]:
    """Per number of weeks ahead (0 = this week): each day of that week with its bookings (name -> booking)."""
    cal, schedule = model.calendar, model.schedule
    return {ahead: [(d, schedule.day(cal.day_index(d, ahead))) for d in cal.days]
            for ahead in range(cal.config.max_weeks_ahead + 1)}


def _free_days(bookings: dict[int, list[tuple[int, dict]]], name: str) -> dict[int, list[int]]:
    """Days without a booking for ``name``, per number of weeks ahead (``_bookings_ahead``)."""
    return {ahead: [d for d, booked in days if name not in booked] for ahead, days in bookings.items()}


def _question(model, r, round_: int, invitations: list[Invitation], own: list[Invitation], free_days, known,
              last_errors: list[str]) -> ContactQuestion:
    cal = model.calendar
    return ContactQuestion(
        r, round=round_, rounds=cal.config.contact_rounds, inbox=model.inbox.pop(r.name, []),
        invitations=invitations, own_activities=own, known=known,
        free_days=free_days, places=model.social_places,  # read-only (minds copy what they change): shared by the rounds
        place_names=model.place_names, days=cal.config.days_per_week, last_errors=last_errors,
        errors_next_slot=model.config.activity.contact_errors == "next_slot",
    )


def _apply(model, question: ContactQuestion, decision, inbox_next: dict) -> None:
    r, cal, schedule = question.resident, model.calendar, model.schedule
    known = set(question.known) if decision.messages or decision.proposals else ()  # most answers only reply
    for m in decision.messages:
        if m.to in known:
            _tell(inbox_next, m.to, r.name, m.text)
            _correspond(model, r, model.residents_by_name[m.to], m.text, question.when)
            model.ties.message(r.name, m.to, cal.week_index)
            model.counts["messages"] += 1
    for p in decision.proposals:
        invitees = [n for n in dict.fromkeys(p.invitees) if n in known]
        if not invitees or p.place not in model.places or p.day > cal.config.days_per_week:
            model.counts["invalid_actions"] += 1
            continue
        activity = schedule.propose(
            r.name, p.activity, invitees, [n for n in p.required if n in invitees], p.place,
            cal.day_index(p.day, p.weeks_ahead), p.message,
        )
        for n in invitees:
            _tell(inbox_next, n, r.name, f"Invitation {activity.activity_id}: {p.activity} - {p.message}")
        model.counts["proposals"] += 1
    for reply in decision.replies:
        activity = schedule.activities.get(reply.activity_id)
        if activity is None or activity.status != "proposed":
            continue
        activity.answer(r.name, reply.accept, schedule.next_seq())
        if reply.message:
            _tell(inbox_next, activity.proposer, r.name, reply.message)
    for cancel in decision.cancellations:
        activity = schedule.activities.get(cancel.activity_id)
        if activity is None:
            continue
        for n in schedule.cancel(activity, r.name):
            _tell(inbox_next, n, r.name, f"About '{activity.name}': {cancel.message or 'I cannot make it.'}")
        model.counts["cancellations"] += 1
