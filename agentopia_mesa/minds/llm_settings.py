"""Build the minds of a society from run settings, and give them back their clients on resume.

Settings are plain data (saved in the run's ``config.json``): the mix of LLM specs, the cache
file and mode, sampling and dispatch options. The same settings rebuild identical clients when
a run is resumed or branched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from agentopia_mesa.llm.concurrency import AUTO, FALLBACK, auto_concurrency
from agentopia_mesa.llm.thinking import DEFAULT_THINK, split_spec, think_for, think_tokens
from agentopia_mesa.minds.assign import RULES, MixEntry, assignment, mind_factory, parse_mix

ENVIRONMENTS = ("rules", "llm")
RATINGS = ("self", "environment")


@dataclass
class LLMSettings:
    mix: list[MixEntry] = field(default_factory=list)  # empty: rules only
    assign: dict[str, str] = field(default_factory=dict)  # resident name -> spec, before the mix
    cache: str | None = None  # SQLite response cache; None = no cache
    cache_mode: str = "replay-or-record"
    temperature: float = 0.7
    max_tokens: int | None = None  # a ceiling on every call's budget (None: each budget as computed, llm/budgets.py)
    max_concurrency: int | str = 8  # or "auto": twice the servers' slots (resolved_concurrency)
    timeout_s: float = 120.0
    retries: int = 2
    check: bool = True  # ask each backend whether it can serve before the run starts
    env: str = "rules"  # who judges: "rules" (the formulas) or "llm" (an LLM environment)
    env_llm: str | None = None  # the LLM environment's spec (None: the residents' --llm)
    ratings: str | None = None  # "self" or "environment" (None: environment with an LLM environment, else self)
    think: str = DEFAULT_THINK  # reasoning of models that can (llm/thinking.py): off, on, server or N tokens

    def __post_init__(self) -> None:
        check_llm_options(self.temperature, self.max_concurrency, self.timeout_s, self.retries, self.max_tokens)
        try:
            think_tokens(self.think)
            for spec in [e.spec for e in self.mix] + list(self.assign.values()) + [self.env_llm or RULES]:
                split_spec(spec)
        except ValueError as exc:
            raise ValueError(f"--think: {str(exc).removeprefix('think: ')}" if str(exc).startswith("think:")
                             else str(exc)) from None
        if self.env not in ENVIRONMENTS:
            raise ValueError(f"--env: must be one of {', '.join(ENVIRONMENTS)}, got {self.env!r}")
        if self.ratings not in (None, *RATINGS):
            raise ValueError(f"--ratings: must be one of {', '.join(RATINGS)}, got {self.ratings!r}")
        if self.env_llm is not None and self.env != "llm":
            raise ValueError("--env-llm: only with --env llm (the rule environment uses no model)")
        if self.env == "llm" and self.env_spec is None:
            raise ValueError("--env llm: name its model with --env-llm SPEC (no resident has an LLM mind to share it)")

    @property
    def env_spec(self) -> str | None:
        """The LLM environment's spec: ``env_llm``, else the first LLM spec of the residents; None for rules."""
        if self.env != "llm":
            return None
        if self.env_llm:
            return self.env_llm
        specs = [entry.spec for entry in self.mix if entry.spec != RULES]
        specs += [spec for spec in self.assign.values() if spec != RULES]
        return specs[0] if specs else None

    @property
    def ratings_by(self) -> str:
        """Who makes the yearly ratings: "environment" or "self"."""
        return self.ratings or ("environment" if self.env == "llm" else "self")

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
        """Settings saved in a run's config.json (which may have been edited): anything that does
        not fit is one ValueError, not a traceback."""
        try:
            data = dict(data or {})
            data["mix"] = [MixEntry(**e) for e in data.get("mix", [])]
            return cls(**data)
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"config.json: the llm settings cannot be read ({str(exc)[:200]})") from None

    def to_dict(self) -> dict:
        """As saved in config.json; the environment's settings only when they are not the defaults
        (so a rules-environment run's config.json reads as before they existed)."""
        data = asdict(self)
        for key in ("env", "env_llm", "ratings", "think"):
            if data[key] == getattr(LLMSettings, key):
                del data[key]
        return data

    @property
    def uses_llm(self) -> bool:
        return bool(self.mix) or any(spec != RULES for spec in self.assign.values()) or self.env == "llm"


