"""RuleMind: a needs- and goal-driven policy for every stage; the baseline and the LLM fallback.

Utilities are simple, readable and seeded: a need below comfort pulls towards the activity that
restores it, traits tilt the balance (extraverts socialise, the curious study), money pressure
sends people to extra work, and liking decides whom to invite and whom to accept.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from itertools import accumulate, islice

from agentopia_mesa.contract import decisions as d
from agentopia_mesa.contract.decisions import CHARS_PER_WORD
from agentopia_mesa.contract import questions as q
from agentopia_mesa.contract.questions import tie_liking
from agentopia_mesa.minds.base import Mind
from agentopia_mesa.trimming import trim_text
from agentopia_mesa.town.resident import Resident

COMFORT = 60  # a need below this is felt
_SMALL_TALK = ('"How has your week been, {name}?"', '(nods) "Same here, honestly."', '"We should do this more often."',
               '(laughs) "That is so true."')


def _max_items(decision: type[d.Decision], field: str) -> int:
    """The most items the decision's list ``field`` accepts (its pydantic ``max_length``)."""
    return next(m.max_length for m in decision.model_fields[field].metadata if hasattr(m, "max_length"))


# In a big town a popular resident can hold more invitations than one answer may carry; the
# oldest are answered first and the rest stay pending until the next contact round.
MAX_REPLIES = _max_items(d.ContactDecision, "replies")


def _work_skill(resident: Resident) -> str:
    job = resident.job
    skills = resident.state.skills
    if job and job.min_skills:
        return max(sorted(job.min_skills), key=lambda s: skills.get(s, 0))
    return max(sorted(skills), key=lambda s: skills[s]) if skills else "odd jobs"


