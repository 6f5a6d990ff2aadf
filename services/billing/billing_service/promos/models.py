from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from billing_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey, utcnow


class DiscountType(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class RedemptionStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"


class Promo(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "promos"
    __table_args__ = (
        CheckConstraint("discount_type IN ('percent', 'fixed')", name="discount_type"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("discount_type <> 'percent' OR value <= 100", name="percent_at_most_100"),
        CheckConstraint("min_amount >= 0", name="min_amount_not_negative"),
        CheckConstraint("applies_to_orders OR applies_to_deposits", name="applies_somewhere"),
        CheckConstraint("uses_count >= 0", name="uses_not_negative"),
        # The last line of defence of "a 10-use code is used 10 times".
        CheckConstraint("max_uses IS NULL OR uses_count <= max_uses", name="uses_within_max"),
        CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="window"
        ),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)  # upper case
    description: Mapped[str] = mapped_column(String(300), default="")
    discount_type: Mapped[str] = mapped_column(String(10))
    # Percent (1-100) or rupiah.
    value: Mapped[int] = mapped_column(BigInteger)
    # Cap of a percent discount (or bonus), rupiah.
    max_discount: Mapped[int | None] = mapped_column(BigInteger)
    applies_to_orders: Mapped[bool] = mapped_column(Boolean, default=True)
    applies_to_deposits: Mapped[bool] = mapped_column(Boolean, default=False)
    min_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_user: Mapped[int | None] = mapped_column(Integer)
    first_order_only: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Redemptions holding a use (active ones); a release gives the use back.
    uses_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[uuid.UUID | None]


class PromoRedemption(UUIDPrimaryKey, Base):
    __tablename__ = "promo_redemptions"
    __table_args__ = (
        CheckConstraint("kind IN ('order', 'deposit')", name="kind"),
        CheckConstraint("status IN ('active', 'released')", name="status"),
        Index("ix_promo_redemptions_promo_id_user_id", "promo_id", "user_id"),
        Index("ix_promo_redemptions_user_id", "user_id"),
        # One live redemption per order and per top-up invoice.
        Index(
            "uq_promo_redemptions_active_order",
            "order_id",
            unique=True,
            postgresql_where=text("status = 'active' AND order_id IS NOT NULL"),
        ),
        Index(
            "uq_promo_redemptions_active_invoice",
            "invoice_id",
            unique=True,
            postgresql_where=text("status = 'active' AND invoice_id IS NOT NULL"),
        ),
    )

    promo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promos.id"))
    user_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))
    order_id: Mapped[uuid.UUID | None]
    invoice_id: Mapped[uuid.UUID | None]
    amount: Mapped[int] = mapped_column(BigInteger)  # before the discount / the deposit
    discount: Mapped[int] = mapped_column(BigInteger)  # the discount, or the deposit bonus
    status: Mapped[str] = mapped_column(String(10), default=RedemptionStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_reason: Mapped[str | None] = mapped_column(String(200))
