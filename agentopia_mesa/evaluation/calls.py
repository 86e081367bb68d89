"""How the evaluation asks its models: seeded, tagged requests through the dispatcher, every
decision recorded in the response cache (``llm.recorded.dispatch_recorded``) and replayed from it.

Each call's seed comes from the evaluation's seed and the call's tag (which names the player,
the scene and the round), so the two players sample independently even when they are the same
model, and a re-run asks exactly the same requests: with the cache in ``replay-or-record`` mode
it makes no model call at all, and in ``replay`` mode a call that was never recorded is an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from agentopia_mesa.llm.budgets import answer_budget, family_of
from agentopia_mesa.llm.client import ChatOptions, ChatRequest, LLMClient
from agentopia_mesa.llm.dispatcher import Dispatcher, Outcome
from agentopia_mesa.llm.recorded import dispatch_recorded


@dataclass(frozen=True)
class Ask:
    """One request to make: ``client``, ``tag`` ("eval-actor/A/SCENE/r3"), ``messages``, JSON
    ``schema``, ``parse`` (text -> answer, raising on a bad one) and ``temperature``; its token
    budget is room for the largest answer the schema allows (``budget``, llm/budgets.py)."""

    client: LLMClient
    tag: str
    messages: list[dict]
    schema: dict
    parse: Callable[[str], object]
    temperature: float

    @property
    def budget(self) -> int:
        """The schema's budget for the client's model family."""
        return answer_budget(self.schema, family_of(getattr(self.client, "model", "") or ""))


def call_seed(seed: int, tag: str) -> int:
    """The sampling seed of the call tagged ``tag`` (32 bits of sha256 of "seed/tag")."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{tag}".encode()).digest()[:4], "big")


class Caller:
    """Runs batches of ``Ask`` through ``dispatcher``; ``on_batch(n)`` is told how many ended."""

    def __init__(self, dispatcher: Dispatcher, seed: int, on_batch: Callable[[int], None] | None = None,
                 think: dict[int, int | None] | None = None):
        self.dispatcher = dispatcher
        self.seed = seed
        self.on_batch = on_batch
        self.think = think or {}  # id(client) -> ChatOptions.think (llm/thinking.py); absent: None
        self.failures = 0

    def run(self, asks: list[Ask]) -> list[Outcome]:
        jobs = []
        for a in asks:
            think = self.think.get(id(a.client))
            options = ChatOptions(temperature=a.temperature, seed=call_seed(self.seed, a.tag),
                                  max_tokens=a.budget + (think or 0), think=think)
            jobs.append((a.client, ChatRequest(messages=tuple(a.messages), schema=a.schema, tag=a.tag, options=options),
                         a.parse))
        outcomes = dispatch_recorded(self.dispatcher, jobs)
        self.failures += sum(o.value is None for o in outcomes)
        if self.on_batch is not None:
            self.on_batch(len(asks))
        return outcomes
