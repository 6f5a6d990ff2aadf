from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from catalog_service.models import Base
from webrana_common.db.base import utcnow


class CatalogState(Base):
    """One row: the catalog version, bumped in the same transaction as every change to what
    the public sees. ETags and the public response cache hang off it."""

    __tablename__ = "catalog_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