class RuleMind(Mind):
    name = "rules"

    def __init__(self, rng: random.Random):
        self.rng = rng

    def __setstate__(self, state: dict) -> None:
        """Older checkpoints kept a table of bound methods, without the questions added since: dropped
        (the table is the class's, ``ANSWERS``)."""
        state.pop("_answer", None)
        self.__dict__.update(state)

    def decide(self, question: q.Question) -> d.Decision:
        try:
            answer = self.ANSWERS[type(question)]
        except KeyError:
            raise TypeError(f"RuleMind cannot answer {type(question).__name__}") from None
        return answer(self, question)

    def decide_all(self, questions) -> list[d.Decision]:
        """Answer a stage's questions in order (a stage asks one kind: look its answer up once)."""
        kinds = {type(question) for question in questions}
        if len(kinds) != 1:
            return [self.decide(question) for question in questions]
        answer = self.ANSWERS.get(kinds.pop())
        if answer is None:
            return [self.decide(question) for question in questions]  # raises the TypeError
        return [answer(self, question) for question in questions]

    # -- plan ---------------------------------------------------------------------------------
    def _plan(self, question: q.PlanQuestion) -> d.PlanDecision:
        r = question.resident
        economy = question.context.economy
        income, deposit = r.weekly_income, r.state.deposit
        cheapest = economy.cheapest_standard
        standard = cheapest.name
        for s in sorted(economy.living_standards, key=lambda s: -s.weekly_cost):
            if s.name not in question.affordable:
                continue
            # Ten weeks at this standard must leave a reserve of four frugal weeks.
            reserve_ok = deposit + 10 * (income - s.weekly_cost) >= 4 * cheapest.weekly_cost
            # Spend what comes in plus a sliver of savings; a very deprived resident splurges a little.
            thrift_ok = s.weekly_cost <= income * 1.1 + deposit * 0.01 or (r.need("material") < 30 and s.weekly_cost <= income + 100)
            if reserve_ok and thrift_ok:
                standard = s.name
                break
        intentions = self._intentions(r, question.days, economy)
        job = r.job
        long_term = r.profile.motivation or "Build a life I am satisfied with."
        focus = max(intentions, key=intentions.count)
        short_term = f"This week: mostly {focus}; keep my {min(r.needs, key=r.needs.get)} from slipping."
        if job:
            long_term = f"{long_term} Grow as {job.role} at {job.organisation}."[:300]
        return d.PlanDecision(long_term_goals=long_term[:300], short_term_goals=short_term,
                              living_standard=standard, intentions=intentions)

    def _intentions(self, r: Resident, days: int, economy) -> list[str]:
        needs, t, deposit = r.needs, r.traits, r.state.deposit
        weekly_cost = economy.standard("moderate").weekly_cost
        money_pressure = max(0.0, 8 - deposit / max(1, weekly_cost))  # weeks of savings short of 8
        weights = {
            "socialize": max(1.0, COMFORT - needs["social"] + t.get("extraversion", 50) / 3),
            "leisure": max(1.0, COMFORT - needs["mood"] + 5),
            "rest": max(0.5, (55 - r.state.vitality) * 1.5),
            "study": max(1.0, (COMFORT - needs["esteem"]) * 0.6 + t.get("curiosity", 50) / 5),
            "work": max(0.5, money_pressure * 6 + (r.job is None) * 10),
            "exercise": max(0.5, r.talents.get("health", 50) / 6 + (60 - r.state.vitality) * 0.3),
            "shopping": max(0.2, (55 - needs["material"]) * (deposit > 800)),
        }
        kinds = list(weights)
        chosen = []
        for _ in range(days):
            pick = self.rng.choices(kinds, [weights[k] for k in kinds])[0]
            weights[pick] /= 2  # variety across the week
            chosen.append(pick)
        return chosen

    # -- contact ------------------------------------------------------------------------------
    @staticmethod
    def quiet_in_contact(r: Resident, round_: int, invitations: list, own_activities: list, known: list) -> bool:
        """Whether ``r``'s answer in contact round ``round_`` is empty and draws nothing: no
        invitations to answer, no round for messages (1 and 3) or proposals (1) with anyone
        ``known``, and not exhausted with an activity of its own it might cancel (``_contact``).
        A rules run need not ask it (``stages.contact``)."""
        return (not invitations and not (known and round_ in (1, 3))
                and not (r.state.vitality < 15 and own_activities))

    def _contact(self, question: q.ContactQuestion) -> d.ContactDecision:
        r, rng = question.resident, self.rng
        if self.quiet_in_contact(r, question.round, question.invitations, question.own_activities, question.known):
            return d.ContactDecision(messages=[], proposals=[], replies=[], cancellations=[])
        extraversion = r.traits.get("extraversion", 50) / 100
        free = dict(question.free_days)  # the question's lists are read-only: a week's is copied when a day is taken
        replies = []
        for inv in question.invitations[:MAX_REPLIES]:
            days_free = free.get(inv.weeks_ahead, [])
            p = (0.35 + (COMFORT - r.need("social")) / 100 + 0.3 * question.liking(inv.proposer)
                 + (extraversion - 0.5) * 0.4 - 0.4 * (r.state.vitality < 25))
            accept = inv.day in days_free and rng.random() < p
            if accept:
                free[inv.weeks_ahead] = [day for day in days_free if day != inv.day]
            replies.append(d.Reply(activity_id=inv.activity_id, accept=accept))
        proposals, messages = [], []
        if question.round == 1 and question.known and question.places:
            social_days = [day for day, kind in enumerate(r.intentions, 1) if kind == "socialize" and day in free.get(0, [])]
            cumulative: list[float] = []  # the invitees' weights, summed by the first proposal, shared by the others
            for day in social_days[:2]:
                proposals.append(self._proposal(r, question, day, 0, cumulative))
            if rng.random() < extraversion / 4:
                ahead = rng.randint(1, 3)
                if free.get(ahead):
                    proposals.append(self._proposal(r, question, rng.choice(free[ahead]), ahead, cumulative))
            proposals = proposals[:2]
        if question.round in (1, 3) and question.known and rng.random() < 0.3 + extraversion / 2:
            close = question.known[:8]
            messages.append(d.Message(to=rng.choice(close), text="Thinking of you - how has your week been?"))
        cancellations = []
        if r.state.vitality < 15 and question.own_activities and rng.random() < 0.5:
            cancellations.append(d.Cancel(activity_id=question.own_activities[0].activity_id, message="I'm exhausted, sorry."))
        return d.ContactDecision(messages=messages, proposals=proposals, replies=replies, cancellations=cancellations)

    def _proposal(self, r: Resident, question: q.ContactQuestion, day: int, weeks_ahead: int,
                  cumulative: list[float]) -> d.Proposal:
        """A joint activity on ``day`` (``weeks_ahead``) with one to three of ``question.known``, the
        more liked the likelier; ``cumulative``: their summed weights, filled in here if empty."""
        rng = self.rng
        known = question.known
        if not cumulative:  # summed once, not on every draw (``choices(known, weights)`` sums its weights each call)
            cumulative.extend(accumulate([5 + 100 * liking if liking > 0.0 else 5.0 for liking in question.likings(known)]))
        n_invite = min(len(known), rng.choice((1, 1, 2, 3)))
        invitees: list[str] = []
        while len(invitees) < n_invite:
            pick = rng.choices(known, cum_weights=cumulative)[0]
            if pick not in invitees:
                invitees.append(pick)
        place = rng.choice(question.places)
        name = question.place_names[place]
        return d.Proposal(activity=f"Meet at {name}"[:120], invitees=invitees, required=[], day=day, weeks_ahead=weeks_ahead,
                          place=place, message=f"Want to meet at {name}?"[:300])

    # -- public events ------------------------------------------------------------------------
    def _signup(self, question: q.SignupQuestion) -> d.SignupDecision:
        r, rng = question.resident, self.rng
        job_skills = set(r.job.min_skills) if r.job else set()
        chosen, days = [], set()
        for e in question.events:
            if e.day in days or e.day not in question.free_days or len(chosen) >= 2:
                continue
            intention = r.intentions[e.day - 1] if e.day <= len(r.intentions) else ""
            p = (0.08 + r.traits.get("curiosity", 50) / 400 + max(0, COMFORT - r.need("social")) / 200
                 + 0.15 * (e.skill in job_skills) + 0.15 * (intention in ("socialize", "leisure", "exercise", "study")))
            if rng.random() < p:
                chosen.append(e.event_id)
                days.add(e.day)
        return d.SignupDecision(events=chosen)

    def _public_event(self, question: q.PublicEventQuestion) -> d.PublicEventDecision:
        """A template description; now and then (more often for extraverts) one of the others is noticed."""
        description, noticed = self.take_part(question.resident, question.event.name, question.words,
                                              [a.name for a in question.others])
        return d.PublicEventDecision(description=description, noticed=noticed)

    def take_part(self, r: Resident, event: str, words: int, others: Sequence[str]) -> tuple[str, list[str]]:
        """What ``r`` says it does at ``event`` (at most ``words`` words) and whom of ``others`` (the
        rest of its group, by name) it noticed: what ``PublicEventQuestion`` asks, without the question."""
        rng = self.rng
        noticed = []
        if others and rng.random() < r.traits.get("extraversion", 50) / 300:
            noticed.append(rng.choice(others))
        return _event_words(event, words), noticed

    # -- a free slot alone --------------------------------------------------------------------
    def _solo(self, question: q.SoloQuestion) -> d.SoloDecision:
        r, rng = question.resident, self.rng
        activity = question.intention
        if activity == "socialize":
            activity = "leisure"
        if activity == "shopping" and r.state.deposit < 300:
            activity = "leisure"
        if r.state.vitality < 20:
            activity = "rest"
        skill = ""
        if activity == "study":
            own = sorted(r.job.min_skills) if r.job and r.job.min_skills else sorted(r.state.skills)
            skill = rng.choice(own) if own else "general knowledge"
        elif activity == "work":
            skill = _work_skill(r)
        options = question.places.get(activity, [])
        place = rng.choice(options) if options else ""
        return d.SoloDecision(activity=activity, skill=skill, place=place)

    def _purchase(self, question: q.PurchaseQuestion) -> d.PurchaseDecision:
        r = question.resident
        economy = question.context.economy
        budget = min(r.state.deposit * 0.1, r.state.deposit - 4 * economy.cheapest_standard.weekly_cost)
        if r.need("material") > 80 or budget <= 0:
            return d.PurchaseDecision(item="")
        fitting = [o for o in question.offers if o.price <= budget]
        if not fitting or self.rng.random() > 0.3 + (COMFORT - r.need("material")) / 60:
            return d.PurchaseDecision(item="")
        return d.PurchaseDecision(item=max(fitting, key=lambda o: (o.price, o.item)).item)

    # -- joint activities and encounters: short template replies --------------------------------
    def _entry(self, question: q.EntryQuestion) -> d.EntryDecision:
        return d.EntryDecision(analysis=self.entry_analysis(question.chat.title, question.others))

    @staticmethod
    def entry_analysis(title: str, others: list[str]) -> str:
        """The private analysis before a conversation ``title`` with ``others`` (``EntryQuestion``)."""
        return f"{title} with {', '.join(others) or 'nobody'}. I want a pleasant time and to get on well."[:800]

    def _turn(self, question: q.TurnQuestion) -> d.Utterance:
        return self.reply(question.resident, question.ties, question.present, question.turn)

    def reply(self, r: Resident, ties, present: tuple[str, ...], turn: int) -> d.Utterance:
        """``r``'s reply at ``turn`` (1-based) of a conversation among ``present`` (``r`` included),
        from ``r``'s side of its ties (``ties``: name -> tie): a greeting in the first round, then
        small talk to the one it likes best; now and then a gift to a close friend. What
        ``TurnQuestion`` asks, without the question (conversations played by the rules call it directly)."""
        others = [p for p in present if p != r.name]
        if not others:
            return d.spoken('"Nice to be here."')
        liking = {n: tie_liking(ties.get(n)) for n in others}
        friend = max(others, key=lambda n: (liking[n], n))
        name = friend.split()[0]
        if turn > len(present):  # after the first round
            return d.spoken(_SMALL_TALK[turn % len(_SMALL_TALK)].format(name=name))
        greeting = f'(smiles) "Good to see you, {name}."'
        if r.state.possessions and liking[friend] > 0.8 and self.rng.random() < 0.1:
            return d.Utterance(speech=greeting, private=[], gift_to=friend,
                               gift_item=min(r.state.possessions, key=lambda p: p.price).name)
        return d.spoken(greeting)

    def _exit(self, question: q.ExitQuestion) -> d.ExitDecision:
        summary, reflection = self.exit_words(question.chat.title, question.others)
        return d.ExitDecision(summary=summary, reflection=reflection, notes=[])

    @staticmethod
    def exit_words(title: str, others: list[str]) -> tuple[str, str]:
        """The summary and reflection after a conversation ``title`` with ``others`` (``ExitQuestion``; no notes)."""
        return f"{title} with {', '.join(others) or 'nobody'}."[:300], "Good to spend time with people."

    # -- review and settle --------------------------------------------------------------------
    def _review(self, question: q.ReviewQuestion) -> d.ReviewDecision:
        r = question.resident
        done = [rec.title for rec in question.records]
        summary = ("This week I " + "; ".join(done) + ".") if done else "A quiet week."
        needs = r.needs
        low = min(needs, key=needs.get)
        reflection = f"I feel my {low} is lowest ({needs[low]}); next week I should look after it."
        notes = []
        for name in question.met[:10]:
            tie = question.ties.get(name)
            feeling = "we get on well" if tie and tie["sentiment"] > 0.2 else "it was a bit awkward" if tie and tie["sentiment"] < -0.2 else "it was fine"
            notes.append(_note(name, feeling))
        return d.ReviewDecision(summary=summary[:800], reflection=reflection, notes=notes)

    def _contact_summary(self, question: q.ContactSummaryQuestion) -> d.ContactSummaryDecision:
        """The bookings, as they stand (no randomness)."""
        booked = "; ".join(question.booked) or "nothing arranged"
        return d.ContactSummaryDecision(summary=f"This week: {booked}."[:600])

    def _solo_reflection(self, question: q.SoloReflectionQuestion) -> d.ReflectionDecision:
        """What happened, as a plain line (no randomness)."""
        return d.ReflectionDecision(reflection=f"I {question.title}; a {question.activity} slot like any other."[:600])

    def _compaction(self, question: q.CompactionQuestion) -> d.CompactionDecision:
        """The answer itself, after what the work was (no randomness): the fallback's brief tells no reasoning."""
        work = question.work
        did = " and ".join(part for part in ("thought it over" if work.reasoning else "",
                                             f"made {len(work.calls)} notebook calls" if work.calls else "") if part)
        brief = f"Before my {question.answered.replace('_', ' ')} answer I {did or 'answered at once'}. I answered: {question.answer}"
        words = question.memory.brief_words
        return d.CompactionDecision(brief=trim_text(brief, max_chars=CHARS_PER_WORD * words, max_words=words))

    def _discard(self, question: q.DiscardQuestion) -> d.DiscardDecision:
        items = sorted(question.resident.state.possessions, key=lambda p: (p.price, p.acquired))
        return d.DiscardDecision(items=[p.name for p in items[: question.at_least]])

    # -- year end -----------------------------------------------------------------------------
    def _job_wishes(self, question: q.JobWishQuestion) -> d.JobWishDecision:
        """The two best-paid open jobs that pay 5 % more and fit the skills (and stay), or for the
        jobless the three best that pay more, else the three best that fit."""
        r = question.resident
        leniency = question.context.career.skill_match_leniency
        current = r.job.weekly_income if r.job else -1
        ranked = _open_jobs(question.jobs)
        better = []
        for j in ranked:  # best paid first: stop at the first that pays too little, or at three
            if j.weekly_income <= current * 1.05:
                break
            if j.key != r.job_key and _fits(j, r, leniency):
                better.append(j)
                if len(better) == 3:
                    break
        wishes = [j.key for j in better[:2]]
        if r.job_key:
            wishes.append(d.STAY)
        elif len(better) > 2:
            wishes.append(better[2].key)
        if not r.job_key and not wishes:
            wishes = [j.key for j in islice((j for j in ranked if _fits(j, r, leniency)), 3)]
        return d.JobWishDecision(wishes=wishes)

    def _ratings(self, question: q.RatingQuestion) -> d.RatingDecision:
        rng = self.rng
        ratings = []
        for name in question.people:
            tie = question.ties.get(name) or {}
            other = question.public[name]
            sentiment, interactions = tie.get("sentiment", 0.0), tie.get("interactions", 0)
            affection = (50 + 35 * sentiment + min(12, interactions) + 4 * tie.get("gifts", 0)
                         - 6 * tie.get("conflicts", 0) + (tie.get("familiarity", 0) - 50) / 5 + rng.gauss(0, 4))
            respect = (45 + 20 * sentiment + other.weekly_income / 25 + min(20, other.best_skill / 10)
                       + (other.integrity - 50) / 5 - 3 * tie.get("conflicts", 0) + rng.gauss(0, 4))
            ratings.append(d.Rating(name=name, affection=_score(affection), respect=_score(respect)))
        return d.RatingDecision(ratings=ratings)


    #: The answer to each kind of question.
    ANSWERS = {
        q.PlanQuestion: _plan, q.ContactQuestion: _contact, q.ContactSummaryQuestion: _contact_summary,
        q.SignupQuestion: _signup, q.SoloReflectionQuestion: _solo_reflection, q.CompactionQuestion: _compaction, q.SoloQuestion: _solo, q.PurchaseQuestion: _purchase, q.PublicEventQuestion: _public_event,
        q.EntryQuestion: _entry, q.TurnQuestion: _turn, q.ExitQuestion: _exit,
        q.ReviewQuestion: _review, q.DiscardQuestion: _discard, q.JobWishQuestion: _job_wishes,
        q.RatingQuestion: _ratings,
    }


