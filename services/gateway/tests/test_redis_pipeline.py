"""The pipelined Redis connection: replies matched in order however they arrive, one write for
the commands of one loop turn, the database and password of the URL, and fast failure while
Redis is down."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import closed_port
from redis.asyncio import Redis

from gateway_service.redis_pipeline import (
    RedisPipeline,
    RedisReplyError,
    RedisUnavailable,
    encode_command,
    parse_reply,
)


def test_replies_are_parsed_only_once_complete() -> None:
    reply = b"*4\r\n:1\r\n$3\r\nabc\r\n+OK\r\n*2\r\n:-5\r\n$-1\r\n"
    for cut in range(len(reply)):
        assert parse_reply(bytearray(reply[:cut]), 0) is parse_reply(bytearray(b""), 0)
    value, end = parse_reply(bytearray(reply), 0)
    assert value == [1, b"abc", "OK", [-5, None]]
    assert end == len(reply)
    error, _ = parse_reply(bytearray(b"-NOSCRIPT no such script\r\n"), 0)
    assert isinstance(error, RedisReplyError)


def test_commands_are_encoded_as_bulk_strings() -> None:
    assert encode_command(("SET", "k", 12)) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n"


async def test_concurrent_commands_share_one_connection_in_order(redis_url: str) -> None:
    pipeline = RedisPipeline(redis_url, timeout=1, retry_seconds=1)
    try:
        await asyncio.gather(*(pipeline.execute("SET", f"k{n}", n) for n in range(200)))
        values = await asyncio.gather(*(pipeline.execute("GET", f"k{n}") for n in range(200)))
        assert values == [str(n).encode() for n in range(200)]
        ids = await asyncio.gather(*(pipeline.execute("CLIENT", "ID") for _ in range(50)))
        assert len(set(ids)) == 1  # one connection
    finally:
        pipeline.close()


async def test_the_url_database_is_selected(redis_url: str) -> None:
    pipeline = RedisPipeline(redis_url.rsplit("/", 1)[0] + "/5", timeout=1, retry_seconds=1)
    plain = Redis.from_url(redis_url.rsplit("/", 1)[0] + "/5")
    try:
        await pipeline.execute("SET", "where", "five")
        assert await plain.get("where") == b"five"
    finally:
        pipeline.close()
        await plain.flushdb()
        await plain.aclose()


async def test_error_replies_raise_without_breaking_the_connection(redis_url: str) -> None:
    pipeline = RedisPipeline(redis_url, timeout=1, retry_seconds=1)
    try:
        with pytest.raises(RedisReplyError):
            await pipeline.execute("NOSUCHCOMMAND")
        assert await pipeline.execute("PING") == "PONG"
    finally:
        pipeline.close()


async def test_redis_down_fails_fast_until_the_retry_time() -> None:
    pipeline = RedisPipeline(f"redis://127.0.0.1:{closed_port()}/0", timeout=0.2, retry_seconds=5)
    with pytest.raises(RedisUnavailable):
        await pipeline.execute("PING")
    started = time.monotonic()
    for _ in range(100):
        with pytest.raises(RedisUnavailable):
            await pipeline.execute("PING")
    assert time.monotonic() - started < 0.05
