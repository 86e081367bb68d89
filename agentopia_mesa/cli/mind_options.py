"""The flags of a town's society, as ``agentopia run`` and ``experiments/collect_trajectories.py``
take them (``add_society_arguments``), and ``--max-concurrency`` as ``agentopia eval`` takes it too.
What each option means, its default and its checks are ``run/town_options.py``'s."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agentopia_mesa.run.town_options import TOWN_OPTIONS as TOWN


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


def add_society_arguments(parser: argparse.ArgumentParser) -> None:
    """``--set``, who decides (``--mind``, ``--llm``, ``--mix``, ``--assign`` and the LLM calls'
    options) and who judges (``--profile``, ``--env``, ``--env-llm``, ``--ratings``)."""
    parser.add_argument("--set", action="append", default=[], metavar="SECTION__FIELD=VALUE",
                        help="override any configuration field, e.g. --set needs__decay=0.2 (repeatable; VALUE is JSON or text)")
    minds = parser.add_argument_group("minds (who decides)")
    minds.add_argument("--mind", choices=TOWN["mind"].choices, default=TOWN["mind"].default, help="rule-based minds (default) or LLM minds")
    minds.add_argument("--llm", default=TOWN["llm"].default, metavar="SPEC",
                       help="with --mind llm: embedded (default, in-process, no server), ollama:MODEL, openai:URL:MODEL, replay, fake; "
                            "another SPEC without --mind llm is an error (the run would use rules)")
    minds.add_argument("--mix", default=None, metavar="SPEC=FRACTION,...",
                       help="a mixed society, e.g. ollama:qwen3:4b=0.5,ollama:agentopia-ft=0.5 (the rest use rules)")
    minds.add_argument("--assign", type=Path, default=None, metavar="FILE",
                       help='a JSON object naming residents\' minds, e.g. {"Ana Lopez": "ollama:agentopia-ft", '
                            '"Ben Wu": "rules"}; the others follow --mix (or rules when --mix is not given)')
    minds.add_argument("--llm-cache", default=None, metavar="PATH",
                       help="SQLite response cache (default: llm-cache.sqlite in the run directory; share one across runs)")
    minds.add_argument("--cache-mode", choices=TOWN["cache_mode"].choices, default=TOWN["cache_mode"].default)
    minds.add_argument("--temperature", type=float, default=TOWN["temperature"].default)
    minds.add_argument("--max-concurrency", type=concurrency_arg, default=TOWN["max_concurrency"].default, metavar="auto|N", help=CONCURRENCY_HELP)
    minds.add_argument("--think", default=TOWN["think"].default, metavar="off|on|server|N",
                       help="reasoning of thinking models (Qwen3 and others, through Ollama or an OpenAI-compatible "
                            "server): off (default, both profiles), on (1024 tokens of reasoning added to each "
                            "answer's budget), N tokens, or server (its default); a spec's own #think=... wins "
                            "(docs/explanation/llm-minds.md)")
    minds.add_argument("--llm-timeout", type=float, default=TOWN["llm_timeout"].default, metavar="SECONDS",
                       help="per LLM call, queueing included (default: 120); for embedded the floor: its timeout "
                            "is set from the speed measured after a warm-up call (docs/how-to/embedded.md)")
    judge = parser.add_argument_group("environment (who judges what happens)")
    parser.add_argument("--profile", choices=TOWN["profile"].choices, default=None,
                        help="settings of LLM runs: lean (default: a few short turns per conversation, no entry or exit "
                             "calls) or paper (the paper's conversations: entry analysis, 5-20 turns of up to 200 words, "
                             "exit reflection; and --env llm); --env and --set override it (docs/explanation/conversations.md)")
    judge.add_argument("--env", choices=TOWN["env"].choices, default=None,
                       help="the rule environment's formulas (default; llm with --profile paper) or an LLM environment "
                            "model that judges conversations turn by turn, outcomes, "
                            "the shop, events, encounters, jobs, hiring and profile rewrites (docs/explanation/environment.md)")
    judge.add_argument("--env-llm", default=None, metavar="SPEC",
                       help="with --env llm: the environment's model, e.g. a bigger one than the residents' "
                            "(default: the residents' --llm)")
    judge.add_argument("--ratings", choices=TOWN["ratings"].choices, default=None,
                       help="who makes the yearly ratings: each resident's own mind, or the environment on its behalf "
                            "(default: environment with --env llm, else self)")


def parse_sets(items: list[str]) -> dict:
    """``--set SECTION__FIELD=VALUE`` items as a table of overrides (VALUE as JSON, else text)."""
    overrides = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--set: {item!r} is not SECTION__FIELD=VALUE (e.g. needs__decay=0.2)")
        try:
            overrides[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key.strip()] = raw
        except RecursionError:
            raise ValueError(f"--set: {key.strip()}: the value is nested too deeply") from None
    return overrides
