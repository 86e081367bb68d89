"""The ``agentopia`` command: run simulations and make worlds.

Bad input ends with one line on stderr naming the field and the fix, exit code 2, and no run
directory left behind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentopia_mesa.cli.analyze import add_analyze_parser
from agentopia_mesa.analysis.compare import add_compare_parser
from agentopia_mesa.cli.dataset import add_dataset_parser
from agentopia_mesa.cli.eval import add_eval_parser
from agentopia_mesa.cli.mind_options import add_society_arguments, parse_sets
from agentopia_mesa.cli.parsing import Parser, handle
from agentopia_mesa.cli.progress import show_llm_progress
from agentopia_mesa.run.checkpoints import keep_arg
from agentopia_mesa.llm.client import LLMError
from agentopia_mesa.run.lock import release_all_run_locks
from agentopia_mesa.run.town_options import TOWN_OPTIONS as TOWN
from agentopia_mesa.cli.study import add_study_parser
from agentopia_mesa.cli.sweep import add_sweep_parser
from agentopia_mesa.cli.train import add_train_parser
from agentopia_mesa.cli.viz import add_viz_parser


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
    run.add_argument("--world", default=TOWN["world"].default, help="built-in world name or path to a world .json (default: apartment)")
    run.add_argument("--years", type=int, default=TOWN["years"].default, help="simulated years (default: 10)")
    run.add_argument("--residents", type=int, default=None, help="number of residents (default: all of the world's)")
    run.add_argument("--seed", type=int, default=TOWN["seed"].default, help="random seed (default: 0)")
    run.add_argument("--weeks-per-year", type=int, default=None, help="weeks in a simulated year (default: 10, as the paper)")
    run.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<world>-seed<seed>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    run.add_argument("--checkpoint-every", type=int, default=None, metavar="WEEKS",
                     help="checkpoint every N weeks so the run can be resumed (0 = never; default: every week "
                          "with LLM minds, every simulated year with rules, where a week takes milliseconds)")
    run.add_argument("--keep-checkpoints", type=keep_arg, default=str(TOWN["keep_checkpoints"].default), metavar="N|all",
                     help="checkpoints kept: each simulated year's last week (for branch --week) plus the newest N "
                          "(default: 3), or all")
    run.add_argument("--tables", choices=TOWN["tables"].choices, default=TOWN["tables"].default,
                     help="format of the per-resident tables (residents, ties, residents_yearly): csv (default) or "
                          "parquet, smaller and faster for big runs, written in the background (docs/reference/run-directory.md)")
    add_society_arguments(run)
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
    add_study_parser(commands)

    world = commands.add_parser("world", help="list, check and make worlds")
    world_commands = world.add_subparsers(dest="world_command", required=True)
    listing = world_commands.add_parser("list", help="list the built-in worlds")
    listing.set_defaults(handler=_world_list)
    check = world_commands.add_parser("check", help="validate a world file")
    check.add_argument("path", type=Path)
    check.set_defaults(handler=_world_check)
    new = world_commands.add_parser("new", help="generate a world of N residents from a theme and a seed, "
                                                "or have a language model write one (--llm)")
    new.add_argument("--theme", default="apartment", help="apartment, school or rivertown")
    new.add_argument("--residents", type=int, default=100,
                     help="number of residents (default: 100, the paper's town; with --llm a persona is a long "
                          "answer each, so try a dozen first with a small local model)")
    new.add_argument("--seed", type=int, default=0)
    new.add_argument("--name", default=None, help="world name (default: the theme; with --llm THEME-written)")
    new.add_argument("--out", type=Path, required=True, help="where to write the world .json")
    new.add_argument("--llm", default=None, metavar="SPEC",
                     help="a model writes the places, organisations, households and personas in small steps, "
                          "set in the theme's town with its price list (e.g. fake, embedded, ollama:qwen3:8b)")
    new.add_argument("--llm-cache", type=Path, default=None, metavar="FILE",
                     help="response cache of --llm: a second run with the same seed replays it "
                          "(default: OUT with .llm-cache.sqlite)")
    new.add_argument("--llm-timeout", type=float, default=600.0, metavar="S",
                     help="seconds one --llm call may take (default: 600; a persona is a long answer)")
    new.set_defaults(handler=_world_new)
    return parser


#: Options of ``agentopia run`` that say where and how the command writes, not what town it makes.
RUN_ONLY = ("out", "overwrite", "quiet")


def run_options(args: argparse.Namespace) -> dict:
    """The town options of a parsed ``agentopia run`` (``run/town_options.py``): every option but
    ``RUN_ONLY``'s, so a new flag reaches ``run_settings`` (which refuses one it does not know)."""
    options = {key: value for key, value in vars(args).items() if key not in (*RUN_ONLY, "command", "handler")}
    return {**options, "set": parse_sets(args.set)}


