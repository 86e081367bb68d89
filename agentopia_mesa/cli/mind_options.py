"""``--max-concurrency``, as ``agentopia run`` and ``agentopia eval`` take it (what each option of a
town means and checks is ``run/town_options.py``)."""

from __future__ import annotations

import argparse


CONCURRENCY_HELP = ("LLM calls in flight at once: auto (default: twice the server's parallel slots where it reports "
                    "them: embedded, llama.cpp's server, Ollama with OLLAMA_NUM_PARALLEL set here; else 8) or a number")


def concurrency_arg(text: str) -> int | str:
    """``--max-concurrency``: "auto" or a whole number (its range is checked with the other options)."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be auto or a whole number, got {text!r}") from None
