"""Build the minds of a society from run settings, and give them back their clients on resume.

Settings are plain data (saved in the run's ``config.json``): the mix of LLM specs, the cache
file and mode, sampling and dispatch options. The same settings rebuild identical clients when
a run is resumed or branched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from agentopia_mesa.minds.assign import RULES, MixEntry, assignment, mind_factory, parse_mix


@dataclass
class LLMSettings:
    mix: list[MixEntry] = field(default_factory=list)  # empty: rules only
    assign: dict[str, str] = field(default_factory=dict)  # resident name -> spec, before the mix
    cache: str | None = None  # SQLite response cache; None = no cache
    cache_mode: str = "replay-or-record"
    temperature: float = 0.7
    max_tokens: int = 640  # a ceiling; each stage has its own smaller budget (llm_mind.MAX_TOKENS)
    max_concurrency: int = 8
    timeout_s: float = 120.0
    retries: int = 2
    check: bool = True  # ask each backend whether it can serve before the run starts

    @classmethod
    def from_args(cls, mind: str, llm: str, mix: str | None, assign: dict[str, str] | None = None,
                  **options) -> LLMSettings:
        """``assign`` names residents' specs explicitly; the others follow ``mix`` (``--llm`` for
        everyone without ``--mix`` and without ``assign``; rules for the rest)."""
        if mind == RULES:
            if mix or assign:
                raise ValueError(f"{'--mix' if mix else '--assign'}: only with --mind llm")
            return cls(**options)
        entries = parse_mix(mix) if mix else ([] if assign else [MixEntry(llm, 1.0)])
        return cls(mix=entries, assign=dict(assign or {}), **options)

    @classmethod
    def from_dict(cls, data: dict | None) -> LLMSettings:
        data = dict(data or {})
        data["mix"] = [MixEntry(**e) for e in data.get("mix", [])]
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def uses_llm(self) -> bool:
        return bool(self.mix) or any(spec != RULES for spec in self.assign.values())


def _client(spec: str, settings: LLMSettings):
    from agentopia_mesa.llm.factory import make_client

    # HTTP backends stop waiting when the dispatcher does, so a hung server's calls end too.
    http = spec.split(":", 1)[0] in ("ollama", "openai")
    client = make_client(spec, cache_path=settings.cache, cache_mode=settings.cache_mode,
                         **({"timeout_s": settings.timeout_s} if http else {}))
    if settings.check:
        client.check()
    return client


def _dispatcher(settings: LLMSettings):
    from agentopia_mesa.llm.dispatcher import Dispatcher

    from agentopia_mesa.llm.timeouts import dispatch_timeout  # embedded: from its measured speed

    return Dispatcher(max_concurrency=settings.max_concurrency, timeout_s=dispatch_timeout(settings),
                      retries=settings.retries)


def minds_for(settings: LLMSettings, n_residents: int, seed: int, names: list[str] | None = None):
    """The ``minds`` argument for ``AgentopiaModel`` and the spec assigned to each resident index.

    ``names`` (the residents' names, in order) is needed when ``settings.assign`` names residents.
    """
    if not settings.uses_llm:
        return None, [RULES] * n_residents
    from agentopia_mesa.minds.llm_mind import LLMMind

    specs = assignment(n_residents, settings.mix, seed)
    if settings.assign:
        specs = _assigned(specs, settings.assign, names)
    dispatcher = _dispatcher(settings)

    def make(spec: str, model):
        return LLMMind(_client(spec, settings), model.rule_mind, dispatcher, temperature=settings.temperature,
                       max_tokens=settings.max_tokens, seed=seed, spec=spec)

    return mind_factory(specs, make), specs


def _assigned(specs: list[str], assign: dict[str, str], names: list[str] | None) -> list[str]:
    """``specs`` with the explicitly assigned residents' specs put in; unknown names are an error."""
    if names is None:
        raise ValueError("--assign: the residents' names are needed to assign minds by name")
    unknown = sorted(set(assign) - set(names))
    if unknown:
        raise ValueError(f"--assign: no resident named {unknown[0]!r} in this world"
                         + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    return [assign.get(name, spec) for name, spec in zip(names, specs, strict=True)]


def llm_minds(model) -> list:
    from agentopia_mesa.minds.llm_mind import LLMMind

    seen: dict[int, LLMMind] = {}
    for r in model.residents:
        if isinstance(r.mind, LLMMind):
            seen.setdefault(id(r.mind), r.mind)
    return list(seen.values())


def reattach_minds(model, settings: LLMSettings, recorder=None) -> None:
    """After loading a checkpoint: new clients (same specs, same cache) for every LLM mind."""
    minds = llm_minds(model)
    if not minds:
        return
    dispatcher = _dispatcher(settings)
    for mind in minds:
        mind.reattach(_client(mind.spec, settings), dispatcher, recorder)
