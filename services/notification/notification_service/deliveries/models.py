from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from notification_service.models import Base
from webrana_common.db.base import UUIDPrimaryKey, utcnow


class DeliveryStatus(StrEnum):
    QUEUED = "QUEUED"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class DeliveryReason(StrEnum):
    PREFERENCE_OFF = "preference_off"
    CHANNEL_MUTED = "channel_muted"
    QUIET_HOURS = "quiet_hours"  # QUEUED, deferred to the end of the window
    NO_CHAT_LINKED = "no_chat_linked"
    EMAIL_UNVERIFIED = "email_unverified"
    TELEGRAM_DISABLED = "telegram_disabled"
    BOT_BLOCKED = "bot_blocked"
    USER_NOT_FOUND = "user_not_found"
    REJECTED = "rejected"  # a permanent refusal (5xx SMTP reply, Telegram 400)
    RETRIES_EXHAUSTED = "retries_exhausted"


class Delivery(UUIDPrimaryKey, Base):
    """The delivery log: one row per notification x channel. `notification_id` is no foreign
    key on purpose: the log is kept longer (180 days) than read notifications (90)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        CheckConstraint("status IN ('QUEUED', 'SENT', 'FAILED', 'SKIPPED')", name="status"),
        CheckConstraint("channel IN ('in_app', 'email', 'telegram')", name="channel"),
        Index("ix_deliveries_user_id_created_at", "user_id", "created_at"),
        Index("ix_deliveries_created_at_id", "created_at", "id"),
        Index("ix_deliveries_status_scheduled_for", "status", "scheduled_for"),
    )

    notification_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    recipient: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    scheduled_for: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
