"""Fixtures every service's tests use: real PostgreSQL and Redis, fresh for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from webrana_common.testing.databases import DatabaseFactory
from webrana_common.testing.servers import postgres_server, redis_server


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def database_factory(postgres_admin_url: str) -> DatabaseFactory:
    return DatabaseFactory(postgres_admin_url)


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
async def redis_url(redis_server_url: str) -> AsyncIterator[str]:
    """The Redis URL, emptied before the test."""
    client = Redis.from_url(redis_server_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    yield redis_server_url


@pytest.fixture
async def empty_database_url(database_factory: DatabaseFactory) -> AsyncIterator[str]:
    url = await database_factory.empty()
    yield url
    await database_factory.drop(url)
