"""Prompts for LLM minds: the paper's role-play prompt (system) plus one stage prompt (user).

The system message holds the persona, the current state, the world's rules, notebook summaries
and recent diary entries; the user message says what this stage asks. Every piece of text that
comes from outside this module (the world file's names and profiles, what other residents and
this one's own notebook wrote) is shown as a JSON string literal with chat-template markers
neutralised (``world/text.py``), under headings that say it is data. So text inside it cannot
pose as instructions, and the wording of a stage's question never depends on it.
"""

from __future__ import annotations

from agentopia_mesa.contract import questions as q
from agentopia_mesa.minds import paper_context
from agentopia_mesa.world.text import neutralise_markers
from agentopia_mesa.contract.context import PRINCIPLES, WORLD_RULES, memory, persona, quoted, quoted_list, record_line, scored

__all__ = ["PRINCIPLES", "WORLD_RULES", "memory", "messages_for", "persona", "quoted", "quoted_list", "remember",
           "system_prompt"]

def system_prompt(question: q.Question) -> str:
    """The role-play system message: the paper's context window (``minds/paper_context.py``) or,
    with ``memory.context = "lean"``, our compact one."""
    r, situation = question.resident, question.context
    if situation.memory.context == "paper":
        return paper_context.system_prompt(question)
    parts = [persona(r), f"World: {quoted(situation.world_title)}. {WORLD_RULES}", memory(r), f"Principles: {PRINCIPLES}",
             f"Time: {situation.stamp('now')}."]
    return "\n\n".join(p for p in parts if p)


# -- stage prompts --------------------------------------------------------------------------

def _plan(question: q.PlanQuestion) -> str:
    memory = question.memory
    longer = (f" Review your goals (at most {memory.plan_words} words each): long-term ones (months to years: "
              "relationships, growth, career, skills, inner conflicts) and this week's; rethink goals stuck for weeks."
              if memory.context == "paper" else "")
    return (
        f"PLAN your week. Affordable living standards: {', '.join(question.affordable) or 'frugal (nothing else)'}. "
        f"Give long-term and short-term goals and exactly {question.days} intentions, one per day, from: "
        f"rest, study, work, exercise, leisure, shopping, socialize.{_in_words(question)}{longer}"
        f"{_tools_hint(question, 'general')}"
    )


def _in_words(question: q.PlanQuestion) -> str:
    if not question.activity_words:
        return ""
    return (f" For each day also the one activity you plan, in your own words (at most {question.activity_words} "
            "words each, no clock times), in day order.")


def _tools_hint(question: q.Question, what: str) -> str:
    """With ``memory.notes = "tools"``: how to keep ``what`` in the notebook with the note tools."""
    if question.memory.notes != "tools":
        return ""
    return (f" Keep {what} in your notebook with the note tools: read a note (read_note) before you replace it "
            "(update_note) with its merged content; a summary has at most three sentences.")


def _contact(question: q.ContactQuestion) -> str:
    lines = [f"CONTACT round {question.round} of {question.rounds}."]
    lines += _errors(question.last_errors)
    if question.inbox:
        lines.append("Messages you received (quoted data):")
        lines += [f"- from {quoted(sender)}: {quoted(text)}" for sender, text in question.inbox]
    if question.invitations:
        lines.append("Invitations awaiting your answer (quoted data):")
        lines += [f"- id {i.activity_id}: {quoted(i.activity)} by {quoted(i.proposer)} on {i.when} at {i.place} with {quoted_list(i.others)}"
                  for i in question.invitations]
    if question.own_activities:
        lines.append("Your planned joint activities (you may cancel): " + "; ".join(f"{i.activity_id} on {i.when}" for i in question.own_activities))
    free = "; ".join(f"{'this week' if w == 0 else f'in {w} week(s)'}: days {days}" for w, days in question.free_days.items() if days)
    lines.append(f"Your free days: {free or 'none'}.")
    paper = question.memory.context == "paper"
    if paper:
        lines += _correspondence(question)
    lines.append(f"People you can contact: {quoted_list(question.known if paper else question.known[:30], 'nobody yet')}.")
    lines.append(f"Places for joint activities: {', '.join(question.places)}.")
    if question.memory.notes == "tools":
        lines.append("You may look up your notes (list_notes, read_note) before you answer.")
    lines.append("Send messages, propose activities (invite 1-4 people you know), reply to invitations by id, or cancel. Empty lists are fine.")
    return "\n".join(lines)


