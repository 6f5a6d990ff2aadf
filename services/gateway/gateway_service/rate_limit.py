"""Rate limits: GCRA (the generic cell rate algorithm) kept in Redis for the whole fleet.

GCRA keeps one number per bucket, the theoretical arrival time (TAT) of the next request: each
request pushes it one emission interval (period / limit) ahead, and a request is refused when
that would put the TAT more than one period ahead of now. That is a smooth sliding window with
bursts up to `limit` and nothing per request to store or trim.

Two ways to reach Redis, per class (see README, "Rate limiting"):

* exact (the `auth` class, and every class when RATE_LIMIT_SYNC_INTERVAL_MS=0): each request
  runs the atomic GCRA script in Redis and waits for its verdict; one round trip.
* reconciled (`read`, `write`): each process decides from its own copy of the bucket and sends
  what it admitted to Redis every RATE_LIMIT_SYNC_INTERVAL_MS, in one pipelined write; Redis
  answers with the fleet-wide TAT, which the copy adopts. Other replicas' traffic is seen within
  one interval. Waking Redis for every request costs more than the whole proxying on a small
  machine; this costs one wake-up per interval.

Both use one in-process store of buckets, which is also the fallback while Redis is unreachable:
limits then hold per process, a warning is logged once a minute and
gateway_rate_limit_fallback_total counts the decisions taken that way. Nothing here raises
because Redis is down.
"""

from __future__ import annotations

import asyncio
import contextlib
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

_PRELUDE = """
redis.replicate_commands()
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
"""
# KEYS[1]: bucket; ARGV: interval ms, limit. Returns {allowed, remaining, reset_ms, retry_ms}.
# Redis's clock, so replicas agree whatever their own clocks say.
CHECK_SCRIPT = (
    _PRELUDE
    + """
local tau = interval * limit
local new_tat = tat + interval
local allow_at = new_tat - tau
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((tau - (new_tat - now)) / interval), new_tat - now, 0}
"""
)
# KEYS[1]: bucket; ARGV: interval ms, limit, requests already admitted by a replica.
# Returns how far the fleet's TAT is ahead of now (ms).
ADD_SCRIPT = (
    _PRELUDE
    + """
local new_tat = tat + interval * tonumber(ARGV[3])
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return new_tat - now
"""
)
CHECK_SHA = hashlib.sha1(CHECK_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis's script name
ADD_SHA = hashlib.sha1(ADD_SCRIPT.encode()).hexdigest()  # noqa: S324
FALLBACK_LOG_SECONDS = 60.0
EXACT_CLASSES = frozenset({"auth"})


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int
    period_seconds: int
    interval_ms: int
    policy: bytes
    limit_header: bytes
    key_prefix: str

    @classmethod
    def of(cls, name: str, spec: RateSpec) -> Rule:
        interval = max(1, round(spec.period_seconds * 1000 / spec.limit))
        policy = f"{spec.limit};w={spec.period_seconds}".encode()
        limit = str(spec.limit).encode()
        return cls(name, spec.limit, spec.period_seconds, interval, policy, limit, f"gw:rl:{name}:")


@dataclass(slots=True)
class RateDecision:
    allowed: bool
    rule: Rule
    remaining: int
    reset_ms: float
    retry_after_ms: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.retry_after_ms / 1000))

    def headers(self) -> list[tuple[bytes, bytes]]:
        """RateLimit-* for every limited response (the 429 itself adds Retry-After)."""
        return [
            (b"ratelimit-limit", self.rule.limit_header),
            (b"ratelimit-remaining", b"%d" % max(0, self.remaining)),
            (b"ratelimit-reset", b"%d" % math.ceil(self.reset_ms / 1000)),
            (b"ratelimit-policy", self.rule.policy),
        ]


