"""AgentopiaModel: a town of residents living week by week (one Mesa step = one week)."""

from __future__ import annotations

import gc
import numbers
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import mesa
from mesa.discrete_space import OrthogonalMooreGrid

from agentopia_mesa.bounds import MAX_YEARS
from agentopia_mesa.calendar import Calendar
from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.environment.base import EnvironmentModel
from agentopia_mesa.environment.rules import RuleEnvironment
from agentopia_mesa.stages.life_reward import award_life_reward, reward_table
from agentopia_mesa.metrics import AGENTTYPE_REPORTERS, MODEL_REPORTERS, TownDataCollector
from agentopia_mesa.minds.base import Mind
from agentopia_mesa.minds.rule_mind import RuleMind
from agentopia_mesa.town.resident import Resident
from agentopia_mesa.town.state import NEEDS, ResidentState
from agentopia_mesa.town.scheduling import Schedule
from agentopia_mesa.town.social_ties import SocialTies
from agentopia_mesa.stages.activities import activity_days
from agentopia_mesa.stages.contact import contact
from agentopia_mesa.stages.encounters import encounters
from agentopia_mesa.stages.plan import plan
from agentopia_mesa.stages.public_events import public_events
from agentopia_mesa.stages.review import review, settle
from agentopia_mesa.stages.week_start import week_start
from agentopia_mesa.stages.year_end import year_end
from agentopia_mesa.world.loader import WorldError, load_world, resize_world
from agentopia_mesa.town.place import Place
from agentopia_mesa.world.schema import ResidentSpec, WorldSpec

MindFactory = Callable[["AgentopiaModel", ResidentSpec, int], Mind]
EnvironmentFactory = Callable[["AgentopiaModel"], EnvironmentModel]
RATINGS = ("self", "environment")

#: Whether the cyclic garbage collector runs while a week runs (False: only between weeks).
COLLECT_DURING_WEEK = False
#: With ``COLLECT_DURING_WEEK``: allocations between young collections (Python's default is 700).
YOUNG_COLLECTION_THRESHOLD = 10_000


#: Whether the collector's permanent generation holds what a week left (``_fewer_collections``).
_frozen = False


def _freeze() -> None:
    """Freeze every object the collector tracks (``gc.freeze``: its permanent generation)."""
    global _frozen
    gc.freeze()
    _frozen = True


