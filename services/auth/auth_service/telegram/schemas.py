from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Telegram chat ids fit in 52 bits; groups are negative.
ChatId = Annotated[int, Field(ge=-(2**52), le=2**52, examples=[123456789])]


class TelegramLink(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://t.me/WeBranaCloudBot?start=Yp0m3kq3k2VwZ8f0c1uQm4p6jQ7q2hZl1n0aXb9cD2E",
                    "expires_at": "2025-01-01T08:15:00Z",
                }
            ]
        }
    )

    url: str = Field(description="Open it in Telegram and press Start")
    expires_at: datetime


class BindTelegramRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[
        str,
        Field(
            min_length=16,
            max_length=64,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="The `start` parameter the bot received",
        ),
    ]
    chat_id: ChatId
