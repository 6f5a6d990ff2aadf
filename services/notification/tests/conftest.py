"""Fixtures of the notification tests: a fresh migrated database and an empty Redis per test;
the REAL auth service (its own database, under uvicorn) for user lookups and Telegram
linking; the SMTP sink and the Telegram stand-in of devstack/sandbox; the app with its
lifespan (in-process, or under uvicorn for WebSocket clients); the arq worker in burst mode."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from arq.worker import Worker, get_kwargs
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

# Test helpers live next to this file under fleet-unique module names (importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from auth_users_listing import router as auth_listing_router
from notification_helpers import API_KEY, AUTH_KEY, BOT_TOKEN, WEBHOOK_SECRET, SeededUser, receive

from auth_service.app import create_app as create_auth_app
from auth_service.config import AuthSettings
from auth_service.keys import KeyRing, generate_private_pem, key_from_pem
from auth_service.users.models import User
from devstack.sandbox.smtp import MailStore, RecordingHandler, accept_any_login
from devstack.sandbox.telegram import create_app as create_telegram_standin
from notification_service.app import create_app
from notification_service.config import NotificationSettings
from notification_service.worker import build_worker_settings
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database
from webrana_common.embedded import free_port
from webrana_common.testing.client import running_app
from webrana_common.testing.live_server import LiveServer

ISSUER = "https://auth.webrana.cloud"
AUDIENCE = "webrana-api"


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """An async call from a session-scoped (sync) fixture, on a loop of its own."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    return KeyRing(key_from_pem(generate_private_pem()))


@dataclass(frozen=True)
class AuthService:
    url: str
    database_url: str


@pytest.fixture(scope="session")
def auth_service(
    database_factory: Any,
    redis_server_url: str,
    keyring: KeyRing,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AuthService]:
    """The real auth app (with the proposed `GET /internal/users` mounted) under uvicorn."""
    database_url = _run(database_factory.create("auth"))
    keys = tmp_path_factory.mktemp("keys")
    assert keyring.current.private_pem is not None
    (keys / "current.pem").write_text(keyring.current.private_pem)
    settings = AuthSettings(
        database_url=database_url,
        redis_url=redis_server_url,
        environment="test",
        jwt_keys_dir=keys,
        internal_api_keys=f"notification:{AUTH_KEY}",
        notification_url="http://127.0.0.1:9",
        argon2_time_cost=1,
        argon2_memory_cost_kib=1024,
    )
    app = create_auth_app(settings)
    app.include_router(auth_listing_router)
    server = LiveServer(app).start()
    try:
        yield AuthService(url=server.url, database_url=database_url)
    finally:
        server.stop()
        _run(database_factory.drop(database_url))


@dataclass(frozen=True)
class SmtpSink:
    port: int
    store: MailStore

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        return list(reversed(self.store.list(to)))  # oldest first


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    store = MailStore()
    port = free_port()
    controller = Controller(
        RecordingHandler(store),
        hostname="127.0.0.1",
        port=port,
        decode_data=False,
        authenticator=accept_any_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpSink(port, store)
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpSink) -> SmtpSink:
    smtp_server.store.clear()
    return smtp_server


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[LiveServer]:
    app = create_telegram_standin()
    app.state.sandbox.token = BOT_TOKEN
    with LiveServer(app) as server:
        yield server


@pytest.fixture
async def telegram(telegram_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """The stand-in's control API, reset for this test."""
    sandbox = telegram_server.app.state.sandbox  # type: ignore[attr-defined]
    sandbox.reset()
    sandbox.webhook_url = sandbox.webhook_secret = None
    async with httpx.AsyncClient(base_url=telegram_server.url, trust_env=False) as client:
        yield client


@pytest.fixture
async def database_url(database_factory: Any) -> AsyncIterator[str]:
    url = await database_factory.create("notification")
    yield url
    await database_factory.drop(url)


@pytest.fixture
def make_settings(
    database_url: str,
    redis_url: str,
    auth_service: AuthService,
    smtp_server: SmtpSink,
    telegram_server: LiveServer,
) -> Callable[..., NotificationSettings]:
    def make(**overrides: Any) -> NotificationSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "environment": "test",
            "jwks_url": f"{auth_service.url}/.well-known/jwks.json",
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "auth_url": auth_service.url,
            "internal_api_keys": f"order:{API_KEY}",
            "internal_api_key": AUTH_KEY,
            "public_base_url": "https://app.webrana.test",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_starttls": False,
            "telegram_api_url": telegram_server.url,
            "telegram_bot_token": BOT_TOKEN,
            "telegram_webhook_secret": WEBHOOK_SECRET,
            "delivery_retry_base_seconds": 0.05,
            "ws_auth_timeout_seconds": 1.0,
        }
        values.update(overrides)
        return NotificationSettings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., NotificationSettings]) -> NotificationSettings:
    return make_settings()


