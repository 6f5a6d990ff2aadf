"""Rate limits in Redis (GCRA): per user or per client IP, by route class, announced in
RateLimit-* headers, 429 with Retry-After; shared by every gateway; and still enforced, per
process, when Redis is unreachable."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from conftest import RunningGateway, closed_port
from gateway_tokens import TokenMint
from gateway_upstreams import Upstream
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from gateway_service.config import RateSpec
from gateway_service.rate_limit import LocalBuckets, RateLimiter, Rule
from gateway_service.redis_pipeline import RedisPipeline


async def test_reads_are_limited_per_user_with_ratelimit_headers(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    gateway = start_gateway(rate_limit_read="3/minute")
    alice, bob = mint.bearer(), mint.bearer()
    async with gateway.client() as client:
        answers = [await client.get("/api/v1/orders", headers=alice) for _ in range(4)]
        other_user = await client.get("/api/v1/orders", headers=bob)
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in answers] == ["2", "1", "0", "0"]
    for response in answers:
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-policy"] == "3;w=60"
        assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert "retry-after" not in answers[0].headers
    assert other_user.status_code == 200
    assert len(upstreams["order"].requests) == 4  # three of alice's, one of bob's


async def test_anonymous_calls_are_limited_per_client_address(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(rate_limit_read="2/minute")
    async with gateway.client() as client:
        anonymous = [(await client.get("/api/v1/catalog/plans")).status_code for _ in range(3)]
        signed_in = await client.get("/api/v1/catalog/plans", headers=mint.bearer())
    assert anonymous == [200, 200, 429]
    assert signed_in.status_code == 200  # a user has a bucket of their own


async def test_auth_endpoints_have_their_own_strict_limit(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(rate_limit_auth="2/minute")
    async with gateway.client() as client:
        logins = [(await client.post("/api/v1/auth/login", json={})).status_code for _ in range(3)]
        reads = await client.get("/api/v1/catalog/plans")
    assert logins == [200, 200, 429]
    assert reads.status_code == 200


async def test_writes_are_limited_apart_from_reads(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(rate_limit_write="2/minute")
    user = mint.bearer()
    async with gateway.client() as client:
        writes = [(await client.post("/api/v1/orders", headers=user)).status_code for _ in range(3)]
        read = await client.get("/api/v1/orders", headers=user)
    assert writes == [200, 200, 429]
    assert read.status_code == 200


async def test_signed_webhooks_are_exempt_and_unsigned_ones_are_not(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(rate_limit_write="1/minute")
    async with gateway.client() as client:
        signed = [
            await client.post(
                "/api/v1/billing/callbacks/tripay",
                content=b"{}",
                headers={"X-Callback-Signature": "abc"},
            )
            for _ in range(5)
        ]
        telegram = [
            await client.post(
                "/api/v1/notifications/telegram/webhook",
                content=b"{}",
                headers={"X-Telegram-Bot-Api-Secret-Token": "s"},
            )
            for _ in range(3)
        ]
        unsigned = [
            (await client.post("/api/v1/billing/callbacks/tripay", content=b"{}")).status_code
            for _ in range(2)
        ]
    assert all(r.status_code == 200 for r in signed + telegram)
    assert all("ratelimit-limit" not in r.headers for r in signed + telegram)
    assert unsigned == [200, 429]
    assert len(upstreams["billing"].requests) == 6


async def test_the_auth_limit_is_exact_across_gateways(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    first = start_gateway(rate_limit_auth="2/minute")
    second = start_gateway(rate_limit_auth="2/minute")
    async with first.client() as one, second.client() as two:
        assert (await one.post("/api/v1/auth/login", json={})).status_code == 200
        assert (await two.post("/api/v1/auth/login", json={})).status_code == 200
        assert (await one.post("/api/v1/auth/login", json={})).status_code == 429
        assert (await two.post("/api/v1/auth/login", json={})).status_code == 429


async def test_read_limits_are_shared_across_gateways_through_redis(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint, redis_url: str
) -> None:
    first = start_gateway(rate_limit_read="3/minute", rate_limit_sync_interval_ms=10)
    second = start_gateway(rate_limit_read="3/minute", rate_limit_sync_interval_ms=10)
    sub = "5e0c3c8e-49a4-4c52-a1b5-0d4f0a6e0001"
    user = mint.bearer(sub=sub)
    redis = Redis.from_url(redis_url)
    try:
        async with first.client() as one, second.client() as two:
            first_three = [(await one.get("/api/v1/orders", headers=user)) for _ in range(3)]
            assert [r.status_code for r in first_three] == [200, 200, 200]
            key = f"gw:rl:read:u:{sub}"
            deadline = time.monotonic() + 3
            while not await redis.exists(key):
                assert time.monotonic() < deadline, "the bucket never reached Redis"
                await asyncio.sleep(0.02)
            assert await redis.pttl(key) > 0
            # The second gateway learns of the first one's traffic from Redis.
            statuses = []
            for _ in range(3):
                statuses.append((await two.get("/api/v1/orders", headers=user)).status_code)
                await asyncio.sleep(0.05)
            assert statuses.count(200) <= 1
            assert statuses[-1] == 429
    finally:
        await redis.aclose()


async def test_limits_hold_with_redis_down_and_nothing_fails(
    start_gateway: Callable[..., RunningGateway],
    upstreams: dict[str, Upstream],
    mint: TokenMint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="webrana.gateway.rate_limit")
    gateway = start_gateway(
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        rate_limit_read="3/minute",
        rate_limit_auth="2/minute",
        rate_limit_redis_retry_seconds=0,
    )
    user = mint.bearer()
    async with gateway.client() as client:
        reads = [(await client.get("/api/v1/orders", headers=user)).status_code for _ in range(4)]
        logins = [(await client.post("/api/v1/auth/login", json={})).status_code for _ in range(3)]
        limited = await client.get("/api/v1/catalog/plans")
        for _ in range(20):
            await client.get("/api/v1/catalog/plans")
        await asyncio.sleep(0.1)
        metrics = (await client.get("/metrics")).text
        ready = (await client.get("/ready")).json()
    assert reads == [200, 200, 200, 429]
    assert logins == [200, 200, 429]
    assert limited.status_code == 200 and limited.headers["ratelimit-limit"] == "3"
    fallbacks = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("gateway_rate_limit_fallback_total ")
    )
    assert fallbacks >= 5
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert ready["checks"]["redis"]["status"] == "error"
    assert ready["status"] == "degraded"


async def test_rate_limits_can_be_switched_off(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(rate_limit_enabled=False, rate_limit_read="1/minute")
    async with gateway.client() as client:
        answers = [await client.get("/api/v1/catalog/plans") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert "ratelimit-limit" not in answers[0].headers


def test_gcra_allows_a_burst_then_one_request_per_interval() -> None:
    now = [1000.0]
    buckets = LocalBuckets(max_keys=100, clock=lambda: now[0])
    rule = Rule.of("read", RateSpec(2, 10))  # burst of 2, then one per 5 s
    assert buckets.hit("k", rule).allowed
    assert buckets.hit("k", rule).allowed
    refused = buckets.hit("k", rule)
    assert not refused.allowed
    assert refused.retry_after == 5
    now[0] += 5
    assert buckets.hit("k", rule).allowed
    assert not buckets.hit("k", rule).allowed
    now[0] += 10
    again = buckets.hit("k", rule)
    assert again.allowed and again.remaining == 1


def test_local_buckets_stay_within_their_size() -> None:
    buckets = LocalBuckets(max_keys=100)
    rule = Rule.of("read", RateSpec(5, 60))
    for n in range(1000):
        buckets.hit(f"k{n}", rule)
    assert len(buckets.tat) <= 100


async def test_the_redis_script_decides_like_the_local_one(redis_url: str) -> None:
    redis = RedisPipeline(redis_url, timeout=1, retry_seconds=1)
    limiter = RateLimiter(
        {"auth": RateSpec(2, 60), "read": RateSpec(2, 60), "write": RateSpec(2, 60)},
        redis=redis,
        local=LocalBuckets(100),
        registry=CollectorRegistry(),
        sync_interval_ms=0,  # every class exact: one script call per decision
    )
    try:
        decisions = [await limiter.check("read", "ip:192.0.2.1") for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]
        assert [d.remaining for d in decisions] == [1, 0, 0]
        assert decisions[2].retry_after == 30
        await redis.execute("SCRIPT", "FLUSH")  # a restarted Redis has forgotten the script
        assert not (await limiter.check("read", "ip:192.0.2.1")).allowed
        assert (await limiter.check("read", "ip:192.0.2.2")).allowed
    finally:
        redis.close()
