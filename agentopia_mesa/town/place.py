"""Places on the town grid: homes, workplaces and public places (Mesa ``FixedAgent``)."""

from __future__ import annotations

from mesa.discrete_space import FixedAgent

from agentopia_mesa.world.schema import PlaceSpec

PRIVATE_KINDS = frozenset({"home"})


class Place(FixedAgent):
    """A fixed spot in the town with a kind, a capacity and the activities it affords."""

    def __init__(self, model, spec: PlaceSpec, cell):
        super().__init__(model)
        self.spec = spec
        self.key = spec.key
        self.name = spec.name
        self.kind = spec.kind
        self.capacity = spec.capacity
        self.affordances = frozenset(spec.affordances)
        self.cell = cell

    @property
    def is_public(self) -> bool:
        """Public places host encounters and events; homes and workplaces do not."""
        return self.kind not in PRIVATE_KINDS and "work" not in self.affordances

    def affords(self, activity: str) -> bool:
        return activity in self.affordances

    def __repr__(self) -> str:
        return f"Place({self.key!r})"
