"""A session is a refresh-token family: one login, and the chain of tokens rotated from it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models import Base
from webrana_common.db.base import UUIDPrimaryKey, utcnow


class RevokeReason(StrEnum):
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    REVOKED_BY_USER = "revoked_by_user"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    SUSPENDED = "suspended"
    REUSE_DETECTED = "reuse_detected"


class RefreshFamily(UUIDPrimaryKey, Base):
    __tablename__ = "refresh_families"
    __table_args__ = (Index("ix_refresh_families_user_id_revoked_at", "user_id", "revoked_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    device: Mapped[str | None] = mapped_column(String(200))
    created_ip: Mapped[str | None] = mapped_column(String(45))
    last_ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Mirrors the live token's expiry, so listing sessions needs no join.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(UUIDPrimaryKey, Base):
    __tablename__ = "refresh_tokens"

    family_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("refresh_families.id", ondelete="CASCADE"), index=True
    )
    # sha256 of the opaque token: a database leak yields nothing that can be presented.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The pair this token was rotated into, encrypted with a key derived from this token's own
    # plaintext (which only its holder has), kept for the grace window so a concurrent refresh
    # of the same token gets the same answer.
    successor_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
