"""What a channel costs for an amount, and who pays it.

Tripay's fee is flat + amount * percent / 100, clamped to [minimum_fee, maximum_fee]
(tripay.md §3; rounded up to whole rupiah here). Its channel list splits it into the part the
merchant pays (fee_merchant) and the part Tripay adds on top for the customer (fee_customer);
the merchant configures that split in Tripay's dashboard.

FEE_BORNE_BY decides on top of that: "customer" adds the merchant's part to the transaction as
a fee line, so the customer pays the whole fee; "merchant" leaves it with us. The customer pays
`total` = invoice amount + surcharge + Tripay's fee_customer, and is shown `customer_fee`
before paying."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from billing_service.tripay.schemas import Fee, PaymentChannel

FEE_ITEM_NAME = "Biaya transaksi"


def fee_part(fee: Fee, amount: int) -> int:
    if not fee.flat and not fee.percent:
        return 0
    return fee.flat + math.ceil(Decimal(amount) * fee.percent / 100)


def channel_fees(channel: PaymentChannel, amount: int) -> tuple[int, int]:
    """(merchant part, customer part) of the channel's fee for a transaction of `amount`."""
    merchant = fee_part(channel.fee_merchant, amount)
    customer = fee_part(channel.fee_customer, amount)
    total = merchant + customer
    clamped = total
    if channel.minimum_fee is not None and total > 0:
        clamped = max(clamped, channel.minimum_fee)
    if channel.maximum_fee is not None:
        clamped = min(clamped, channel.maximum_fee)
    if clamped != total:
        # The clamp moves the part that carries the fee.
        if customer and not merchant:
            customer += clamped - total
        else:
            merchant += clamped - total
    return merchant, customer


@dataclass(frozen=True)
class Quote:
    channel: PaymentChannel
    invoice_amount: int
    surcharge: int  # our fee line: the merchant's part, passed on when the customer bears it
    tripay_customer_fee: int  # what Tripay itself adds on top
    merchant_fee: int  # what Tripay keeps from us

    @property
    def request_amount(self) -> int:
        """The `amount` sent to Tripay (Σ order items)."""
        return self.invoice_amount + self.surcharge

    @property
    def customer_fee(self) -> int:
        return self.surcharge + self.tripay_customer_fee

    @property
    def total(self) -> int:
        """What the customer pays."""
        return self.request_amount + self.tripay_customer_fee

    @property
    def within_limits(self) -> bool:
        low = self.channel.minimum_amount
        high = self.channel.maximum_amount
        return (low is None or self.request_amount >= low) and (
            high is None or self.request_amount <= high
        )


def quote(channel: PaymentChannel, invoice_amount: int, *, fee_borne_by: str) -> Quote:
    surcharge = 0
    if fee_borne_by == "customer":
        # The fee is charged on the amount *including* the surcharge; a few rounds settle it.
        for _ in range(5):
            merchant, _customer = channel_fees(channel, invoice_amount + surcharge)
            if merchant == surcharge:
                break
            surcharge = merchant
    merchant, customer = channel_fees(channel, invoice_amount + surcharge)
    return Quote(
        channel=channel,
        invoice_amount=invoice_amount,
        surcharge=surcharge,
        tripay_customer_fee=customer,
        merchant_fee=merchant,
    )
