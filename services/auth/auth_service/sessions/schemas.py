from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from auth_service.users.fields import Email

RefreshTokenStr = Annotated[
    str, Field(min_length=16, max_length=200, description="Opaque refresh token")
]


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "budi@example.co.id", "password": "kopi-tubruk-di-pagi-hari"}]
        },
    )

    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: RefreshTokenStr


class TokenPair(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9...",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "Yp0m3kq3k2VwZ8f0c1uQm4p6jQ7q2hZl1n0aXb9cD2E",
                    "refresh_expires_at": "2025-01-31T08:00:00Z",
                    "session_id": "5f0c7f8e-6a63-4bb1-9e1a-0b7c2a1d9e55",
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_expires_at: datetime
    session_id: uuid.UUID


class SessionView(BaseModel):
    id: uuid.UUID
    device: str | None = Field(
        description='Parsed from the user agent, e.g. "Chrome 120 on Windows 10"'
    )
    user_agent: str | None
    ip: str | None = Field(description="Address of the last use")
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool = Field(description="The session of the access token making this request")
