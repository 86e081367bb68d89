"""A run's LLM settings: plain data, saved in its ``config.json``, from which the LLM wiring
(``llm.wiring``) builds the clients, the cache and the dispatcher.

Which LLM spec serves which share of the residents (``mix``, ``assign``), which judges the world
(``env``, ``env_llm``), the cache file and mode, sampling and dispatch options. Minds, the
environment, the role-play evaluation and a run's builder all read these same settings, so the
same settings rebuild identical clients when a run is resumed or branched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from agentopia_mesa.llm.concurrency import AUTO
from agentopia_mesa.llm.thinking import DEFAULT_THINK, split_spec, think_tokens

#: The spec of a resident decided by the rules (no LLM).
RULES = "rules"


@dataclass(frozen=True)
class MixEntry:
    spec: str  # "rules" or an LLM client spec (embedded, ollama:MODEL, openai:URL:MODEL, replay)
    fraction: float


def parse_mix(text: str) -> list[MixEntry]:
    """``SPEC=FRACTION,SPEC=FRACTION``; fractions in (0, 1] summing to at most 1.

    Model names contain ':' and URLs contain '=' rarely, so each item splits at its last '='.
    """
    entries = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        spec, sep, fraction = item.rpartition("=")
        if not sep or not spec:
            raise ValueError(f"--mix: {item!r} is not SPEC=FRACTION (e.g. ollama:qwen3:4b=0.5)")
        try:
            value = float(fraction)
        except ValueError:
            raise ValueError(f"--mix: {fraction!r} in {item!r} is not a number") from None
        if not 0 < value <= 1:
            raise ValueError(f"--mix: fraction {value} for {spec!r} must be in (0, 1]")
        entries.append(MixEntry(spec, value))
    if not entries:
        raise ValueError("--mix: give at least one SPEC=FRACTION")
    if sum(e.fraction for e in entries) > 1 + 1e-9:
        raise ValueError(f"--mix: fractions add up to {sum(e.fraction for e in entries):g}, more than 1")
    return entries


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
