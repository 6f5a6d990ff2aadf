from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey


class Image(UUIDPrimaryKey, TimestampMixin, Base):
    """An operating system image (`ubuntu-24.04`) and what each provider calls it: a slug on
    DigitalOcean, an `os_id` on Vultr (kept as its decimal string), an image id on Linode."""

    __tablename__ = "images"

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    distribution: Mapped[str] = mapped_column(String(50))
    version: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    codes: Mapped[list[ImageCode]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class ImageCode(Base):
    __tablename__ = "image_codes"
    __table_args__ = (UniqueConstraint("provider_id", "code"),)

    image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(100))
