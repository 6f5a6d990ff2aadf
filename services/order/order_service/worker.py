"""arq worker: `arq order_service.worker.WorkerSettings` (REDIS_URL, DATABASE_URL).

Jobs: `orders.provision` (one order's server, enqueued after payment or an admin retry),
`orders.resume_provisioning` (cron: orders a dead worker left behind), `outbox.relay` (cron)."""

from __future__ import annotations

import os
import uuid
from typing import Any

from arq import cron, func

from order_service.config import OrderSettings
from order_service.context import OrderContext
from order_service.provisioning import service
from order_service.provisioning.queue import PROVISION_JOB
from webrana_common.outbox import relay_outbox
from webrana_common.redis import arq_redis_settings
from webrana_common.worker import RELAY_SECONDS, close_worker_context, open_worker_context


async def startup(ctx: dict[str, Any], settings: OrderSettings | None = None) -> None:
    settings = settings or OrderSettings()
    if not settings.database_url:
        raise RuntimeError("the order worker needs DATABASE_URL")
    arq_pool = ctx.get("redis")  # arq's own pool; open_worker_context replaces ctx["redis"]
    await open_worker_context(ctx, settings)
    ctx["order"] = OrderContext(settings, ctx["http"], ctx["db"], arq_pool)


async def shutdown(ctx: dict[str, Any]) -> None:
    await close_worker_context(ctx)


async def provision(ctx: dict[str, Any], order_id: str) -> str:
    return await service.provision_order(ctx["order"], uuid.UUID(order_id))


async def resume_provisioning(ctx: dict[str, Any]) -> int:
    return await service.resume_stalled(ctx["order"])


class WorkerSettings:
    functions = [
        # A deadline of its own, below arq's: the job ends itself (PROVISIONING_FAILED) first.
        func(provision, name=PROVISION_JOB, timeout=3600, max_tries=5),
        relay_outbox,
    ]
    cron_jobs = [
        cron(resume_provisioning, name="orders.resume_provisioning", second=5, unique=True),
        cron(relay_outbox, name="outbox.relay", second=RELAY_SECONDS, unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown
    # arq looks for due jobs every poll_delay (0.5 s by default): a paid customer would wait
    # 250 ms on average before provisioning even starts. One ZRANGEBYSCORE per 50 ms is cheap.
    poll_delay = 0.05
    queue_name = "arq:order"
    redis_settings = arq_redis_settings(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