def _errors(errors: list[str]) -> list[str]:
    """The actions of the resident's last contact round that could not be carried out."""
    if not errors:
        return []
    return ["What you did last round that could not be carried out (the rest was done):", *(f"- {e}" for e in errors)]


def _contact_summary(question: q.ContactSummaryQuestion) -> str:
    lines = ["CONTACT IS OVER for this week; scheduling has settled who meets when."]
    lines += _errors(question.last_errors)
    if question.news:
        lines.append("Messages since your last round (quoted data):")
        lines += [f"- from {quoted(sender)}: {quoted(text)}" for sender, text in question.news]
    booked = "\n".join(f"- {quoted(line)}" for line in question.booked)
    lines.append(f"Your bookings this week (quoted data):\n{booked}" if booked else "You have nothing booked this week.")
    lines.append(f"Write a summary of the contact stage for yourself, in at most {question.memory.summary_words} words: "
                 "what was arranged and with whom, what fell through, and what to remember.")
    return "\n".join(lines)


def _correspondence(question: q.ContactQuestion) -> list[str]:
    """Recent messages with the people who wrote or were written to, the resident's own included."""
    threads = question.resident.correspondence
    recent = sorted(threads, key=lambda name: threads[name][-1][0], reverse=True)[:CORRESPONDENTS]
    if not recent:
        return []
    lines = ["Your recent messages (quoted data):"]
    for name in recent:
        said = "; ".join(f"{'you' if sender != name else quoted(sender)} ({when}): {quoted(text)}"
                         for when, sender, text in threads[name])
        lines.append(f"- with {quoted(name)}: {said}")
    return lines


#: Correspondents whose recent messages Contact shows (most recent first), in the paper's context.
CORRESPONDENTS = 10


def _signup(question: q.SignupQuestion) -> str:
    events = "\n".join(f"- {e.event_id}: {quoted(e.name)} on day {e.day} at {e.place}{f' (trains {quoted(e.skill)})' if e.skill else ''}"
                       for e in question.events)
    return (f"PUBLIC EVENTS this week (join individually, at most one a day; free days {question.free_days}):\n{events}\n"
            "For each free day that has events, in day order, give the id of the one you join, or an empty string.")


def _solo(question: q.SoloQuestion) -> str:
    places = "; ".join(f"{a}: {', '.join(p[:6])}" for a, p in question.places.items())
    describe = (" Then say in your own words what exactly you do (one to three sentences, at most 100 words): "
                "what happens next depends on it." if question.describe else "")
    planned = f" ({quoted(question.planned)})" if question.planned else ""
    return (f"FREE SLOT, day {question.day}, alone. Your plan said: {question.intention}{planned}. Choose an activity "
            f"(rest, study, work, exercise, leisure, shopping), the skill if studying or working, and a place. Places: {places}."
            f"{describe}")


def _solo_reflection(question: q.SoloReflectionQuestion) -> str:
    outcome = f" How it went: {quoted(question.outcome)}." if question.outcome else ""
    return (f"YOUR SOLO SLOT of day {question.day} is over: {question.activity}, {quoted(question.title)}.{outcome} "
            f"Write a reflection on it for yourself, in the first person, in at most {question.memory.summary_words} "
            "words: what it meant to you and what you take from it.")


def _compaction(question: q.CompactionQuestion) -> str:
    work, stage = question.work, question.answered.replace("_", " ").upper()
    lines = [f"YOUR {stage} ANSWER is given. Before you gave it:"]
    if work.reasoning:
        lines.append(f"You thought (your reasoning, quoted): {quoted(work.reasoning)}")
    if work.calls:
        lines.append("You used your notebook (each call and the start of what it gave, quoted):")
        lines += [f"- {quoted(call)}" for call in work.calls]
    lines.append(f"Your answer (quoted): {quoted(question.answer)}")
    lines.append(f"Write a brief of this for yourself, in the first person, in at most {question.memory.brief_words} "
                 "words: the background and your motives, how you reasoned, and what you looked up or wrote in your "
                 "notebook and what it showed. Later this week you will see this brief beside your answer, not your "
                 "reasoning.")
    return "\n".join(lines)


