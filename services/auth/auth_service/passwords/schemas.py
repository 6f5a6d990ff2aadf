from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from auth_service.users.fields import EmailedToken, Password


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "current_password": "kopi-tubruk-di-pagi-hari",
                    "new_password": "nasi-uduk-dan-teh-manis",
                }
            ]
        },
    )

    current_password: Password
    new_password: Password


class ResetPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: EmailedToken
    new_password: Password
