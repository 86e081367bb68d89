"""Economy rules: living standards, extra-work tiers, the shop's material curve, Gini."""

import random

import pytest

from agentopia_mesa.config import EconomyConfig
from agentopia_mesa.town.economy import (
    affordable_standards, extra_work_pay_range, gini, material_gain, resolve_living_standard, shop_offers,
)
from agentopia_mesa.world.schema import PriceItem

ECON = EconomyConfig()


@pytest.mark.parametrize(("choice", "deposit", "expected", "cost", "material"), [
    ("luxurious", 10_000, "luxurious", 500, 10),
    ("comfortable", 300, "comfortable", 300, 5),
    ("comfortable", 299, "frugal", 100, -5),  # unaffordable -> frugal
    ("moderate", 200, "moderate", 200, 0),
    ("caviar", 10_000, "frugal", 100, -5),  # unknown -> frugal
])
def test_living_standard(choice, deposit, expected, cost, material):
    standard = resolve_living_standard(choice, deposit, ECON)
    assert (standard.name, standard.weekly_cost, standard.material_change) == (expected, cost, material)


def test_affordable_standards():
    assert affordable_standards(250, ECON) == ["frugal", "moderate"]
    assert affordable_standards(50, ECON) == []


@pytest.mark.parametrize(("skill", "pay"), [(0, (40, 80)), (29, (40, 80)), (30, (80, 120)), (100, (120, 200)), (400, (120, 200))])
def test_extra_work_tiers(skill, pay):
    assert extra_work_pay_range(skill, ECON) == pay


@pytest.mark.parametrize(("price", "gain"), [
    (0, 0), (19, 0), (20, 1), (99, 4), (100, 5),  # +1 per full 20 up to 100
    (139, 5), (140, 6), (300, 10),  # +5 and +1 per full 40 above 100
    (301, 10), (5000, 10),  # capped
])
def test_material_gain_curve(price, gain):
    assert material_gain(price) == gain


def test_material_gain_is_monotone_with_diminishing_returns():
    gains = [material_gain(p) for p in range(0, 1000)]
    assert all(a <= b for a, b in zip(gains, gains[1:]))
    # +5 over the first 100 but only +5 over the next 200: half the gain per unit of money.
    assert material_gain(100) / 100 > (material_gain(300) - material_gain(100)) / 200


def test_shop_offers_2_to_4_items_same_prices_and_deterministic():
    items = tuple(PriceItem(name=f"item{i}", category="daily_entertainment", price=10 * i) for i in range(1, 10))
    offers = shop_offers(items, 1000, random.Random(3), ECON)
    assert 2 <= len(offers) <= 4
    assert all(o.price == int(o.item.removeprefix("item")) * 10 for o in offers)
    assert offers == shop_offers(items, 1000, random.Random(3), ECON)


def test_gini():
    assert gini([5, 5, 5, 5]) == 0
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)
    assert gini([]) == 0


def test_a_standard_costing_exactly_the_deposit_is_affordable():
    assert affordable_standards(200, ECON) == ["frugal", "moderate"]
    assert resolve_living_standard("moderate", 200, ECON).name == "moderate"


def test_a_skill_under_every_tier_minimum_is_paid_at_the_first_tier():
    config = EconomyConfig(extra_work_tiers=((10, 40, 80), (30, 80, 120), (100, 120, 200)))
    assert extra_work_pay_range(5, config) == (40, 80)
    assert extra_work_pay_range(10, config) == (40, 80)


SHOP = tuple(PriceItem(name=f"item{i}", category=f"cat{i}", price=10 * i) for i in range(1, 10))  # prices 10 ... 90


def test_shop_offers_only_what_the_deposit_covers_when_enough_is_affordable():
    # A deposit of 40 covers exactly four items, item4 at exactly 40 included: with four
    # affordable and at most four offered, every offer is affordable, whatever the draw.
    for seed in range(30):
        offers = shop_offers(SHOP, 40, random.Random(seed), ECON)
        assert 2 <= len(offers) <= 4 and all(o.price <= 40 for o in offers), (seed, offers)
        assert [o.price for o in offers] == sorted(o.price for o in offers)
        assert all(o.category == o.item.replace("item", "cat") for o in offers)
    four = EconomyConfig(shop_offers=(4, 4))
    assert [o.item for o in shop_offers(SHOP, 40, random.Random(0), four)] == ["item1", "item2", "item3", "item4"]


def test_shop_offers_dearer_items_when_too_little_is_affordable():
    # One affordable item but four to offer: the window is filled from the whole list.
    four = EconomyConfig(shop_offers=(4, 4))
    for seed in range(10):
        offers = shop_offers(SHOP, 15, random.Random(seed), four)
        assert len(offers) == 4 and any(o.price > 15 for o in offers)
    assert shop_offers((), 1000, random.Random(0), ECON) == []


def test_gini_of_small_and_zero_totals():
    assert gini([0, 1]) == pytest.approx(0.5)  # one of two holds everything, total 1
    assert gini([0.0, 0.5]) == pytest.approx(0.5)
    assert gini([0, 0, 0]) == 0  # nobody holds anything: equal, and no division by zero
    assert gini([7]) == 0