def check_llm_options(temperature, max_concurrency, timeout_s, retries=0, max_tokens=1) -> None:
    """Every sampling and dispatch option in range, or one ValueError naming its flag."""
    import math

    def number(value, low, high, low_open=False) -> bool:
        return (not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
                and (value > low if low_open else value >= low) and value <= high)

    def whole(value, low, high) -> bool:
        return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high

    if not number(temperature, 0, 10):
        raise ValueError(f"--temperature: must be a number in [0, 10], got {temperature!r}")
    if max_concurrency != AUTO and not whole(max_concurrency, 1, 1024):
        raise ValueError(f"--max-concurrency: must be auto or a whole number in [1, 1024], got {max_concurrency!r}")
    if not number(timeout_s, 0, 86400, low_open=True):
        raise ValueError(f"--llm-timeout: must be a number of seconds in (0, 86400], got {timeout_s!r}")
    if not whole(retries, 0, 100):
        raise ValueError(f"llm retries: must be a whole number in [0, 100], got {retries!r}")
    if max_tokens is not None and not whole(max_tokens, 1, 10**6):
        raise ValueError(f"llm max_tokens: must be a whole number in [1, 1000000], got {max_tokens!r}")


def _is_http(spec: str) -> bool:
    return spec.split(":", 1)[0] in ("ollama", "openai")


def client_for(spec: str, settings: LLMSettings):
    from agentopia_mesa.llm.factory import make_client

    # HTTP backends stop waiting when the dispatcher does, so a hung server's calls end too.
    client = make_client(spec, cache_path=settings.cache, cache_mode=settings.cache_mode,
                         **({"timeout_s": settings.timeout_s} if _is_http(spec) else {}))
    if settings.check:
        client.check()
    return client


#: Spec kinds with a server whose parallel slots ``--max-concurrency auto`` follows (fake and
#: replay answer at once, in this process).
SERVED = ("embedded", "ollama", "openai")
#: Seconds to wait for a server's answer about its slots.
SLOTS_TIMEOUT_S = 10.0


def resolved_concurrency(settings: LLMSettings) -> LLMSettings:
    """``settings`` with ``max_concurrency`` "auto" replaced by a number: twice the parallel slots
    of every server its specs call, or 8 where one does not say (llm/concurrency.py). A run
    records the number in its config.json, so a resumed run keeps it. Runs that call no server
    (rules, fake, pure replay) get 8."""
    if settings.max_concurrency != AUTO:
        return settings
    if not settings.uses_llm or settings.cache_mode == "replay":
        return replace(settings, max_concurrency=FALLBACK)
    from agentopia_mesa.llm.factory import make_backend

    specs = [entry.spec for entry in settings.mix] + list(settings.assign.values()) + [settings.env_spec or RULES]
    served = sorted({spec.strip() for spec in specs if spec.strip().split(":", 1)[0] in SERVED})
    backends = [make_backend(spec, **({"timeout_s": min(SLOTS_TIMEOUT_S, settings.timeout_s)} if _is_http(spec) else {}))
                for spec in served]
    return replace(settings, max_concurrency=auto_concurrency(backends) if backends else FALLBACK)


def dispatcher_for(settings: LLMSettings):
    from agentopia_mesa.llm.dispatcher import Dispatcher

    from agentopia_mesa.llm.timeouts import dispatch_timeout  # embedded: from its measured speed

    settings = resolved_concurrency(settings)
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
    dispatcher = dispatcher_for(settings)

    def make(spec: str, model):
        client = client_for(spec, settings)
        return LLMMind(client, model.rule_mind, dispatcher, temperature=settings.temperature,
                       max_tokens=settings.max_tokens, seed=seed, spec=spec, think=think_for(spec, client, settings.think))

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
    for mind in model.minds.values():
        if isinstance(mind, LLMMind):
            seen.setdefault(id(mind), mind)
    return list(seen.values())


def reattach_minds(model, settings: LLMSettings, recorder=None) -> None:
    """After loading a checkpoint: new clients (same specs, same cache) for every LLM mind."""
    minds = llm_minds(model)
    if not minds:
        return
    dispatcher = dispatcher_for(settings)
    for mind in minds:
        mind.reattach(client_for(mind.spec, settings), dispatcher, recorder)
