"""Fixtures of the provider tests: the three cloud stand-ins served over real TCP (once per
session, reset per test), a fresh migrated database and an empty Redis per test, and the app
running with its lifespan against the stand-ins.

After every test each stand-in's request log must show only requests that are valid against
the provider's official OpenAPI subset: the adapters are held to the spec on every call.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).parent))

from provider_helpers import API_KEY, CLOUD_TOKENS, FAST, Sandbox

from provider_service.app import create_app
from provider_service.config import ProviderSettings
from webrana_common.db.session import Database
from webrana_common.testing.client import running_app
from webrana_common.testing.live_server import LiveServer

# Short enough for a quick suite, long enough for a loaded machine.
FAST_CALLS = {
    "provider_timeout_seconds": 0.5,
    "provider_deadline_seconds": 1.5,
    "provider_backoff_seconds": 0.02,
    "provider_backoff_max_seconds": 0.1,
    "provision_lease_seconds": 5.0,
    "provision_wait_seconds": 5.0,
    "provision_poll_seconds": 0.02,
    "linode_power_off_timeout_seconds": 5.0,
    "linode_poll_seconds": 0.05,
}


@pytest.fixture(scope="session")
def cloud_servers() -> Iterator[dict[str, LiveServer]]:
    from devstack.sandbox import digitalocean, linode, vultr
    from devstack.sandbox.cloud.settings import (
        DigitalOceanSandboxSettings,
        LinodeSandboxSettings,
        VultrSandboxSettings,
    )

    apps = {
        "digitalocean": digitalocean.create_app(
            DigitalOceanSandboxSettings(token=CLOUD_TOKENS["digitalocean"], **FAST)
        ),
        "vultr": vultr.create_app(VultrSandboxSettings(token=CLOUD_TOKENS["vultr"], **FAST)),
        "linode": linode.create_app(LinodeSandboxSettings(token=CLOUD_TOKENS["linode"], **FAST)),
    }
    servers = {name: LiveServer(app).start() for name, app in apps.items()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def sandbox_control() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as control:
        yield control


@pytest.fixture
async def clouds(
    cloud_servers: dict[str, LiveServer], sandbox_control: httpx.Client
) -> AsyncIterator[dict[str, Sandbox]]:
    sandboxes = {
        name: Sandbox(name, server.url, sandbox_control) for name, server in cloud_servers.items()
    }
    for sandbox in sandboxes.values():
        await sandbox.reset()
    yield sandboxes
    for sandbox in sandboxes.values():
        await sandbox.assert_spoke_the_spec()


@pytest.fixture
def do(clouds: dict[str, Sandbox]) -> Sandbox:
    return clouds["digitalocean"]


@pytest.fixture
def vultr(clouds: dict[str, Sandbox]) -> Sandbox:
    return clouds["vultr"]


@pytest.fixture
def linode(clouds: dict[str, Sandbox]) -> Sandbox:
    return clouds["linode"]


@pytest.fixture
async def database_url(database_factory: Any) -> AsyncIterator[str]:
    url = await database_factory.create("provider")
    yield url
    await database_factory.drop(url)


@pytest.fixture
def make_settings(
    database_url: str, redis_url: str, clouds: dict[str, Sandbox]
) -> Callable[..., ProviderSettings]:
    def make(**overrides: Any) -> ProviderSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "environment": "test",
            "internal_api_keys": f"order:{API_KEY}",
            "digitalocean_api_url": clouds["digitalocean"].api_url,
            "digitalocean_token": CLOUD_TOKENS["digitalocean"],
            "vultr_api_url": clouds["vultr"].api_url,
            "vultr_api_key": CLOUD_TOKENS["vultr"],
            "linode_api_url": clouds["linode"].api_url,
            "linode_api_token": CLOUD_TOKENS["linode"],
            **FAST_CALLS,
        }
        values.update(overrides)
        return ProviderSettings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., ProviderSettings]) -> ProviderSettings:
    return make_settings()


@pytest.fixture
def app(settings: ProviderSettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as http:
        http.headers["X-API-Key"] = API_KEY
        yield http


@pytest.fixture
def make_client(
    make_settings: Callable[..., ProviderSettings],
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """A client of an app built with other settings: `async with make_client(**overrides)`."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        async with running_app(create_app(make_settings(**overrides))) as http:
            http.headers["X-API-Key"] = API_KEY
            yield http

    return make


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A second connection to the test database, for arranging and inspecting state."""
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()
