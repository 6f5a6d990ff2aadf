from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey


class Region(UUIDPrimaryKey, TimestampMixin, Base):
    """Our name for a place (`sg-sin`), shown in Indonesian and English, and what each provider
    calls it (`codes`). Orders carry our slug; the quote translates it."""

    __tablename__ = "regions"

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_id: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    codes: Mapped[list[RegionCode]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class RegionCode(Base):
    __tablename__ = "region_codes"
    # One of our regions per provider code: two regions sharing `sgp1` would be one place.
    __table_args__ = (UniqueConstraint("provider_id", "code"),)

    region_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(100))
