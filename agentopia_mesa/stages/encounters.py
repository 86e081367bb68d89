"""Encounters (paper §2.3, §4 stage 4): after contact, one environment task plans the week's
chance meetings, and each is booked like any activity.

On each day, residents with no booking at all (no joint activity, no public event) are free; about
one in ``events.encounter_divisor`` of them meets someone that day (the count randomly rounded with
the model's seeded RNG). The environment pairs them, preferring people who know each other, and
picks a public place and a scene; the rule environment draws the pairs with the same RNG. An
encounter is then played on its day as a two-person conversation (``stages.activities``).
"""

from __future__ import annotations

from agentopia_mesa.contract.environment import EncountersTask
from agentopia_mesa.environment.events import encounter_counts
from agentopia_mesa.stages.asking import judge_all
from agentopia_mesa.town.scheduling import Booking


def encounters(model) -> None:
    cal, events = model.calendar, model.config.events
    idle = {}
    for day in cal.days:
        booked = model.schedule.day(cal.day_index(day))
        idle[day] = [r.name for r in model.residents if r.name not in booked]
    places = model.social_places or [key for key, p in model.places.items() if p.is_public]
    task = EncountersTask(idle=idle, counts=encounter_counts(idle, events.encounter_divisor, model.random),
                          places={key: model.place_names[key] for key in places}, ties=model.ties,
                          related=events.related_for_encounter)
    model.encounters = {}
    for i, encounter in enumerate(judge_all(model, [task])[0].encounters):
        ref = f"X{cal.week_index}-{i}"
        model.encounters[ref] = encounter
        for name in (encounter.a, encounter.b):
            model.schedule.book(name, cal.day_index(encounter.day), Booking("encounter", ref))
