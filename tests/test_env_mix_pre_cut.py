"""The environment mix's pre-cut (paper §7; issue 30 item 5): only 10 % of the calls of the two
largest environment tasks (a conversation's turn, a solo slot's outcome) are candidates before the
20 % budget is filled."""

from agentopia_mesa.datasets.env_mix import PRE_CUT_TASKS, EnvCall, choose_environment, pre_cut


def _calls():
    calls = [EnvCall(0, i, "turn", 10) for i in range(100)]
    calls += [EnvCall(0, 100 + i, "solo", 10) for i in range(40)]
    calls += [EnvCall(0, 200 + i, "outcome", 10) for i in range(5)]
    return calls


def test_a_tenth_of_the_two_largest_tasks_is_kept_and_the_rest_whole():
    kept = pre_cut(_calls())
    assert [sum(c.task == t for c in kept) for t in ("turn", "solo", "outcome")] == [10, 4, 5]
    assert kept == sorted(kept, key=lambda c: c.line)  # in the candidates' order
    assert pre_cut(_calls()) == kept  # seeded
    assert pre_cut([EnvCall(0, 0, "solo", 3)]) == [EnvCall(0, 0, "solo", 3)]  # at least one of a task
    assert PRE_CUT_TASKS == ("turn", "solo")


def test_the_budget_is_filled_after_the_pre_cut():
    chosen, subsampled = choose_environment(_calls(), budget=10_000)
    assert len(chosen) == 19 and subsampled == ["turn", "solo"]  # everything left fits: only the pre-cut
    chosen, subsampled = choose_environment(_calls(), budget=100)
    assert sum(c.tokens for c in chosen) <= 100 and {c.task for c in chosen if c.task == "outcome"}
