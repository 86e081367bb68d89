"""A resident: a Mesa ``CellAgent`` with a profile, a state and a notebook.

Who decides for it (its mind) is not the town's state: the model holds the minds beside the
residents (``AgentopiaModel.minds``, by name).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mesa.discrete_space import CellAgent

from agentopia_mesa.town.notebook import Notebook
from agentopia_mesa.town.state import NEEDS, ResidentState
from agentopia_mesa.world.schema import ResidentSpec

if TYPE_CHECKING:
    from agentopia_mesa.town.place import Place


#: Characters of a resident's appearance that anyone can read (``Resident.public_profile``).
PUBLIC_APPEARANCE = 200


@dataclass
class ActivityRecord:
    """What a resident did in one slot, and how it changed its state."""

    when: str
    kind: str  # solo activity name, "joint", "public" or "encounter"
    title: str
    place: str
    with_people: tuple[str, ...] = ()
    changes: dict[str, int] = field(default_factory=dict)
    note: str = ""  # the environment's outcome, when it wrote one
    summary: str = ""  # the resident's own summary of a conversation (its exit)
    said: tuple[str, ...] = ()  # a conversation's last replies, "Name: speech" (what everyone present saw)


class Resident(CellAgent):
    def __init__(self, model, profile: ResidentSpec, home: Place, state: ResidentState):
        super().__init__(model)
        self.profile = profile
        self.name = profile.name
        self.traits = dict(profile.traits)
        self.talents = dict(profile.talents)
        self.job_key: str | None = profile.job
        self.home = home
        self.state = state
        self.notebook = Notebook()
        self.living_standard = "frugal"
        self.intentions: list[str] = []
        self.planned: list[str] = []  # this week's activities in the resident's words, one a day ("" where none)
        self.records: list[ActivityRecord] = []  # this week's activities
        self.replies: list[tuple[str, str]] = []  # this week's earlier answers (stage, text), for LLM minds' context
        #: Recent messages with each correspondent: name -> [(time stamp, sender, text)], oldest first.
        self.correspondence: dict[str, list[tuple[str, str, str]]] = {}
        self.last_records: list[ActivityRecord] = []  # last week's
        self.year_counts: Counter = Counter()  # activities by kind this year, for profile drift
        self.history: list[dict[str, int]] = []  # week-begin snapshots of the current reward period
        self.deposit_at_period_start = state.deposit
        self.activity = "at home"
        self.place: Place = home
        self.jobs_held = 1 if profile.job else 0
        self.reward: dict[str, float] = {}  # latest life reward components
        self.cell = home.cell

    @property
    def age(self) -> int:
        return self.model.calendar.year - self.profile.birth_year

    @property
    def job(self):
        return self.model.jobs.get(self.job_key) if self.job_key else None

    @property
    def weekly_income(self) -> int:
        job = self.job
        return (job.weekly_income if job else 0) + self.profile.extra_income

    def public_profile(self) -> str:
        """What anyone in the world can read of this resident (paper §3.4): appearance (clipped),
        introduction and position."""
        p, job = self.profile, self.job
        work = f"{job.role} at {job.organisation}, {job.weekly_income} a week" if job else "no position"
        return f"{self.name}, {self.age}. Appearance: {p.appearance[:PUBLIC_APPEARANCE] or 'unremarkable'}. " \
               f"Introduction: {p.introduction or 'none'}. Position: {work}."

    def need(self, name: str) -> int:
        return self.state.needs[name]

    @property
    def needs(self) -> dict[str, int]:
        return {n: self.state.needs[n] for n in NEEDS}

    def go_to(self, place: Place, activity: str) -> None:
        """Walk to ``place`` on the grid for the day's activity."""
        self.place = place
        self.activity = activity
        if self.cell is not place.cell:
            self.cell = place.cell

    def __setstate__(self, state: dict) -> None:
        """Residents pickled before earlier replies, correspondence and plans in words were kept load with none."""
        self.__dict__.update({"replies": [], "correspondence": {}, "planned": [], **state})

    def __repr__(self) -> str:
        return f"Resident({self.name!r})"
