from __future__ import annotations

from fastapi import FastAPI

from auth_service.config import AuthSettings
from webrana_common.service import create_service_app


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    return create_service_app(
        settings,
        title="WeBrana auth",
        description="Accounts, sessions, tokens and roles.",
        use_outbox=True,
    )
