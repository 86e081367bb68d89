"""The ``agentopia eval`` sub-commands: ``roleplay`` (CoSER-style role-play evaluation of one or two models)."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentopia_mesa.cli.mind_options import CONCURRENCY_HELP, concurrency_arg
from agentopia_mesa.llm.cache import MODES
from agentopia_mesa.llm.factory import SPEC_FORMS


def add_eval_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``eval roleplay --model A [--model B] --judge SPEC --out DIR``."""
    parser = subparsers.add_parser("eval", help="evaluate models: role-play (CoSER-style given-circumstance acting)")
    commands = parser.add_subparsers(dest="eval_command", required=True)
    roleplay = commands.add_parser(
        "roleplay", help="each model plays every character of the same scenes; a judge counts flaws; scores with 95%% CIs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Given-circumstance acting as CoSER Test does it (Agentopia §8.2): each --model (player A, then B) "
                    "plays every character of every scene while the environment model narrates and picks the next "
                    "speaker, for at most --rounds rounds; the judge lists flaws in storyline consistency, "
                    "anthropomorphism, character fidelity and storyline quality, scored by CoSER's rule "
                    "(100 - 5 x (severities - 0.3 x lines), clipped to 0-100). Scenes come from a world not used "
                    "for training (--world) or from your copy of CoSER's test_set.json (--coser). Writes "
                    "transcripts.jsonl, scores.csv, summary.md and summary.png (means, 95 % bootstrap intervals, "
                    "A - B differences paired by scene) and eval.json into --out; every call goes through the "
                    "response cache there, so a second run replays it without a model call.\n\nLLM specs:\n" + SPEC_FORMS,
    )
    roleplay.add_argument("--model", action="append", required=True, metavar="SPEC",
                          help="a model to evaluate; give it twice for players A and B (e.g. --model embedded "
                               "--model ollama:agentopia-ft; the same spec twice samples independently)")
    roleplay.add_argument("--judge", required=True, metavar="SPEC", help="the judge model")
    roleplay.add_argument("--env", default=None, metavar="SPEC", help="the environment (narrator) model (default: the judge)")
    roleplay.add_argument("--out", type=Path, required=True, help="output directory (created; result files replaced, cache kept)")
    scenes = roleplay.add_argument_group("scenes")
    scenes.add_argument("--world", default=None,
                        help="built-in world name or world .json to build scenes from (default: rivertown, not the "
                             "default training world apartment)")
    scenes.add_argument("--coser", type=Path, default=None, metavar="PATH",
                        help="a CoSER-format test file (the layout of CoSER's data/test/test_set.json) instead of a world")
    scenes.add_argument("--scenes", type=int, default=None, metavar="N",
                        help="number of scenes (default: 10 from a world, all of a --coser file)")
    scenes.add_argument("--rounds", type=int, default=20, help="most rounds per scene (default: 20, CoSER's)")
    scenes.add_argument("--seed", type=int, default=0, help="draws scenes, seeds calls and the bootstrap (default: 0)")
    llm = roleplay.add_argument_group("LLM calls")
    llm.add_argument("--temperature", type=float, default=0.7, help="actors' and narrator's (the judge answers at 0)")
    llm.add_argument("--llm-cache", default=None, metavar="PATH", help="response cache (default: OUT/llm-cache.sqlite)")
    llm.add_argument("--cache-mode", choices=MODES, default="replay-or-record")
    llm.add_argument("--max-concurrency", type=concurrency_arg, default="auto", metavar="auto|N", help=CONCURRENCY_HELP)
    llm.add_argument("--llm-timeout", type=float, default=120.0, metavar="SECONDS",
                     help="per call (default: 120; for embedded the floor of the timeout measured after a warm-up)")
    roleplay.add_argument("--quiet", action="store_true", help="no progress bar")
    roleplay.set_defaults(handler=_roleplay)
    return parser


def _roleplay(args) -> int:
    from tqdm import tqdm

    from agentopia_mesa.evaluation.roleplay import RoleplaySettings, evaluate_roleplay
    from agentopia_mesa.evaluation.world_scenes import DEFAULT_WORLD

    if args.coser is not None and args.world is not None:
        raise ValueError("--coser and --world: give one source of scenes")
    from agentopia_mesa.evaluation.report import FILES
    from agentopia_mesa.run.outputs import check_output

    inputs = [p for p in (args.coser, args.world) if p is not None and Path(p).exists()]
    for name in FILES:  # no result file over the scenes' own file
        check_output("--out", args.out / name, inputs)
    settings = RoleplaySettings(
        models=tuple(args.model), judge=args.judge, env=args.env, world=args.world or DEFAULT_WORLD,
        coser=None if args.coser is None else str(args.coser), scenes=args.scenes, rounds=args.rounds, seed=args.seed,
        temperature=args.temperature, cache=args.llm_cache, cache_mode=args.cache_mode,
        max_concurrency=args.max_concurrency, timeout_s=args.llm_timeout)
    with tqdm(total=None, unit="call", disable=args.quiet, desc="eval roleplay") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = evaluate_roleplay(settings, args.out, progress)
    print(result.paths["summary.md"].read_text(encoding="utf-8"), end="")
    print(f"{len(result.plays)} plays, {result.model_calls} model calls ({result.stats.cached} cached answers; "
          f"replayed decisions make none); files in {args.out}")
    return 0
