"""The ``agentopia`` command: run simulations and make worlds.

Bad input ends with one line on stderr naming the field and the fix, exit code 2, and no run
directory left behind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentopia_mesa.bounds import MAX_SEED, MAX_YEARS, in_range
from agentopia_mesa.cli.analyze import add_analyze_parser
from agentopia_mesa.analysis.compare import add_compare_parser
from agentopia_mesa.cli.dataset import add_dataset_parser
from agentopia_mesa.cli.eval import add_eval_parser
from agentopia_mesa.cli.mind_options import CONCURRENCY_HELP, check_mind_options, concurrency_arg
from agentopia_mesa.cli.parsing import Parser, handle
from agentopia_mesa.cli.progress import show_llm_progress
from agentopia_mesa.config import DEFAULT_PROFILE, PROFILES
from agentopia_mesa.run.checkpoints import keep_arg
from agentopia_mesa.llm.client import LLMError
from agentopia_mesa.run.lock import release_all_run_locks
from agentopia_mesa.cli.sweep import add_sweep_parser
from agentopia_mesa.cli.train import add_train_parser
from agentopia_mesa.cli.viz import add_viz_parser

#: Largest --assign file read (one name and spec per resident: a 10,000-resident town is under 1 MiB).
ASSIGN_BYTES = 4 * 2**20


class UsageError(ValueError):
    """Bad input from the command line: reported in one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return handle(args, (ValueError, FileNotFoundError, LLMError))  # UsageError is a ValueError
    finally:
        release_all_run_locks()
        if argv is None:  # the command itself, about to exit: leave its objects to the OS
            _skip_final_collection()


