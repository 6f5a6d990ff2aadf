"""Single-use, short-lived tokens sent to the user: email verification, password reset and
Telegram linking. Only their sha256 is stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models import Base
from webrana_common.db.base import UUIDPrimaryKey, utcnow


class TokenPurpose(StrEnum):
    EMAIL_VERIFY = "email_verify"
    PASSWORD_RESET = "password_reset"
    TELEGRAM_LINK = "telegram_link"


class OneTimeToken(UUIDPrimaryKey, Base):
    __tablename__ = "one_time_tokens"
    __table_args__ = (
        Index("ix_one_time_tokens_user_id_purpose", "user_id", "purpose"),
        CheckConstraint(
            "purpose IN ('email_verify', 'password_reset', 'telegram_link')", name="purpose"
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
