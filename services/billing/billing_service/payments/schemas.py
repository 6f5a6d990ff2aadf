from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from billing_service.payments.models import Payment


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Annotated[str, Field(min_length=2, max_length=30)] = Field(
        description="A channel code from `GET /invoices/{id}/channels` (BRIVA, QRIS, OVO...) or "
        "WALLET to pay an order from the wallet",
        examples=["QRIS"],
    )


class PaymentInstructions(BaseModel):
    """How to pay: a VA or store code (`pay_code`), a QRIS payload (`qr_string`/`qr_url`), an
    e-wallet link (`pay_url`), Tripay's page for any channel (`checkout_url`), and the steps."""

    payment_id: uuid.UUID
    invoice_id: uuid.UUID
    method: str
    channel: str | None
    channel_name: str | None
    status: str
    reference: str | None
    amount: int = Field(description="The invoice amount")
    fee: int = Field(description="The fee the customer pays on top")
    total: int = Field(description="What the customer pays")
    pay_code: str | None
    pay_url: str | None
    checkout_url: str | None
    qr_string: str | None
    qr_url: str | None
    instructions: list[dict[str, Any]]
    expires_at: datetime | None
    paid_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, payment: Payment, invoice_amount: int) -> PaymentInstructions:
        return cls(
            payment_id=payment.id,
            invoice_id=payment.invoice_id,
            method=payment.method,
            channel=payment.channel,
            channel_name=payment.channel_name,
            status=payment.status,
            reference=payment.reference,
            amount=invoice_amount,
            fee=payment.fee_customer,
            total=payment.total_amount,
            pay_code=payment.pay_code,
            pay_url=payment.pay_url,
            checkout_url=payment.checkout_url,
            qr_string=payment.qr_string,
            qr_url=payment.qr_url,
            instructions=payment.instructions or [],
            expires_at=payment.expires_at,
            paid_at=payment.paid_at,
            created_at=payment.created_at,
        )


class ChannelOption(BaseModel):
    code: str
    name: str
    group: str
    type: str
    icon_url: str | None
    fee: int = Field(description="What this channel adds for the customer")
    total: int = Field(description="What the customer pays with this channel")
    available: bool
    unavailable_reason: str | None = None


class ChannelOptions(BaseModel):
    invoice_id: uuid.UUID
    amount: int
    fee_borne_by: str
    wallet_balance: int | None = Field(
        description="For order invoices: the wallet balance (pay with channel WALLET)"
    )
    channels: list[ChannelOption]


class CallbackAnswer(BaseModel):
    success: bool = True
