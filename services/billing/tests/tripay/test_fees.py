"""Fees per channel and who bears them; the cached channel list."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_service.tripay.channels import ChannelCatalog
from billing_service.tripay.errors import TripayUnavailable
from billing_service.tripay.fees import channel_fees, quote
from billing_service.tripay.schemas import Fee, PaymentChannel


def channel(
    code: str = "QRIS", flat: int = 750, percent: str = "0.70", **extra: object
) -> PaymentChannel:
    return PaymentChannel(
        code=code,
        name=code,
        fee_merchant=Fee(flat=flat, percent=Decimal(percent)),
        minimum_amount=1000,
        maximum_amount=5_000_000,
        **extra,  # type: ignore[arg-type]
    )


def test_fee_is_flat_plus_percent_clamped() -> None:
    assert channel_fees(channel(), 100_000) == (1450, 0)
    assert channel_fees(channel("OVO", 0, "3", minimum_fee=1000), 10_000) == (1000, 0)
    assert channel_fees(channel("BIG", 0, "3", maximum_fee=5000), 1_000_000) == (5000, 0)
    customer_side = PaymentChannel(
        code="BRIVA", name="BRIVA", fee_customer=Fee(flat=4250, percent=Decimal(0))
    )
    assert channel_fees(customer_side, 100_000) == (0, 4250)


def test_customer_bears_the_fee_charged_on_the_total() -> None:
    priced = quote(channel(), 100_000, fee_borne_by="customer")
    # 750 + 0.7 % of 101 461, rounded up, is 1 461: the fee covers itself.
    assert (priced.surcharge, priced.request_amount, priced.total) == (1461, 101_461, 101_461)
    assert priced.merchant_fee == priced.surcharge


def test_merchant_bears_the_fee() -> None:
    priced = quote(channel(), 100_000, fee_borne_by="merchant")
    assert (priced.customer_fee, priced.total, priced.merchant_fee) == (0, 100_000, 1450)


def test_limits_apply_to_what_is_sent() -> None:
    assert not quote(channel(), 4_990_000, fee_borne_by="customer").within_limits
    assert quote(channel(), 4_990_000, fee_borne_by="merchant").within_limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingTripay:
    """Only the one method the catalog calls; answers from a list, or fails on demand."""

    def __init__(self) -> None:
        self.calls = 0
        self.down = False

    async def payment_channels(self) -> list[PaymentChannel]:
        self.calls += 1
        if self.down:
            raise TripayUnavailable("down")
        return [channel(), channel("OFF", active=False)]


async def test_channel_list_is_cached_refreshed_and_survives_an_outage() -> None:
    tripay, clock = CountingTripay(), FakeClock()
    catalog = ChannelCatalog(tripay, cache_seconds=600, clock=clock)  # type: ignore[arg-type]

    assert [c.code for c in await catalog.active()] == ["QRIS"]
    assert await catalog.get("off") is None and await catalog.get("qris") is not None
    assert tripay.calls == 1
    clock.now = 601
    tripay.down = True
    assert [c.code for c in await catalog.active()] == ["QRIS"]  # stale but serving
    assert tripay.calls == 2
    assert [c.code for c in await catalog.active()] == ["QRIS"]
    assert tripay.calls == 2  # not hammering a Tripay that is down
    tripay.down = False
    clock.now = 700
    await catalog.active()
    assert tripay.calls == 3


async def test_no_list_at_all_is_unavailable() -> None:
    tripay = CountingTripay()
    tripay.down = True
    with pytest.raises(TripayUnavailable):
        await ChannelCatalog(tripay, cache_seconds=60).all()  # type: ignore[arg-type]
