"""First meetings (paper §3.4, the acquaintance mechanism): a tie and a first-impression note.

Two residents who meet for the first time (a joint activity, an encounter, colleagues after the
job season, the world file's acquaintances) each get a person note on the other, holding a
first impression from what anyone can see: the other's appearance, or its introduction. A
resident can contact only people it has a note on.
"""

from __future__ import annotations

from agentopia_mesa.town.notebook import SUMMARY_LIMIT


def first_impression(other, occasion: str) -> str:
    """What a resident notes of ``other`` on first meeting it ``occasion`` (e.g. "at the park")."""
    looks = other.profile.appearance or other.profile.introduction
    return f"{other.name}: first met {occasion}.{f' {looks}' if looks else ''}"[:SUMMARY_LIMIT]


def meet(model, a, b, occasion: str, when: str, familiarity: float | None = None, family: bool = False) -> bool:
    """Residents ``a`` and ``b`` meet: their tie (``SocialTies.meet``) and, on each side that had
    none, a first-impression note. Returns True if the tie was new."""
    week = model.calendar.week_index
    new = model.ties.meet(a.name, b.name, week, familiarity=familiarity, family=family)
    for x, y in ((a, b), (b, a)):
        if not x.notebook.knows(y.name):
            x.notebook.meet(y.name, first_impression(y, occasion), when, week)
    return new