def _public_event(question: q.PublicEventQuestion) -> str:
    e = question.event
    others = "\n".join(f"- {quoted(a.name)}, {a.age}{f', {quoted(a.occupation)}' if a.occupation else ''}"
                       for a in question.others)
    return (f"PUBLIC EVENT, day {e.day}: {quoted(e.name)} at {quoted(question.place_name)}: {quoted(e.description)}"
            f"{f' (trains {quoted(e.skill)})' if e.skill else ''}. You take part on your own: you can see the others "
            f"here but not talk to them.\nAlso here:\n{others or '- nobody else'}\n"
            f"Say what you do at the event, in the first person, in at most {question.words} words: your own actions "
            "only, never how it turns out or what others do. Then name those of the others you noticed and want to "
            "remember (an empty list is fine).")


def _purchase(question: q.PurchaseQuestion) -> str:
    offers = "; ".join(f"{quoted(o.item)} ({o.price})" for o in question.offers)
    return f"THE SHOP offers: {offers}. Your deposit is {question.resident.state.deposit}. Name one item to buy, or an empty string."


REPLY_FORMAT = (
    "Each reply is yours alone, in the first person: thoughts (inner, nobody else learns them); speech (what everyone "
    'present sees: spoken words in "double quotes", body language in (parentheses)); private (words only the people you '
    "name may hear; the others notice only that something was said privately); a gift of something you own (gift_to and "
    "gift_item); or leave to go. Never write what others do or how things turn out."
)


def _chat_intro(question: q.ChatQuestion) -> str:
    c = question.chat
    what = "You ran into someone" if c.kind == "encounter" else "A joint activity"
    lines = [f"CONVERSATION. {what}: {quoted(c.title)} at {quoted(c.place_name)} with {quoted_list(question.others)}."]
    if c.scene:
        lines.append(f"Scene: {quoted(c.scene)}")
    owned = quoted_list((p.name for p in question.resident.state.possessions[:10]), "nothing of note")
    lines.append(f"You own: {owned}. It lasts {c.min_turns} to {c.max_turns} replies in all; the surroundings tell you "
                 f"who speaks when. {REPLY_FORMAT} At most {c.reply_words} words a reply.")
    return "\n".join(lines)


def _seen(item: q.Seen, me: str) -> str:
    who = quoted(item.who)
    match item.kind:
        case "feedback":
            return f"(surroundings) {quoted(item.text)}"
        case "said":
            return f"{who}: {quoted(item.text)}"
        case "private":
            also = [n for n in item.to if n != me]
            return f"{who}, privately to you{f' and {quoted_list(also)}' if also else ''}: {quoted(item.text)}"
        case "hidden":
            return f"{who} said something privately to {quoted_list(item.to)}."
        case "gift":
            return f"{who} gave {quoted(item.text)} to {'you' if item.to[0] == me else quoted(item.to[0])}."
        case "left":
            return f"{who} left."
    return quoted(item.text)


def _entry(question: q.EntryQuestion) -> str:
    return "Before it starts: your private analysis (your position, what you want, your plan, risks), in a few sentences."


def _turn(question: q.TurnQuestion) -> str:
    return f"Your turn (turn {question.turn}). Present: {quoted_list(question.present)}."


def _exit(question: q.ExitQuestion) -> str:
    memory = question.memory
    length = f" (at most {memory.diary_words} words each)" if memory.context == "paper" else ""
    over = f"It is over. How it went: {quoted(question.outcome or 'it simply ended')}."
    if memory.notes == "tools":
        return (f"{over} Write a summary of what happened and a reflection{length}."
                f"{_tools_hint(question, f'what is worth remembering of {quoted_list(question.others)}')}")
    return (f"{over} Write a short summary of what happened, a reflection{length}, and notes on any of "
            f"{quoted_list(question.others)} worth remembering.")


