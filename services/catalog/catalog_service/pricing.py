"""Rupiah prices: billing cycles, the markup over a provider's USD price, rounding, discounts.

All arithmetic is on `Decimal` and ends in whole rupiah (`int`, stored as BIGINT); no float
ever touches a price.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return CYCLE_MONTHS[self]


CYCLE_MONTHS: dict[BillingCycle, int] = {
    BillingCycle.MONTHLY: 1,
    BillingCycle.QUARTERLY: 3,
    BillingCycle.SEMIANNUAL: 6,
    BillingCycle.ANNUAL: 12,
}
CYCLES: tuple[BillingCycle, ...] = tuple(CYCLE_MONTHS)


def round_up_to_step(amount: Decimal, step: int) -> int:
    """Up, never down: rounding must not eat into the markup."""
    steps = (amount / step).to_integral_value(rounding=ROUND_CEILING)
    return int(steps) * step


def monthly_price_idr(
    usd_monthly: Decimal, *, rate: Decimal, markup_percent: Decimal, step: int
) -> int:
    return round_up_to_step(usd_monthly * rate * (1 + markup_percent / 100), step)


def cycle_prices(
    monthly_idr: int, discounts_percent: Mapping[str, Decimal], step: int
) -> dict[BillingCycle, int]:
    """Each cycle's price: `months` monthly prices less that cycle's discount, rounded up to
    the step. Rounding up can never make a longer cycle dearer per month than the monthly price
    as long as a discount is at least one step per month; `check_discounted` proves it."""
    prices: dict[BillingCycle, int] = {}
    for cycle in CYCLES:
        discount = Decimal(discounts_percent.get(cycle.value, 0))
        gross = Decimal(monthly_idr * cycle.months) * (1 - discount / 100)
        prices[cycle] = min(round_up_to_step(gross, step), monthly_idr * cycle.months)
    return prices


def per_month(amount_idr: int, cycle: BillingCycle) -> int:
    """Whole rupiah per month, rounded up (what a customer compares)."""
    return -(-amount_idr // cycle.months)


def discount_percent(amount_idr: int, cycle: BillingCycle, monthly_idr: int) -> float:
    """For display only: how much cheaper per month than paying monthly, one decimal."""
    full = monthly_idr * cycle.months
    if full <= 0:
        return 0.0
    return round((full - amount_idr) * 100 / full, 1)


def first_undiscounted(
    prices: Mapping[BillingCycle, int],
) -> tuple[BillingCycle, BillingCycle] | None:
    """The first cycle that costs more per month than the shorter cycle before it, with that
    shorter cycle; None when every longer cycle is at least as cheap per month."""
    ordered = [c for c in CYCLES if c in prices]
    for shorter, longer in itertools.pairwise(ordered):
        # per-month(longer) <= per-month(shorter), compared exactly in integers
        if prices[longer] * shorter.months > prices[shorter] * longer.months:
            return shorter, longer
    return None
