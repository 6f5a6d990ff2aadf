from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from notification_service.contracts import Channel
from notification_service.deliveries.models import DeliveryReason, DeliveryStatus


class DeliveryOutcome(BaseModel):
    channel: Channel
    status: DeliveryStatus
    reason: DeliveryReason | None = None
    scheduled_for: datetime | None = None


class SendResult(BaseModel):
    notification_id: uuid.UUID
    duplicate: bool
    deliveries: list[DeliveryOutcome]
