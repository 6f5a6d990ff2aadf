from __future__ import annotations

from decimal import Decimal

from catalog_service.pricing import (
    BillingCycle,
    cycle_prices,
    first_undiscounted,
    monthly_price_idr,
    round_up_to_step,
)

DISCOUNTS = {"quarterly": Decimal(5), "semiannual": Decimal(10), "annual": Decimal(15)}


def test_rounds_up_to_the_step_never_down() -> None:
    assert round_up_to_step(Decimal("128700"), 1000) == 129_000
    assert round_up_to_step(Decimal("129000"), 1000) == 129_000
    assert round_up_to_step(Decimal("129000.01"), 1000) == 130_000


def test_markup_over_the_usd_price_without_floats() -> None:
    # 0.1-style fractions that floats get wrong
    usd = Decimal("4.1")
    price = monthly_price_idr(usd, rate=Decimal("16500"), markup_percent=Decimal("30"), step=100)
    assert price == 88_000  # 4.1 x 16,500 x 1.3 = 87,945 -> 88,000


def test_longer_cycles_are_discounted_and_never_dearer_per_month() -> None:
    prices = cycle_prices(129_000, DISCOUNTS, 1000)
    assert prices == {
        BillingCycle.MONTHLY: 129_000,
        BillingCycle.QUARTERLY: 368_000,
        BillingCycle.SEMIANNUAL: 697_000,
        BillingCycle.ANNUAL: 1_316_000,
    }
    assert first_undiscounted(prices) is None
    # a step coarser than the discount would round a cycle above `months` monthly prices
    assert cycle_prices(1_000, {"quarterly": Decimal(1)}, 5000)[BillingCycle.QUARTERLY] == 3_000


def test_finds_the_first_cycle_dearer_per_month() -> None:
    prices = {
        BillingCycle.MONTHLY: 100_000,
        BillingCycle.QUARTERLY: 300_000,
        BillingCycle.SEMIANNUAL: 610_000,
        BillingCycle.ANNUAL: 1_000_000,
    }
    assert first_undiscounted(prices) == (BillingCycle.QUARTERLY, BillingCycle.SEMIANNUAL)
