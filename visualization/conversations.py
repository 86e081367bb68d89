"""The conversation panel: pick one of the week's conversations and read its transcript.

A transcript is drawn from one line of ``dialogues.jsonl`` (live: the model's week; replay: the
run's file, ``TownSource.conversations``): who said what, who could see private words, gifts and
leavings, the environment's feedback before each turn, and its verification after (a REJECT
stands out, with the failure type and the reason). Everything in a transcript was written by
residents or the environment, so it is drawn as plain text, never as Markdown or HTML.
"""

from __future__ import annotations

from typing import NamedTuple

import solara

from visualization.sources import TownSource

KINDS = {"joint": "joint activity", "encounter": "encounter", "public": "public event"}

#: How each kind of transcript line is drawn.
STYLES = {
    "setting": {"font-weight": "bold"},
    "scene": {"font-style": "italic"},
    "private analysis": {"color": "#616161", "font-size": "12px"},
    "feedback": {"color": "#5d4037", "font-style": "italic"},
    "said": {},
    "thoughts": {"color": "#616161", "font-size": "12px"},
    "private": {"color": "#4a148c", "background": "#f3e5f5"},
    "gift": {"color": "#1b5e20"},
    "left": {"color": "#616161"},
    "pass": {"color": "#2e7d32", "font-size": "12px"},
    "reject": {"color": "#b71c1c", "background": "#ffebee", "font-weight": "bold"},
    "ended": {"font-style": "italic"},
    "outcome": {"color": "#0d47a1"},
    "noticed": {"color": "#0d47a1"},
    "exit": {"color": "#616161"},
}

picked = solara.reactive("")  # the label of the conversation shown, per browser tab


class Line(NamedTuple):
    kind: str  # a key of STYLES
    text: str


def label(conversation: dict) -> str:
    """How a conversation is listed: day, kind, title and who took part."""
    people = conversation["participants"]
    who = ", ".join(people[:4]) + (f" +{len(people) - 4}" if len(people) > 4 else "")
    return f"D{conversation['day']} {KINDS.get(conversation['kind'], conversation['kind'])}: {conversation['activity']} ({who})"


def transcript_lines(conversation: dict, place_names: dict[str, str]) -> list[Line]:
    """A conversation, line by line, as the environment saw it, each line marked with who could see it."""
    c = conversation
    place = place_names.get(c["place"], c["place"])
    lines = [Line("setting", f"{KINDS.get(c['kind'], c['kind'])}: {c['activity']} at {place}, {c['when']}, "
                             f"with {', '.join(c['participants'])}")]
    if c.get("scene"):
        lines.append(Line("scene", c["scene"]))
    lines += [Line("private analysis", f"{name}'s private analysis (only {name} knew it): {text}")
              for name, text in c.get("entries", {}).items()]
    for t in c["turns"]:
        speaker = t["speaker"]
        if t["feedback"]:
            lines.append(Line("feedback", f"(surroundings) {t['feedback']}"))
        seen = f" [seen by {', '.join(t['visible_to'])}]" if t["visible_to"] else " [nobody else there]"
        lines.append(Line("said", f"{t['turn']}. {speaker}: {t['text']}{seen}"))
        if t["thoughts"]:
            lines.append(Line("thoughts", f"{speaker} thinks (only {speaker} knew it): {t['thoughts']}"))
        for part in t["private"]:
            lines.append(Line("private", f"{speaker}, privately to {', '.join(part['visible_to'])} (only they saw the "
                                         f"words; the others saw that something was said): {part['text']}"))
        if t["gift"]:
            lines.append(Line("gift", f"{speaker} gave {t['gift']['item']} to {t['gift']['to']}."))
        if t["left"]:
            lines.append(Line("left", f"{speaker} left."))
        if t["verification"] == "REJECT":
            lines.append(Line("reject", f"REJECT ({t['failure'] or 'no type given'}): {t['reason'] or 'no reason given'}"))
        elif t["verification"]:
            lines.append(Line("pass", t["verification"]))
    if c.get("closing"):
        lines.append(Line("feedback", f"(surroundings) {c['closing']}"))
    if c.get("ended"):
        lines.append(Line("ended", f"Ended: {ENDINGS.get(c['ended'], c['ended'])}."))
    lines += [Line("outcome", f"Outcome for {name}: {text}") for name, text in c.get("outcomes", {}).items() if text]
    lines += [Line("noticed", f"{name} noticed {', '.join(names)}.") for name, names in c.get("noticed", {}).items() if names]
    lines += [Line("exit", f"{name}'s summary: {e['summary']} Reflection: {e['reflection']}")
              for name, e in c.get("exits", {}).items()]
    return lines


ENDINGS = {"environment": "the environment closed it", "max_turns": "the most turns allowed were played",
           "too_few": "fewer than two people were left"}


@solara.component
def ConversationCard(source: TownSource, frame: dict):
    """The week's conversations: a list to pick from and the chosen one's transcript."""
    week = frame["week"]
    conversations = solara.use_memo(lambda: source.conversations(week), [id(source), week])
    with solara.Card("Conversations", classes=["agentopia-conversations"], margin=1):
        if not conversations:
            solara.Markdown("_No conversations this week (a replay shows them when the run wrote dialogues.jsonl: "
                            "runs with an LLM do)._")
            return
        labels = [f"{i}. {label(c)}" for i, c in enumerate(conversations, 1)]
        chosen = picked.value if picked.value in labels else labels[0]
        solara.Select(f"{len(conversations)} this week", values=labels, value=chosen, on_value=picked.set)
        Transcript(conversations[labels.index(chosen)], source.place_names)


@solara.component
def Transcript(conversation: dict, place_names: dict[str, str]):
    with solara.Column(gap="2px", classes=["agentopia-transcript"]):
        for line in transcript_lines(conversation, place_names):
            solara.Text(line.text, style=STYLES[line.kind], classes=[f"transcript-{line.kind.replace(' ', '-')}"])
