from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models import Base
from webrana_common.db.base import UUIDPrimaryKey, utcnow


class AuditAction(StrEnum):
    USER_SUSPENDED = "user.suspended"
    USER_UNSUSPENDED = "user.unsuspended"
    USER_ROLE_CHANGED = "user.role_changed"
    ADMIN_BOOTSTRAPPED = "user.admin_bootstrapped"
    PASSWORD_CHANGED = "user.password_changed"
    PASSWORD_RESET = "user.password_reset"
    REFRESH_TOKEN_REUSED = "session.refresh_token_reused"


class AuditEntry(UUIDPrimaryKey, Base):
    """Append-only. No foreign keys on purpose: the trail must outlive the rows it names."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created_at_id", "created_at", "id"),
        Index("ix_audit_log_target_user_id", "target_user_id"),
        Index("ix_audit_log_actor_id", "actor_id"),
    )

    # None when the service itself acted (e.g. revoking a session on refresh-token reuse).
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    target_user_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
