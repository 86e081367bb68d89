"""Before contact (paper §4, stage 2): the week's public events and who signs up."""

from __future__ import annotations

from agentopia_mesa.contract.environment import EventsTask
from agentopia_mesa.stages.asking import ask_all, judge_all
from agentopia_mesa.contract.questions import EventView, SignupQuestion
from agentopia_mesa.town.scheduling import Booking


def public_events(model) -> None:
    cal = model.calendar
    task = EventsTask(templates=model.world.events, running=model.public_events, last_used=model.event_last_used,
                      week_index=cal.week_index, days=cal.config.days_per_week, places=event_places(model),
                      residents=[r.name for r in model.residents], skills=town_skills(model),
                      max_events=model.config.events.max_events_per_week, lookback=model.config.events.lookback_weeks,
                      max_repeat=model.config.events.max_repeat_weeks)
    verdict = judge_all(model, [task])[0]
    model.public_events = verdict.events
    for name in verdict.new:
        model.event_last_used[name] = cal.week_index
    by_id = {e.event_id: e for e in model.public_events}
    questions = []
    booked = [(day, model.schedule.day(cal.day_index(day))) for day in cal.days]
    for r in model.residents:
        free = [day for day, bookings in booked if r.name not in bookings]
        views = [EventView(e.event_id, e.name, e.day, e.place, e.description, e.skill) for e in model.public_events
                 if e.day in free and (e.eligible is None or r.name in e.eligible)]
        if free and views:
            questions.append(SignupQuestion(r, events=views, free_days=free))
    for question, decision in zip(questions, ask_all(model, questions), strict=True):
        r, taken = question.resident, set()
        for event_id in decision.events:
            event = by_id.get(event_id)
            if event is None or event.day in taken or event.day not in question.free_days:
                continue
            taken.add(event.day)
            model.schedule.book(r.name, cal.day_index(event.day), Booking("public", event_id))


def event_places(model) -> dict[str, str]:
    """Public places an event may use (key -> name): any public place but a shop."""
    return {p.key: p.name for p in model.places.values()
            if p.is_public and not (p.affords("shopping") and len(p.spec.affordances) == 1)}


def town_skills(model) -> list[str]:
    """Skills an event may train: those the town's jobs and the world's events name."""
    skills = {s for j in model.jobs.values() for s in j.min_skills}
    skills |= {e.skill for e in model.world.events if e.skill}
    return sorted(skills)
