"""Resolution of joint-activity proposals: the paper's agreement and clash rules."""

from agentopia_mesa.town.scheduling import Booking, Schedule


def _proposal(s: Schedule, proposer, invitees, day=0, required=()):
    return s.propose(proposer, f"{proposer}'s plan", invitees, required, "cafe", day)


def test_one_yes_is_enough_without_required_people():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob", "Cid"])
    a.answer("Bob", True, s.next_seq())
    result = s.resolve()
    assert [x.activity_id for x in result.confirmed] == [a.activity_id]
    assert a.participants == ("Ann", "Bob")
    assert s.booking("Cid", 0) is None  # silence is no
    assert s.booking("Bob", 0) == Booking("joint", a.activity_id)


def test_silence_and_no_fail_the_proposal():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob", "Cid"])
    a.answer("Bob", False, s.next_seq())
    result = s.resolve()
    assert result.confirmed == []
    assert a.status == "failed"
    assert "yes" in result.failed[a.activity_id]


def test_required_people_must_all_agree():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob", "Cid"], required=["Bob", "Cid"])
    a.answer("Bob", True, s.next_seq())
    assert s.resolve().confirmed == []


def test_only_the_last_answer_counts():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob"])
    a.answer("Bob", True, s.next_seq())
    a.answer("Bob", False, s.next_seq())
    assert s.resolve().confirmed == []
    b = _proposal(s, "Ann", ["Bob"], day=1)
    b.answer("Bob", False, s.next_seq())
    b.answer("Bob", True, s.next_seq())
    assert s.resolve().confirmed == [b]


def test_existing_joint_activity_beats_a_new_proposal():
    s = Schedule()
    first = _proposal(s, "Ann", ["Bob"])
    first.answer("Bob", True, s.next_seq())
    s.resolve()
    second = _proposal(s, "Cid", ["Bob"])
    second.answer("Bob", True, s.next_seq())
    result = s.resolve()
    assert second.status == "failed"
    assert s.booking("Bob", 0).ref == first.activity_id
    assert "already booked" in result.failed[second.activity_id]


def test_own_proposal_beats_accepting_someone_else():
    s = Schedule()
    mine = _proposal(s, "Bob", ["Dee"])
    theirs = _proposal(s, "Ann", ["Bob", "Cid"])
    theirs.answer("Bob", True, s.next_seq())  # Bob accepts later, but his own plan wins
    theirs.answer("Cid", True, s.next_seq())
    mine.answer("Dee", True, s.next_seq())
    result = s.resolve()
    assert {a.activity_id for a in result.confirmed} == {mine.activity_id, theirs.activity_id}
    assert theirs.participants == ("Ann", "Cid")
    assert any(person == "Bob" and activity is theirs for person, activity, _ in result.losers)


def test_between_two_acceptances_the_latest_wins():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob"])
    b = _proposal(s, "Cid", ["Bob"])
    b.answer("Bob", True, s.next_seq())
    a.answer("Bob", True, s.next_seq())  # later answer
    result = s.resolve()
    assert [x.activity_id for x in result.confirmed] == [a.activity_id]
    assert b.status == "failed"


def test_acceptance_displaces_a_public_event_booking():
    s = Schedule()
    s.book("Bob", 0, Booking("public", "E0-1"))
    a = _proposal(s, "Ann", ["Bob"])
    a.answer("Bob", True, s.next_seq())
    result = s.resolve()
    assert s.booking("Bob", 0).kind == "joint"
    assert result.displaced == [("Bob", Booking("public", "E0-1"))]


def test_a_failed_activity_frees_its_people_for_others():
    # Ann's own plan fails (nobody comes), so her acceptance of Cid's plan should stand.
    s = Schedule()
    own = _proposal(s, "Ann", ["Eve"])
    other = _proposal(s, "Cid", ["Ann"])
    other.answer("Ann", True, s.next_seq())
    result = s.resolve()
    assert own.status == "failed"
    assert other.participants == ("Cid", "Ann")
    assert result.losers == []


def test_a_dropped_proposer_sinks_the_activity_and_releases_invitees():
    s = Schedule()
    first = _proposal(s, "Ann", ["Bob"])
    first.answer("Bob", True, s.next_seq())
    s.resolve()
    # Bob proposes for the same day he is already booked: his proposal fails, Dee stays free.
    late = _proposal(s, "Bob", ["Dee"])
    late.answer("Dee", True, s.next_seq())
    s.resolve()
    assert late.status == "failed"
    assert s.booking("Dee", 0) is None


def test_cancel_by_proposer_and_leaving_by_participant():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob", "Cid"])
    a.answer("Bob", True, s.next_seq())
    a.answer("Cid", True, s.next_seq())
    s.resolve()
    assert s.cancel(a, "Cid") == ["Ann", "Bob"]
    assert a.status == "confirmed" and a.participants == ("Ann", "Bob")
    assert s.cancel(a, "Ann") == ["Bob"]
    assert a.status == "cancelled" and s.booking("Bob", 0) is None


def test_forget_before_drops_past_days():
    s = Schedule()
    s.book("Ann", 3, Booking("public", "x"))
    s.book("Ann", 7, Booking("public", "y"))
    s.forget_before(5)
    assert s.booking("Ann", 3) is None and s.booking("Ann", 7) is not None
