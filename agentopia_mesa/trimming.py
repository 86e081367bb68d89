"""Shortening a free text to its limit: the model proposes, the code disposes of lengths.

A capable model asked for "at most 100 words" sometimes writes 101. Rejecting that answer and
asking again costs a call and, three tries later, throws the answer away for a rules decision;
so a free text over its limit (characters, words, or both) is cut, at the end of the last
sentence that fits where one ends in the last ``SENTENCE_SLACK`` of the room, else after the
last whole word that fits, and the answer is kept. Callers count what they trimmed.
"""

from __future__ import annotations

import re

#: A sentence end is preferred over a word end when it keeps at least this share of the room.
SENTENCE_SLACK = 0.8
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*(?=\s|$)")


def trim_text(text: str, max_chars: int | None = None, max_words: int | None = None) -> str:
    """``text`` cut to at most ``max_chars`` characters and ``max_words`` words (None: no limit),
    at a sentence or word boundary (module docstring); unchanged when it fits."""
    words = text.split()
    fits_words = max_words is None or len(words) <= max_words
    if fits_words and (max_chars is None or len(text) <= max_chars):
        return text
    room = len(text) if max_chars is None else max_chars
    if not fits_words:  # the end of the last word allowed
        room = min(room, _end_of_word(text, max_words))
    head = text[:room]
    if room < len(text) and not text[room].isspace():  # inside a word: back to its start
        head = head[:len(head) - len(head.split()[-1])] if head.split() and not head[-1].isspace() else head
    head = head.rstrip()
    if not head:  # one word longer than the room: cut inside it
        return text[:room].rstrip()
    sentence = max((m.end() for m in _SENTENCE_END.finditer(head)), default=0)
    if sentence >= SENTENCE_SLACK * len(head):
        return head[:sentence]
    return head.rstrip(",;:-—– ") or head


def _end_of_word(text: str, n: int) -> int:
    """The index just after the ``n``-th word of ``text`` (0 for n <= 0)."""
    if n <= 0:
        return 0
    for i, match in enumerate(re.finditer(r"\S+", text), 1):
        if i == n:
            return match.end()
    return len(text)
