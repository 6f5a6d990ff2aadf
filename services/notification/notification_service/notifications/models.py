from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from notification_service.models import Base
from webrana_common.db.base import UUIDPrimaryKey, utcnow


class Notification(UUIDPrimaryKey, Base):
    """One row per accepted send (its idempotency key is unique): the in-app copy when `in_app`,
    and the anchor of the delivery log either way."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "seq"),
        Index("ix_notifications_user_id_created_at_id", "user_id", "created_at", "id"),
        # The unread badge: one index-only count per push.
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("in_app AND read_at IS NULL AND deleted_at IS NULL"),
        ),
        Index("ix_notifications_created_at", "created_at"),
    )

    user_id: Mapped[uuid.UUID]
    # Per-user, in commit order (taken under the user's stream row lock): resume is exact.
    seq: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(5))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    action_url: Mapped[str | None] = mapped_column(String(2000))
    in_app: Mapped[bool] = mapped_column(Boolean)
    broadcast_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class NotificationStream(Base):
    """A user's last `seq`. Taking the next one locks this row until commit, so a user's
    notifications commit in `seq` order and "everything after seq N" never misses one."""

    __tablename__ = "notification_streams"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
