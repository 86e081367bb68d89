"""Money (paper §5): weekly income, living standards, extra work pay and the shop.

Pure functions over numbers and config; the stages apply them to residents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from agentopia_mesa.config import EconomyConfig, LivingStandard
from agentopia_mesa.world.schema import PriceItem


def resolve_living_standard(choice: str, deposit: int, config: EconomyConfig) -> LivingStandard:
    """The standard a resident actually lives at this week.

    An unknown choice, or one the resident cannot afford from its deposit, counts as the
    cheapest standard (frugal), as in the paper.
    """
    try:
        standard = config.standard(choice)
    except KeyError:
        return config.cheapest_standard
    return standard if standard.weekly_cost <= deposit else config.cheapest_standard


def affordable_standards(deposit: int, config: EconomyConfig) -> list[str]:
    return [s.name for s in config.living_standards if s.weekly_cost <= deposit]


def extra_work_pay_range(skill_level: int, config: EconomyConfig) -> tuple[int, int]:
    """Pay range per extra-work session for a resident whose best work skill is ``skill_level``.

    Tiers from the paper: low-skilled 40-80, medium 80-120, high 120-200.
    """
    low, high = config.extra_work_tiers[0][1:]
    for threshold, tier_low, tier_high in config.extra_work_tiers:
        if skill_level >= threshold:
            low, high = tier_low, tier_high
    return low, high


def material_gain(price: int) -> int:
    """Material fulfilment gained from buying an item at ``price`` (diminishing returns).

    0-100: +1 per full 20 (at most +5); 100-300: +5 plus +1 per full 40 above 100 (at most +10);
    above 300: +10. The solo limit (+10) caps it again when applied.
    """
    if price <= 100:
        return min(5, price // 20)
    if price <= 300:
        return min(10, 5 + (price - 100) // 40)
    return 10


@dataclass(frozen=True)
class Offer:
    item: str
    category: str
    price: int


def shop_offers(price_list: tuple[PriceItem, ...], deposit: int, rng: random.Random, config: EconomyConfig) -> list[Offer]:
    """2-4 priced options from the world price list, the same prices for everyone.

    Offers lean towards what the resident could afford but may include one dearer item, as a
    shop window would.
    """
    if not price_list:
        return []
    low, high = config.shop_offers
    n = min(len(price_list), rng.randint(low, high))
    affordable = [p for p in price_list if p.price <= deposit]
    pool = affordable if len(affordable) >= n else list(price_list)
    chosen = rng.sample(pool, n)
    return [Offer(p.name, p.category, p.price) for p in sorted(chosen, key=lambda p: (p.price, p.name))]


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values (0 = equal, ->1 = one holds everything)."""
    n = len(values)
    total = sum(values)
    if n == 0 or total <= 0:
        return 0.0
    ordered = sorted(values)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n
