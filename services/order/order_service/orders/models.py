from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from order_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey, utcnow


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class PaymentMethod(StrEnum):
    TRIPAY = "tripay"
    WALLET = "wallet"


class Order(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        # A retried POST with the same Idempotency-Key finds the order it created.
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_orders_user_created", "user_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(30), unique=True)
    user_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(30))

    plan_id: Mapped[uuid.UUID]
    plan_slug: Mapped[str] = mapped_column(String(80))
    plan_name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(40))
    provider_size: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(40))
    provider_region: Mapped[str] = mapped_column(String(80))
    image: Mapped[str] = mapped_column(String(40))
    provider_image: Mapped[str] = mapped_column(String(128))
    hostname: Mapped[str] = mapped_column(String(63))
    ssh_keys: Mapped[list[str]] = mapped_column(JSONB, default=list)
    billing_cycle: Mapped[str] = mapped_column(String(20))
    months: Mapped[int] = mapped_column(Integer)
    catalog_version: Mapped[int] = mapped_column(Integer)

    # Whole rupiah: the catalog's price, the promo's discount, what the customer pays.
    base_amount: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    promo_code: Mapped[str | None] = mapped_column(String(40))
    payment_method: Mapped[str] = mapped_column(String(20))

    invoice_id: Mapped[uuid.UUID | None]
    invoice_number: Mapped[str | None] = mapped_column(String(40))
    paid_at: Mapped[datetime | None]

    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))

    # Chosen at creation so that registering with the instance service is idempotent.
    instance_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    provider_instance_id: Mapped[str | None] = mapped_column(String(100))
    ipv4: Mapped[str | None] = mapped_column(String(45))
    ipv6: Mapped[str | None] = mapped_column(String(45))
    activated_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)


class OrderEvent(UUIDPrimaryKey, Base):
    """The timeline and audit trail of an order: every transition, and every admin action
    that is not one (a refund), with who did it, when and why."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order_created", "order_id", "created_at"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    # "user:<id>", "admin:<id>", "billing", "worker", "system"
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
