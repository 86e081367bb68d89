"""JSON schemas for LLM answers, narrowed to what exists for this question.

A decision's pydantic schema says "a string"; for a question we know the valid names, places,
ids and items, so those fields become enums. Constrained decoding then cannot invent a person
or a place, which is what small local models do most (see research/local-llm-runtime.md).
"""

from __future__ import annotations

import functools

from agentopia_mesa.contract import decisions as d
from agentopia_mesa.contract import questions as q
from agentopia_mesa.contract.decisions import CHARS_PER_WORD
from agentopia_mesa.llm.budgets import answer_budget
from agentopia_mesa.llm.narrowing import cap_text, copied, restrict
from agentopia_mesa.minds.notebook_tools import TOOL_ACCESS, specs_for


@functools.cache
def _base(decision: type[d.Decision]) -> dict:
    """The decision's schema with free text capped at ``TEXT_LIMIT``, made once per decision type."""
    schema = decision.model_json_schema()
    cap_text(schema, TEXT_LIMIT)
    return schema


def _enum(schema: dict, path: tuple[str, ...], values: list[str]) -> None:
    """Restrict the string at ``path`` (through $defs / properties / items) to ``values``."""
    node = schema
    for key in path:
        node = node[key]
    restrict(node, values)


def _list_of(schema: dict, prop: str, values: list[str]) -> None:
    """A list property whose items must be among ``values`` (empty list when there are none)."""
    node = schema["properties"][prop]
    if values:
        node["items"] = {"type": "string", "enum": list(dict.fromkeys(values))}
    else:
        node["maxItems"] = 0


#: Longest free text an LLM is asked for, in characters, where the question asks for no length
#: of its own. The decision models accept more (a strong model may write a longer diary), but
#: small models fill whatever room a schema gives them, and generation time is what a local run spends.
TEXT_LIMIT = 160
#: A solo activity described for an LLM environment: about 100 words.
DESCRIPTION_LIMIT = 600
#: A conversation's private entry analysis (a few sentences).
ANALYSIS_LIMIT = 480


def _paper_lengths(schema: dict, kind: type[q.Question], memory) -> None:
    """The paper's free-text lengths (``memory.*_words``) where its context asks for them:
    ``CHARS_PER_WORD`` characters for each word asked, whatever the setting."""
    lengths = {q.PlanQuestion: (("long_term_goals", "short_term_goals"), memory.plan_words),
               q.ReviewQuestion: (("summary", "reflection"), memory.diary_words),
               q.ExitQuestion: (("summary", "reflection"), memory.diary_words),
               q.ContactSummaryQuestion: (("summary",), memory.summary_words),
               q.SoloReflectionQuestion: (("reflection",), memory.summary_words)}
    fields, words = lengths.get(kind, ((), 0))
    for name in fields:
        schema["properties"][name]["maxLength"] = CHARS_PER_WORD * words
    if "NoteUpdate" in schema.get("$defs", {}):
        schema["$defs"]["NoteUpdate"]["properties"]["summary"]["maxLength"] = CHARS_PER_WORD * memory.summary_words


def lengths_schema(question: q.Question) -> dict:
    """The decision's schema with the free-text lengths ``question`` asks for, before anything is
    narrowed to what exists (no enums): what its token budget (``budget_for``) and the trimming of
    over-long texts (``minds.llm_mind.parse_decision``) read. Shared: copy it before changing it."""
    return _lengths(type(question), question.memory, *_length_settings(question))


def _length_settings(question: q.Question) -> tuple:
    """What besides its type and memory settings decides a question's lengths."""
    match question:
        case q.PlanQuestion():
            return (question.activity_words, question.days)
        case q.SoloQuestion():
            return (question.describe,)
        case q.PublicEventQuestion():
            return (question.words,)
        case q.TurnQuestion():
            return (question.chat.reply_words,)
    return ()


