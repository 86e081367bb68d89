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
from agentopia_mesa.config import SimulationConfig
from agentopia_mesa.cli.dataset import add_dataset_parser
from agentopia_mesa.llm.client import LLMError
from agentopia_mesa.run.lock import check_branch, check_streams, hold_run_lock, release_all_run_locks
from agentopia_mesa.cli.sweep import add_sweep_parser
from agentopia_mesa.cli.viz import add_viz_parser


class UsageError(ValueError):
    """Bad input from the command line: reported in one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (UsageError, ValueError, FileNotFoundError, LLMError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"agentopia: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("agentopia: interrupted", file=sys.stderr)
        return 130
    finally:
        release_all_run_locks()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentopia", description="Long-term life simulation in agent societies (Agentopia on Mesa).")
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
    run.add_argument("--set", action="append", default=[], metavar="SECTION__FIELD=VALUE",
                     help="override any configuration field, e.g. --set needs__decay=0.2 (repeatable; VALUE is JSON or text)")
    minds = run.add_argument_group("minds (who decides)")
    minds.add_argument("--mind", choices=["rules", "llm"], default="rules", help="rule-based minds (default) or LLM minds")
    minds.add_argument("--llm", default="embedded", metavar="SPEC",
                       help="with --mind llm: embedded (default, in-process, no server), ollama:MODEL, openai:URL:MODEL, replay, fake")
    minds.add_argument("--mix", default=None, metavar="SPEC=FRACTION,...",
                       help="a mixed society, e.g. ollama:qwen3:4b=0.5,ollama:agentopia-ft=0.5 (the rest use rules)")
    minds.add_argument("--assign", type=Path, default=None, metavar="FILE",
                       help='a JSON object naming residents\' minds, e.g. {"Ana Lopez": "ollama:agentopia-ft", '
                            '"Ben Wu": "rules"}; the others follow --mix (or rules when --mix is not given)')
    minds.add_argument("--llm-cache", default=None, metavar="PATH",
                       help="SQLite response cache (default: llm-cache.sqlite in the run directory; share one across runs)")
    minds.add_argument("--cache-mode", choices=["record", "replay", "replay-or-record"], default="replay-or-record")
    minds.add_argument("--temperature", type=float, default=0.7)
    minds.add_argument("--max-concurrency", type=int, default=8, help="LLM calls in flight at once (default: 8)")
    minds.add_argument("--llm-timeout", type=float, default=120.0, metavar="SECONDS")
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
    import shutil

    from agentopia_mesa.minds.llm_settings import LLMSettings, default_cache, minds_for
    from agentopia_mesa.model import AgentopiaModel
    from agentopia_mesa.run.results import prepare_run_dir, run_metadata, write_start
    from agentopia_mesa.run.session import attach_recorders
    from agentopia_mesa.run.trajectories import attach_trajectories
    from agentopia_mesa.world.loader import load_world, resize_world

    if args.years < 1:
        raise UsageError(f"--years: must be at least 1, got {args.years}")
    if args.residents is not None and args.residents < 1:
        raise UsageError(f"--residents: must be at least 1, got {args.residents}")
    if args.checkpoint_every is not None and args.checkpoint_every < 0:
        raise UsageError(f"--checkpoint-every: must be 0 or more, got {args.checkpoint_every}")
    if args.max_concurrency < 1:
        raise UsageError(f"--max-concurrency: must be at least 1, got {args.max_concurrency}")
    overrides = _parse_sets(args.set)
    if args.weeks_per_year is not None:
        if args.weeks_per_year < 1:
            raise UsageError(f"--weeks-per-year: must be at least 1, got {args.weeks_per_year}")
        overrides["calendar__weeks_per_year"] = args.weeks_per_year
    config = SimulationConfig().with_flat_overrides(overrides)
    world = load_world(args.world)
    if args.residents is not None:
        world = resize_world(world, args.residents)
    settings = LLMSettings.from_args(
        args.mind, args.llm, args.mix, _read_assign(args.assign), cache_mode=args.cache_mode, temperature=args.temperature,
        max_concurrency=args.max_concurrency, timeout_s=args.llm_timeout,
    )
    out = prepare_run_dir(args.out or Path("runs") / f"{world.name}-seed{args.seed}", overwrite=args.overwrite)
    hold_run_lock(out)
    try:  # from here on a failure (an LLM server that is not there) must not leave a run directory
        if settings.uses_llm:
            settings.cache = args.llm_cache or default_cache(out)
        minds, specs = minds_for(settings, len(world.residents), args.seed, [r.name for r in world.residents])
        model = AgentopiaModel(world=world, years=args.years, seed=args.seed, config=config, minds=minds)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    meta = run_metadata(model, str(args.world), args.seed)
    default_every = 1 if settings.uses_llm else config.calendar.weeks_per_year
    meta["checkpoint_every"] = args.checkpoint_every if args.checkpoint_every is not None else default_every
    meta["overrides"] = overrides
    meta["llm"] = settings.to_dict()
    meta["minds"] = {r.name: spec for r, spec in zip(model.residents, specs, strict=True)}
    write_start(out, model, meta)
    attach_recorders(model, out, fresh=True)
    attach_trajectories(model, out)
    return _drive(model, out, meta, args.quiet)


def _read_assign(path: Path | None) -> dict[str, str] | None:
    """The ``--assign`` file: a JSON object of resident name -> mind spec (strings)."""
    import json

    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--assign: no file {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--assign: {path} is not JSON ({exc})") from None
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
    return overrides


def _drive(model, out: Path, meta: dict, quiet: bool) -> int:
    """Run to the end with a progress bar, checkpoints and results; shared by run, resume, branch."""
    from tqdm import tqdm

    from agentopia_mesa.run.session import Stopped, run_session

    with tqdm(total=model.total_weeks, initial=model.weeks_done, unit="week", disable=quiet, desc=model.world.name) as bar:
        def progress(m):
            bar.set_postfix_str(_progress_note(m), refresh=False)
            bar.update(1)

        try:
            paths = run_session(model, out, meta, checkpoint_every=meta.get("checkpoint_every", 1), progress=progress)
        except Stopped as stopped:
            bar.close()
            print(f"agentopia: {stopped}", file=sys.stderr)
            return stopped.exit_code
    if not quiet:
        print(paths["summary"].read_text(encoding="utf-8"), end="")
    print(f"run directory: {out}")
    return 0


def _progress_note(model) -> str:
    from agentopia_mesa.run.results import fault_report

    note = f"Y{model.calendar.year} ties {model.ties.n_ties()}"
    llm = fault_report(model)["llm"]
    if llm["minds"]:
        tokens = llm["prompt_tokens"] + llm["completion_tokens"]
        note += f" | LLM calls {llm['calls']} tokens {tokens} fallbacks {llm['fallbacks']}"
    return note


def _load_run(run_dir: Path, at_most_week: int | None = None):
    import json

    from agentopia_mesa.run.checkpoints import load_latest

    config = run_dir / "config.json"
    if not config.is_file():
        raise UsageError(f"run_dir: {run_dir} is not a run directory (no config.json)")
    meta = json.loads(config.read_text(encoding="utf-8"))
    from agentopia_mesa.minds.llm_settings import LLMSettings, confine_cache, reattach_minds

    model, path = load_latest(run_dir, at_most_week)
    reattach_minds(model, confine_cache(LLMSettings.from_dict(meta.get("llm")), run_dir))
    return model, meta, path


def _resume(args) -> int:
    from agentopia_mesa.run.session import prepare_resume
    from agentopia_mesa.run.trajectories import attach_trajectories

    model, meta, path = _load_run(args.run_dir)
    if not model.running and (args.run_dir / "summary.txt").exists():  # else its results are still to write
        print(f"{args.run_dir}: already finished ({model.weeks_done} weeks)")
        return 0
    hold_run_lock(args.run_dir)  # before its files are cut back: a second resume at once is refused
    print(f"resuming {args.run_dir} from {path.name} ({model.weeks_done} of {model.total_weeks} weeks)", file=sys.stderr)
    prepare_resume(model, args.run_dir)
    attach_trajectories(model, args.run_dir)
    return _drive(model, args.run_dir, meta, args.quiet)


def _branch(args) -> int:
    import shutil

    import numpy as np

    from agentopia_mesa.run.checkpoints import truncate_streams
    from agentopia_mesa.run.results import prepare_run_dir, write_json
    from agentopia_mesa.run.session import STREAM_FILES, prepare_resume
    from agentopia_mesa.run.trajectories import attach_trajectories

    check_branch(args.run_dir, args.out, args.seed)
    model, meta, path = _load_run(args.run_dir, at_most_week=args.week)
    if model.weeks_done != args.week:
        raise UsageError(f"--week: no checkpoint at week {args.week} in {args.run_dir} (nearest earlier: {model.weeks_done})")
    check_streams(args.run_dir, model)
    out = prepare_run_dir(args.out)
    for name in ("world.json", *STREAM_FILES):
        if (args.run_dir / name).exists():
            shutil.copyfile(args.run_dir / name, out / name)
    truncate_streams(out, getattr(model, "stream_offsets", {}))
    if args.seed is not None:
        model.random.seed(args.seed)
        model.rng = np.random.default_rng(args.seed)
    meta = {**meta, "branched_from": {"run": str(args.run_dir), "week": args.week, "seed": args.seed}}
    write_json(out / "config.json", meta)
    prepare_resume(model, out)
    attach_trajectories(model, out)
    return _drive(model, out, meta, args.quiet)


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
    from agentopia_mesa.run.results import write_json
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
