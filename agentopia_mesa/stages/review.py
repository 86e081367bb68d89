"""Review and settle (paper §4, stages 6-7): diary, notebook updates, too many possessions."""

from __future__ import annotations

from agentopia_mesa.stages.asking import ask_all
from agentopia_mesa.contract.questions import DiscardQuestion, ReviewQuestion
from agentopia_mesa.town.notebook import PEOPLE, DiaryEntry


def review(model) -> None:
    cal = model.calendar
    questions = []
    for r in model.residents:
        met = list(dict.fromkeys(n for rec in r.records for n in rec.with_people))
        questions.append(ReviewQuestion(r, records=list(r.records), met=met))
    when = cal.stamp("review")
    for question, decision in zip(questions, ask_all(model, questions), strict=True):
        r = question.resident
        r.notebook.diary.append(DiaryEntry(when, decision.summary, decision.reflection))
        met, noted = set(question.met), r.notebook.people  # a notebook keeps everyone ever met: look up, do not copy
        for note in decision.notes:
            if note.about in met or note.about in noted:
                r.notebook.write(PEOPLE + note.about, note.summary, note.summary, when, cal.week_index)


def settle(model) -> None:
    """Anyone over the possessions cap must discard down to cap minus 25 % of the cap."""
    economy = model.config.economy
    keep = economy.max_possessions - int(economy.discard_fraction * economy.max_possessions)
    over = [r for r in model.residents if len(r.state.possessions) > economy.max_possessions]
    questions = [DiscardQuestion(r, at_least=len(r.state.possessions) - keep) for r in over]
    for question, decision in zip(questions, ask_all(model, questions), strict=True):
        possessions = question.resident.state.possessions
        for item in decision.items:
            owned = next((p for p in possessions if p.name == item), None)
            if owned is not None:
                possessions.remove(owned)
        # Whatever the mind left over the cap is dropped, cheapest first: the cap is a rule.
        possessions.sort(key=lambda p: p.price, reverse=True)
        del possessions[economy.max_possessions:]
