from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey


class Provider(UUIDPrimaryKey, TimestampMixin, Base):
    """A cloud we resell. `slug` is the name the provider service knows it by
    (`/internal/providers/{slug}/...`), so it never changes once created."""

    __tablename__ = "providers"

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