class LocalBuckets:
    """GCRA over this process's memory, on the monotonic clock (ms)."""

    def __init__(self, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self.tat: dict[str, float] = {}

    def now(self) -> float:
        return self.clock() * 1000

    def hit(self, key: str, rule: Rule) -> RateDecision:
        now = self.now()
        tau = rule.interval_ms * rule.limit
        tat = self.tat.get(key, now)
        if tat < now:
            tat = now
        new_tat = tat + rule.interval_ms
        allow_at = new_tat - tau
        if now < allow_at:
            return RateDecision(False, rule, 0, tat - now, allow_at - now)
        self.set(key, new_tat, now)
        remaining = int((tau - (new_tat - now)) // rule.interval_ms)
        return RateDecision(True, rule, remaining, new_tat - now, 0)

    def adopt(self, key: str, ahead_ms: float) -> None:
        """Take the fleet's view of a bucket (its TAT `ahead_ms` from now) when it is later."""
        now = self.now()
        if now + ahead_ms > self.tat.get(key, now):
            self.set(key, now + ahead_ms, now)

    def set(self, key: str, tat: float, now: float) -> None:
        if key not in self.tat and len(self.tat) >= self.max_keys:
            for stale in [k for k, t in self.tat.items() if t <= now]:
                del self.tat[stale]
            if len(self.tat) >= self.max_keys:
                self.tat.clear()  # under a flood of distinct keys, forgetting beats growing
        self.tat[key] = tat


class RateLimiter:
    def __init__(
        self,
        specs: dict[str, RateSpec],
        *,
        redis: RedisPipeline | None,
        local: LocalBuckets,
        registry: CollectorRegistry,
        sync_interval_ms: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = {name: Rule.of(name, spec) for name, spec in specs.items()}
        self.redis = redis
        self.local = local
        self.sync_interval = sync_interval_ms / 1000
        self._clock = clock
        self._pending: dict[str, tuple[Rule, int]] = {}
        self._syncer: asyncio.Task[None] | None = None
        self._redis_down = False
        self._last_logged = float("-inf")
        self._unlogged = 0
        self.fallbacks = Counter(
            "gateway_rate_limit_fallback_total",
            "Rate-limit decisions taken per process because Redis was unreachable",
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
        key = rule.key_prefix + identity
        redis = self.redis
        if redis is None:
            decision = self.local.hit(key, rule)
        elif self.sync_interval <= 0 or rate_class in EXACT_CLASSES:
            decision = await self._exact(redis, key, rule)
        else:
            decision = self.local.hit(key, rule)
            if decision.allowed:
                self._record(key, rule)
            if self._redis_down:
                self._count_fallback(None)
        if not decision.allowed:
            self.refused.labels(rate_class).inc()
        return decision

    async def _exact(self, redis: RedisPipeline, key: str, rule: Rule) -> RateDecision:
        try:
            reply = await _script(redis, CHECK_SHA, CHECK_SCRIPT, key, rule.interval_ms, rule.limit)
        except (RedisUnavailable, RedisReplyError, OSError) as exc:
            self._count_fallback(exc)
            return self.local.hit(key, rule)
        allowed, remaining, reset_ms, retry_ms = reply
        if allowed:
            # Kept in step, so that the fallback starts from the fleet's state, not from zero.
            self.local.adopt(key, reset_ms)
        return RateDecision(bool(allowed), rule, remaining, reset_ms, retry_ms)

    def _record(self, key: str, rule: Rule) -> None:
        pending = self._pending.get(key)
        self._pending[key] = (rule, pending[1] + 1 if pending else 1)
        if self._syncer is None or self._syncer.done():
            self._syncer = asyncio.get_running_loop().create_task(self._sync_soon())

    async def _sync_soon(self) -> None:
        while True:
            await asyncio.sleep(self.sync_interval)
            await self.sync()
            if not self._pending:
                return

    async def sync(self) -> None:
        """Send what this process admitted since the last sync; adopt the fleet's buckets."""
        pending, self._pending = self._pending, {}
        if not pending or self.redis is None:
            return
        redis = self.redis
        keys = list(pending)
        results = await asyncio.gather(
            *(
                _script(redis, ADD_SHA, ADD_SCRIPT, k, rule.interval_ms, rule.limit, count)
                for k, (rule, count) in pending.items()
            ),
            return_exceptions=True,
        )
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            self._redis_down = True
            self._count_fallback(failure)
            return
        self._redis_down = False
        for key, ahead in zip(keys, results, strict=True):
            self.local.adopt(key, float(ahead))  # type: ignore[arg-type]

    async def close(self) -> None:
        if self._syncer is not None:
            self._syncer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._syncer

    def _count_fallback(self, exc: BaseException | None) -> None:
        self.fallbacks.inc()
        self._unlogged += 1
        now = self._clock()
        if exc is not None and now - self._last_logged >= FALLBACK_LOG_SECONDS:
            log.warning(
                "Redis unreachable for rate limits; limiting per process "
                "(%d decisions since the last warning): %s",
                self._unlogged,
                exc,
            )
            self._last_logged = now
            self._unlogged = 0


async def _script(redis: RedisPipeline, sha: str, script: str, key: str, *args: int) -> object:
    try:
        return await redis.execute("EVALSHA", sha, 1, key, *args)
    except RedisReplyError as exc:
        if not str(exc).startswith("NOSCRIPT"):
            raise
        # A restarted or new Redis: EVAL loads the script for every later EVALSHA.
        return await redis.execute("EVAL", script, 1, key, *args)
