"""The notebook as tools an LLM mind calls (paper §3.4): ``list_notes``, ``read_note``, ``update_note``,
and ``read_public_info`` (what anyone can see of a resident).

One ``NotebookTools`` per question (one resident, one answer), offered at Plan, a conversation's
exit and Review, and read-only at Contact (``TOOL_ACCESS``). Its rules, each refused with a
sentence the model reads (a refusal is an answer, never an exception):

- read before write: a note that exists must have been read in this answer before it is updated
  (an update replaces the whole note, so the model must merge what it read);
- a person note can be started only for someone present (a conversation's participants);
  general and topic notes can always be written;
- a summary has at most ``memory.summary_words`` words, a note at most ``memory.note_words``: the
  tool's schema says so (``maxLength``, ``CHARS_PER_WORD`` characters a word), and a longer text
  is saved trimmed to its limit (``trimming.trim_text``), the model told so, not refused.

Every read and write goes through the ``Notebook``, which keeps every version and logs every use.
"""

from __future__ import annotations

import functools

from agentopia_mesa.contract import questions as q
from agentopia_mesa.contract.decisions import CHARS_PER_WORD
from agentopia_mesa.town.notebook import GENERAL, PEOPLE, TOPICS
from agentopia_mesa.trimming import trim_text

#: Which questions may use the tools, and how: "write" (list, read, update) or "read".
TOOL_ACCESS: dict[type, str] = {q.PlanQuestion: "write", q.ExitQuestion: "write", q.ReviewQuestion: "write",
                                q.ContactQuestion: "read"}

_NAME = {"type": "string", "description": "general, people/NAME or topics/NAME"}
LIST = {"type": "function", "function": {
    "name": "list_notes", "description": "List your notes with their summaries.",
    "parameters": {"type": "object", "properties": {}, "additionalProperties": False}}}
READ = {"type": "function", "function": {
    "name": "read_note", "description": "Read one of your notes in full.",
    "parameters": {"type": "object", "properties": {"name": _NAME}, "required": ["name"], "additionalProperties": False}}}
PUBLIC = {"type": "function", "function": {
    "name": "read_public_info", "description": "What anyone can see of a resident: appearance, introduction, position.",
    "parameters": {"type": "object", "properties": {"person": {"type": "string"}}, "required": ["person"],
                   "additionalProperties": False}}}
UPDATE = {"type": "function", "function": {
    "name": "update_note",
    "description": "Replace a note with its merged new content (read it first). Start a topic note with a new "
                   "topics/NAME, a person note only for someone present.",
    "parameters": {"type": "object", "properties": {
        "name": _NAME,
        "summary": {"type": "string", "description": "at most three sentences"},
        "content": {"type": "string", "description": "the whole note"}},
        "required": ["name", "summary", "content"], "additionalProperties": False}}}


@functools.lru_cache(maxsize=64)
def specs_for(writable: bool, summary_words: int, note_words: int) -> tuple[dict, ...]:
    """The tools offered (``UPDATE`` with its texts' lengths when ``writable``)."""
    if not writable:
        return (LIST, READ, PUBLIC)
    update = {**UPDATE, "function": {**UPDATE["function"], "parameters": {
        **UPDATE["function"]["parameters"], "properties": {
            "name": _NAME,
            "summary": {"type": "string", "description": f"at most three sentences ({summary_words} words)",
                        "maxLength": CHARS_PER_WORD * summary_words},
            "content": {"type": "string", "description": f"the whole note (at most {note_words} words)",
                        "maxLength": CHARS_PER_WORD * note_words}}}}}
    return (LIST, READ, PUBLIC, update)


def tools_for(question: q.Question) -> NotebookTools | None:
    """The notebook tools for ``question``, or None where the stage offers none."""
    access = TOOL_ACCESS.get(type(question))
    if access is None:
        return None
    present = tuple(question.others) if isinstance(question, q.ChatQuestion) else ()
    return NotebookTools(question.resident.notebook, question.when, question.context.week_index,
                         writable=access == "write", present=present, memory=question.context.memory,
                         public_info=question.context.public_info)


class NotebookTools:
    """A resident's notebook behind the tool protocol (``llm.tools.Toolbox``) for one answer."""

    def __init__(self, notebook, when: str, week_index: int, writable: bool, present: tuple[str, ...], memory,
                 public_info=lambda name: None):
        self.notebook = notebook
        self.when = when
        self.week_index = week_index
        self.writable = writable
        self.present = present
        self.memory = memory
        self.public_info = public_info
        self.max_rounds = memory.tool_rounds  # the job's bound on model calls (llm.tools.Toolbox)
        self.read_in_answer: set[str] = set()

    def specs(self) -> list[dict]:
        return list(specs_for(self.writable, self.memory.summary_words, self.memory.note_words))

    def call(self, call) -> str:
        """Run one tool call (``.name``, ``.arguments``) and return what the model is told."""
        args = call.arguments if isinstance(call.arguments, dict) else {}
        match call.name:
            case "list_notes":
                return self.list_notes()
            case "read_note":
                return self.read_note(str(args.get("name", "")))
            case "read_public_info":
                person = str(args.get("person", ""))
                return self.public_info(person) or f"There is nobody called {person!r} here."
            case "update_note" if self.writable:
                return self.update_note(str(args.get("name", "")), str(args.get("summary", "")),
                                        str(args.get("content", "")))
        return f"No tool {call.name!r} here; you can use {', '.join(s['function']['name'] for s in self.specs())}."

    def list_notes(self) -> str:
        nb = self.notebook
        lines = [f"{GENERAL}: {nb.general.summary or '(empty)'}"]
        lines += [f"{PEOPLE}{name}: {nb.people[name].summary}" for name in nb.recent_people(len(nb.people), self.present)]
        lines += [f"{TOPICS}{name}: {nb.topics[name].summary}" for name in nb.recent_topics(len(nb.topics))]
        return "\n".join(lines)

    def read_note(self, name: str) -> str:
        note = self.notebook.read(name, self.when)
        if note is None:
            return f"There is no note {name!r}. Your notes: {', '.join(self.notebook.files())}."
        self.read_in_answer.add(name)
        return f"{name}\nSummary: {note.summary or '(empty)'}\nFull text:\n{note.full or '(empty)'}"

    def update_note(self, name: str, summary: str, content: str) -> str:
        nb, memory = self.notebook, self.memory
        note = nb.note(name)
        exists = note is not None and bool(note.history or note.summary)
        if not (name == GENERAL or name.startswith((PEOPLE, TOPICS))) or name in (PEOPLE, TOPICS):
            return f"Refused: {name!r} is not a note name; use general, people/NAME or topics/NAME."
        if exists and name not in self.read_in_answer:
            return f"Refused: read {name} with read_note first, then update it with the merged content."
        if not exists and name.startswith(PEOPLE) and name[len(PEOPLE):] not in self.present:
            return f"Refused: you can start a note only on someone present ({', '.join(self.present) or 'nobody is'})."
        cut = []
        for label, text, words in (("summary", summary, memory.summary_words), ("note", content, memory.note_words)):
            if len(text.split()) > words:
                cut.append(f"the {label} was cut to its limit of {words} words")
        summary = trim_text(summary, max_words=memory.summary_words)
        content = trim_text(content, max_words=memory.note_words)
        nb.replace(name, summary, content, self.when, self.week_index)
        self.read_in_answer.add(name)  # what it just wrote it knows
        return f"Saved {name}" + (f" ({'; '.join(cut)})." if cut else ".")
