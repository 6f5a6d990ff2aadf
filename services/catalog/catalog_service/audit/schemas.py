from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog_service.audit.service import AuditAction, TargetType


class AuditEntryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    actor_id: uuid.UUID | None = Field(description="The admin; null when a service acted")
    actor_service: str | None = Field(description="The calling service, for internal changes")
    action: AuditAction
    target_type: TargetType
    target_id: uuid.UUID | None
    target_slug: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    created_at: datetime
