"""Tripay's payment channels with the standard fees, amount limits and expiry windows of
shared/refs/tripay.md §3, and Tripay's fee arithmetic (flat + percent, clamped)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

VA = "Virtual Account"
STORE = "Convenience Store"
EWALLET = "E-Wallet"


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    group: str
    type: str  # direct | redirect
    minimum_amount: int
    maximum_amount: int
    expiry_minutes: tuple[int, int]  # allowed range of expired_time - now
    flat: int
    percent: Decimal
    minimum_fee: int | None = None
    maximum_fee: int | None = None
    active: bool = True

    @property
    def is_qris(self) -> bool:
        return self.code.startswith("QRIS")


def _va(code: str, name: str, expiry: tuple[int, int], flat: int = 4250) -> Channel:
    return Channel(code, name, VA, "direct", 10_000, 10_000_000, expiry, flat, Decimal(0))


def _store(code: str, name: str, expiry: tuple[int, int], minimum: int = 10_000) -> Channel:
    return Channel(code, name, STORE, "direct", minimum, 2_500_000, expiry, 3500, Decimal(0))


def _qris(code: str, name: str, expiry: tuple[int, int]) -> Channel:
    return Channel(code, name, EWALLET, "direct", 1000, 5_000_000, expiry, 750, Decimal("0.70"))


def _redirect(code: str, name: str, expiry: tuple[int, int]) -> Channel:
    # A computed fee below Rp 1 000 is rounded up to Rp 1 000.
    return Channel(
        code, name, EWALLET, "redirect", 1000, 10_000_000, expiry, 0, Decimal(3), minimum_fee=1000
    )


CHANNELS: tuple[Channel, ...] = (
    _va("PERMATAVA", "Permata Virtual Account", (60, 43_200)),
    _va("BNIVA", "BNI Virtual Account", (15, 1440)),
    _va("BRIVA", "BRI Virtual Account", (60, 43_200)),
    _va("MANDIRIVA", "Mandiri Virtual Account", (60, 43_200)),
    _va("BCAVA", "BCA Virtual Account", (15, 43_200), flat=5500),
    _va("MUAMALATVA", "Muamalat Virtual Account", (60, 180)),
    _va("CIMBVA", "CIMB Niaga Virtual Account", (15, 43_200)),
    _va("BSIVA", "BSI Virtual Account", (60, 180)),
    _va("OCBCVA", "OCBC NISP Virtual Account", (15, 43_200)),
    _va("DANAMONVA", "Danamon Virtual Account", (15, 43_200)),
    _va("OTHERBANKVA", "Other Bank Virtual Account", (15, 1440)),
    _store("ALFAMART", "Alfamart", (60, 1440)),
    _store("INDOMARET", "Indomaret", (15, 43_200)),
    _store("ALFAMIDI", "Alfamidi", (60, 1440), minimum=5000),
    _qris("QRIS", "QRIS by ShopeePay", (10, 60)),
    _qris("QRISC", "QRIS (Customizable)", (10, 1440)),
    _qris("QRIS2", "QRIS", (10, 1440)),
    _redirect("OVO", "OVO", (15, 43_200)),
    _redirect("DANA", "DANA", (15, 60)),
    _redirect("SHOPEEPAY", "ShopeePay", (15, 60)),
)
BY_CODE = {channel.code: channel for channel in CHANNELS}
# Channels whose transactions need customer_phone (the e-wallets push to the phone).
PHONE_REQUIRED = frozenset({"OVO", "DANA", "SHOPEEPAY"})


@dataclass(frozen=True)
class Fees:
    merchant: int
    customer: int

    @property
    def total(self) -> int:
        return self.merchant + self.customer


def total_fee(channel: Channel, amount: int) -> int:
    fee = channel.flat + math.ceil(Decimal(amount) * channel.percent / 100)
    if channel.minimum_fee is not None:
        fee = max(fee, channel.minimum_fee)
    if channel.maximum_fee is not None:
        fee = min(fee, channel.maximum_fee)
    return int(fee)


def fees(channel: Channel, amount: int, *, customer_pays: bool) -> Fees:
    fee = total_fee(channel, amount)
    return Fees(merchant=0, customer=fee) if customer_pays else Fees(merchant=fee, customer=0)


def _percent_number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def channel_view(channel: Channel, *, customer_pays: bool, icon_base: str) -> dict[str, object]:
    """One item of `merchant/payment-channel`, in Tripay's exact shape (percent is a number in
    fee_merchant/fee_customer and a string in total_fee)."""
    percent = _percent_number(channel.percent)
    charged = {"flat": channel.flat, "percent": percent}
    free = {"flat": 0, "percent": 0}
    return {
        "group": channel.group,
        "code": channel.code,
        "name": channel.name,
        "type": channel.type,
        "fee_merchant": free if customer_pays else charged,
        "fee_customer": charged if customer_pays else free,
        "total_fee": {"flat": channel.flat, "percent": f"{channel.percent:.2f}"},
        "minimum_fee": channel.minimum_fee,
        "maximum_fee": channel.maximum_fee,
        "minimum_amount": channel.minimum_amount,
        "maximum_amount": channel.maximum_amount,
        "icon_url": f"{icon_base}/images/payment-channel/{channel.code.lower()}.png",
        "active": channel.active,
    }


def fee_calculation(channel: Channel, amount: int, *, customer_pays: bool) -> dict[str, object]:
    """One item of `merchant/fee-calculator`."""
    split = fees(channel, amount, customer_pays=customer_pays)
    return {
        "code": channel.code,
        "name": channel.name,
        "fee": {
            "flat": channel.flat,
            "percent": f"{channel.percent:.2f}",
            "min": channel.minimum_fee,
            "max": channel.maximum_fee,
        },
        "total_fee": {"merchant": split.merchant, "customer": split.customer},
    }