@pytest.fixture
def app(settings: NotificationSettings) -> FastAPI:
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
async def auth_db(auth_service: AuthService) -> AsyncIterator[Database]:
    database = Database(auth_service.database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
def make_user(auth_db: Database) -> Callable[..., Awaitable[SeededUser]]:
    """A user in the real auth's database."""

    async def make(
        *,
        locale: str = "id",
        verified: bool = True,
        chat_id: int | None = None,
        full_name: str = "Budi Santoso",
        role: str = "customer",
        email: str | None = None,
    ) -> SeededUser:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.co.id"
        user = User(
            id=uuid.uuid4(),
            email=email,
            password_hash="not-used",
            full_name=full_name,
            locale=locale,
            role=role,
            email_verified_at=utcnow() if verified else None,
            telegram_chat_id=chat_id,
            telegram_linked_at=utcnow() if chat_id else None,
        )
        async with auth_db.session() as session:
            session.add(user)
        return SeededUser(user.id, email, full_name, locale, chat_id)

    return make


@pytest.fixture
def token_for(keyring: KeyRing) -> Callable[..., str]:
    def mint(user: SeededUser | uuid.UUID, *, role: str = "customer", ttl: float = 900) -> str:
        user_id = user.id if isinstance(user, SeededUser) else user
        # A float `exp` (allowed by RFC 7519) lets expiry tests wait fractions of a second.
        now = time.time()
        return keyring.sign(
            {
                "iss": ISSUER,
                "aud": AUDIENCE,
                "sub": str(user_id),
                "role": role,
                "jti": uuid.uuid4().hex,
                "iat": int(now),
                "nbf": int(now),
                "exp": now + ttl,
            }
        )

    return mint


@pytest.fixture
def bearer(token_for: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def headers(user: SeededUser | uuid.UUID, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user, **kwargs)}"}

    return headers


@pytest.fixture
async def admin_headers(
    make_user: Callable[..., Awaitable[SeededUser]], bearer: Callable[..., dict[str, str]]
) -> dict[str, str]:
    return bearer(await make_user(role="admin"), role="admin")


@pytest.fixture
async def serve(
    make_settings: Callable[..., NotificationSettings],
) -> AsyncIterator[Callable[..., LiveServer]]:
    """The app under uvicorn (for WebSocket clients); several calls give several replicas."""
    servers: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        server = LiveServer(create_app(make_settings(**overrides))).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await asyncio.to_thread(server.stop)


@pytest.fixture
def ws_connect(
    token_for: Callable[..., str],
) -> Callable[..., Any]:
    """`async with ws_connect(server, user) as (ws, ready)`: authenticated by first message."""

    def open_socket(
        server: LiveServer, user: SeededUser, *, last_id: str | None = None, **token_kwargs: Any
    ) -> Any:
        return _Authenticated(server, token_for(user, **token_kwargs), last_id)

    return open_socket


class _Authenticated:
    def __init__(self, server: LiveServer, token: str, last_id: str | None) -> None:
        self.url = server.url.replace("http://", "ws://") + "/api/v1/notifications/ws"
        self.token = token
        self.last_id = last_id
        self._cm: Any = None

    async def __aenter__(self) -> tuple[ClientConnection, dict[str, Any]]:
        self._cm = connect(self.url, open_timeout=5)
        ws = await self._cm.__aenter__()
        auth: dict[str, Any] = {"type": "auth", "token": self.token}
        if self.last_id is not None:
            auth["last_id"] = self.last_id
        await ws.send(json.dumps(auth))
        return ws, await receive(ws, "ready")

    async def __aexit__(self, *exc: Any) -> None:
        await self._cm.__aexit__(*exc)


@pytest.fixture
def run_jobs(
    make_settings: Callable[..., NotificationSettings],
) -> Callable[..., Awaitable[Worker]]:
    """Run the real arq worker in burst mode until its queue is empty (or `max_jobs` ran)."""

    async def run(max_jobs: int | None = None, **overrides: Any) -> Worker:
        worker_class = build_worker_settings(make_settings(**overrides))
        worker = Worker(
            **{
                **get_kwargs(worker_class),
                "cron_jobs": [],
                "burst": True,
                "poll_delay": 0.01,
                "max_burst_jobs": -1 if max_jobs is None else max_jobs,
                "handle_signals": False,
            }
        )
        try:
            await worker.async_run()
        finally:
            await worker.close()
        return worker

    return run


class FlakyRelay:
    """An SMTP relay answering `codes` in turn to DATA, then accepting (into `store`). It notes
    the client port of each message, one port per connection."""

    def __init__(self, *codes: str) -> None:
        self.codes = list(codes)
        self.store = MailStore()
        self.peers: list[int] = []  # of accepted messages
        self.refused_peers: list[int] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.codes:
            self.refused_peers.append(session.peer[1])
            return self.codes.pop(0)
        self.peers.append(session.peer[1])
        return await RecordingHandler(self.store).handle_DATA(server, session, envelope)


@pytest.fixture
def flaky_relay() -> Iterator[Callable[..., tuple[FlakyRelay, int]]]:
    """`flaky_relay(*codes, port=None, **controller_options)` -> (relay, port)."""
    started: list[Controller] = []

    def start(*codes: str, port: int | None = None, **kwargs: Any) -> tuple[FlakyRelay, int]:
        handler, port = FlakyRelay(*codes), port or free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        handler.controller = controller
        started.append(controller)
        return handler, port

    yield start
    for controller in started:
        with contextlib.suppress(AssertionError, RuntimeError):  # a test stopped it already
            controller.stop()