def _run(args) -> int:
    from dataclasses import replace

    from agentopia_mesa.run.builder import start_run
    from agentopia_mesa.run.town_options import run_settings, warn_ignored

    options = run_options(args)
    settings = run_settings(options)
    warn_ignored(options)
    world = settings.world_spec()
    out = args.out or Path("runs") / f"{world.name}-seed{args.seed}"
    run = start_run(replace(settings, world=world, residents=None), out, overwrite=args.overwrite,
                    world_label=str(args.world))
    return _drive(run, args.quiet)


def _drive(run, quiet: bool) -> int:
    """Run to the end with a progress bar, checkpoints and results; shared by run, resume, branch."""
    from tqdm import tqdm

    from agentopia_mesa.run.session import Stopped

    model = run.model
    tqdm.monitor_interval = 0  # no monitor thread: a single-threaded run writes its checkpoints in the background
    with tqdm(total=model.total_weeks, initial=model.weeks_done, unit="week", disable=quiet, desc=model.world.name) as bar:
        show_llm_progress(model, bar)  # stage, calls done/pending, tokens/s inside a week
        warned: set[str] = set()

        def progress(m):
            bar.set_postfix_str(_progress_note(m, warned), refresh=False)
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


def _progress_note(model, warned: set[str]) -> str:
    """The bar's note after a week; a stage whose fallbacks pass 10 % is named once, on stderr
    (above the bar, and with --quiet too): a user must see it the first week, not at the end."""
    from tqdm import tqdm

    from agentopia_mesa.run.faults import fault_report, stage_warnings

    note = f"Y{model.calendar.year} ties {model.ties.n_ties()}"
    faults = fault_report(model)
    for line in stage_warnings(faults):
        stage = line.split(":", 2)[1]
        if stage not in warned:
            warned.add(stage)
            tqdm.write(f"agentopia: week {model.weeks_done}: {line.removeprefix('warning: ')} "
                       f"(summary.txt, faults.json)", file=sys.stderr)
    llm = faults["llm"]
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
    if args.llm is None:
        world = generate_world(args.theme, residents=args.residents, seed=args.seed, name=args.name)
        how = ""
    else:
        world, how = _written_world(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, world.model_dump(mode="json"))
    print(f"wrote {args.out}: {len(world.residents)} residents, {len(world.places)} places, {len(world.jobs)} jobs{how}")
    return 0


def _written_world(args):
    """``world new --llm``: the world a model writes (world/writer), and a note of what it cost."""
    from agentopia_mesa.llm.concurrency import AUTO
    from agentopia_mesa.llm.settings import LLMSettings, MixEntry
    from agentopia_mesa.llm.wiring import client_for, dispatcher_for
    from agentopia_mesa.world.writer.write import write_world

    cache = args.llm_cache or args.out.with_name(args.out.name.removesuffix(".json") + ".llm-cache.sqlite")
    settings = LLMSettings(mix=[MixEntry(args.llm, 1.0)], cache=str(cache), max_concurrency=AUTO,
                           timeout_s=args.llm_timeout)
    written = write_world(client_for(args.llm, settings), dispatcher_for(settings), theme=args.theme,
                          residents=args.residents, seed=args.seed, name=args.name)
    return written.world, (f" ({written.calls} calls to {args.llm}, {written.failed} failed and filled in by "
                           f"defaults; repairs: {written.repairs}; cache {cache})")


if __name__ == "__main__":
    sys.exit(main())
