from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from billing_service.wallet.models import LedgerEntry

PositiveRupiah = Annotated[int, Field(gt=0, le=10_000_000_000, description="Whole rupiah")]
Key = Annotated[str, Field(min_length=1, max_length=150)]


class WalletView(BaseModel):
    user_id: uuid.UUID
    balance: int


class LedgerEntryView(BaseModel):
    id: uuid.UUID
    kind: str
    amount: int
    balance_after: int
    description: str
    invoice_id: uuid.UUID | None
    order_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerEntryView:
        return cls(
            id=entry.id,
            kind=entry.kind,
            amount=entry.amount,
            balance_after=entry.balance_after,
            description=entry.description,
            invoice_id=entry.invoice_id,
            order_id=entry.order_id,
            created_at=entry.created_at,
        )


class AdminLedgerEntryView(LedgerEntryView):
    actor: str
    reason: str | None

    @classmethod
    def of(cls, entry: LedgerEntry) -> AdminLedgerEntryView:
        return cls(**LedgerEntryView.of(entry).model_dump(), actor=entry.actor, reason=entry.reason)


class TopupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveRupiah
    promo_code: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class DebitRequest(BaseModel):
    """`POST /internal/wallet/debit`: pay an order from the wallet."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    amount: PositiveRupiah
    order_id: uuid.UUID
    idempotency_key: Key
    description: Annotated[str, Field(max_length=300)] | None = None


class RefundRequest(BaseModel):
    """`POST /internal/wallet/refund`: give (part of) an order's payment back, to the wallet."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    amount: PositiveRupiah
    order_id: uuid.UUID
    idempotency_key: Key
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class WalletMovement(BaseModel):
    entry_id: uuid.UUID
    user_id: uuid.UUID
    order_id: uuid.UUID | None
    amount: int
    balance: int = Field(description="The balance right after this movement")
    replayed: bool = Field(description="True when this idempotency key was seen before")
    invoice_id: uuid.UUID | None = None
    invoice_status: str | None = None


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Annotated[int, Field(ge=-10_000_000_000, le=10_000_000_000)] = Field(
        description="Signed rupiah: positive credits, negative debits"
    )
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class ConsistencyReport(BaseModel):
    wallets_checked: int
    consistent: bool
    mismatches: list[dict[str, object]]