@functools.lru_cache(maxsize=1024)
def _lengths(kind: type[q.Question], memory, *settings) -> dict:
    schema = copied(_base(kind.decision))
    props = schema["properties"]
    if memory.context == "paper":
        _paper_lengths(schema, kind, memory)
    if kind is q.PlanQuestion:
        _plan_in_words(schema, *settings)
    elif kind is q.SoloQuestion and settings[0]:  # the environment reads it: required, and room for 100 words
        props["description"]["maxLength"] = DESCRIPTION_LIMIT
        schema.setdefault("required", []).append("description")
    elif kind is q.PublicEventQuestion:
        props["description"]["maxLength"] = CHARS_PER_WORD * settings[0]
    elif kind is q.CompactionQuestion:  # the brief's length in any context
        props["brief"]["maxLength"] = CHARS_PER_WORD * memory.brief_words
    elif kind is q.EntryQuestion:
        props["analysis"]["maxLength"] = ANALYSIS_LIMIT
    elif kind is q.TurnQuestion:
        props["speech"]["maxLength"] = CHARS_PER_WORD * settings[0]
    if memory.notes == "tools" and "notes" in props:
        props["notes"]["maxItems"] = 0  # notes are kept with the tools (minds/notebook_tools.py)
    return schema


def _plan_in_words(schema: dict, words: int, days: int) -> None:
    """A plan's ``activities``: one a day in at most ``words`` words, required; with ``words`` 0
    (``activity.plan_activity_words``) not asked at all (no property)."""
    props = schema["properties"]
    if not words:
        del props["activities"]
        return
    props["activities"]["items"]["maxLength"] = CHARS_PER_WORD * words
    props["activities"]["minItems"] = props["activities"]["maxItems"] = days
    schema.setdefault("required", []).append("activities")


def text_limits(question: q.Question) -> tuple[tuple[tuple[str, ...], int], ...]:
    """The free texts of ``question``'s decision that ``lengths_schema`` holds shorter than the
    decision model itself accepts: (path, maxLength) pairs, a path's "*" meaning each item of a
    list. What an answer's texts are checked against before they are trimmed (llm_mind)."""
    return _text_limits(type(question), question.memory, *_length_settings(question))


@functools.lru_cache(maxsize=1024)
def _text_limits(kind: type[q.Question], memory, *settings) -> tuple:
    accepted = dict(_strings(kind.decision.model_json_schema()))
    return tuple((path, limit) for path, limit in _strings(_lengths(kind, memory, *settings))
                 if limit < accepted.get(path, limit + 1))


def _strings(schema: dict, node: dict | None = None, path: tuple = ()):
    """(path, maxLength) of every string with one in ``schema`` (properties and list items)."""
    node = schema if node is None else node
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    if node.get("type") == "string" and "maxLength" in node:
        yield path, node["maxLength"]
    for name, prop in node.get("properties", {}).items():
        yield from _strings(schema, prop, (*path, name))
    if isinstance(node.get("items"), dict):
        yield from _strings(schema, node["items"], (*path, "*"))


def budget_for(question: q.Question, family: str = "", think: int | None = None) -> int:
    """The token budget of ``question``'s calls for a model of ``family``: room for the largest
    answer ``lengths_schema`` allows and for the largest call of the notebook tools it offers
    (llm/budgets.py; every round of a job gets the same budget), plus ``think`` tokens of
    reasoning when thinking is on."""
    budget = _budget(type(question), question.memory, _length_settings(question), family)
    return budget + (think or 0)


@functools.lru_cache(maxsize=1024)
def _budget(kind: type[q.Question], memory, settings: tuple, family: str) -> int:
    access = TOOL_ACCESS.get(kind) if memory.notes == "tools" else None
    tools = specs_for(access == "write", memory.summary_words, memory.note_words) if access else ()
    return answer_budget(_lengths(kind, memory, *settings), family, tools)


