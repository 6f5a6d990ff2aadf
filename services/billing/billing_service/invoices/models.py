from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from billing_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey, utcnow


class InvoiceStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


class InvoiceKind(StrEnum):
    ORDER = "order"
    DEPOSIT = "deposit"


class Invoice(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("discount >= 0", name="discount_not_negative"),
        CheckConstraint("kind IN ('order', 'deposit')", name="kind"),
        CheckConstraint(
            "status IN ('PENDING', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED')", name="status"
        ),
        Index("ix_invoices_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_invoices_created_at_id", "created_at", "id"),
        Index("ix_invoices_status_expires_at", "status", "expires_at"),
        # One invoice per order: the order service's retries and duplicates find it.
        Index(
            "uq_invoices_order_id",
            "order_id",
            unique=True,
            postgresql_where=text("kind = 'order' AND order_id IS NOT NULL"),
        ),
        Index(
            "ix_invoices_flagged_at", "flagged_at", postgresql_where=text("flagged_at IS NOT NULL")
        ),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    user_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default=InvoiceStatus.PENDING)
    order_id: Mapped[uuid.UUID | None]
    order_number: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    # [{name, price, quantity, sku?}]: what the invoice is for, adding up to `amount`.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    amount: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    promo_code: Mapped[str | None] = mapped_column(String(40))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Channel code (BRIVA, QRIS, ...), WALLET or MANUAL; and the name shown to people.
    paid_via: Mapped[str | None] = mapped_column(String(40))
    payment_method: Mapped[str | None] = mapped_column(String(100))
    # The payment that settled it (payments.id).
    payment_id: Mapped[uuid.UUID | None]
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(500))
    # Held for a person: an amount mismatch, a payment that arrived for a closed invoice.
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    flag_reason: Mapped[str | None] = mapped_column(String(500))

    @property
    def is_open(self) -> bool:
        return self.status == InvoiceStatus.PENDING

    def past_due(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at


class InvoiceEvent(UUIDPrimaryKey, Base):
    """Every transition and flag of an invoice: what, who, when, why."""

    __tablename__ = "invoice_events"
    __table_args__ = (Index("ix_invoice_events_invoice_id_created_at", "invoice_id", "created_at"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    # "user:<id>", "admin:<id>", "service:<name>", "tripay", "reconciliation", "system"
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
