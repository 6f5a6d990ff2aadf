"""The pytest plugin: every test starts from an empty Redis and its own databases, quickly."""

from __future__ import annotations

import socket
import statistics
import time

import asyncpg
import pytest
from redis.asyncio import Redis

from webrana_common.embedded import docker_available
from webrana_common.testing.databases import DatabaseFactory


async def bump_shared_counter(redis_url: str) -> int:
    redis = Redis.from_url(redis_url)
    try:
        return int(await redis.incr("plugin-test:counter"))
    finally:
        await redis.aclose()


# Two identical tests: whichever runs second would count 2 if Redis were not emptied between.
async def test_redis_is_empty_for_a_test(redis_url: str) -> None:
    assert await bump_shared_counter(redis_url) == 1


async def test_redis_is_empty_for_another_test(redis_url: str) -> None:
    assert await bump_shared_counter(redis_url) == 1


async def test_created_databases_are_migrated_and_independent(
    database_factory: DatabaseFactory,
) -> None:
    first, second = await database_factory.create("auth"), await database_factory.create("auth")
    try:
        conn = await asyncpg.connect(first)
        try:
            await conn.execute("CREATE TABLE only_in_first (id int)")
        finally:
            await conn.close()
        conn = await asyncpg.connect(second)
        try:
            migrated = await conn.fetchval("SELECT version_num FROM alembic_version_auth")
            in_second = await conn.fetchval("SELECT to_regclass('only_in_first') IS NOT NULL")
        finally:
            await conn.close()
    finally:
        await database_factory.drop(first)
        await database_factory.drop(second)

    assert first != second
    assert migrated  # cloned from the migrated template
    assert in_second is False


async def test_created_database_is_a_quick_clone_of_the_migrated_template(
    database_factory: DatabaseFactory,
) -> None:
    await database_factory.drop(await database_factory.create("auth"))  # template exists now
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        url = await database_factory.create("auth")
        timings.append(time.perf_counter() - started)
        await database_factory.drop(url)

    # ~15 ms in tmpfs, a few hundred on a busy disk; migrating per test would take seconds.
    assert statistics.median(timings) < 0.5, timings


@pytest.mark.parametrize("host", ["tcp://127.0.0.1:{port}", "unix:///nonexistent/docker.sock"])
def test_docker_available_says_no_quickly_without_an_engine(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: connections are refused
    monkeypatch.delenv("WEBRANA_NO_DOCKER", raising=False)
    monkeypatch.setenv("DOCKER_HOST", host.format(port=port))

    started = time.monotonic()
    available = docker_available()

    assert available is False
    assert time.monotonic() - started < 3


def test_docker_available_here_says_no_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine has no Docker engine; the fallback to embedded servers must not stall."""
    monkeypatch.delenv("WEBRANA_NO_DOCKER", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)

    started = time.monotonic()
    docker_available()

    assert time.monotonic() - started < 3
