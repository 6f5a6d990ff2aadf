"""Rate limits: GCRA (the generic cell rate algorithm) in Redis, one atomic script call per
request, with a per-process limiter of the same algorithm while Redis is unreachable.

GCRA keeps one number per key, the theoretical arrival time (TAT) of the next request: each
request pushes it one emission interval (period / limit) ahead, and a request is refused when
that would put the TAT more than one period ahead of now. That is a smooth sliding window that
allows bursts up to `limit`, with no per-request list to trim.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from gateway_service.config import RateSpec
from gateway_service.redis_pipeline import RedisPipeline, RedisReplyError, RedisUnavailable

log = logging.getLogger("webrana.gateway.rate_limit")

# KEYS[1]: the bucket; ARGV[1]: emission interval (ms); ARGV[2]: limit (burst).
# Returns {allowed, remaining, reset_ms, retry_after_ms}. Redis's clock, so every gateway
# replica agrees whatever its own clock says.
GCRA_SCRIPT = """
redis.replicate_commands()
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local tau = interval * limit
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tau
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((tau - (new_tat - now)) / interval), new_tat - now, 0}
"""
GCRA_SHA = hashlib.sha1(GCRA_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts so
FALLBACK_LOG_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int
    period_seconds: int
    interval_ms: int

    @classmethod
    def of(cls, name: str, spec: RateSpec) -> Rule:
        interval = max(1, round(spec.period_seconds * 1000 / spec.limit))
        return cls(name, spec.limit, spec.period_seconds, interval)

    @property
    def policy(self) -> bytes:
        return f"{self.limit};w={self.period_seconds}".encode()


@dataclass(slots=True)
class RateDecision:
    allowed: bool
    rule: Rule
    remaining: int
    reset_ms: int
    retry_after_ms: int

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.retry_after_ms / 1000))

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"ratelimit-limit", b"%d" % self.rule.limit),
            (b"ratelimit-remaining", b"%d" % max(0, self.remaining)),
            (b"ratelimit-reset", b"%d" % math.ceil(self.reset_ms / 1000)),
            (b"ratelimit-policy", self.rule.policy),
        ]
        if not self.allowed:
            headers.append((b"retry-after", b"%d" % self.retry_after))
        return headers


class LocalRateLimiter:
    """The same GCRA in this process's memory: limits per process rather than per fleet, which
    is what a gateway without Redis can promise."""

    def __init__(self, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._tat: dict[str, float] = {}

    def hit(self, key: str, rule: Rule) -> RateDecision:
        now = self._clock() * 1000
        tau = rule.interval_ms * rule.limit
        tat = max(self._tat.get(key, now), now)
        new_tat = tat + rule.interval_ms
        allow_at = new_tat - tau
        if now < allow_at:
            return RateDecision(False, rule, 0, int(tat - now), int(allow_at - now))
        if key not in self._tat and len(self._tat) >= self.max_keys:
            self._evict(now)
        self._tat[key] = new_tat
        remaining = int((tau - (new_tat - now)) // rule.interval_ms)
        return RateDecision(True, rule, remaining, int(new_tat - now), 0)

    def _evict(self, now: float) -> None:
        expired = [k for k, tat in self._tat.items() if tat <= now]
        for k in expired:
            del self._tat[k]
        if len(self._tat) >= self.max_keys:
            self._tat.clear()  # under a flood of distinct keys, forgetting beats growing


class RateLimiter:
    def __init__(
        self,
        specs: dict[str, RateSpec],
        *,
        redis: RedisPipeline | None,
        fallback: LocalRateLimiter,
        registry: CollectorRegistry,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = {name: Rule.of(name, spec) for name, spec in specs.items()}
        self.redis = redis
        self.fallback = fallback
        self._clock = clock
        self._last_logged = float("-inf")
        self._unlogged = 0
        self.fallbacks = Counter(
            "gateway_rate_limit_fallback_total",
            "Rate-limit decisions taken by the per-process limiter because Redis was unreachable",
            registry=registry,
        )
        self.refused = Counter(
            "gateway_rate_limited_total",
            "Requests refused with 429",
            ["rate_class"],
            registry=registry,
        )

    async def check(self, rate_class: str, identity: str) -> RateDecision:
        rule = self.rules[rate_class]
        key = f"gw:rl:{rate_class}:{identity}"
        if self.redis is not None:
            try:
                decision = await self._redis_hit(self.redis, key, rule)
            except (RedisUnavailable, RedisReplyError, OSError) as exc:
                self._note_fallback(exc)
                decision = self.fallback.hit(key, rule)
        else:
            decision = self.fallback.hit(key, rule)
        if not decision.allowed:
            self.refused.labels(rate_class).inc()
        return decision

    async def _redis_hit(self, redis: RedisPipeline, key: str, rule: Rule) -> RateDecision:
        try:
            reply = await redis.execute("EVALSHA", GCRA_SHA, 1, key, rule.interval_ms, rule.limit)
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            # A restarted or new Redis: EVAL loads the script for every later EVALSHA.
            reply = await redis.execute("EVAL", GCRA_SCRIPT, 1, key, rule.interval_ms, rule.limit)
        allowed, remaining, reset_ms, retry_ms = reply
        return RateDecision(bool(allowed), rule, remaining, reset_ms, retry_ms)

    def _note_fallback(self, exc: Exception) -> None:
        self.fallbacks.inc()
        self._unlogged += 1
        now = self._clock()
        if now - self._last_logged >= FALLBACK_LOG_SECONDS:
            log.warning(
                "Redis unreachable for rate limits; using the per-process limiter "
                "(%d decisions since the last warning): %s",
                self._unlogged,
                exc,
            )
            self._last_logged = now
            self._unlogged = 0
