from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auth_service.users.fields import Email, EmailedToken, FullName, Password, Phone
from auth_service.users.models import Locale, User, UserRole, UserStatus


class RegisterRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "budi@example.co.id",
                    "password": "kopi-tubruk-di-pagi-hari",
                    "full_name": "Budi Santoso",
                    "phone": "0812-3456-7890",
                    "locale": "id",
                }
            ]
        },
    )

    email: Email
    password: Password
    full_name: FullName
    phone: Phone | None = None
    locale: Locale = Locale.ID


class UpdateProfileRequest(BaseModel):
    """Only the fields sent change; `phone: null` removes the number."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"full_name": "Budi S.", "locale": "en"}]},
    )

    full_name: FullName | None = None
    phone: Phone | None = None
    locale: Locale | None = None

    @model_validator(mode="after")
    def _something_and_no_null_name(self) -> UpdateProfileRequest:
        if not self.model_fields_set:
            raise ValueError("send at least one of full_name, phone, locale")
        for name in ("full_name", "locale"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class VerifyEmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: EmailedToken


class EmailRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "budi@example.co.id"}]}
    )
    email: Email


class EmailVerified(BaseModel):
    """Deliberately small: whoever holds the link gets no profile data beyond the address."""

    email: str
    email_verified: bool


class Accepted(BaseModel):
    detail: str


class MeView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None = Field(description="E.164, e.g. +6281234567890")
    locale: Locale
    role: UserRole
    status: UserStatus
    email_verified: bool
    telegram_linked: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> MeView:
        return cls.model_validate(
            {**_common(user), "telegram_linked": user.telegram_chat_id is not None}
        )


class InternalUserView(BaseModel):
    """What other services (notification above all) need to reach a user."""

    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    locale: Locale
    role: UserRole
    status: UserStatus
    email_verified: bool
    telegram_chat_id: int | None

    @classmethod
    def of(cls, user: User) -> InternalUserView:
        return cls.model_validate({**_common(user), "telegram_chat_id": user.telegram_chat_id})


def _common(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "locale": user.locale,
        "role": user.role,
        "status": user.status,
        "email_verified": user.email_verified,
        "created_at": user.created_at,
    }