def thaw() -> None:
    """Unfreeze what ``_freeze`` froze, into the oldest generation, where full collections see it.
    The permanent generation is the process's: what it held before the first week is released too."""
    global _frozen
    if _frozen:
        gc.unfreeze()
        _frozen = False


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """No cyclic garbage collection while the week runs; it runs again between weeks.

    A stage builds a question and a decision per resident and keeps them all until it has
    applied every answer, so young collections keep rescanning them and promote them, and the
    older generations' collections then rescan the whole town. The week makes almost no
    reference cycles (about 35 objects a simulated year), so those collections free next to
    nothing: at 1000 residents they cost a fifth of the run even with a young threshold of
    10,000 (benchmarks/RESULTS.md). Reference counting still frees everything else at once.

    What the week leaves alive (notes, records, ties: at 1000 residents hundreds of thousands of
    objects) is then frozen (``gc.freeze``) until the next week starts, so the young collections
    between weeks (recorders, checkpoints) do not scan and promote it all again: at 1000 residents
    that cost 5 % of the run. When the next week starts it is unfrozen into the oldest generation,
    where the cycles a week leaves are collected by the next full collection; a finished run
    leaves nothing frozen. With ``COLLECT_DURING_WEEK`` the collector runs during the week with
    ``YOUNG_COLLECTION_THRESHOLD`` instead (the setting before).
    """
    if not COLLECT_DURING_WEEK:
        if not gc.isenabled():  # switched off by the process: leave it so
            yield
            return
        gc.disable()
        thaw()
        try:
            yield
        finally:
            _freeze()
            gc.enable()
        return
    previous = gc.get_threshold()
    if previous[0]:  # a threshold of 0 means collection is switched off: leave it so
        gc.set_threshold(max(previous[0], YOUNG_COLLECTION_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class AgentopiaModel(mesa.Model):
    """A town where residents plan, meet, work, spend and are rewarded, for ``years`` years.

    Args:
        world: a built-in world name, a world file path, or a ``WorldSpec``.
        residents: how many residents (default: all of the world's).
        years: simulated years; the model stops running after the last week.
        seed: random seed (ignored when ``rng`` is given, as ``mesa.batch_run`` does).
        config: every constant of the simulation (``SimulationConfig``).
        minds: who decides for each resident: ``None`` (all ``RuleMind``), one ``Mind`` for
            everyone, or a factory ``(model, resident_spec, index) -> Mind | None`` (None: the
            model's ``rule_mind``).
        environment: who judges outcomes, events, encounters, jobs and profiles: ``None`` (the
            ``RuleEnvironment``), an ``EnvironmentModel``, or a factory ``(model) -> EnvironmentModel``
            (``environment.llm_environment.llm_environment(...)`` builds an LLM environment's).
        ratings: who makes the yearly ratings: ``"self"`` (each resident's mind) or
            ``"environment"`` (the environment on each resident's behalf).
        **overrides: any configuration field as ``section__field=value`` (``needs__decay=0.2``,
            ``calendar__weeks_per_year=52``), so ``mesa.batch_run`` can sweep every constant.
    """

    def __init__(
        self,
        world: str | Path | WorldSpec = "apartment",
        residents: int | None = None,
        years: int = 10,
        seed: int | None = 0,
        rng=None,
        config: SimulationConfig | None = None,
        minds: Mind | MindFactory | None = None,
        environment: EnvironmentModel | EnvironmentFactory | None = None,
        ratings: str = "self",
        **overrides,
    ):
        if isinstance(years, bool) or not isinstance(years, numbers.Integral) or not 1 <= years <= MAX_YEARS:
            raise WorldError(f"years: must be a whole number in [1, {MAX_YEARS}], got {str(years)[:40]}")
        if ratings not in RATINGS:
            raise WorldError(f"ratings: must be one of {', '.join(RATINGS)}, got {ratings!r}")
        spec = world if isinstance(world, WorldSpec) else load_world(world)
        if residents is not None:
            spec = resize_world(spec, residents)
        super().__init__(rng=rng if rng is not None else seed)
        self.world = spec
        self.config = (config or SimulationConfig()).with_flat_overrides(overrides)
        self.calendar = Calendar(self.config.calendar)
        self.years = years
        self.total_weeks = years * self.config.calendar.weeks_per_year
        self.weeks_done = 0
        self.rule_environment = RuleEnvironment(self.config, self.random)
        if environment is None:
            environment = self.rule_environment
        elif not isinstance(environment, EnvironmentModel):
            environment = environment(self)
        self.environment = environment
        self.ratings = ratings
        self.schedule = Schedule()
        self.counts: Counter = Counter()
        self.inbox: dict[str, list[tuple[str, str]]] = {}
        self.public_events: list = []
        self.event_last_used: dict[str, int] = {}
        self.jobs = {j.key: j for j in spec.jobs}
        self.initial_job_count = len(self.jobs)
        self.job_changes_total = 0
        self.job_changes_this_year = 0
        self.reward_rows: list[dict] = []  # one per resident per year, see award_life_reward
        # This week's conversations, one dict each (stages.activities; the run's dialogues.jsonl), and
        # replies verified and rejected by the environment, per speaker's model ("verified MODEL").
        self.conversations: list[dict] = []
        self.conversation_stats: Counter = Counter()
        self.encounters: dict = {}  # this week's, by booking reference (stages.encounters)
        # Called with the model after every week (recorders, live views); they must not change it.
        self.observers: list[Callable[[AgentopiaModel], None]] = []

        self.grid = OrthogonalMooreGrid((spec.grid.width, spec.grid.height), torus=False, random=self.random)
        self.places = {p.key: Place(self, p, self.grid[(p.x, p.y)]) for p in spec.places}
        self._build_place_index()
        self.ties = SocialTies(self.config.social, [r.name for r in spec.residents])
        #: Who decides for each resident, by name: held beside the residents, not in them (the
        #: town's state knows no minds); stages ask ``minds[resident.name]``.
        self.minds: dict[str, Mind] = self._make_minds(spec, minds)
        self.residents = self._make_residents(spec)
        self.residents_by_name = {r.name: r for r in self.residents}
        self._initial_ties(spec)

        self.datacollector = TownDataCollector(model_reporters=MODEL_REPORTERS, agenttype_reporters=AGENTTYPE_REPORTERS)
        self.datacollector.collect(self)

    #: Attributes added after checkpoints were first written, and what makes the value a model
    #: checkpointed before them resumes with (issue 13's conversations).
    CHECKPOINT_DEFAULTS: dict[str, Callable[[], object]] = {"conversations": list, "conversation_stats": Counter,
                                                            "encounters": dict}

    def __setstate__(self, state: dict) -> None:
        """An older checkpoint loads with defaults for what it did not know yet, and with the minds
        its residents held taken out of them (before the model held the minds)."""
        missing = {name: make() for name, make in self.CHECKPOINT_DEFAULTS.items() if name not in state}
        if "minds" not in state:
            missing["minds"] = {r.name: r.__dict__.pop("mind") for r in state["residents"]}
        self.__dict__.update(missing, **state)

    # -- the weekly cycle ---------------------------------------------------------------------
    def step(self) -> None:
        """One week, as in the paper: start, plan, events, contact, encounters, five days, review, settle."""
        with _fewer_collections():
            week_start(self)
            plan(self)
            public_events(self)
            contact(self)
            encounters(self)
            activity_days(self)
            review(self)
            settle(self)
            if self.calendar.is_year_end:
                year_end(self)
        self.weeks_done += 1
        self.datacollector.collect(self)
        self.calendar.week_index += 1
        if self.weeks_done >= self.total_weeks:
            self.running = False
            thaw()  # a finished model leaves nothing frozen: a process may build and drop many
        for observe in self.observers:
            observe(self)

    def run(self, progress: Callable[[AgentopiaModel], None] | None = None) -> None:
        while self.running:
            self.step()
            if progress:
                progress(self)

    # -- life reward --------------------------------------------------------------------------
    def award_life_reward(self) -> None:
        award_life_reward(self)

    def reward_table(self):
        """Life reward per resident per year, with returns and advantages (a pandas DataFrame)."""
        return reward_table(self)

    # -- building -----------------------------------------------------------------------------
    def _make_minds(self, spec: WorldSpec, minds: Mind | MindFactory | None) -> dict[str, Mind]:
        rule_mind = self.rule_mind = RuleMind(self.random)
        if minds is None or isinstance(minds, Mind):
            return {profile.name: minds if minds is not None else rule_mind for profile in spec.residents}
        return {profile.name: minds(self, profile, i) or rule_mind for i, profile in enumerate(spec.residents)}

    def _make_residents(self, spec: WorldSpec) -> list[Resident]:
        residents = []
        for profile in spec.residents:
            state = ResidentState(
                vitality=self.config.needs.start_vitality,
                needs={n: self.config.needs.start_fulfilment for n in NEEDS},
                skills=dict(profile.skills),
                deposit=profile.deposit,
            )
            residents.append(Resident(self, profile, self.places[profile.home], state))
        return residents

    def _initial_ties(self, spec: WorldSpec) -> None:
        homes = {r.name: r.home for r in spec.residents}
        social = self.config.social
        for r in spec.residents:
            for other in r.acquaintances:
                family = homes[other] == r.home
                familiarity = social.household_familiarity if family else social.acquaintance_familiarity
                self.ties.meet(r.name, other, -1, familiarity=familiarity, family=family)
                self.residents_by_name[r.name].notebook.person(other).write(
                    f"{other}: someone I already know{' (we share a home)' if family else ''}.", "", "before", -1)
        self.ties.total.formed = 0
        self.ties.week.formed = 0

    def _build_place_index(self) -> None:
        self.place_names = {key: p.name for key, p in self.places.items()}
        public = [p for p in self.places.values() if p.is_public]
        self.social_places = [p.key for p in public if p.affords("socialize") or p.affords("leisure")]
        self._public_for = {a: [p.key for p in public if p.affords(a)] for a in ("study", "exercise", "leisure", "shopping")}
        self._work_places = [p.key for p in self.places.values() if p.affords("work")]

    def solo_places(self, r: Resident) -> dict[str, list[str]]:
        """Where each solo activity can happen for ``r``: home for rest, its workplace for work."""
        job = r.job
        home = r.home.key
        return {
            "rest": [home],
            "study": self._public_for["study"] + [home],
            "work": [job.place] if job and job.work else self._work_places or [home],
            "exercise": self._public_for["exercise"] or [home],
            "leisure": self._public_for["leisure"] + [home],
            "shopping": self._public_for["shopping"] or [home],
        }
