"""Fixtures of the order tests. Real apps where they exist: the catalog (seeded) and the
provider service in front of the DigitalOcean stand-in, each with its own database, served over
TCP once per session. Billing, notification and instance are contract-shaped stand-ins
(`Fleet`). The order app runs with its lifespan on a fresh migrated database per test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).parent))

from order_helpers import (
    BILLING_KEY,
    DO_TOKEN,
    ORDER_KEY,
    Cloud,
    Fleet,
    TokenIssuer,
    in_thread,
    redis_db,
)

from order_service.app import create_app
from order_service.config import OrderSettings
from order_service.context import OrderContext
from order_service.worker import shutdown, startup
from webrana_common.db.session import Database
from webrana_common.testing.client import running_app
from webrana_common.testing.databases import DatabaseFactory
from webrana_common.testing.live_server import LiveServer

FAST_PROVISIONING = {
    "provisioning_deadline_seconds": 15.0,
    "provisioning_poll_initial_seconds": 0.05,
    "provisioning_poll_max_seconds": 0.2,
    "provisioning_retry_initial_seconds": 0.05,
    "provisioning_retry_max_seconds": 0.2,
    "provisioning_lease_seconds": 0.5,
    "provisioning_call_timeout_seconds": 10.0,
}


@pytest.fixture(scope="session")
def tokens() -> Iterator[TokenIssuer]:
    issuer = TokenIssuer(kid="order-test-kid")
    with LiveServer(issuer.app()) as server:
        issuer.jwks_url = f"{server.url}/.well-known/jwks.json"
        yield issuer


@pytest.fixture(scope="session")
def fleet_server() -> Iterator[tuple[Fleet, str]]:
    fleet = Fleet()
    with LiveServer(fleet.app()) as server:
        yield fleet, server.url


@pytest.fixture
def fleet(fleet_server: tuple[Fleet, str]) -> Iterator[Fleet]:
    fleet_server[0].reset()
    yield fleet_server[0]
    assert fleet_server[0].refused == [], "notifications outside the contract"


@pytest.fixture(scope="session")
def catalog(
    database_factory: DatabaseFactory, redis_server_url: str, tokens: TokenIssuer
) -> Iterator[str]:
    """The real catalog app on a seeded database."""
    from catalog_service.app import create_app as create_catalog
    from catalog_service.config import CatalogSettings
    from catalog_service.seed import seed

    url = in_thread(database_factory.create("catalog"))
    in_thread(seed(url))
    settings = CatalogSettings(
        database_url=url,
        redis_url=redis_db(redis_server_url, 1),
        environment="test",
        jwks_url=tokens.jwks_url,
        internal_api_keys=f"order:{ORDER_KEY}",
        db_pool_size=3,
    )
    with LiveServer(create_catalog(settings)) as server:
        yield server.url


@pytest.fixture(scope="session")
def plans(catalog: str) -> dict[str, str]:
    """Plan ids of the seed catalog by slug."""
    with httpx.Client() as http:
        found = {}
        for slug in ("do-1c-1gb", "vultr-1c-1gb"):
            response = http.get(f"{catalog}/api/v1/catalog/plans/{slug}")
            response.raise_for_status()
            found[slug] = response.json()["id"]
    return found


@pytest.fixture(scope="session")
def cloud_server() -> Iterator[str]:
    from devstack.sandbox import digitalocean
    from devstack.sandbox.cloud.settings import DigitalOceanSandboxSettings

    settings = DigitalOceanSandboxSettings(token=DO_TOKEN, boot_delay=0.1, action_delay=0.1)
    with LiveServer(digitalocean.create_app(settings)) as server:
        yield server.url


@pytest.fixture(scope="session")
def provider(
    database_factory: DatabaseFactory, redis_server_url: str, cloud_server: str
) -> Iterator[str]:
    """The real provider service in front of the DigitalOcean stand-in."""
    from provider_service.app import create_app as create_provider
    from provider_service.config import ProviderSettings

    settings = ProviderSettings(
        database_url=in_thread(database_factory.create("provider")),
        redis_url=redis_db(redis_server_url, 2),
        environment="test",
        internal_api_keys=f"order:{ORDER_KEY}",
        digitalocean_api_url=f"{cloud_server}/v2",
        digitalocean_token=DO_TOKEN,
        vultr_enabled=False,
        linode_enabled=False,
        provider_timeout_seconds=1.0,
        provider_deadline_seconds=2.0,
        provider_backoff_seconds=0.02,
        provider_backoff_max_seconds=0.1,
        provision_lease_seconds=5.0,
        provision_wait_seconds=5.0,
        provision_poll_seconds=0.02,
    )
    with LiveServer(create_provider(settings)) as server:
        yield server.url


@pytest.fixture(scope="session")
def sandbox_control() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as control:
        yield control


@pytest.fixture
def cloud(cloud_server: str, sandbox_control: httpx.Client) -> Cloud:
    sandbox = Cloud(cloud_server, sandbox_control)
    sandbox.call("POST", "/reset")
    sandbox.configure(boot_delay=0.1)
    return sandbox


@pytest.fixture
async def database_url(database_factory: DatabaseFactory) -> AsyncIterator[str]:
    url = await database_factory.create("order")
    yield url
    await database_factory.drop(url)


@pytest.fixture
def settings(
    database_url: str,
    redis_url: str,
    tokens: TokenIssuer,
    catalog: str,
    provider: str,
    fleet_server: tuple[Fleet, str],
) -> OrderSettings:
    fleet_url = fleet_server[1]
    return OrderSettings(
        database_url=database_url,
        redis_url=redis_url,
        environment="test",
        jwks_url=tokens.jwks_url,
        internal_api_keys=f"billing:{BILLING_KEY}",
        internal_api_key=ORDER_KEY,
        catalog_url=catalog,
        provider_url=provider,
        billing_url=fleet_url,
        notification_url=fleet_url,
        instance_url=fleet_url,
        db_pool_size=5,
        **FAST_PROVISIONING,
    )


@pytest.fixture
def app(settings: OrderSettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI, fleet: Fleet) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as http:
        yield http


@pytest.fixture
async def settled(app: FastAPI) -> Callable[[], Awaitable[None]]:
    """Wait for the app's after-commit work (outbox deliveries, enqueues)."""

    async def wait() -> None:
        await app.state.db.wait_for_background()

    return wait


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def worker(settings: OrderSettings) -> AsyncIterator[OrderContext]:
    """What a worker process's jobs get, built by the worker's own startup."""
    ctx: dict[str, Any] = {"redis": None}
    await startup(ctx, settings)
    yield ctx["order"]
    await shutdown(ctx)


@pytest.fixture
def customer(tokens: TokenIssuer) -> tuple[uuid.UUID, dict[str, str]]:
    user_id = uuid.uuid4()
    return user_id, tokens.headers(user_id)


@pytest.fixture
def admin(tokens: TokenIssuer) -> dict[str, str]:
    return tokens.headers(uuid.uuid4(), role="admin")
