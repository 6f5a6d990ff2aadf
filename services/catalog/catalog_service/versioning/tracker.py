"""This process's idea of the catalog version, checked cheaply.

The database holds the truth (`catalog_state.version`). After a change commits, the writer
publishes the new number to Redis (`catalog:version`, only ever raised). Readers ask Redis at
most once per `check_seconds`, and the database at most once per `db_check_seconds` — the
latter heals a Redis that was down or flushed when a bump was published. Between checks the
answer is a plain attribute read, which is what makes a 304 nearly free.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from catalog_service.versioning import repository
from webrana_common.db.session import Database

log = logging.getLogger("catalog.version")

REDIS_KEY = "catalog:version"
# SET only if higher: a slow writer must not lower the version another writer raised.
_RAISE_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > current then redis.call('SET', KEYS[1], ARGV[1]) return wanted end
return current
"""


class VersionTracker:
    def __init__(
        self,
        db: Database,
        redis: Redis | None,
        *,
        check_seconds: float = 1.0,
        db_check_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._redis = redis
        self._check = check_seconds
        self._db_check = db_check_seconds
        self._clock = clock
        self._version = 0
        self._checked_at = float("-inf")
        self._db_checked_at = float("-inf")
        self._refreshing = False
        self._raise = redis.register_script(_RAISE_SCRIPT) if redis is not None else None

    @property
    def known(self) -> int:
        return self._version

    async def current(self) -> int:
        now = self._clock()
        if now - self._checked_at < self._check and self._version:
            return self._version
        # One refresh at a time; everyone else answers with the version they already had.
        if self._refreshing and self._version:
            return self._version
        self._refreshing = True
        try:
            await self._refresh(now)
        finally:
            self._refreshing = False
        return self._version

    def observe(self, version: int) -> None:
        """A version seen elsewhere (a snapshot, a commit) is at least the current one."""
        if version > self._version:
            self._version = version

    async def publish(self, version: int) -> None:
        """After a commit: this process knows at once, the others within `check_seconds`."""
        self.observe(version)
        if self._raise is None:
            return
        try:
            await self._raise(keys=[REDIS_KEY], args=[version])
        except RedisError:
            log.warning("could not publish catalog version %s to Redis", version, exc_info=True)

    async def _refresh(self, now: float) -> None:
        from_redis = None
        if self._redis is not None and now - self._db_checked_at < self._db_check:
            try:
                raw = await self._redis.get(REDIS_KEY)
                from_redis = int(raw) if raw is not None else None
            except (RedisError, ValueError):
                log.warning("catalog version unavailable from Redis; asking the database")
        if from_redis is None:
            await self._refresh_from_db()
            self._db_checked_at = now
        else:
            self.observe(from_redis)
        self._checked_at = now

    async def _refresh_from_db(self) -> None:
        async with self._db.session() as session:
            version = await repository.current(session)
        self.observe(version)
        if self._raise is not None:
            try:
                await self._raise(keys=[REDIS_KEY], args=[version])
            except RedisError:
                pass  # already warned about, or will be on the next check
