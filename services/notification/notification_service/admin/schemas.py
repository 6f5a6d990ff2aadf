from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from notification_service.contracts import Category, Channel, NotificationEvent, Priority

Locale = Literal["id", "en"]


class TemplateInfo(BaseModel):
    event: NotificationEvent
    category: Category
    priority: Priority
    channels: list[Channel] = Field(description="Default channels of the event")
    to_unverified_email: bool
    locales: list[Locale]
    data_schema: dict[str, Any] = Field(description="JSON schema of the event's `data`")
    sample: dict[str, Any]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Locale = "id"
    data: dict[str, Any] | None = Field(default=None, description="Default: the sample data")
    recipient_name: str = Field(default="Budi Santoso", max_length=200)


class InAppPreview(BaseModel):
    title: str
    message: str
    action_url: str | None


class EmailPreview(BaseModel):
    subject: str
    html: str
    text: str
    list_unsubscribe: bool


class TelegramPreview(BaseModel):
    text: str
    visible_length: int


class TemplatePreview(BaseModel):
    event: NotificationEvent
    locale: Locale
    in_app: InAppPreview
    email: EmailPreview
    telegram: TelegramPreview


class WebhookRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        default=None,
        description="Default: PUBLIC_BASE_URL + /api/v1/notifications/telegram/webhook",
    )


class WebhookRegistered(BaseModel):
    url: str
