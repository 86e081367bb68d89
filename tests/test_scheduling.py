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


def test_activities_are_numbered_in_creation_order_and_keep_what_was_proposed():
    s = Schedule()
    a = s.propose("Ann", "picnic", ["Bob"], [], "park", 4, message="bring fruit")
    b = _proposal(s, "Cid", ["Dee"])
    assert (a.activity_id, b.activity_id) == ("J1", "J2")
    assert (a.name, a.place, a.day_index, a.message, a.invitees) == ("picnic", "park", 4, "bring fruit", ("Bob",))
    assert b.message == ""  # no message given


def test_required_people_who_all_agree_make_the_activity():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob", "Cid", "Dee"], required=["Bob", "Cid"])
    a.answer("Bob", True, s.next_seq())
    a.answer("Cid", True, s.next_seq())
    result = s.resolve()
    assert result.confirmed == [a] and a.participants == ("Ann", "Bob", "Cid")


def test_a_required_no_or_silence_fails_before_any_clash():
    s = Schedule()
    silent = _proposal(s, "Ann", ["Bob", "Cid"], required=["Bob", "Cid"])
    silent.answer("Bob", True, s.next_seq())  # Cid says nothing
    declined = _proposal(s, "Eve", ["Fay"], required=["Fay"], day=1)
    declined.answer("Fay", False, s.next_seq())
    result = s.resolve()
    assert result.failed == {silent.activity_id: "not enough people said yes",
                             declined.activity_id: "not enough people said yes"}


def test_a_required_participant_who_lost_the_day_sinks_the_activity():
    s = Schedule()
    own = _proposal(s, "Bob", ["Dee"])  # Bob's own proposal beats his acceptance below
    a = _proposal(s, "Ann", ["Bob", "Cid"], required=["Bob"])
    a.answer("Bob", True, s.next_seq())
    a.answer("Cid", True, s.next_seq())
    own.answer("Dee", True, s.next_seq())
    result = s.resolve()
    assert result.failed == {a.activity_id: "a required participant was already booked that day"}
    assert result.confirmed == [own] and s.booking("Cid", 0) is None


def test_an_activity_left_with_one_person_fails_and_losers_are_told_why():
    s = Schedule()
    first = _proposal(s, "Ann", ["Bob"])
    first.answer("Bob", True, s.next_seq())
    s.resolve()
    late = _proposal(s, "Cid", ["Bob"])  # Bob is already in Ann's activity
    late.answer("Bob", True, s.next_seq())
    result = s.resolve()
    assert result.failed == {late.activity_id: "everyone invited was already booked that day"}
    # Bob loses the day to Ann's plan but Cid's still happens with Dee.
    s2 = Schedule()
    own = _proposal(s2, "Bob", ["Eve"])
    theirs = _proposal(s2, "Ann", ["Bob", "Dee"])
    theirs.answer("Bob", True, s2.next_seq())
    theirs.answer("Dee", True, s2.next_seq())
    own.answer("Eve", True, s2.next_seq())
    result = s2.resolve()
    assert result.losers == [("Bob", theirs, "you were already booked that day")]
    assert result.failed == {}


def test_the_later_acceptance_wins_whichever_proposal_came_first():
    # The mirror of test_between_two_acceptances_the_latest_wins: here the later answer is for
    # the later proposal, so the second claim on Bob's day must beat the first.
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob"])
    b = _proposal(s, "Cid", ["Bob"])
    a.answer("Bob", True, s.next_seq())
    b.answer("Bob", True, s.next_seq())
    result = s.resolve()
    assert result.confirmed == [b] and a.status == "failed"
    assert s.booking("Bob", 0).ref == b.activity_id


def test_a_dropped_activity_hands_its_people_to_their_next_claim():
    # Ann proposes twice for the same day: her later plan (Z) wins her day, so X fails. Bob
    # accepted Y first and X later; once X is dropped, Bob's day goes to Y, which then happens.
    s = Schedule()
    x = _proposal(s, "Ann", ["Bob"])
    z = _proposal(s, "Ann", ["Dee"])
    y = _proposal(s, "Cid", ["Bob"])
    y.answer("Bob", True, s.next_seq())
    x.answer("Bob", True, s.next_seq())
    z.answer("Dee", True, s.next_seq())
    result = s.resolve()
    assert result.failed == {x.activity_id: "Ann was already booked that day"}
    assert result.confirmed == [z, y]
    assert y.participants == ("Cid", "Bob") and s.booking("Bob", 0).ref == y.activity_id


def test_cancelling_a_proposal():
    s = Schedule()
    a = _proposal(s, "Ann", ["Bob", "Cid"])
    yes = s.next_seq()
    a.answer("Bob", True, yes)
    assert s.cancel(a, "Bob") == ["Ann"]  # an invitee backs out: his answer becomes a later no
    accept, seq = a.replies["Bob"]
    assert accept is False and seq > yes and a.status == "proposed"
    assert s.resolve().confirmed == []
    b = _proposal(s, "Ann", ["Bob", "Cid"], day=1)
    assert s.cancel(b, "Ann") == ["Bob", "Cid"] and b.status == "cancelled"  # the proposer calls it off
    b.answer("Bob", True, s.next_seq())
    assert s.resolve().confirmed == [] and s.booking("Bob", 1) is None
    assert s.cancel(b, "Ann") == []  # nothing left to cancel


def _confirmed(s: Schedule, proposer, invitees, required=()):
    a = _proposal(s, proposer, invitees, required=required)
    for n in invitees:
        a.answer(n, True, s.next_seq())
    assert s.resolve().confirmed == [a]
    return a


def test_cancelling_a_confirmed_activity():
    s = Schedule()
    a = _confirmed(s, "Ann", ["Bob", "Cid"])
    assert s.cancel(a, "Ann") == ["Bob", "Cid"]  # the proposer ends it for everyone
    assert a.status == "cancelled" and all(s.booking(n, 0) is None for n in ("Ann", "Bob", "Cid"))
    s = Schedule()
    a = _confirmed(s, "Ann", ["Bob", "Cid"], required=["Bob"])
    assert s.cancel(a, "Bob") == ["Ann", "Cid"]  # so does a required participant
    assert a.status == "cancelled" and s.booking("Cid", 0) is None
    s = Schedule()
    a = _confirmed(s, "Ann", ["Bob"])
    assert s.cancel(a, "Bob") == ["Ann"]  # two people: one leaving ends it
    assert a.status == "cancelled" and s.booking("Ann", 0) is None
    s = Schedule()
    a = _confirmed(s, "Ann", ["Bob", "Cid"])
    assert s.cancel(a, "Cid") == ["Ann", "Bob"]  # anyone else just leaves
    assert a.status == "confirmed" and s.booking("Cid", 0) is None and s.booking("Bob", 0).ref == a.activity_id


def test_day_unbook_and_forget_before_edges():
    s = Schedule()
    s.book("Ann", 5, Booking("public", "x"))
    assert s.day(5) == {"Ann": Booking("public", "x")} and s.day(6) == {}
    s.unbook("Bob", 5)  # not booked: nothing happens
    s.unbook("Ann", 9)  # nobody booked that day: nothing happens
    assert s.day(5) == {"Ann": Booking("public", "x")}
    a = _proposal(s, "Ann", ["Bob"], day=5)
    s.forget_before(5)  # the day itself stays
    assert s.booking("Ann", 5) is not None and a.activity_id in s.activities
    s.forget_before(6)
    assert s.day(5) == {} and a.activity_id not in s.activities
