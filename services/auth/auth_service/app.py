"""auth service: users, sessions, tokens, roles and the fleet's signing keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from auth_service.admin.router import router as admin_router
from auth_service.audit.router import router as audit_router
from auth_service.config import AuthSettings
from auth_service.keys import load_keyring
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.router import router as passwords_router
from auth_service.sessions.router import router as sessions_router
from auth_service.telegram.router import internal_router as telegram_internal_router
from auth_service.telegram.router import router as telegram_router
from auth_service.users.router import internal_router as users_internal_router
from auth_service.users.router import router as users_router
from webrana_common.auth.jwt import JWKSVerifier
from webrana_common.service import create_service_app

TAGS = [
    {"name": "account", "description": "Registration, email verification and the profile"},
    {"name": "sessions", "description": "Login, token refresh, logout and active sessions"},
    {"name": "passwords", "description": "Changing and resetting passwords"},
    {"name": "telegram", "description": "Connecting Telegram for notifications"},
    {"name": "keys", "description": "Public signing keys for verifying access tokens"},
    {"name": "admin", "description": "User administration and the audit trail (admins only)"},
    {
        "name": "internal",
        "description": "Service-to-service only (X-API-Key); never routed by the gateway",
    },
]


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Key files and the dummy hash take a moment: off the loop, before traffic arrives.
        keys = await asyncio.to_thread(load_keyring, settings)
        app.state.keys = keys
        app.state.password_hashing = await asyncio.to_thread(
            PasswordHashing.from_settings, settings
        )
        app.state.trusted_proxies = settings.trusted_proxy_networks()
        # auth verifies its own tokens from memory: no HTTP round trip to itself.
        app.state.jwt_verifier = JWKSVerifier(
            None,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            static_jwks=keys.jwks(),
        )
        yield

    app = create_service_app(
        settings,
        title="WeBrana auth",
        description="Accounts, sessions, tokens and roles. Errors are RFC 9457 "
        "`application/problem+json` with a stable `code`.",
        lifespan=lifespan,
        use_outbox=True,
        openapi_tags=TAGS,
    )

    @app.get(
        "/.well-known/jwks.json",
        tags=["keys"],
        summary="Public keys that verify access tokens (current and previous)",
        description="Tokens name their key in the `kid` header. Cache for a few minutes and "
        "refetch when an unknown `kid` appears (keys rotate).",
    )
    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(
            request.app.state.keys.jwks(), headers={"Cache-Control": "public, max-age=300"}
        )

    app.include_router(users_router)
    app.include_router(sessions_router)
    app.include_router(passwords_router)
    app.include_router(telegram_router)
    app.include_router(audit_router)  # before admin's /{user_id} routes
    app.include_router(admin_router)
    app.include_router(users_internal_router)
    app.include_router(telegram_internal_router)
    return app
