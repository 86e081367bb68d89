"""Week start (paper §4, stage 0): needs decay, ties fade, income arrives."""

from __future__ import annotations

import math


def week_start(model) -> None:
    cal, decay = model.calendar, model.config.needs.decay
    model.ties.fade(cal.week_index)
    model.schedule.forget_before(cal.day_index(1))
    model.counts.clear()
    for r in model.residents:
        if cal.week == 1:
            r.deposit_at_period_start = r.state.deposit
        for need, rate in decay.items():
            value = r.state.needs[need]
            r.state.needs[need] = value - math.floor(value * rate)
        r.state.deposit += r.weekly_income
        r.last_records, r.records = r.records, []
        r.replies.clear()
        r.history.append(r.state.snapshot())
