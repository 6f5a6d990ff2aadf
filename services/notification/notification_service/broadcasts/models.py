from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from notification_service.models import Base
from webrana_common.db.base import UUIDPrimaryKey, utcnow


class BroadcastStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class Broadcast(UUIDPrimaryKey, Base):
    """A SYSTEM_ANNOUNCEMENT to many users, sent page by page. `cursor` is auth's cursor of the
    next page: it is committed with the page's notifications, so a crashed run resumes there."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running', 'completed', 'failed')", name="status"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), default=BroadcastStatus.PENDING)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    audience: Mapped[dict[str, Any]] = mapped_column(JSONB)
    channels: Mapped[list[str]] = mapped_column(JSONB)
    cursor: Mapped[str | None] = mapped_column(String(500))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