def _chat_messages(question: q.ChatQuestion) -> list[dict[str, str]]:
    """The resident's running chat for a conversation: the previous request and answer, then what is new.

    The first request holds the system prompt (frozen for the conversation) and the setting; each
    later one repeats the last request and its answer word for word, then adds what the resident saw
    since and this question, so every prompt of a conversation starts with the one before.
    """
    memo = question.chat.memo
    history = memo.get("messages")
    parts = [] if history else [_chat_intro(question)]
    new = question.chat.seen[memo.get("read", 0):]
    if new:
        me = question.resident.name
        parts.append("What happened (quoted data):\n" + "\n".join(f"- {_seen(item, me)}" for item in new))
    parts.append(STAGE_PROMPTS[type(question)](question) + "\nAnswer only with JSON following the schema.")
    history = history or [{"role": "system", "content": system_prompt(question)}]
    return [*history, {"role": "user", "content": "\n\n".join(parts)}]


def remember(question: q.ChatQuestion, messages: list[dict[str, str]], answer: str) -> None:
    """Keep the running chat: the request just made and the answer used."""
    question.chat.memo["messages"] = [*messages, {"role": "assistant", "content": neutralise_markers(answer)}]
    question.chat.memo["read"] = len(question.chat.seen)


def _review(question: q.ReviewQuestion) -> str:
    memory = question.memory
    done = "\n".join(record_line(r) for r in question.records)
    diary = (f"Write your diary: a summary of the week and a reflection (at most {memory.diary_words} words each)"
             if memory.context == "paper" else "Write a short diary summary and reflection")
    week = f"REVIEW your week.\n{done or 'Nothing special happened.'}\n{diary}"
    if memory.notes == "tools":
        return f"{week}.{_tools_hint(question, f'what you learned, and about people you met ({quoted_list(question.met)})')}"
    return f"{week}, and update notes on people you met: {quoted_list(question.met)}."


def _discard(question: q.DiscardQuestion) -> str:
    owned = quoted_list(p.name for p in question.resident.state.possessions)
    return f"SETTLE: you own too much. Discard at least {question.at_least} of: {owned}."


def _job_wishes(question: q.JobWishQuestion) -> str:
    jobs = "\n".join(
        f"- {j.key}: {quoted(j.role)} at {quoted(j.organisation)}, {j.weekly_income}/week, "
        f"needs {', '.join(scored(j.min_skills, len(j.min_skills))) or 'nothing'}, {j.vacancies} open"
        for j in question.jobs if j.eligible
    )
    return f"JOB SEASON. Up to 3 ranked wishes by key; STAY keeps your current job.\n{jobs}"


def _rating(question: q.RatingQuestion) -> str:
    return (
        "PRIVATE RATINGS (no one else will ever see them). Rate each person 0-100 on affection (how much you like them) "
        "and respect (how much you admire their ability and character): 10 contempt, 30 dislike, 50 neutral, 70 like, "
        f"90 deep affection or admiration. Judge each on their own merits. People: {quoted_list(question.people)}."
    )


STAGE_PROMPTS = {
    q.PlanQuestion: _plan, q.ContactQuestion: _contact, q.ContactSummaryQuestion: _contact_summary, q.SignupQuestion: _signup,
    q.SoloQuestion: _solo, q.SoloReflectionQuestion: _solo_reflection, q.CompactionQuestion: _compaction,
    q.PurchaseQuestion: _purchase, q.PublicEventQuestion: _public_event, q.EntryQuestion: _entry, q.TurnQuestion: _turn, q.ExitQuestion: _exit,
    q.ReviewQuestion: _review, q.DiscardQuestion: _discard,
    q.JobWishQuestion: _job_wishes, q.RatingQuestion: _rating,
}


def messages_for(question: q.Question) -> list[dict[str, str]]:
    """The chat messages for one question: role-play system prompt + stage prompt (a conversation's
    questions: the resident's running chat, ``_chat_messages``)."""
    if isinstance(question, q.ChatQuestion):
        return _chat_messages(question)
    user = STAGE_PROMPTS[type(question)](question) + "\nAnswer only with JSON following the schema."
    return [{"role": "system", "content": system_prompt(question)}, {"role": "user", "content": user}]
