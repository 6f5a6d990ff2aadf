from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models import Base
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey


class UserRole(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Locale(StrEnum):
    ID = "id"
    EN = "en"


class User(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_created_at_id", "created_at", "id"),
        Index("ix_users_telegram_chat_id", "telegram_chat_id"),
        CheckConstraint("role IN ('customer', 'admin')", name="role"),
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
        CheckConstraint("locale IN ('id', 'en')", name="locale"),
    )

    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5), default=Locale.ID, server_default="id")
    role: Mapped[str] = mapped_column(
        String(20), default=UserRole.CUSTOMER, server_default="customer"
    )
    status: Mapped[str] = mapped_column(
        String(20), default=UserStatus.ACTIVE, server_default="active"
    )
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_suspended(self) -> bool:
        return self.status == UserStatus.SUSPENDED

    def snapshot(self) -> dict[str, object]:
        """What an audit entry records about the user before and after a change."""
        return {
            "email": self.email,
            "role": self.role,
            "status": self.status,
            "suspended_reason": self.suspended_reason,
            "email_verified": self.email_verified,
        }


# Emails are stored lower-cased already; the index on lower() also guards any writer that
# forgets to, so two spellings of one address can never both exist.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
