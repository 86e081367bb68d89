"""docs/reference/worlds.md's table says what the built-in worlds give, and the statistics are right."""

import re
from pathlib import Path

from agentopia_mesa.world.loader import load_world
from agentopia_mesa.world.statistics import builtin_table, world_statistics

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reference" / "worlds.md"


def test_the_page_table_is_what_the_worlds_give():
    text = PAGE.read_text(encoding="utf-8")
    table = re.search(r"<!-- table:start -->\n(.*)\n<!-- table:end -->", text, re.S).group(1)
    assert table == builtin_table(), "regenerate it: python -m agentopia_mesa.world.statistics"


def test_statistics_of_a_world_counted_by_hand():
    world = load_world("school").model_copy()
    first = world.residents[:3]
    small = world.model_copy(update={"residents": tuple(r.model_copy(update={"acquaintances": ()}) for r in first)})
    s = world_statistics(small)
    jobs = {j.key: j for j in world.jobs}
    ages = [2020 - r.birth_year for r in first]
    incomes = [jobs[r.job].weekly_income for r in first if r.job]
    assert (s.residents, s.age_min, s.age_max) == (3, min(ages), max(ages))
    assert s.income_mean == sum(incomes) / len(incomes) and s.acquaintances_mean == 0
    assert s.organisations == len({j.organisation for j in world.jobs}) and s.positions == len(world.jobs)
