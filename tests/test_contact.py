"""The contact stage as the README promises it: five rounds a week, and joint-activity proposals
up to 4 weeks ahead with up to 4 invitees (the decision and its JSON schema refuse more)."""

import jsonschema
import pytest
from pydantic import ValidationError

from agentopia_mesa.config import CalendarConfig, SimulationConfig
from agentopia_mesa.minds.base import Mind
from agentopia_mesa.contract.decisions import ContactDecision, Proposal
from agentopia_mesa.contract.questions import ContactQuestion
from agentopia_mesa.minds.rule_mind import RuleMind
from agentopia_mesa.minds.schemas import schema_for
from agentopia_mesa.model import AgentopiaModel

WEEKS = 3


class Recorder(Mind):
    """The rule mind, recording every contact question and decision with the week it was asked in."""

    def __init__(self):
        self.rules, self.model, self.contact = None, None, []

    def bind(self, model) -> "Recorder":
        self.rules, self.model = self.rules or RuleMind(model.random), model
        return self

    def decide(self, question):
        decision = self.rules.decide(question)
        if isinstance(question, ContactQuestion):
            self.contact.append((self.model.calendar.week_index, question, decision))
        return decision


@pytest.fixture(scope="module")
def recorded():
    recorder = Recorder()
    config = SimulationConfig().with_overrides(calendar={"weeks_per_year": WEEKS})
    model = AgentopiaModel(world="apartment", residents=20, years=1, seed=3, config=config,
                           minds=lambda m, profile, i: recorder.bind(m))
    model.run()
    return model, recorder.contact


def test_five_contact_rounds_a_week(recorded):
    model, contact = recorded
    assert CalendarConfig().contact_rounds == 5
    rounds: dict[tuple[int, str], list[int]] = {}
    for week, question, _ in contact:
        rounds.setdefault((week, question.resident.name), []).append(question.round)
        assert question.rounds == 5
    assert set(rounds) == {(w, r.name) for w in range(WEEKS) for r in model.residents}
    assert all(asked == [1, 2, 3, 4, 5] for asked in rounds.values())
    assert len(contact) == WEEKS * len(model.residents) * 5


def test_proposals_reach_at_most_4_weeks_ahead_with_at_most_4_invitees(recorded):
    _, contact = recorded
    proposals = [p for _, _, decision in contact for p in decision.proposals]
    assert proposals  # the rule minds do propose
    assert all(1 <= len(p.invitees) <= 4 and 0 <= p.weeks_ahead <= 4 for p in proposals)
    # the free days a resident is shown reach 4 weeks ahead, no further
    assert all(sorted(q.free_days) == [0, 1, 2, 3, 4] for _, q, _ in contact)


def test_decisions_and_their_schema_refuse_more_than_4_weeks_ahead_or_4_invitees(recorded):
    _, contact = recorded
    question = next(q for _, q, _ in contact if len(q.known) >= 5 and q.places)
    known, place = question.known, question.places[0]
    ok = {"activity": "Dinner", "invitees": known[:4], "required": known[:4], "day": 2, "weeks_ahead": 4, "place": place}
    assert Proposal(**ok).weeks_ahead == 4
    with pytest.raises(ValidationError, match="invitees"):
        Proposal(**{**ok, "invitees": known[:5]})
    with pytest.raises(ValidationError, match="weeks_ahead"):
        Proposal(**{**ok, "weeks_ahead": 5})
    with pytest.raises(ValidationError, match="required"):
        Proposal(**{**ok, "required": known[:5]})
    # what an LLM's constrained decoding follows: the stage's JSON schema
    schema = schema_for(question)
    jsonschema.validate({"proposals": [ok]}, schema)
    for too_much in ({"invitees": known[:5]}, {"weeks_ahead": 5}):
        answer = {"proposals": [{**ok, **too_much}]}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(answer, schema)
        with pytest.raises(ValidationError):
            ContactDecision.model_validate(answer)


def test_a_message_renews_a_tie_that_faded_away():
    """Contact follows the notebook, not the tie: writing to someone whose tie was lost brings it back."""
    from agentopia_mesa.config import SocialConfig
    from agentopia_mesa.town.social_ties import SocialTies

    config = SocialConfig()
    ties = SocialTies(config, ["A", "B"])
    ties.meet("A", "B", 0)
    week = 1
    while ties.acquaintance.has_edge("A", "B"):
        ties.fade(week)
        week += 1
    assert not ties.acquaintance.has_edge("B", "A") and ties.total.dissolved == 2
    ties.message("A", "B", week)
    for x, y in (("A", "B"), ("B", "A")):
        tie = ties.acquaintance[x][y]
        assert tie["messages"] == 1 and tie["last_week"] == week
        assert tie["familiarity"] == config.first_meeting_familiarity + config.message_gain
    assert ties.total.formed == 4  # formed twice over: at the meeting and again by the message


def test_likings_are_each_name_s_liking_and_strangers_count_zero():
    question = ContactQuestion(None)
    question.ties = {"Ana": {"familiarity": 40.0, "sentiment": 0.25}, "Bo": {"familiarity": 10.0, "sentiment": -0.5}}
    assert question.likings(["Bo", "Cy", "Ana"]) == [question.liking("Bo"), 0.0, question.liking("Ana")] == [-0.4, 0.0, 0.65]


def test_contactable_lists_noted_people_closest_first_at_most_listed_people():
    from agentopia_mesa.stages.contact import contactable

    model = AgentopiaModel(world="apartment", residents=6, years=1, seed=0,
                           config=SimulationConfig().with_overrides(memory={"listed_people": 3}))
    r, *others = model.residents
    r.notebook.people.clear()
    model.ties.acquaintance.remove_edges_from(list(model.ties.acquaintance.out_edges(r.name)))
    for other in others[:4]:
        r.notebook.meet(other.name, "met", "Y2020-W01-plan", 0)
    for other, familiarity in zip(others[:3], (20.0, 70.0, 45.0)):  # the fourth's tie has faded away
        model.ties.meet(r.name, other.name, 0, familiarity=familiarity)
    assert contactable(model, r) == [others[1].name, others[2].name, others[0].name]
