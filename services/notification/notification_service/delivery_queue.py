"""Delivery jobs on the service's arq queue, one per delivery, keyed by the delivery id so a
delivery is never queued twice at once (the API, a broadcast and the requeue cron may all try)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

from arq.connections import ArqRedis

from webrana_common.db.base import utcnow
from webrana_common.redis import UniqueJobs

log = logging.getLogger("notification.queue")
SEND_DELIVERY = "deliveries.send"
RUN_BROADCAST = "broadcasts.run"
_CONCURRENCY = 32


def delivery_job_id(delivery_id: uuid.UUID) -> str:
    return f"delivery:{delivery_id}"


class DeliveryQueue:
    def __init__(self, pool: ArqRedis, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name
        self._jobs = UniqueJobs(pool)

    async def enqueue(self, delivery_id: uuid.UUID, at: datetime | None = None) -> bool:
        """False when that delivery's job is already queued or running."""
        return await self._jobs.enqueue(
            SEND_DELIVERY,
            str(delivery_id),
            job_id=delivery_job_id(delivery_id),
            queue_name=self.queue_name,
            defer_until=at if at is not None and at > utcnow() else None,
        )

    async def enqueue_many(self, items: Iterable[tuple[uuid.UUID, datetime | None]]) -> int:
        """How many were queued (the others had a job already)."""
        limit = asyncio.Semaphore(_CONCURRENCY)

        async def one(delivery_id: uuid.UUID, at: datetime | None) -> bool:
            async with limit:
                return await self.enqueue(delivery_id, at)

        return sum(await asyncio.gather(*(one(d, at) for d, at in items)))

    async def enqueue_broadcast(self, broadcast_id: uuid.UUID) -> bool:
        job = await self.pool.enqueue_job(
            RUN_BROADCAST,
            str(broadcast_id),
            _job_id=f"broadcast:{broadcast_id}",
            _queue_name=self.queue_name,
        )
        return job is not None