@functools.lru_cache(maxsize=4096)
def _note(about: str, feeling: str) -> d.NoteUpdate:
    """A review's note on ``about``: one shared (frozen) decision per person and feeling."""
    return d.NoteUpdate(about=about, summary=f"Spent time together; {feeling}.")


@functools.lru_cache(maxsize=1024)
def _event_words(event: str, words: int) -> str:
    return " ".join(f"I take part in {event} and give it my full attention.".split()[:words])


# The year end shares one list of job views among residents of an age (stages/year_end.py), so the
# open ones are ranked once a list, not once a resident: a town of N residents holds about N jobs.
# Kept by the list's id with the list itself, so an id is never reused while its entry lives.
_RANKED: dict[int, tuple[list, list]] = {}


def _open_jobs(jobs: list[q.JobView]) -> list[q.JobView]:
    """The eligible jobs with a vacancy, best paid first (then by key)."""
    seen = _RANKED.get(id(jobs))
    if seen is not None and seen[0] is jobs:
        return seen[1]
    if len(_RANKED) >= 64:
        _RANKED.clear()
    ranked = sorted((j for j in jobs if j.eligible and j.vacancies > 0), key=lambda j: (-j.weekly_income, j.key))
    _RANKED[id(jobs)] = (jobs, ranked)
    return ranked


def _fits(job: q.JobView, r: Resident, leniency: float) -> bool:
    return all(r.state.skills.get(s, 0) >= leniency * m for s, m in job.min_skills.items())


def _score(x: float) -> int:
    return int(max(0, min(100, round(x))))
