"""Options of ``agentopia run`` that only LLM minds use: given without ``--mind llm`` they would be
silently ignored (the run uses rules), so ``--llm`` is an error there and the others a warning."""

from __future__ import annotations

import argparse
import sys

DEFAULT_LLM = "embedded"

#: argparse dest -> (flag, default); the defaults are ``LLMSettings``' and the run parser's.
LLM_ONLY = {
    "llm_cache": ("--llm-cache", None),
    "cache_mode": ("--cache-mode", "replay-or-record"),
    "temperature": ("--temperature", 0.7),
    "max_concurrency": ("--max-concurrency", "auto"),
    "llm_timeout": ("--llm-timeout", 120.0),
    "think": ("--think", "off"),
}


def check_mind_options(args) -> None:
    """Raise ``ValueError`` for ``--llm SPEC`` (other than the default) without ``--mind llm``;
    warn on stderr about other LLM-only options given without it."""
    if getattr(args, "mind", "llm") != "rules":
        return
    env_llm = getattr(args, "env", "rules") == "llm"
    if args.llm != DEFAULT_LLM:
        raise ValueError(f"--llm {args.llm}: only with --mind llm (without it every resident uses the rule mind); "
                         f"add --mind llm, or use --mix SPEC=FRACTION for part of the town")
    ignored = [flag for dest, (flag, default) in LLM_ONLY.items() if getattr(args, dest, default) != default]
    if ignored and not env_llm:  # an LLM environment uses them too
        print(f"agentopia: warning: {', '.join(ignored)} only apply with --mind llm; this run uses rules",
              file=sys.stderr)


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