def schema_for(question: q.Question) -> dict:
    schema = copied(lengths_schema(question))
    defs = ("$defs",)
    match question:
        case q.ContactQuestion():
            _enum(schema, (*defs, "Message", "properties", "to"), question.known)
            schema["$defs"]["Proposal"]["properties"]["invitees"]["items"] = {"type": "string", "enum": question.known or [""]}
            schema["$defs"]["Proposal"]["properties"]["required"]["items"] = {"type": "string", "enum": question.known or [""]}
            _enum(schema, (*defs, "Proposal", "properties", "place"), question.places)
            schema["$defs"]["Proposal"]["properties"]["day"]["maximum"] = question.days
            _enum(schema, (*defs, "Reply", "properties", "activity_id"), [i.activity_id for i in question.invitations])
            _enum(schema, (*defs, "Cancel", "properties", "activity_id"), [i.activity_id for i in question.own_activities])
            for prop, allowed in (("messages", question.known), ("proposals", question.known and question.places),
                                  ("replies", question.invitations), ("cancellations", question.own_activities)):
                if not allowed:
                    schema["properties"][prop]["maxItems"] = 0
        case q.PlanQuestion():
            _enum(schema, ("properties", "living_standard"), question.affordable or ["frugal"])
            schema["properties"]["intentions"]["minItems"] = question.days
            schema["properties"]["intentions"]["maxItems"] = question.days
        case q.SignupQuestion():
            _one_event_a_day(schema, question)
        case q.SoloQuestion():
            _solo_variants(schema, question.places)
        case q.PurchaseQuestion():
            _enum(schema, ("properties", "item"), ["", *(o.item for o in question.offers if o.price <= question.resident.state.deposit)])
        case q.PublicEventQuestion():
            props = schema["properties"]
            _list_of(schema, "noticed", [a.name for a in question.others])
            if question.others:
                props["noticed"]["maxItems"] = min(props["noticed"]["maxItems"], len(question.others))
            schema["required"] = ["description", "noticed"]
        case q.TurnQuestion():
            others = [p for p in question.present if p != question.resident.name]
            _enum(schema, ("properties", "gift_to"), ["", *others])
            _enum(schema, ("properties", "gift_item"), ["", *(p.name for p in question.resident.state.possessions)])
            schema["$defs"]["PrivatePart"]["properties"]["visible_to"]["items"] = {"type": "string", "enum": others or [""]}
            schema["$defs"]["PrivatePart"]["properties"]["visible_to"]["maxItems"] = max(1, len(others))
        case q.ExitQuestion():
            if question.others:
                _enum(schema, (*defs, "NoteUpdate", "properties", "about"), question.others)
                schema["properties"]["notes"]["maxItems"] = len(question.others)
            else:
                schema["properties"]["notes"]["maxItems"] = 0
        case q.ReviewQuestion():
            known = [*question.met, *question.resident.notebook.people]
            if known:
                _enum(schema, (*defs, "NoteUpdate", "properties", "about"), known)
            else:
                schema["properties"]["notes"]["maxItems"] = 0
        case q.DiscardQuestion():
            _list_of(schema, "items", [p.name for p in question.resident.state.possessions])
        case q.JobWishQuestion():
            _list_of(schema, "wishes", [d.STAY, *(j.key for j in question.jobs if j.eligible)])
        case q.RatingQuestion():
            if question.people:
                _enum(schema, (*defs, "Rating", "properties", "name"), question.people)
                schema["properties"]["ratings"]["maxItems"] = len(question.people)
            else:
                schema["properties"]["ratings"]["maxItems"] = 0
    if question.memory.notes == "tools" and "notes" in schema.get("properties", {}):
        schema["properties"]["notes"]["maxItems"] = 0  # notes are kept with the tools (minds/notebook_tools.py)
    return schema


def _solo_variants(schema: dict, places: dict[str, list[str]]) -> None:
    """One variant per activity with only the places that afford it: a place must fit its activity.

    Without this a small model picks an activity and, independently, any place of the town (the
    canteen for studying); ``anyOf`` with a ``const`` activity ties the two under constrained decoding.
    """
    properties = schema.pop("properties")
    required = schema.pop("required", [])
    closed = schema.pop("additionalProperties", None)
    variants = []
    for activity in properties["activity"]["enum"]:
        variant = copied(properties)
        variant["activity"] = {"type": "string", "const": activity}
        _enum({"p": variant}, ("p", "place"), ["", *places.get(activity, [])])
        variants.append({"type": "object", "properties": variant, "required": sorted({"activity", *required}),
                         **({"additionalProperties": closed} if closed is not None else {})})
    schema.pop("type", None)
    schema["anyOf"] = variants


def _one_event_a_day(schema: dict, question: q.SignupQuestion) -> None:
    """One slot per free day that has events, each an event of that day or "" (none).

    A plain list of ids lets a small model sign up for every event at once, which the rule "at
    most one a day" then rejects; positional slots (``prefixItems``, a tuple in llama.cpp's
    grammar) make that answer impossible to write.
    """
    days = {}
    for e in question.events:
        if e.day in question.free_days:
            days.setdefault(e.day, []).append(e.event_id)
    node = schema["properties"]["events"]
    node.pop("items", None)
    if not days:
        node["maxItems"] = 0
        return
    node["prefixItems"] = [{"type": "string", "enum": ["", *ids]} for _, ids in sorted(days.items())]
    node["minItems"] = node["maxItems"] = len(days)
