"""Bookings and the resolution of joint-activity proposals (paper §4, after-contact stage).

Resolution rules, as in the paper:
- A proposal becomes an activity if every *required* invitee said yes or, with none required,
  if at least one invitee said yes. Only a person's last answer counts; silence is no.
- Clashes on a person's day are won by priority: an existing joint activity beats the person's
  own new proposal, which beats an acceptance of someone else's, which beats an existing public
  event or encounter booking. Equal priority: the latest (proposal or answer) wins.
- An activity whose proposer or a required participant lost the day, or that is left with
  fewer than two people, fails; its people are freed and resolution is repeated until stable.
Losers are told why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXISTING_JOINT, OWN_PROPOSAL, ACCEPTANCE, OTHER_BOOKING = 3, 2, 1, 0


@dataclass(frozen=True)
class Booking:
    kind: str  # "joint", "public" or "encounter"
    ref: str  # activity or event id


@dataclass
class JointActivity:
    activity_id: str
    name: str
    proposer: str
    invitees: tuple[str, ...]
    required: tuple[str, ...]
    place: str
    day_index: int
    seq: int  # creation order
    message: str = ""
    replies: dict[str, tuple[bool, int]] = field(default_factory=dict)  # name -> (accept, answer seq)
    status: str = "proposed"  # proposed | confirmed | failed | cancelled | done
    participants: tuple[str, ...] = ()

    def answer(self, name: str, accept: bool, seq: int) -> None:
        if name in self.invitees:
            self.replies[name] = (accept, seq)

    @property
    def yes(self) -> list[str]:
        return [n for n in self.invitees if self.replies.get(n, (False, 0))[0]]

    def agreed(self) -> bool:
        """Enough yes answers for the activity to happen, before clashes."""
        if self.required:
            return all(self.replies.get(n, (False, 0))[0] for n in self.required)
        return bool(self.yes)


@dataclass
class Resolution:
    confirmed: list[JointActivity] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # activity id -> reason
    losers: list[tuple[str, JointActivity, str]] = field(default_factory=list)  # (person, activity, reason)
    displaced: list[tuple[str, Booking]] = field(default_factory=list)  # public/encounter bookings lost


class Schedule:
    """Who is booked for what on which day; days are absolute indices (see ``Calendar.day_index``)."""

    def __init__(self) -> None:
        self.bookings: dict[int, dict[str, Booking]] = {}
        self.activities: dict[str, JointActivity] = {}
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def booking(self, name: str, day_index: int) -> Booking | None:
        return self.bookings.get(day_index, {}).get(name)

    def book(self, name: str, day_index: int, booking: Booking) -> None:
        self.bookings.setdefault(day_index, {})[name] = booking

    def unbook(self, name: str, day_index: int) -> None:
        self.bookings.get(day_index, {}).pop(name, None)

    def day(self, day_index: int) -> dict[str, Booking]:
        return self.bookings.get(day_index, {})

    def forget_before(self, day_index: int) -> None:
        """Drop bookings and activities of past days (they live on in activity records)."""
        for d in [d for d in self.bookings if d < day_index]:
            del self.bookings[d]
        for key in [k for k, a in self.activities.items() if a.day_index < day_index]:
            del self.activities[key]

    def propose(self, proposer: str, name: str, invitees, required, place: str, day_index: int, message: str = "") -> JointActivity:
        seq = self.next_seq()
        activity = JointActivity(
            activity_id=f"J{seq}", name=name, proposer=proposer, invitees=tuple(invitees),
            required=tuple(required), place=place, day_index=day_index, seq=seq, message=message,
        )
        self.activities[activity.activity_id] = activity
        return activity

    def cancel(self, activity: JointActivity, by: str) -> list[str]:
        """``by`` cancels: a proposer calls it off; anyone else leaves it. Returns people to notify."""
        if activity.status == "proposed":
            if by == activity.proposer:
                activity.status = "cancelled"
                return list(activity.invitees)
            activity.answer(by, False, self.next_seq())
            return [activity.proposer]
        if activity.status != "confirmed":
            return []
        if by == activity.proposer or by in activity.required or len(activity.participants) <= 2:
            activity.status = "cancelled"
            for n in activity.participants:
                self.unbook(n, activity.day_index)
            return [n for n in activity.participants if n != by]
        activity.participants = tuple(n for n in activity.participants if n != by)
        self.unbook(by, activity.day_index)
        return list(activity.participants)

    def resolve(self) -> Resolution:
        """Turn agreed proposals into confirmed activities, resolving clashes (see module doc)."""
        result = Resolution()
        live = []
        for a in sorted(self.activities.values(), key=lambda a: a.seq):
            if a.status != "proposed":
                continue
            if a.agreed():
                live.append(a)
            else:
                a.status = "failed"
                result.failed[a.activity_id] = "not enough people said yes"
        # Drop the first failing activity (in creation order) and resolve again, until none fails.
        # Dropping one only frees the days it claimed, so the winners of those days alone change,
        # and the activities before it, which passed, still pass: the next failure lies after it.
        # That keeps this linear in the number of proposals rather than quadratic.
        claims = self._claims(live)
        winners = {key: _winner(entries) for key, entries in claims.items()}
        first = 0
        while True:
            dropped = None
            for i in range(first, len(live)):
                reason = _failure(live[i], self._attending(live[i], winners))
                if reason:
                    dropped = i, reason
                    break
            if dropped is None:
                break
            first, reason = dropped
            activity = live.pop(first)
            activity.status = "failed"
            result.failed[activity.activity_id] = reason
            for key in {(n, activity.day_index) for n in (activity.proposer, *activity.yes)}:
                claims[key] = [c for c in claims[key] if c[3] != activity.activity_id]
                if claims[key]:
                    winners[key] = _winner(claims[key])
                else:
                    del claims[key], winners[key]
        for a in live:
            attending = self._attending(a, winners)
            for n in [a.proposer, *a.yes]:
                if n not in attending:
                    result.losers.append((n, a, "you were already booked that day"))
            for n in attending:
                previous = self.booking(n, a.day_index)
                if previous is not None and previous.kind != "joint":
                    result.displaced.append((n, previous))
                self.book(n, a.day_index, Booking("joint", a.activity_id))
            a.participants = tuple(attending)
            a.status = "confirmed"
            result.confirmed.append(a)
        return result

    def _claims(self, live: list[JointActivity]) -> dict[tuple[str, int], list[tuple[int, int, str, str]]]:
        """For each (person, day), every claim on it in ``live`` order: (priority, seq, winner id,
        claiming activity id); the winner id is '' where the day already holds a joint activity."""
        claims: dict[tuple[str, int], list[tuple[int, int, str, str]]] = {}
        for a in live:
            for name, priority, seq in [(a.proposer, OWN_PROPOSAL, a.seq)] + [(n, ACCEPTANCE, a.replies[n][1]) for n in a.yes]:
                existing = self.booking(name, a.day_index)
                if existing is not None and existing.kind == "joint":
                    claim = (EXISTING_JOINT, 0, "", a.activity_id)
                else:
                    claim = (priority, seq, a.activity_id, a.activity_id)
                claims.setdefault((name, a.day_index), []).append(claim)
        return claims

    @staticmethod
    def _attending(a: JointActivity, winners: dict[tuple[str, int], str]) -> list[str]:
        return [n for n in [a.proposer, *a.yes] if winners.get((n, a.day_index)) == a.activity_id]


def _winner(claims: list[tuple[int, int, str, str]]) -> str:
    """The activity id that wins a day from its claims in order ('' for an existing joint one):
    highest (priority, seq), the earlier claim on a tie; an existing joint activity always wins."""
    best = claims[0]
    for claim in claims[1:]:
        if claim[0] == EXISTING_JOINT or (best[0] != EXISTING_JOINT and claim[:2] > best[:2]):
            best = claim
    return best[2]


def _failure(a: JointActivity, attending: list[str]) -> str:
    """Why ``a`` cannot happen with only ``attending`` there, or '' if it can."""
    if a.proposer not in attending:
        return f"{a.proposer} was already booked that day"
    if any(n not in attending for n in a.required):
        return "a required participant was already booked that day"
    if len(attending) < 2:
        return "everyone invited was already booked that day"
    return ""
