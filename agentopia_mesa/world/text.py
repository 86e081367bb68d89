"""What text from outside (world files, other residents' words) may contain, and how it is shown.

World files and model answers are untrusted. Names are identifiers: they go into prompts, JSON
schemas (as enums), CSV files and the viewer verbatim, so they must be one line of plain
characters. Free text (introductions, descriptions) may span lines but carries no other control
characters. Names carry no zero-width characters either, and do not start with ``= + - @``
nor have one after ``;`` or ``,`` (spreadsheets run such CSV cells as formulas); they are refused, not rewritten, so CSV files
hold every name exactly as the world spells it. Neither is ever used as a path. Prompts show both as quoted data and neutralise
chat-template markers (``<start_of_turn>``, ``<|im_start|>``, ``[INST]``...), which some runtimes
would otherwise turn into real role tokens.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata

#: Characters that can break a line, reorder what a reader sees, or not be encoded at all:
#: C0/C1 controls, line and paragraph separators, bidi embeddings/overrides/isolates, lone
#: surrogates (valid in JSON escapes, unwritable as UTF-8).
_UNSEEN = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
#: Invisible characters that would make two names that look the same differ (zero-width space,
#: non-joiner and joiner, word joiner, byte-order mark, soft hyphen, Mongolian vowel separator).
#: Names are identifiers, so they are refused there (free text may keep them).
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
_IN_NAMES = re.compile(rf"[\x00-\x1f{_UNSEEN}{_ZERO_WIDTH}]")
#: A cell starting with one of these is a formula to a spreadsheet (CSV formula injection); names
#: go into CSV files verbatim, so a name may not start with one.
FORMULA_STARTS = ("=", "+", "-", "@")
#: A formula start after a cell separator: a spreadsheet that splits cells on ``;`` or ``,`` (as many
#: locales do) would start a new cell there, which it would run as a formula.
_FORMULA_AFTER_SEPARATOR = re.compile(r"[;,\t|]\s*[=+\-@]")
_IN_TEXT = re.compile(rf"[\x00-\x08\x0b-\x1f{_UNSEEN}]")  # tab (\x09) and newline (\x0a) allowed
_PATH_SEPARATORS = re.compile(r"[/\\]")

#: Special-token spellings of the chat templates local models use (Gemma, ChatML/Qwen, Llama 2
#: and 3, Mistral, Phi) plus generic ``<|...|>`` tokens.
TEMPLATE_MARKER = re.compile(
    r"<\|[^|<>\s]{1,40}\|>"
    r"|</?(?:start_of_turn|end_of_turn|bos|eos|s|pad|unk|system|user|assistant|model)>"
    r"|\[/?(?:INST|SYS|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\]"
    r"|<</?SYS>>",
    re.IGNORECASE,
)


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}" if ord(char) > 0x7F else repr(char)


def check_name(value: str) -> str:
    """A name or label: one line, no control characters, no chat-template markers; NFC-normalised
    so that names which look the same are the same (and duplicates are caught)."""
    if found := _IN_NAMES.search(value):
        kind = "invisible" if found.group() in _ZERO_WIDTH else "control"
        raise ValueError(f"must not contain {kind} characters (found {_describe(found.group())} at position {found.start()})")
    if value.startswith(FORMULA_STARTS):
        raise ValueError(f"must not start with {' '.join(FORMULA_STARTS)} (a spreadsheet opening a CSV file would "
                         f"run it as a formula), got {value[:20]!r}")
    if found := _FORMULA_AFTER_SEPARATOR.search(value):
        raise ValueError(f"must not have {' '.join(FORMULA_STARTS)} after ; or , (a spreadsheet splitting cells there "
                         f"would run it as a formula), found {found.group()!r}")
    if found := TEMPLATE_MARKER.search(value):
        raise ValueError(f"must not contain chat-template markers (found {found.group()!r})")
    return unicodedata.normalize("NFC", value)


def check_person_name(value: str) -> str:
    """A resident's name (after ``check_name``): no path separators either, so it never passes for a path."""
    if found := _PATH_SEPARATORS.search(value):
        raise ValueError(f"must not contain path separators (found {found.group()!r}); a name is not a path")
    return value


def check_text(value: str) -> str:
    """Free text: newlines and tabs allowed, no other control characters."""
    if found := _IN_TEXT.search(value):
        raise ValueError(f"must not contain control characters other than newline and tab "
                         f"(found {_describe(found.group())} at position {found.start()})")
    return value


def neutralise_markers(text: str) -> str:
    """``<start_of_turn>`` becomes ``‹start_of_turn›`` (and so on): still readable, no longer a token."""
    return TEMPLATE_MARKER.sub(lambda m: m.group().replace("<", "‹").replace(">", "›").replace("[", "⟦").replace("]", "⟧"), text)


_ESCAPED = re.compile(rf"[{_UNSEEN}]")


@functools.lru_cache(maxsize=1 << 16)
def as_data(text: str) -> str:
    """Untrusted text as a JSON string literal with template markers neutralised.

    JSON quoting escapes quotes, backslashes and control characters, so the text stays on one
    line inside its quotes and cannot close them; separators and bidi controls are escaped too.
    Memoised: prompts quote the same names, places and notes again and again (a pure function).
    """
    literal = json.encoder.encode_basestring(neutralise_markers(text))  # json.dumps(..., ensure_ascii=False)
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", literal)
