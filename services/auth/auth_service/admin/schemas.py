from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from auth_service.users.models import Locale, User, UserRole, UserStatus


class AdminUserView(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    locale: Locale
    role: UserRole
    status: UserStatus
    email_verified: bool
    suspended_at: datetime | None
    suspended_reason: str | None
    last_login_at: datetime | None
    telegram_linked: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> AdminUserView:
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            phone=user.phone,
            locale=Locale(user.locale),
            role=UserRole(user.role),
            status=UserStatus(user.status),
            email_verified=user.email_verified,
            suspended_at=user.suspended_at,
            suspended_reason=user.suspended_reason,
            last_login_at=user.last_login_at,
            telegram_linked=user.telegram_chat_id is not None,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class SuspendRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Chargeback fraud, ticket #4312"}]},
    )
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class RoleChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "admin"}]})
    role: UserRole
