"""The viewer's conversation panel (issue 13): the same transcripts live and in replay, drawn without a
browser: speakers, private words with who saw them, gifts, leaving, feedback and verification."""

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("solara")

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the visualization/ modules live beside the package, not in it
    sys.path.insert(0, str(REPO))

from agentopia_mesa.environment.llm_environment import LLMEnvironment  # noqa: E402
from agentopia_mesa.llm.dispatcher import Dispatcher  # noqa: E402
from agentopia_mesa.llm.fake_backend import FakeBackend  # noqa: E402
from agentopia_mesa.minds.llm_mind import LLMMind  # noqa: E402
from agentopia_mesa.model import AgentopiaModel  # noqa: E402
from agentopia_mesa.run.dialogues import DialogueRecorder  # noqa: E402
from agentopia_mesa.run.replay import ReplayRecorder  # noqa: E402
from agentopia_mesa.run.results import run_metadata, write_start  # noqa: E402
from agentopia_mesa.world.loader import load_world  # noqa: E402
from visualization.conversations import ConversationCard, transcript_lines  # noqa: E402
from visualization.sources import ReplayTown, TownSource, live_town  # noqa: E402


def _llm_town() -> AgentopiaModel:
    """Twelve residents with made-up LLM answers, judged by a made-up LLM environment."""
    holder = {}

    def minds(model, spec, index):
        if "mind" not in holder:
            holder["mind"] = LLMMind(FakeBackend(), model.rule_mind, Dispatcher(max_concurrency=2, retries=0))
        return holder["mind"]

    def environment(model):
        return LLMEnvironment(FakeBackend(), model.rule_environment, Dispatcher(max_concurrency=2, retries=0))

    return AgentopiaModel(world="school", residents=12, years=1, seed=3, minds=minds, environment=environment,
                          calendar__weeks_per_year=2)


def test_live_and_replay_give_the_same_transcripts_for_the_same_week(tmp_path):
    model = _llm_town()
    live = live_town(model)
    write_start(tmp_path, model, run_metadata(model, "school", 3))
    recorder = ReplayRecorder(tmp_path)
    recorder.start(model)
    model.observers += [recorder, DialogueRecorder(tmp_path)]
    kinds = set()
    for week in (1, 2):
        model.step()
        replay = ReplayTown.open(tmp_path)
        shown_live, shown_replay = live.conversations(week), replay.conversations(week)
        assert shown_live and json.loads(json.dumps(shown_live)) == shown_replay
        assert {c["week_index"] for c in shown_replay} == {week - 1}
        assert [transcript_lines(c, live.place_names) for c in shown_live] == \
               [transcript_lines(c, replay.place_names) for c in shown_replay]
        kinds |= {c["kind"] for c in shown_replay}
    assert "public" in kinds and kinds & {"joint", "encounter"}
    assert live.conversations(1) == []  # live: only the week just lived
    assert replay.conversations(1) and replay.conversations(0) == []


class _OneConversation(TownSource):
    def __init__(self, conversations):
        super().__init__(load_world("school"), "test")
        self._shown = conversations

    frames = property(lambda self: [{"week": 1}])

    def conversations(self, week):
        return self._shown if week == 1 else []


def _turn(turn, speaker, text, seen_by, **extra):
    return {"turn": turn, "when": f"Y2020-W01-D2-joint-t{turn}", "speaker": speaker, "model": "fake", "feedback": "",
            "text": text, "thoughts": "", "visible_to": seen_by, "private": [], "gift": None, "left": False,
            "verification": "PASS", "failure": "", "reason": "", "rejected": False, **extra}


TEA = {
    "when": "Y2020-W01-activity-D2", "week_index": 0, "day": 2, "kind": "joint", "activity": "Tea", "place": "nowhere",
    "scene": "", "participants": ["Ann", "Bob", "Cy"], "entries": {"Ann": "I want to make up."},
    "turns": [
        _turn(1, "Ann", '"Hello."', ["Bob", "Cy"], feedback="Rain taps the window.", thoughts="Be brave.",
              private=[{"visible_to": ["Bob"], "text": "Meet me after."}]),
        _turn(2, "Bob", '"For you."', ["Ann", "Cy"], gift={"to": "Cy", "item": "Blue mug"}, verification="REJECT",
              failure="parroting", reason="says the same again", rejected=True),
        _turn(3, "Cy", '"Bye."', ["Ann", "Bob"], left=True),
    ],
    "ended": "too_few", "closing": "The kettle whistles.", "outcomes": {"Ann": "Ann felt better."}, "exits": {},
}


def _texts(element) -> dict[str, list[str]]:
    """The text a Solara element renders, by the CSS class of the transcript line it is in ("" for the rest;
    "choices": the items of pick lists)."""
    import solara

    box, _ = solara.render(element, handle_error=False)
    out: dict[str, list[str]] = {}
    stack = [(box, "")]
    while stack:
        widget, kind = stack.pop()
        classes = str(getattr(widget, "class_", "") or "")
        kind = next((c for c in classes.split() if c.startswith("transcript-")), kind)
        for child in getattr(widget, "children", None) or []:
            if isinstance(child, str):
                out.setdefault(kind, []).append(child)
            else:
                stack.append((child, kind))
        if getattr(widget, "template", None):
            out.setdefault(kind, []).append(str(widget.template))
        out.setdefault("choices", []).extend(map(str, getattr(widget, "items", None) or []))
    return out


def test_the_panel_draws_a_transcript_with_private_words_gifts_leaving_and_a_rejection():
    texts = _texts(ConversationCard(_OneConversation([TEA]), {"week": 1}))
    assert texts["choices"] == ["1. D2 joint activity: Tea (Ann, Bob, Cy)"]  # the pick list
    (said_1, said_2, said_3) = sorted(texts["transcript-said"])
    assert said_1 == '1. Ann: "Hello." [seen by Bob, Cy]' and said_3 == '3. Cy: "Bye." [seen by Ann, Bob]'
    assert texts["transcript-private"] == [
        "Ann, privately to Bob (only they saw the words; the others saw that something was said): Meet me after."]
    assert texts["transcript-thoughts"] == ["Ann thinks (only Ann knew it): Be brave."]
    assert texts["transcript-gift"] == ["Bob gave Blue mug to Cy."] and texts["transcript-left"] == ["Cy left."]
    assert texts["transcript-reject"] == ["REJECT (parroting): says the same again"]  # drawn apart, in red
    assert sorted(texts["transcript-pass"]) == ["PASS", "PASS"]
    assert sorted(texts["transcript-feedback"]) == ["(surroundings) Rain taps the window.", "(surroundings) The kettle whistles."]
    assert texts["transcript-outcome"] == ["Outcome for Ann: Ann felt better."]
    assert "fewer than two people were left" in " ".join(texts["transcript-ended"])


def test_the_panel_says_when_a_week_has_no_conversations_and_never_renders_their_words_as_markup():
    quiet = _texts(ConversationCard(_OneConversation([]), {"week": 1}))
    assert "No conversations this week" in " ".join(t for parts in quiet.values() for t in parts)
    sly = json.loads(json.dumps(TEA))
    sly["turns"][0]["text"] = "<b>{{ 1 + 1 }}</b>"
    texts = _texts(ConversationCard(_OneConversation([sly]), {"week": 1}))
    assert "1. Ann: <b>{{ 1 + 1 }}</b> [seen by Bob, Cy]" in texts["transcript-said"]  # a text node, not a template
    assert not any("{{ 1 + 1 }}" in t for parts in texts.values() for t in parts if "<template>" in t)
