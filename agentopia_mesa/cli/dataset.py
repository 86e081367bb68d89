"""The ``agentopia dataset`` sub-commands: ``sft`` (Agentopia §7 RFT data) and ``dpo`` (preference pairs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentopia_mesa.bounds import in_range
from agentopia_mesa.datasets.formats import FORMATS
from agentopia_mesa.datasets.roleplay import TOOL_FORMATS


def add_dataset_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``dataset sft RUN_DIR... --out FILE`` and ``dataset dpo RUN_DIR --out FILE``."""
    parser = subparsers.add_parser("dataset", help="turn run directories into training data (SFT chat samples, preference pairs)")
    commands = parser.add_subparsers(dest="dataset_command", required=True)

    sft = commands.add_parser(
        "sft", help="rejection-sampling fine-tuning data: the LLM calls of the top 25%% agent-years by advantage",
        description="Per run and year, rank residents by that year's advantage, keep the top fraction (at least one) and "
                    "write every LLM call of those agent-years that the model answered and that was used as one chat sample, "
                    "as the model saw it (conversations as multi-turn chats, tool rounds as tool_calls and tool messages); "
                    "then mix in the environment's calls up to --env-mix of the role-play output tokens. "
                    "A dataset card (FILE with .md) summarises counts, tokens and rewards.",
    )
    sft.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories or sweep directories")
    sft.add_argument("--out", type=Path, required=True, help="output JSON lines file (e.g. data/sft.jsonl)")
    sft.add_argument("--top", type=float, default=None, metavar="FRACTION", help="share kept per year (default 0.25, the paper's)")
    sft.add_argument("--format", choices=FORMATS, default="chat",
                     help='chat: {"messages": [...]} (TRL, Unsloth, LLaMA-Factory); sharegpt: {"conversations": [{"from", "value"}]}; '
                          'prompt-completion: {"prompt": [...], "completion": [...]} (TRL, loss on the answer only)')
    sft.add_argument("--tools", choices=TOOL_FORMATS, default="standard",
                     help="how tool rounds are written: standard (assistant tool_calls and tool messages, the tools as a "
                          "tools field) or json (as the embedded and fake backends sent them: the tools described in the "
                          "system message, a call as its JSON, a result as a user turn; what Gemma 3's chat template renders)")
    sft.add_argument("--years", type=int, default=None, metavar="N", help="use only each run's first N years")
    sft.add_argument("--model", action="append", default=None, metavar="NAME",
                     help="rank and keep only residents with this mind (repeatable), as rewards.csv's model column names it, "
                          "e.g. embedded:gemma3:270m or rules; a name no run has is an error listing the runs' minds")
    sft.add_argument("--stage", action="append", default=None, metavar="STAGE",
                     help="keep only residents' calls of this stage (repeatable)")
    sft.add_argument("--env-mix", type=float, default=None, metavar="FRACTION",
                     help="mix in the environment's used calls of those years up to this share of the role-play output tokens, "
                          "the smaller tasks whole, the largest subsampled (default 0.2, the paper's; 0: none)")
    sft.add_argument("--seed", type=int, default=None, help="seed of the environment mix's subsampling (default 42, the paper's)")
    sft.set_defaults(handler=_sft)

    dpo = commands.add_parser(
        "dpo", help="matched-state preference pairs: branch a checkpoint, sample answers, roll forward, compare life rewards",
        description="From a checkpoint of RUN_DIR, sample N answers to the same prompt, roll each forward in its own branch, "
                    "score it by the deciding resident's life-reward change and keep pairs whose scores differ by --min-margin. "
                    "Costs about N x horizon simulated weeks per prompt; the card (FILE with .md) reports the time per pair.",
    )
    dpo.add_argument("run", type=Path, metavar="RUN_DIR", help="a run directory with checkpoints")
    dpo.add_argument("--out", type=Path, required=True, help="output JSON lines file (e.g. data/dpo.jsonl)")
    dpo.add_argument("--week", type=int, default=None, help="checkpoint to branch from (default: the latest before the run's end)")
    dpo.add_argument("--branch", choices=("life", "conversations"), default="life",
                     help="life: score each answer by the life-reward change of its rollout (default); conversations: "
                          "branch a resident's first conversation turn of the week, play each reply's week and rank the "
                          "replies by the environment's verdict (PASS over REJECT), then the activity's outcome for the speaker")
    dpo.add_argument("--stage", default="plan", help="which first question of the week to branch (default: plan; "
                                                     "with --branch conversations: the turn)")
    dpo.add_argument("--resident", action="append", default=None, metavar="NAME", help="deciding resident (repeatable)")
    dpo.add_argument("--prompts", type=int, default=4, help="how many residents' prompts, without --resident (default: 4)")
    dpo.add_argument("--samples", type=int, default=4, help="answers sampled per prompt (default: 4)")
    dpo.add_argument("--temperature", type=float, default=1.0, help="sampling temperature, above 0 (default: 1.0)")
    dpo.add_argument("--horizon", type=int, default=None, metavar="WEEKS", help="weeks each branch runs (default: to the year's end)")
    dpo.add_argument("--min-margin", type=float, default=0.05, help="least life-reward difference for a pair (default: 0.05)")
    dpo.add_argument("--pairs", choices=("best-worst", "all"), default="best-worst", help="best vs worst answer, or every two")
    dpo.add_argument("--llm", default=None, metavar="SPEC", help="sampler (default: the resident's own model); needed for rule minds")
    dpo.add_argument("--llm-cache", type=Path, default=None, help="response cache shared by the branches (default: FILE.cache.sqlite)")
    dpo.add_argument("--format", choices=("chat", "sharegpt"), default="chat",
                     help='chat: {"prompt", "chosen", "rejected"} as messages (TRL); '
                          'sharegpt: {"conversations", "chosen", "rejected"} (LLaMA-Factory)')
    dpo.add_argument("--seed", type=int, default=0, help="picks residents and sampling seeds (default: 0)")
    dpo.set_defaults(handler=_dpo)
    return parser


