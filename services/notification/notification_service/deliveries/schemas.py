from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from notification_service.contracts import Channel
from notification_service.deliveries.models import DeliveryReason, DeliveryStatus


class DeliveryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    notification_id: uuid.UUID
    user_id: uuid.UUID
    event: str
    channel: Channel
    status: DeliveryStatus
    reason: DeliveryReason | None
    recipient: str | None
    subject: str | None
    attempts: int
    last_error: str | None
    scheduled_for: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    updated_at: datetime
