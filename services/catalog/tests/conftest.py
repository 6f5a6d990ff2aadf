"""Fixtures of the catalog tests: a fresh migrated database (empty or seeded) and an empty
Redis per test, the app running with its lifespan, tokens verified against a JWKS served over
HTTP, and a stand-in for the provider service's metadata routes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

# Test helpers live next to this file under a fleet-unique module name (tests are collected
# with --import-mode=importlib, so the folder is not on sys.path by itself).
sys.path.insert(0, str(Path(__file__).parent))

from catalog_helpers import API_KEY, ProviderStandIn, TokenIssuer

from catalog_service.app import create_app
from catalog_service.config import CatalogSettings
from catalog_service.seed import seed
from webrana_common.db.session import Database
from webrana_common.testing.client import running_app
from webrana_common.testing.databases import DatabaseFactory, with_database
from webrana_common.testing.live_server import LiveServer


@pytest.fixture(scope="session")
def tokens() -> Iterator[TokenIssuer]:
    issuer = TokenIssuer(kid="catalog-test-key")
    with LiveServer(issuer.app()) as server:
        issuer.jwks_url = f"{server.url}/.well-known/jwks.json"
        yield issuer


@pytest.fixture(scope="session")
def provider_server() -> Iterator[ProviderStandIn]:
    stand_in = ProviderStandIn()
    with LiveServer(stand_in.app()) as server:
        stand_in.url = server.url  # type: ignore[attr-defined]
        yield stand_in


@pytest.fixture
def provider_service(provider_server: ProviderStandIn) -> Iterator[ProviderStandIn]:
    provider_server.reset()
    yield provider_server
    provider_server.reset()


def _in_thread(coro: Any) -> Any:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def seeded_template(database_factory: DatabaseFactory, postgres_admin_url: str) -> str:
    """A migrated and seeded database, cloned for each test that wants the seed catalog."""
    url = _in_thread(database_factory.create("catalog"))
    _in_thread(seed(url))
    return urlsplit(url).path.lstrip("/")


@pytest.fixture
async def database_url(database_factory: DatabaseFactory) -> AsyncIterator[str]:
    """Migrated, empty catalog."""
    url = await database_factory.create("catalog")
    yield url
    await database_factory.drop(url)


@pytest.fixture
async def seeded_database_url(
    database_factory: DatabaseFactory, postgres_admin_url: str, seeded_template: str
) -> AsyncIterator[str]:
    name = f"t_catalog_seeded_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(postgres_admin_url)
    try:
        # As DatabaseFactory clones: FILE_COPY is the fast strategy on a server without fsync.
        fast = await conn.fetchval("SHOW fsync") == "off"
        strategy = " STRATEGY FILE_COPY" if fast else ""
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{seeded_template}"{strategy}')
    finally:
        await conn.close()
    url = with_database(postgres_admin_url, name)
    yield url
    await database_factory.drop(url)


@pytest.fixture
def make_settings(
    redis_url: str, tokens: TokenIssuer, provider_server: ProviderStandIn
) -> Callable[..., CatalogSettings]:
    def make(database_url: str, **overrides: Any) -> CatalogSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "environment": "test",
            "jwks_url": tokens.jwks_url,
            "internal_api_keys": f"order:{API_KEY}",
            "internal_api_key": "catalog-test-key",
            "provider_url": provider_server.url,  # type: ignore[attr-defined]
            "db_pool_size": 3,
        }
        values.update(overrides)
        return CatalogSettings(**values)

    return make


@pytest.fixture
def app(make_settings: Callable[..., CatalogSettings], database_url: str) -> FastAPI:
    """The catalog on an empty (migrated) database."""
    return create_app(make_settings(database_url))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as http:
        yield http


@pytest.fixture
async def seeded_client(
    make_settings: Callable[..., CatalogSettings], seeded_database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The catalog on a database holding the seed catalog."""
    async with running_app(create_app(make_settings(seeded_database_url))) as http:
        yield http


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A second connection to the (empty-catalog) test database, for arranging and inspecting."""
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
async def seeded_db(seeded_database_url: str) -> AsyncIterator[Database]:
    database = Database(seeded_database_url, pool_size=2)
    yield database
    await database.dispose()


@pytest.fixture
def admin(tokens: TokenIssuer) -> dict[str, str]:
    return tokens.headers(role="admin")


@pytest.fixture
def customer(tokens: TokenIssuer) -> dict[str, str]:
    return tokens.headers(role="customer")


@pytest.fixture
def internal() -> dict[str, str]:
    return {"X-API-Key": API_KEY}
