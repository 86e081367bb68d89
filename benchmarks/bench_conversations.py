"""Conversations' cost: LLM calls and prompt tokens per agent-week, and prefix reuse, per profile.

    python benchmarks/bench_conversations.py [--residents 20] [--weeks 4] [--llm fake] [--notes-both]

Runs ``agentopia run --mind llm --llm SPEC`` once with ``--profile lean`` and once with
``--profile paper`` (the LLM environment on the same spec, conversations at the paper's
settings, the paper's context window and note tools), and with ``--notes-both`` once more with the
paper profile but notes edited inside the JSON answers; then reads each run's ``decisions.jsonl``:

- calls, prompt and completion tokens per agent-week (residents' calls; the environment's beside
  them), and the fallbacks. The fake backend counts a prompt's words as its tokens (about 1.75
  Gemma tokens per word, RESULTS.md); ``fake:verbose`` writes every text at the asked lengths and
  counts its completions with ``llm.budgets.estimate_tokens``, so its completions are those of a
  model that writes what it is asked to write (``--llm fake:verbose``);
- prefix reuse: the share of each prompt's words that repeat the start of the previous prompt of
  the same caller (a resident; the environment per conversation or task), over all prompts: what a
  serving engine's prefix cache (Ollama, llama.cpp, vLLM) can skip recomputing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

from agentopia_mesa.cli.main import main
from agentopia_mesa.run.dialogues import read_dialogues
from agentopia_mesa.run.layout import RunLayout


def _text(messages: list[dict]) -> str:
    return "".join(f"<{m['role']}>{m['content']}" for m in messages)


def _common(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def measure(run_dir: Path, residents: int, weeks: int) -> dict:
    previous: dict[str, str] = {}
    out = defaultdict(float)
    for line in RunLayout(run_dir).decisions.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        who = "environment" if entry.get("role") == "environment" else "residents"
        text = _text(entry["messages"])
        key = f"{who}/{entry['resident']}/{entry.get('task', '')}"
        shared = _common(previous.get(key, ""), text)
        previous[key] = text
        out[f"{who} calls"] += 1
        out[f"{who} prompt tokens"] += entry["prompt_tokens"]
        out[f"{who} completion tokens"] += entry["completion_tokens"]
        out[f"{who} fallbacks"] += entry["fallback"]
        out[f"{who} words"] += len(text.split())
        out[f"{who} reused words"] += len(text[:shared].split())
    agent_weeks = residents * weeks
    return {
        "calls per agent-week": round(out["residents calls"] / agent_weeks, 1),
        "prompt tokens per agent-week": round(out["residents prompt tokens"] / agent_weeks),
        "environment calls per agent-week": round(out["environment calls"] / agent_weeks, 1),
        "environment prompt tokens per agent-week": round(out["environment prompt tokens"] / agent_weeks),
        "completion tokens per agent-week": round(out["residents completion tokens"] / agent_weeks),
        "environment completion tokens per agent-week": round(out["environment completion tokens"] / agent_weeks),
        "fallbacks": f"{out['residents fallbacks']:.0f} of {out['residents calls']:.0f}, environment "
                     f"{out['environment fallbacks']:.0f} of {out['environment calls']:.0f}",
        "prefix reuse, residents": f"{out['residents reused words'] / max(1, out['residents words']):.0%}",
        "prefix reuse, environment": f"{out['environment reused words'] / max(1, out['environment words']):.0%}",
        "conversations": sum(1 for c in read_dialogues(run_dir) if c["kind"] != "public"),
        "public event groups": sum(1 for c in read_dialogues(run_dir) if c["kind"] == "public"),
    }


def main_(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--world", default="school")
    parser.add_argument("--llm", default="fake")
    parser.add_argument("--notes-both", action="store_true",
                        help="also run the paper profile with notes edited inside the JSON answers (memory.notes=json)")
    args = parser.parse_args(argv)
    settings = {"lean": ["--profile", "lean"], "paper": ["--profile", "paper"]}
    if args.notes_both:
        settings["paper, notes in JSON"] = ["--profile", "paper", "--set", "memory__notes=json"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, options) in enumerate(settings.items()):
            out = Path(tmp) / str(i)
            code = main(["run", "--world", args.world, "--residents", str(args.residents), "--years", "1",
                         "--weeks-per-year", str(args.weeks), "--seed", "1", "--mind", "llm", "--llm", args.llm,
                         *options, "--quiet", "--out", str(out)])
            if code:
                raise SystemExit(code)
            print(name, json.dumps(measure(out, args.residents, args.weeks)), flush=True)


if __name__ == "__main__":
    main_()
