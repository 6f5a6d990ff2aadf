from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from notification_service.models import Base
from webrana_common.db.base import utcnow


class TelegramChat(Base):
    """Which user a chat linked to through this bot, so `/stop` can unlink it at auth (auth is
    keyed by user, and only unlinks while that chat is still the linked one)."""

    __tablename__ = "telegram_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
