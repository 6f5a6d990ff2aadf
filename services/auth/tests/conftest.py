"""Fixtures of the auth tests: a fresh migrated database and an empty Redis per test, the app
running with its lifespan, and small builders (users, logins, state readers)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# Test helpers live next to this file under a fleet-unique module name (tests are collected
# with --import-mode=importlib, so the folder is not on sys.path by itself).
sys.path.insert(0, str(Path(__file__).parent))

from auth_helpers import API_KEY, PASSWORD, SeededUser

from auth_service.app import create_app
from auth_service.config import AuthSettings
from auth_service.keys import generate_private_pem
from auth_service.passwords.hashing import PasswordHashing
from auth_service.users.models import User, UserRole, UserStatus
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database
from webrana_common.outbox.models import OutboxMessage
from webrana_common.testing.client import running_app
from webrana_common.testing.live_server import LiveServer

# Cheap argon2 for speed; tests/passwords/test_hashing.py proves the production parameters.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 1024, "argon2_parallelism": 1}


@pytest.fixture(scope="session")
def signing_pem() -> str:
    # One RSA key for the whole run: generating one per test would dominate the suite's time.
    return generate_private_pem()


@pytest.fixture(scope="session")
def other_pem() -> str:
    """A second key, for rotation and forgery tests."""
    return generate_private_pem()


@pytest.fixture
def keys_dir(tmp_path: Path, signing_pem: str) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir()
    (directory / "current.pem").write_text(signing_pem)
    return directory


class NotificationSink:
    """Stand-in for the notification service's `/internal/notifications/send`: answers 202 and
    records what arrived, so outbox deliveries complete (and can be asserted) in milliseconds."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []

        async def send(request: Request) -> JSONResponse:
            self.received.append((dict(request.headers), await request.json()))
            return JSONResponse({"accepted": True}, status_code=202)

        app = Starlette(routes=[Route("/internal/notifications/send", send, methods=["POST"])])
        self.server = LiveServer(app)

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def notification_sink() -> Iterator[NotificationSink]:
    sink = NotificationSink()
    with sink.server:
        yield sink


@pytest.fixture
async def database_url(database_factory: Any) -> AsyncIterator[str]:
    url = await database_factory.create("auth")
    yield url
    await database_factory.drop(url)


@pytest.fixture
def make_settings(
    database_url: str, redis_url: str, keys_dir: Path, notification_sink: NotificationSink
) -> Callable[..., AuthSettings]:
    def make(**overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "environment": "test",
            "jwt_keys_dir": keys_dir,
            "internal_api_keys": f"notification:{API_KEY}",
            "notification_url": notification_sink.url,
            "public_base_url": "https://app.webrana.test",
            **CHEAP_ARGON2,
        }
        values.update(overrides)
        return AuthSettings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., AuthSettings]) -> AuthSettings:
    return make_settings()


@pytest.fixture
def app(settings: AuthSettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as http:
        yield http


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A second connection to the test database, for arranging and inspecting state."""
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
def make_user(db: Database) -> Callable[..., Awaitable[SeededUser]]:
    hashing = PasswordHashing(time_cost=1, memory_cost_kib=1024, parallelism=1)

    async def make(
        email: str | None = None,
        password: str = PASSWORD,
        *,
        role: str = UserRole.CUSTOMER,
        status: str = UserStatus.ACTIVE,
        verified: bool = True,
        **fields: Any,
    ) -> SeededUser:
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.co.id"
        user = User(
            id=uuid.uuid4(),
            email=email,
            password_hash=await hashing.hash(password),
            full_name=fields.pop("full_name", "Budi Santoso"),
            role=role,
            status=status,
            email_verified_at=utcnow() if verified else None,
            **fields,
        )
        async with db.session() as session:
            session.add(user)
        return SeededUser(id=user.id, email=email, password=password)

    return make


@pytest.fixture
def login(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def do(user: SeededUser, **headers: str) -> dict[str, Any]:
        response = await client.post(
            "/api/v1/auth/login",
            json={"email": user.email, "password": user.password},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        return response.json()

    return do


@pytest.fixture
def bearer(
    login: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[[SeededUser], Awaitable[dict[str, str]]]:
    async def headers(user: SeededUser) -> dict[str, str]:
        return {"Authorization": f"Bearer {(await login(user))['access_token']}"}

    return headers


@pytest.fixture
def outbox(db: Database) -> Callable[..., Awaitable[list[dict[str, Any]]]]:
    """Payloads in the outbox, optionally of one event only, oldest first."""

    async def read(event: str | None = None) -> list[dict[str, Any]]:
        async with db.session() as session:
            rows = (
                await session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))
            ).all()
        for row in rows:
            assert row.target == "notification:/internal/notifications/send"
            assert row.payload["idempotency_key"] == row.idempotency_key
        return [r.payload for r in rows if event is None or r.payload["event"] == event]

    return read
