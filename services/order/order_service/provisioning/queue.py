"""Enqueueing `orders.provision` after commit. A lost enqueue (Redis down) is healed by the
`orders.resume_provisioning` cron, which finds paid orders nobody is working on."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from webrana_common.db.session import after_commit
from webrana_common.outbox import Unit
from webrana_common.redis import UniqueJobs

log = logging.getLogger("order.queue")
PROVISION_JOB = "orders.provision"


def job_id(order_id: uuid.UUID, attempt: int) -> str:
    return f"{PROVISION_JOB}:{order_id}:{attempt}"


async def enqueue(arq: Any, order_id: uuid.UUID, attempt: int) -> None:
    try:
        jobs = UniqueJobs(arq)
        await jobs.enqueue(PROVISION_JOB, str(order_id), job_id=job_id(order_id, attempt))
    except Exception:
        log.exception(
            "could not enqueue provisioning; the resume cron will",
            extra={"order_id": str(order_id)},
        )


def enqueue_after_commit(session: Unit, arq: Any, order_id: uuid.UUID, attempt: int) -> None:
    if arq is None:
        return
    after_commit(session, lambda: enqueue(arq, order_id, attempt))
