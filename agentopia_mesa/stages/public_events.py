"""Before contact (paper §4, stage 2): the week's public events and who signs up."""

from __future__ import annotations

from agentopia_mesa.environment.events import weekly_events
from agentopia_mesa.stages.asking import ask_all
from agentopia_mesa.contract.questions import EventView, SignupQuestion
from agentopia_mesa.town.scheduling import Booking


def public_events(model) -> None:
    cal = model.calendar
    model.public_events = weekly_events(
        model.world.events, model.public_events, model.event_last_used, cal.week_index,
        cal.config.days_per_week, model.random, model.config.events,
    )
    views = [EventView(e.event_id, e.name, e.day, e.place, e.description, e.skill) for e in model.public_events]
    by_id = {e.event_id: e for e in model.public_events}
    questions = []
    for r in model.residents:
        free = [day for day in cal.days if model.schedule.booking(r.name, cal.day_index(day)) is None]
        if free and views:
            questions.append(SignupQuestion(r, events=[v for v in views if v.day in free], free_days=free))
    for question, decision in zip(questions, ask_all(model, questions), strict=True):
        r, taken = question.resident, set()
        for event_id in decision.events:
            event = by_id.get(event_id)
            if event is None or event.day in taken or event.day not in question.free_days:
                continue
            taken.add(event.day)
            model.schedule.book(r.name, cal.day_index(event.day), Booking("public", event_id))