def _skip_final_collection() -> None:
    """Spare the interpreter's last garbage collection at exit: a finished town is millions of
    objects in reference cycles, and collecting them one by one took 0.5 s of a 100-resident,
    ten-year ``agentopia run``. Frozen objects (``gc.freeze``) are never collected; atexit
    handlers still run and open files are already closed. Not for ``main(argv)`` called in a
    process that goes on (tests), which would keep every model it built."""
    import gc

    gc.freeze()


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="agentopia", description="Long-term life simulation in agent societies (Agentopia on Mesa).")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="simulate a town and write a run directory")
    run.add_argument("--world", default="apartment", help="built-in world name or path to a world .json (default: apartment)")
    run.add_argument("--years", type=int, default=10, help="simulated years (default: 10)")
    run.add_argument("--residents", type=int, default=None, help="number of residents (default: all of the world's)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    run.add_argument("--weeks-per-year", type=int, default=None, help="weeks in a simulated year (default: 10, as the paper)")
    run.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<world>-seed<seed>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    run.add_argument("--checkpoint-every", type=int, default=None, metavar="WEEKS",
                     help="checkpoint every N weeks so the run can be resumed (0 = never; default: every week "
                          "with LLM minds, every simulated year with rules, where a week takes milliseconds)")
    run.add_argument("--keep-checkpoints", type=keep_arg, default="3", metavar="N|all",
                     help="checkpoints kept: each simulated year's last week (for branch --week) plus the newest N "
                          "(default: 3), or all")
    run.add_argument("--tables", choices=["csv", "parquet"], default="csv",
                     help="format of the per-resident tables (residents, ties, residents_yearly): csv (default) or "
                          "parquet, smaller and faster for big runs, written in the background (README, run directory)")
    run.add_argument("--set", action="append", default=[], metavar="SECTION__FIELD=VALUE",
                     help="override any configuration field, e.g. --set needs__decay=0.2 (repeatable; VALUE is JSON or text)")
    minds = run.add_argument_group("minds (who decides)")
    minds.add_argument("--mind", choices=["rules", "llm"], default="rules", help="rule-based minds (default) or LLM minds")
    minds.add_argument("--llm", default="embedded", metavar="SPEC",
                       help="with --mind llm: embedded (default, in-process, no server), ollama:MODEL, openai:URL:MODEL, replay, fake; "
                            "another SPEC without --mind llm is an error (the run would use rules)")
    minds.add_argument("--mix", default=None, metavar="SPEC=FRACTION,...",
                       help="a mixed society, e.g. ollama:qwen3:4b=0.5,ollama:agentopia-ft=0.5 (the rest use rules)")
    minds.add_argument("--assign", type=Path, default=None, metavar="FILE",
                       help='a JSON object naming residents\' minds, e.g. {"Ana Lopez": "ollama:agentopia-ft", '
                            '"Ben Wu": "rules"}; the others follow --mix (or rules when --mix is not given)')
    minds.add_argument("--llm-cache", default=None, metavar="PATH",
                       help="SQLite response cache (default: llm-cache.sqlite in the run directory; share one across runs)")
    minds.add_argument("--cache-mode", choices=["record", "replay", "replay-or-record"], default="replay-or-record")
    minds.add_argument("--temperature", type=float, default=0.7)
    minds.add_argument("--max-concurrency", type=concurrency_arg, default="auto", metavar="auto|N", help=CONCURRENCY_HELP)
    minds.add_argument("--llm-timeout", type=float, default=120.0, metavar="SECONDS",
                       help="per LLM call, queueing included (default: 120); for embedded the floor: its timeout "
                            "is set from the speed measured after a warm-up call (README, LLM minds)")
    judge = run.add_argument_group("environment (who judges what happens)")
    run.add_argument("--profile", choices=sorted(PROFILES), default=None,
                     help="settings of LLM runs: lean (default: a few short turns per conversation, no entry or exit "
                          "calls) or paper (the paper's conversations: entry analysis, 5-20 turns of up to 200 words, "
                          "exit reflection; and --env llm); --env and --set override it (README, conversations)")
    judge.add_argument("--env", choices=["rules", "llm"], default=None,
                       help="the rule environment's formulas (default; llm with --profile paper) or an LLM environment "
                            "model that judges conversations turn by turn, outcomes, "
                            "the shop, events, encounters, jobs, hiring and profile rewrites (README, LLM environment)")
    judge.add_argument("--env-llm", default=None, metavar="SPEC",
                       help="with --env llm: the environment's model, e.g. a bigger one than the residents' "
                            "(default: the residents' --llm)")
    judge.add_argument("--ratings", choices=["self", "environment"], default=None,
                       help="who makes the yearly ratings: each resident's own mind, or the environment on its behalf "
                            "(default: environment with --env llm, else self)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)

    resume = commands.add_parser("resume", help="continue a stopped or killed run from its last checkpoint")
    resume.add_argument("run_dir", type=Path)
    resume.add_argument("--quiet", action="store_true")
    resume.set_defaults(handler=_resume)

    branch = commands.add_parser("branch", help="fork a run at a week's checkpoint into a new run directory")
    branch.add_argument("run_dir", type=Path)
    branch.add_argument("--week", type=int, required=True, help="the week (weeks completed) to fork at")
    branch.add_argument("--out", type=Path, required=True, help="the new run directory")
    branch.add_argument("--seed", type=int, default=None, help="reseed the branch's randomness (default: keep the stream)")
    branch.add_argument("--quiet", action="store_true")
    branch.set_defaults(handler=_branch)

    add_sweep_parser(commands)
    add_analyze_parser(commands)
    add_viz_parser(commands)
    add_dataset_parser(commands)
    add_compare_parser(commands)
    add_train_parser(commands)
    add_eval_parser(commands)

    world = commands.add_parser("world", help="list, check and make worlds")
    world_commands = world.add_subparsers(dest="world_command", required=True)
    listing = world_commands.add_parser("list", help="list the built-in worlds")
    listing.set_defaults(handler=_world_list)
    check = world_commands.add_parser("check", help="validate a world file")
    check.add_argument("path", type=Path)
    check.set_defaults(handler=_world_check)
    new = world_commands.add_parser("new", help="generate a world of N residents from a theme and a seed")
    new.add_argument("--theme", default="apartment", help="apartment, school or rivertown")
    new.add_argument("--residents", type=int, default=100)
    new.add_argument("--seed", type=int, default=0)
    new.add_argument("--name", default=None, help="world name (default: the theme)")
    new.add_argument("--out", type=Path, required=True, help="where to write the world .json")
    new.set_defaults(handler=_world_new)
    return parser


def _run(args) -> int:
    from dataclasses import replace

    from agentopia_mesa.minds.llm_settings import LLMSettings
    from agentopia_mesa.run.builder import RunSettings, start_run

    profile = args.profile or DEFAULT_PROFILE
    if args.env is None:
        if profile == "paper" and args.mind == "rules" and args.env_llm is None and not args.mix and args.assign is None:
            raise UsageError("--profile paper: the environment is an LLM; name its model with --env-llm SPEC "
                             "(or give the residents one with --mind llm), or keep the rule environment with --env rules")
        args.env = "llm" if profile == "paper" else "rules"
    check_mind_options(args)  # --llm without --mind llm: an error, not a rules run
    in_range("--years", args.years, 1, MAX_YEARS, whole=True)
    if args.residents is not None and args.residents < 1:
        raise UsageError(f"--residents: must be at least 1, got {args.residents}")
    if args.seed < 0:  # numpy's generators take no negative seed
        raise UsageError(f"--seed: must be 0 or more, got {args.seed}")
    in_range("--seed", args.seed, 0, MAX_SEED, whole=True)
    if args.checkpoint_every is not None:
        in_range("--checkpoint-every", args.checkpoint_every, 0, 10**6, whole=True)
    if args.max_concurrency != "auto" and args.max_concurrency < 1:
        raise UsageError(f"--max-concurrency: must be at least 1, got {args.max_concurrency}")
    overrides = _parse_sets(args.set)
    if args.weeks_per_year is not None:
        if args.weeks_per_year < 1:
            raise UsageError(f"--weeks-per-year: must be at least 1, got {args.weeks_per_year}")
        overrides["calendar__weeks_per_year"] = args.weeks_per_year
    llm = LLMSettings.from_args(
        args.mind, args.llm, args.mix, _read_assign(args.assign), cache_mode=args.cache_mode, temperature=args.temperature,
        max_concurrency=args.max_concurrency, timeout_s=args.llm_timeout, cache=args.llm_cache,
        env=args.env, env_llm=args.env_llm, ratings=args.ratings,
    )
    if llm.uses_llm:  # a profile shapes LLM runs; a rules run plays the paper's conversations with templates
        overrides = {**PROFILES[profile], **overrides}
    settings = RunSettings(world=args.world, residents=args.residents, years=args.years, seed=args.seed,
                           overrides=overrides, llm=llm, checkpoint_every=args.checkpoint_every,
                           keep_checkpoints=args.keep_checkpoints, tables=args.tables)
    settings.config()  # a bad --set is one line before anything is made
    world = settings.world_spec()
    out = args.out or Path("runs") / f"{world.name}-seed{args.seed}"
    run = start_run(replace(settings, world=world, residents=None), out, overwrite=args.overwrite,
                    world_label=str(args.world), extra_meta={"profile": profile} if llm.uses_llm else None)
    return _drive(run, args.quiet)


def _read_assign(path: Path | None) -> dict[str, str] | None:
    """The ``--assign`` file: a JSON object of resident name -> mind spec (strings)."""
    from agentopia_mesa.run.untrusted import UntrustedFileError, read_json

    if path is None:
        return None
    try:
        data = read_json(path, cap=ASSIGN_BYTES)  # a regular file, capped, nested at most MAX_DEPTH deep
    except UntrustedFileError as exc:
        raise UsageError(f"--assign: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise UsageError(f'--assign: {path} must be one JSON object of names to specs, e.g. {{"Ana Lopez": "embedded"}}')
    return data


def _parse_sets(items: list[str]) -> dict:
    import json

    overrides = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UsageError(f"--set: {item!r} is not SECTION__FIELD=VALUE (e.g. needs__decay=0.2)")
        try:
            overrides[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key.strip()] = raw
        except RecursionError:
            raise UsageError(f"--set: {key.strip()}: the value is nested too deeply") from None
    return overrides


def _drive(run, quiet: bool) -> int:
    """Run to the end with a progress bar, checkpoints and results; shared by run, resume, branch."""
    from tqdm import tqdm

    from agentopia_mesa.run.session import Stopped

    model = run.model
    tqdm.monitor_interval = 0  # no monitor thread: a single-threaded run writes its checkpoints in the background
    with tqdm(total=model.total_weeks, initial=model.weeks_done, unit="week", disable=quiet, desc=model.world.name) as bar:
        show_llm_progress(model, bar)  # stage, calls done/pending, tokens/s inside a week
        def progress(m):
            bar.set_postfix_str(_progress_note(m), refresh=False)
            bar.update(1)
            if not m.running:  # stop the clock: like the summary's wall time, the bar's leaves out writing results
                bar.close()

        try:
            paths = run.live(progress=progress)
        except Stopped as stopped:
            bar.close()
            print(f"agentopia: {stopped}", file=sys.stderr)
            return stopped.exit_code
    if not quiet:
        print(paths["summary"].read_text(encoding="utf-8"), end="")
    print(f"run directory: {run.layout.root}")
    return 0


def _progress_note(model) -> str:
    from agentopia_mesa.run.faults import fault_report

    note = f"Y{model.calendar.year} ties {model.ties.n_ties()}"
    llm = fault_report(model)["llm"]
    if llm["minds"]:
        tokens = llm["prompt_tokens"] + llm["completion_tokens"]
        note += f" | LLM calls {llm['calls']} tokens {tokens} fallbacks {llm['fallbacks']}"
    return note


def _resume(args) -> int:
    from agentopia_mesa.run.builder import resume_run

    run, path = resume_run(args.run_dir)
    if run.finished:  # else its results are still to write
        print(f"{args.run_dir}: already finished ({run.model.weeks_done} weeks)")
        return 0
    print(f"resuming {args.run_dir} from {path.name} ({run.model.weeks_done} of {run.model.total_weeks} weeks)", file=sys.stderr)
    return _drive(run, args.quiet)


def _branch(args) -> int:
    from agentopia_mesa.run.builder import branch_run

    return _drive(branch_run(args.run_dir, args.week, args.out, seed=args.seed), args.quiet)


def _world_list(args) -> int:
    from agentopia_mesa.world.loader import builtin_world_names, load_world

    for name in builtin_world_names():
        world = load_world(name)
        print(f"{name:12s} {len(world.residents):4d} residents  {world.title}")
    return 0


def _world_check(args) -> int:
    from agentopia_mesa.world.loader import load_world

    world = load_world(args.path)
    print(f"{args.path}: ok ({len(world.residents)} residents, {len(world.places)} places, {len(world.jobs)} jobs)")
    return 0


def _world_new(args) -> int:
    from agentopia_mesa.run.files import write_json
    from agentopia_mesa.world.generate import THEMES, generate_world

    if args.theme not in THEMES:
        raise UsageError(f"--theme: unknown theme {args.theme!r}; choose one of {', '.join(THEMES)}")
    if args.residents < 1:
        raise UsageError(f"--residents: must be at least 1, got {args.residents}")
    if args.out.is_dir():
        raise UsageError(f"--out: {args.out} is a directory; give the path of the world .json to write")
    world = generate_world(args.theme, residents=args.residents, seed=args.seed, name=args.name)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, world.model_dump(mode="json"))
    print(f"wrote {args.out}: {len(world.residents)} residents, {len(world.places)} places, {len(world.jobs)} jobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