def _check_outputs(out: Path, inputs: list[Path]) -> None:
    """The dataset and its card may not overwrite an input (a run's decisions.jsonl) nor go through a link."""
    from agentopia_mesa.run.outputs import check_output

    check_output("--out", out, inputs)
    check_output("--out (its card)", out.with_suffix(".md"), inputs)


def _sft(args) -> int:
    from agentopia_mesa.datasets.card import sft_card, write_card
    from agentopia_mesa.datasets.env_mix import ENV_MIX, MIX_SEED
    from agentopia_mesa.datasets.selection import TOP_FRACTION
    from agentopia_mesa.datasets.sft import export_sft

    if args.years is not None:
        in_range("--years", args.years, 1, 10_000, whole=True)
    _check_outputs(args.out, args.runs)
    stats = export_sft(args.runs, args.out, fraction=TOP_FRACTION if args.top is None else args.top, layout=args.format,
                       first_years=args.years, models=args.model, stages=args.stage,
                       env_mix=ENV_MIX if args.env_mix is None else args.env_mix, seed=MIX_SEED if args.seed is None else args.seed,
                       tools=args.tools)
    card = write_card(args.out, sft_card(stats))
    left_out = ", ".join(f"{k} {v}" for k, v in stats.excluded.items()) or "none"
    print(f"wrote {args.out}: {stats.samples} samples from {stats.selected_agent_years} of {stats.agent_years} agent-years "
          f"in {len(stats.runs)} run(s) ({stats.multi_turn} multi-turn, {stats.with_tool_calls} with tool calls); "
          f"left out: {left_out}; {stats.mixed} environment samples mixed in; card {card}")
    return 0


def _dpo(args) -> int:
    from agentopia_mesa.datasets.dpo import export_dpo

    _check_outputs(args.out, [args.run])
    stats = export_dpo(args.run, args.out, week=args.week, stage=args.stage, residents=args.resident, prompts=args.prompts,
                       samples=args.samples, temperature=args.temperature, horizon=args.horizon, min_margin=args.min_margin,
                       pairs=args.pairs, llm=args.llm, cache=args.llm_cache, layout=args.format, seed=args.seed,
                       branch=args.branch)
    per_pair = f", {stats.wall_s / stats.pairs:.1f} s per pair" if stats.pairs else ""
    skipped = stats.too_close + stats.single_answer + stats.unmatched
    print(f"wrote {args.out}: {stats.pairs} pairs from {stats.prompts} prompts (week {stats.week}, stage {stats.stage}, "
          f"{stats.rollouts} rollouts of {stats.horizon_weeks} week(s), {skipped} skipped) in {stats.wall_s:.1f} s{per_pair}; "
          f"card {Path(args.out).with_suffix('.md')}")
    return 0
