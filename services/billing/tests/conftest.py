"""Fixtures of the billing tests: a fresh migrated database and an empty Redis per test; the
billing app with its lifespan, talking to the Tripay stand-in of devstack/sandbox in-process
(and the stand-in's callbacks coming back into the app); stand-ins of auth, notification and
order under uvicorn (outbox deliveries go over real HTTP); tokens verified against a JWKS."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

# Test helpers live next to this file under fleet-unique module names (importlib mode).
sys.path.insert(0, str(Path(__file__).parent))

from billing_builders import BillingEnv
from billing_helpers import ADMIN_ALERT_ID, API_KEY, Fleet, TokenIssuer

from billing_service.app import create_app
from billing_service.config import BillingSettings
from devstack.sandbox.tripay import create_app as create_tripay
from devstack.sandbox.tripay_standin.settings import TripaySandboxSettings
from webrana_common.db.session import Database
from webrana_common.testing.client import running_app
from webrana_common.testing.live_server import LiveServer


@pytest.fixture(scope="session")
def tokens() -> Iterator[TokenIssuer]:
    issuer = TokenIssuer(kid="billing-test-key")
    with LiveServer(issuer.app()) as server:
        issuer.jwks_url = f"{server.url}/.well-known/jwks.json"
        yield issuer


@pytest.fixture(scope="session")
def fleet_servers() -> Iterator[Fleet]:
    fleet = Fleet()
    with fleet.services, fleet.order:
        yield fleet


@pytest.fixture
def fleet(fleet_servers: Fleet) -> Iterator[Fleet]:
    fleet_servers.reset()
    yield fleet_servers
    if fleet_servers.order._server is None:  # a test stopped it and failed before restarting
        fleet_servers.order.start()


@pytest.fixture
async def database_url(database_factory: Any) -> AsyncIterator[str]:
    url = await database_factory.create("billing")
    yield url
    await database_factory.drop(url)


@pytest.fixture
def tripay_app() -> Iterator[FastAPI]:
    app = create_tripay(
        TripaySandboxSettings(
            callback_retry_seconds=0.2, expiry_sweep_seconds=0, public_url="http://tripay.test"
        )
    )
    yield app
    app.state.sandbox.sender.reset()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
def settings(
    database_url: str,
    redis_url: str,
    tokens: TokenIssuer,
    fleet: Fleet,
    settings_overrides: dict[str, Any],
) -> BillingSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "environment": "test",
        "jwks_url": tokens.jwks_url,
        "internal_api_keys": f"order:{API_KEY}",
        "internal_api_key": "billing-test-key",
        "auth_url": fleet.services.url,
        "notification_url": fleet.services.url,
        "order_url": fleet.order.url,
        "tripay_api_url": "http://tripay.test/api-sandbox",
        "tripay_callback_url": "http://billing.test/api/v1/billing/callbacks/tripay",
        "public_base_url": "https://app.webrana.test",
        "billing_alert_user_ids": str(ADMIN_ALERT_ID),
        "db_pool_size": 10,
    }
    values.update(settings_overrides)
    return BillingSettings(**values)


@pytest.fixture
def app(settings: BillingSettings, tripay_app: FastAPI) -> FastAPI:
    app = create_app(settings, tripay_transport=httpx.ASGITransport(app=tripay_app))
    # The stand-in's callbacks come back into this app, as they would over the network.
    tripay_app.state.sandbox.sender.transport = httpx.ASGITransport(app=app)
    return app


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
async def env(
    client: httpx.AsyncClient,
    app: FastAPI,
    tripay_app: FastAPI,
    tokens: TokenIssuer,
    fleet: Fleet,
    db: Database,
) -> AsyncIterator[BillingEnv]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=tripay_app), base_url="http://tripay.test"
    ) as tripay:
        yield BillingEnv(client, app, tripay_app, tripay, tokens, fleet, db)


@pytest.fixture
def internal() -> dict[str, str]:
    return {"X-API-Key": API_KEY}
