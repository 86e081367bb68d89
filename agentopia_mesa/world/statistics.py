"""A world's statistics as the paper states them for its worlds (ages, incomes, savings,
organisations, starting acquaintances), and the paper's numbers to set beside them.

``docs/reference/worlds.md`` is the table of the built-in worlds' statistics beside the paper's
(``python -m agentopia_mesa.world.statistics`` prints it; a test checks the page says what the
worlds give).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

from agentopia_mesa.world.generate import START_YEAR
from agentopia_mesa.world.schema import WorldSpec


@dataclass(frozen=True)
class WorldStatistics:
    """Ages at the start (years), weekly income of the residents' positions (work and non-work;
    residents without one left out), starting deposits, organisations the residents work or study
    at (distinct), every organisation and position on offer, and the mean number of people a
    resident knows at the start."""

    residents: int
    age_min: int
    age_max: int
    age_mean: float
    income_min: int
    income_max: int
    income_mean: float
    deposit_min: int
    deposit_max: int
    deposit_mean: float
    organisations_held: int
    organisations: int
    positions: int
    acquaintances_mean: float


def world_statistics(world: WorldSpec) -> WorldStatistics:
    jobs = {j.key: j for j in world.jobs}
    residents = world.residents
    ages = [START_YEAR - r.birth_year for r in residents]
    held = [jobs[r.job] for r in residents if r.job]
    incomes = [j.weekly_income for j in held] or [0]
    deposits = [r.deposit for r in residents]
    return WorldStatistics(
        residents=len(residents), age_min=min(ages), age_max=max(ages), age_mean=mean(ages),
        income_min=min(incomes), income_max=max(incomes), income_mean=mean(incomes),
        deposit_min=min(deposits), deposit_max=max(deposits), deposit_mean=mean(deposits),
        organisations_held=len({j.organisation for j in held}), organisations=len({j.organisation for j in world.jobs}),
        positions=len(world.jobs), acquaintances_mean=mean(len(r.acquaintances) for r in residents),
    )


#: The paper's worlds as ``research/agentopia-paper.md`` §2.1 computed them from the released
#: profiles (apartment and school; the third world is not released). None: not stated.
PAPER: dict[str, dict[str, object]] = {
    "apartment": {"residents": 100, "ages": (17, 62, 29), "income": (60, 500, 371), "deposit": (320, 10_000, 3_668),
                  "organisations_held": 99, "acquaintances_mean": 5.0},
    "school": {"residents": 100, "ages": (15, 58, 22), "income": (0, 500, 84), "deposit": (80, 85_000, None),
               "organisations_held": None, "acquaintances_mean": 10.5},
}


def _range(low, high, average, digits: int = 0) -> str:
    avg = "?" if average is None else f"{average:,.{digits}f}"
    return f"{low:,}-{high:,} (mean {avg})"


def table(worlds: dict[str, WorldSpec]) -> str:
    """The Markdown table of ``worlds``' statistics, each beside the paper's where it states them."""
    rows = ["| world | residents | ages | weekly position income | starting deposit | organisations held (offered) "
            "| positions | acquaintances (mean) |", "|---|---|---|---|---|---|---|---|"]
    for name, world in worlds.items():
        s = world_statistics(world)
        rows.append(f"| {name} (ours) | {s.residents} | {_range(s.age_min, s.age_max, s.age_mean)} | "
                    f"{_range(s.income_min, s.income_max, s.income_mean)} | "
                    f"{_range(s.deposit_min, s.deposit_max, s.deposit_mean)} | {s.organisations_held} "
                    f"({s.organisations}) | {s.positions} | {s.acquaintances_mean:.1f} |")
        paper = PAPER.get(name)
        if paper:
            held = paper["organisations_held"]
            rows.append(f"| {name} (paper) | {paper['residents']} | {_range(*paper['ages'])} | "
                        f"{_range(*paper['income'])} | {_range(*paper['deposit'])} | "
                        f"{'?' if held is None else held} | ? | {paper['acquaintances_mean']:.1f} |")
    return "\n".join(rows)


def builtin_table() -> str:
    from agentopia_mesa.world.loader import builtin_world_names, load_world

    return table({name: load_world(name) for name in builtin_world_names()})


if __name__ == "__main__":
    print(builtin_table())
