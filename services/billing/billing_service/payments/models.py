from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey, utcnow


class PaymentStatus(StrEnum):
    UNPAID = "UNPAID"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    # The customer picked another channel: we no longer show it, but Tripay may still see it
    # paid (there is no cancel for closed transactions), and then it still counts.
    ABANDONED = "ABANDONED"


class PaymentMethod(StrEnum):
    TRIPAY = "tripay"
    WALLET = "wallet"
    MANUAL = "manual"


OPEN_STATUSES = (PaymentStatus.UNPAID, PaymentStatus.ABANDONED)


class Payment(UUIDPrimaryKey, TimestampMixin, Base):
    """One attempt to pay an invoice: a Tripay transaction, a wallet debit, or an admin's
    manual confirmation. The admin's "transactions" are these rows."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("method IN ('tripay', 'wallet', 'manual')", name="method"),
        CheckConstraint(
            "status IN ('UNPAID', 'PAID', 'EXPIRED', 'FAILED', 'REFUNDED', 'ABANDONED')",
            name="status",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_invoice_id_created_at", "invoice_id", "created_at"),
        Index("ix_payments_status_created_at", "status", "created_at"),
        Index("ix_payments_created_at_id", "created_at", "id"),
        Index("ix_payments_user_id", "user_id"),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    method: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(30))
    channel_name: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    # Sent to Tripay (invoice amount + our fee line), or paid from the wallet / by hand.
    amount: Mapped[int] = mapped_column(BigInteger)
    # The fee shown to the customer (our fee line + Tripay's fee_customer), and Tripay's cut.
    fee_customer: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fee_merchant: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # What the customer pays (Tripay's `amount`); a callback must report exactly this.
    total_amount: Mapped[int] = mapped_column(BigInteger)
    # What a PAID callback said was paid, and what reaches us after fees.
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)
    amount_received: Mapped[int | None] = mapped_column(BigInteger)
    pay_code: Mapped[str | None] = mapped_column(String(100))
    pay_url: Mapped[str | None] = mapped_column(String(1000))
    checkout_url: Mapped[str | None] = mapped_column(String(1000))
    qr_string: Mapped[str | None] = mapped_column(Text)
    qr_url: Mapped[str | None] = mapped_column(String(1000))
    instructions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(500))
    # When reconciliation last asked Tripay and found it still open: the least recently asked
    # go first, so a batch of old open transactions cannot hide a newer paid one forever.
    reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TripayCallback(UUIDPrimaryKey, Base):
    """Every callback with a valid signature, byte for byte, and what it did. Forged ones are
    not stored (nothing changes for them), only logged."""

    __tablename__ = "tripay_callbacks"
    __table_args__ = (
        Index("ix_tripay_callbacks_reference", "reference"),
        Index("ix_tripay_callbacks_invoice_id_received_at", "invoice_id", "received_at"),
    )

    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reference: Mapped[str | None] = mapped_column(String(100))
    merchant_ref: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(12))
    event: Mapped[str] = mapped_column(String(40))
    invoice_id: Mapped[uuid.UUID | None]
    raw_body: Mapped[str] = mapped_column(Text)
    # applied | duplicate | flagged | ignored | unknown_invoice
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(500))
