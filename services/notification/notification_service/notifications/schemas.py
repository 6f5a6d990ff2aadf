from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row

from notification_service.contracts import Category, NotificationEvent, Priority
from notification_service.notifications.models import Notification


class NotificationView(BaseModel):
    """`title` and `message` are plain text: show them as text, never as HTML."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int = Field(description="Per-user order of arrival")
    event: NotificationEvent
    category: Category
    priority: Priority
    title: str
    message: str
    action_url: str | None = Field(description="A path of the web app, or an absolute URL")
    data: dict[str, Any]
    read: bool
    read_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: Notification | Row[Any]) -> NotificationView:
        return cls.model_validate(
            {
                "id": row.id,
                "seq": row.seq,
                "event": row.event,
                "category": row.category,
                "priority": row.priority,
                "title": row.title,
                "message": row.message,
                "action_url": row.action_url,
                "data": row.data,
                "read": row.read_at is not None,
                "read_at": row.read_at,
                "created_at": row.created_at,
            }
        )


class UnreadCount(BaseModel):
    unread_count: int


class ReadResult(BaseModel):
    id: uuid.UUID
    read_at: datetime
    unread_count: int


class ReadAllRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before_id: uuid.UUID | None = Field(
        default=None,
        description="The newest notification the client has shown: it and everything older "
        "become read; anything that arrived after it stays unread. Omit to read everything.",
    )


class ReadAllResult(BaseModel):
    marked: int
    unread_count: int
