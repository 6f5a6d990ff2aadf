from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from notification_service.broadcasts.models import Broadcast, BroadcastStatus
from notification_service.contracts import Channel, Link, Text


class Audience(BaseModel):
    """Active users only; every filter left out matches everyone."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["customer", "admin"] | None = None
    locale: Literal["id", "en"] | None = None
    email_verified: bool | None = None


class BroadcastRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Pemeliharaan jaringan Sabtu malam",
                    "body": "Sabtu 23.00-01.00 WIB jaringan region Jakarta dipelihara.",
                    "title_en": "Network maintenance on Saturday night",
                    "body_en": "On Saturday 23:00-01:00 WIB the Jakarta network is serviced.",
                    "audience": {"role": "customer"},
                    "idempotency_key": "maintenance-2025-01-18",
                }
            ]
        },
    )

    title: Text
    body: str = Field(min_length=1, max_length=3000)
    title_en: Text | None = None
    body_en: str | None = Field(default=None, min_length=1, max_length=3000)
    link: Link | None = None
    audience: Audience = Field(default_factory=Audience)
    channels: list[Channel] | None = Field(default=None, min_length=1)
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=150,
        description="Or the Idempotency-Key header: the same key never broadcasts twice",
    )

    def announcement(self) -> dict[str, Any]:
        return self.model_dump(
            include={"title", "body", "title_en", "body_en", "link"}, exclude_none=True
        )


class BroadcastView(BaseModel):
    id: uuid.UUID
    status: BroadcastStatus
    data: dict[str, Any]
    audience: dict[str, Any]
    channels: list[Channel] | None
    pages: int = Field(description="Pages of users processed")
    recipients: int = Field(description="Users reached so far")
    created: int = Field(description="Notifications created so far (re-runs add none)")
    done: bool
    last_error: str | None
    created_by: uuid.UUID
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: Broadcast) -> BroadcastView:
        return cls(
            id=row.id,
            status=BroadcastStatus(row.status),
            data=row.data,
            audience=row.audience,
            channels=row.channels or None,
            pages=row.pages,
            recipients=row.recipients,
            created=row.created,
            done=row.status == BroadcastStatus.COMPLETED,
            last_error=row.last_error,
            created_by=row.created_by,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
