"""Redis connections and arq settings from one `REDIS_URL`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms
from redis.asyncio import Redis


def redis_client(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True, socket_connect_timeout=3, socket_timeout=5)


def arq_redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


# arq's enqueue_job, atomic in one round trip: WATCH, EXISTS and MULTI/EXEC were three, and a
# job per email and per provisioning made them a measurable share of a checkout. Same keys,
# same job format (arq's serializer), so arq's workers run these jobs as their own.
# KEYS: job key, result key, queue. ARGV: serialized job, score, job id, expiry in ms.
_ENQUEUE_UNIQUE = """
if redis.call('exists', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('psetex', KEYS[1], ARGV[4], ARGV[1])
redis.call('zadd', KEYS[3], ARGV[2], ARGV[3])
return 1
"""


class UniqueJobs:
    """Enqueue arq jobs whose id must be unique: a job with that id queued, running, or with a
    result kept is left alone (False), as `ArqRedis.enqueue_job` would return None."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool
        self._script = pool.register_script(_ENQUEUE_UNIQUE)

    async def enqueue(
        self,
        function: str,
        *args: Any,
        job_id: str,
        queue_name: str | None = None,
        defer_until: datetime | None = None,
    ) -> bool:
        now_ms = timestamp_ms()
        score = to_unix_ms(defer_until) if defer_until is not None else now_ms
        job = serialize_job(function, args, {}, None, now_ms, serializer=self.pool.job_serializer)
        added = await self._script(
            keys=[
                job_key_prefix + job_id,
                result_key_prefix + job_id,
                queue_name or self.pool.default_queue_name,
            ],
            args=[job, score, job_id, max(score, now_ms) - now_ms + self.pool.expires_extra_ms],
        )
        return bool(added)
