"""Redis connections and arq settings from one `REDIS_URL`."""

from __future__ import annotations

from arq.connections import RedisSettings
from redis.asyncio import Redis


def redis_client(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True, socket_connect_timeout=3, socket_timeout=5)


def arq_redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)
