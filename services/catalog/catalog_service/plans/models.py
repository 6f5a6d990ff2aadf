from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey


class Plan(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_created_at_id", "created_at", "id"),
        Index("ix_plans_provider_id", "provider_id"),
        CheckConstraint("vcpus > 0", name="vcpus_positive"),
        CheckConstraint("memory_mb > 0", name="memory_positive"),
        CheckConstraint("disk_gb > 0", name="disk_positive"),
        CheckConstraint("transfer_gb >= 0", name="transfer_not_negative"),
    )

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # A provider with plans cannot be deleted (RESTRICT): orders point at the plan.
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"))
    provider_size_slug: Mapped[str] = mapped_column(String(100))
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_gb: Mapped[int] = mapped_column(Integer)
    transfer_gb: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set (once, by the order service) when an order uses the plan: from then on the plan is
    # deactivated instead of deleted, and its provider size is frozen.
    referenced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    prices: Mapped[list[PlanPrice]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    regions: Mapped[list[PlanRegion]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def referenced(self) -> bool:
        return self.referenced_at is not None


class PlanPrice(Base):
    __tablename__ = "plan_prices"
    __table_args__ = (
        CheckConstraint("amount_idr > 0", name="amount_positive"),
        CheckConstraint(
            "cycle IN ('monthly', 'quarterly', 'semiannual', 'annual')", name="cycle_known"
        ),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    cycle: Mapped[str] = mapped_column(String(20), primary_key=True)
    amount_idr: Mapped[int] = mapped_column(BigInteger)


class PlanRegion(Base):
    """The plan is offered in the region (which must have a code on the plan's provider)."""

    __tablename__ = "plan_regions"
    __table_args__ = (Index("ix_plan_regions_region_id", "region_id"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    # RESTRICT: a region plans are offered in is deactivated, not deleted.
    region_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("regions.id", ondelete="RESTRICT"), primary_key=True
    )
