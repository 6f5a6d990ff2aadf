from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from auth_service.audit.models import AuditAction


class AuditEntryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    actor_id: uuid.UUID | None = Field(description="null when the service itself acted")
    target_user_id: uuid.UUID | None
    action: AuditAction
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    ip: str | None
    created_at: datetime
