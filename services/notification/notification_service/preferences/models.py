from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from notification_service.models import Base
from webrana_common.db.base import utcnow


class Preference(Base):
    """A user's choices; no row means the defaults (everything on, no quiet hours)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # {category: {channel: bool}}; missing entries mean "on".
    channels: Mapped[dict[str, Any]] = mapped_column(JSONB)
    muted_email: Mapped[bool] = mapped_column(Boolean, default=False)
    muted_telegram: Mapped[bool] = mapped_column(Boolean, default=False)
    # Wall-clock times in Asia/Jakarta; both set or both null.
    quiet_hours_start: Mapped[time | None]
    quiet_hours_end: Mapped[time | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
