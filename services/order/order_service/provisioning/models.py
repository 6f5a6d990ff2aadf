from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from order_service.models import Base
from webrana_common.db.base import TimestampMixin


class TaskState(StrEnum):
    REQUESTING = "requesting"  # the provider has not confirmed a server yet
    POLLING = "polling"  # a server exists; waiting for it to be active
    DONE = "done"
    FAILED = "failed"


class ProvisioningTask(TimestampMixin, Base):
    """Where the provisioning of an order stands, so a restarted worker resumes from it."""

    __tablename__ = "provisioning_tasks"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # Sent to the provider service: the order id on the first attempt, `<order id>-r<n>` on an
    # admin retry (the server of a failed attempt must not be handed back again).
    idempotency_key: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))
    provider_instance_id: Mapped[str | None] = mapped_column(String(100))
    deadline_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    calls: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
