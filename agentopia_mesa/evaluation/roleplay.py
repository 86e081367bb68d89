"""``evaluate_roleplay``: scenes -> plays -> verdicts -> summary -> files, through the LLM layer.

Models are LLM specs as everywhere in the project (``fake``, ``embedded``, ``ollama:NAME``,
``openai:URL:MODEL``, ``replay``; ``llm.factory``). Their clients share one response cache
(default ``OUT/llm-cache.sqlite``) and one dispatcher; every decision is recorded there, so running
the same evaluation again replays it without a model call (``calls``), and
``cache_mode="replay"`` proves it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from agentopia_mesa.evaluation.bootstrap import BOOTSTRAP_DRAWS
from agentopia_mesa.evaluation.calls import Caller
from agentopia_mesa.evaluation.coser import read_coser
from agentopia_mesa.evaluation.judge import Verdict, judge_all
from agentopia_mesa.evaluation.play import MAX_ROUNDS, Play, play_all
from agentopia_mesa.evaluation.report import scores_frame, write_report
from agentopia_mesa.bounds import MAX_SEED, in_range
from agentopia_mesa.run.untrusted import refuse_link, refuse_links_inside
from agentopia_mesa.evaluation.scenes import Scene
from agentopia_mesa.evaluation.summary import Summary, summarise
from agentopia_mesa.evaluation.world_scenes import DEFAULT_WORLD, world_scenes
from agentopia_mesa.llm.dispatcher import DispatchStats
from agentopia_mesa.llm.settings import LLMSettings, MixEntry
from agentopia_mesa.llm.thinking import think_for
from agentopia_mesa.llm.wiring import client_for, dispatcher_for, resolved_concurrency
from agentopia_mesa.run.layout import LLM_CACHE

#: Player labels, in the order of ``--model``.
PLAYERS = ("A", "B")
#: Most scenes one evaluation plays (CoSER's test set has a few hundred); checked before any call.
MAX_SCENES = 100_000

@dataclass(frozen=True)
class RoleplaySettings:
    """What to evaluate: ``models`` (one or two specs: players A and B), the ``judge``'s spec and
    the environment's (``env``; None: the judge's); scenes from ``coser`` (a CoSER test file) or
    else from ``world``: ``scenes`` of them (None: 10 from a world, all of a CoSER file), drawn
    with ``seed``; at most ``rounds`` rounds a play; sampling ``temperature`` of actors and
    narrator; the response ``cache`` (None: ``OUT/llm-cache.sqlite``) and its mode; dispatch
    options; bootstrap ``draws`` (seeded by ``seed``)."""

    models: tuple[str, ...]
    judge: str
    env: str | None = None
    world: str = DEFAULT_WORLD
    coser: str | None = None
    scenes: int | None = None
    rounds: int = MAX_ROUNDS
    seed: int = 0
    temperature: float = 0.7
    cache: str | None = None
    cache_mode: str = "replay-or-record"
    max_concurrency: int | str = 8  # or "auto" (llm.wiring.resolved_concurrency)
    timeout_s: float = 120.0
    draws: int = BOOTSTRAP_DRAWS

    def __post_init__(self) -> None:
        if not 1 <= len(self.models) <= len(PLAYERS):
            raise ValueError(f"--model: give one or two models (players A and B), got {len(self.models)}")
        in_range("--rounds", self.rounds, 1, 1000, whole=True)
        if self.scenes is not None:
            in_range("--scenes", self.scenes, 1, MAX_SCENES, whole=True)
        in_range("--seed", self.seed, 0, MAX_SEED, whole=True)
        in_range("--llm-timeout", self.timeout_s, 0, 86_400, above_low=True)
        in_range("bootstrap draws", self.draws, 1, 10**6, whole=True)

    @property
    def env_spec(self) -> str:
        return self.env or self.judge


@dataclass(frozen=True)
class RoleplayResult:
    plays: list[Play]
    verdicts: list[Verdict]
    summary: Summary
    stats: DispatchStats
    paths: dict[str, Path]

    @property
    def model_calls(self) -> int:
        """Calls that reached a model: neither replayed decisions nor cached answers."""
        return self.stats.calls - self.stats.cached


def load_scenes(settings: RoleplaySettings) -> list[Scene]:
    if settings.coser is not None:
        return read_coser(settings.coser, settings.scenes)
    return world_scenes(settings.world, 10 if settings.scenes is None else settings.scenes, settings.seed)


def evaluate_roleplay(settings: RoleplaySettings, out: str | Path,
                      progress: Callable[[int, int], None] | None = None) -> RoleplayResult:
    """Run the evaluation and write its files into ``out`` (created; earlier result files replaced,
    the cache kept). ``progress(done, total)`` is called as calls end; ``total`` is an upper bound
    (plays may end before their last round) until the last call."""
    scenes = load_scenes(settings)  # a bad file or world fails before any model is loaded
    out = Path(out)
    specs = list(dict.fromkeys([*settings.models, settings.env_spec, settings.judge]))
    # The settings of runs build the clients (cache, checks) and the dispatcher (its timeout measured
    # for the embedded model); their mix only names the specs, no resident is assigned.
    llm = LLMSettings(mix=[MixEntry(spec, 1.0) for spec in specs], cache=str(settings.cache or out / LLM_CACHE),
                      cache_mode=settings.cache_mode, temperature=settings.temperature,
                      max_concurrency=settings.max_concurrency, timeout_s=settings.timeout_s)
    llm = resolved_concurrency(llm)
    settings = replace(settings, max_concurrency=llm.max_concurrency)  # the results record the number used
    refuse_link(out)  # results are written only into a real folder, not through a link in it
    if out.is_dir():
        refuse_links_inside(out)
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        clients = {spec: client_for(spec, llm) for spec in specs}
    except Exception:  # a bad spec or an absent server: leave nothing behind, as the other commands
        if made:
            shutil.rmtree(out, ignore_errors=True)
        raise
    plays = [Play(player, spec, scene) for player, spec in zip(PLAYERS, settings.models) for scene in scenes]
    total, done = len(plays) * (2 * settings.rounds + 1), [0]

    def on_batch(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    dispatcher = dispatcher_for(llm)
    if progress is not None:  # also as each call of a batch ends: a batch of embedded calls takes minutes
        dispatcher.on_progress = lambda p: progress(done[0] + p.done, total)
    # reasoning of thinking models: each spec's own #think=..., else off (llm/thinking.py)
    caller = Caller(dispatcher, settings.seed, on_batch, think={id(c): think_for(spec, c) for spec, c in clients.items()})
    actors = {player: clients[spec] for player, spec in zip(PLAYERS, settings.models)}
    play_all(plays, actors, clients[settings.env_spec], caller, settings.rounds, settings.temperature)
    verdicts = judge_all(plays, clients[settings.judge], caller)
    if progress is not None:  # plays that ended before their last round leave the bound unreached
        progress(done[0], done[0])
    summary = summarise(scores_frame(plays, verdicts), settings.seed, settings.draws)
    meta = {"settings": asdict(settings), "scenes": len(scenes), "plays": len(plays),
            "clients": {spec: client.name for spec, client in clients.items()},
            "calls": dispatcher.stats.calls, "cached": dispatcher.stats.cached,
            "model_calls": dispatcher.stats.calls - dispatcher.stats.cached, "failed_calls": caller.failures,
            "unjudged": sum(v.scores is None for v in verdicts)}
    paths = write_report(out, plays, verdicts, summary, meta)
    return RoleplayResult(plays, verdicts, summary, dispatcher.stats, paths)
