"""The version check: Redis at most once per interval, the database when Redis lacks it or
at the longer interval (healing a bump Redis never heard of)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from catalog_service.versioning.repository import bump
from catalog_service.versioning.tracker import REDIS_KEY, VersionTracker
from webrana_common.db.session import Database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def _bump(db: Database) -> int:
    async with db.session() as session:
        return await bump(session)


async def test_asks_redis_at_most_once_per_interval(db: Database, redis: Redis) -> None:
    clock = Clock()
    tracker = VersionTracker(db, redis, check_seconds=1.0, db_check_seconds=30.0, clock=clock)
    assert await tracker.current() == 1  # nothing in Redis: read from the database, published
    assert await redis.get(REDIS_KEY) == "1"
    await redis.set(REDIS_KEY, 5)
    clock.now += 0.5
    assert await tracker.current() == 1  # within the interval: no look
    clock.now += 0.6
    assert await tracker.current() == 5


async def test_the_database_heals_a_redis_that_missed_a_bump(db: Database, redis: Redis) -> None:
    clock = Clock()
    tracker = VersionTracker(db, redis, check_seconds=1.0, db_check_seconds=30.0, clock=clock)
    assert await tracker.current() == 1
    version = await _bump(db)  # committed, but the publish to Redis was lost
    clock.now += 2
    assert await tracker.current() == 1
    clock.now += 30
    assert await tracker.current() == version
    assert await redis.get(REDIS_KEY) == str(version)


async def test_publish_never_lowers_the_version(db: Database, redis: Redis) -> None:
    tracker = VersionTracker(db, redis)
    await tracker.publish(7)
    await tracker.publish(6)  # a slower writer
    assert await redis.get(REDIS_KEY) == "7"
    assert tracker.known == 7


async def test_works_without_redis(db: Database) -> None:
    clock = Clock()
    tracker = VersionTracker(db, None, check_seconds=1.0, clock=clock)
    assert await tracker.current() == 1
    version = await _bump(db)
    clock.now += 1.5
    assert await tracker.current() == version
