"""A resident's dynamic state (paper §3.2): vitality, needs, skills, money and possessions."""

from __future__ import annotations

from dataclasses import dataclass, field

NEEDS: tuple[str, ...] = ("mood", "material", "social", "esteem")
"""The four fulfilment dimensions, each 0-100 (50 neutral, 90 euphoric)."""


def clamp(value: float, low: float = 0, high: float = 100) -> float:
    return low if value < low else high if value > high else value


@dataclass
class Possession:
    name: str
    price: int
    acquired: str  # time stamp


@dataclass
class ResidentState:
    vitality: int
    needs: dict[str, int]
    skills: dict[str, int]
    deposit: int
    possessions: list[Possession] = field(default_factory=list)

    def change_need(self, need: str, delta: float) -> None:
        self.needs[need] = int(clamp(self.needs[need] + delta))

    def change_vitality(self, delta: float) -> None:
        self.vitality = int(clamp(self.vitality + delta))

    def change_skill(self, skill: str, delta: int) -> None:
        self.skills[skill] = max(0, self.skills.get(skill, 0) + delta)

    def change_deposit(self, delta: int) -> None:
        """Money never goes below zero (the paper clamps when activity money is applied)."""
        self.deposit = max(0, self.deposit + delta)

    def snapshot(self) -> dict[str, int]:
        """Vitality and needs at one moment: one point of the subjective-reward history."""
        return {"vitality": self.vitality, **self.needs}
