"""arq worker: `arq notification_service.worker.WorkerSettings` (DATABASE_URL, REDIS_URL).

Jobs take ids: `deliveries.send` (one email or Telegram message, retried with backoff),
`broadcasts.run` (a broadcast, page by page). Crons: `deliveries.requeue` (jobs lost between
commit and enqueue), `broadcasts.resume` (runs that died), `retention.purge`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from arq import Retry, cron, func
from arq.connections import create_pool

from notification_service.broadcasts import repository as broadcasts_repository
from notification_service.broadcasts import service as broadcasts
from notification_service.clients import AuthClient
from notification_service.config import NotificationSettings
from notification_service.deliveries import repository as deliveries_repository
from notification_service.deliveries import service as deliveries
from notification_service.deliveries.mailer import Mailer
from notification_service.delivery_queue import RUN_BROADCAST, SEND_DELIVERY, DeliveryQueue
from notification_service.errors import AuthUnavailable
from notification_service.live.hub import Publisher
from notification_service.rendering.renderer import Renderer
from notification_service.retention import purge
from notification_service.telegram_bot.bot import TelegramBot
from webrana_common.db.base import utcnow
from webrana_common.redis import arq_redis_settings
from webrana_common.worker import worker_settings

log = logging.getLogger("notification.worker")
# A QUEUED delivery (or a running broadcast) untouched this long lost its job.
STALE_AFTER = timedelta(minutes=2)
BROADCAST_TRIES = 8


async def startup(ctx: dict[str, Any]) -> None:
    """After `open_worker_context`: the channel senders, the broadcaster, the job queue."""
    settings: NotificationSettings = ctx["settings"]
    pool = await create_pool(
        arq_redis_settings(settings.redis_url or ""), default_queue_name=settings.arq_queue_name
    )
    queue = DeliveryQueue(pool, settings.arq_queue_name)
    auth = AuthClient(
        ctx["http"], settings.auth_url, ctx["redis"], cache_seconds=settings.user_cache_seconds
    )
    renderer = Renderer(settings.public_base_url)
    bot = TelegramBot(settings)
    ctx |= {
        "arq_pool": pool,
        "queue": queue,
        "bot": bot,
        "channels": deliveries.Channels(
            settings=settings,
            db=ctx["db"],
            auth=auth,
            renderer=renderer,
            mailer=Mailer(settings),
            bot=bot,
        ),
        "broadcaster": broadcasts.Broadcaster(
            settings=settings,
            db=ctx["db"],
            auth=auth,
            renderer=renderer,
            publisher=Publisher(ctx["redis"], settings.live_channel),
            queue=queue,
        ),
    }


async def shutdown(ctx: dict[str, Any]) -> None:
    if "channels" in ctx:
        await ctx["channels"].mailer.close()
    if "bot" in ctx:
        await ctx["bot"].close()
    if "arq_pool" in ctx:
        await ctx["arq_pool"].aclose()


async def send_delivery(ctx: dict[str, Any], delivery_id: str) -> str:
    """Job `deliveries.send`."""
    delay = await deliveries.send_delivery(ctx["channels"], uuid.UUID(delivery_id))
    if delay is not None:
        raise Retry(defer=delay)
    return "settled"


async def run_broadcast(ctx: dict[str, Any], broadcast_id: str) -> str:
    """Job `broadcasts.run`; auth being down retries the run (it resumes at its cursor)."""
    broadcaster: broadcasts.Broadcaster = ctx["broadcaster"]
    try:
        await broadcasts.run(broadcaster, uuid.UUID(broadcast_id))
    except AuthUnavailable as exc:
        final = ctx.get("job_try", 1) >= BROADCAST_TRIES
        await broadcasts.record_failure(
            broadcaster.db, uuid.UUID(broadcast_id), exc.detail, final=final
        )
        if final:
            return "failed"
        delay = broadcaster.settings.delivery_retry_base_seconds * 2 ** ctx.get("job_try", 1)
        raise Retry(defer=min(300.0, delay)) from exc
    return "completed"


async def requeue_deliveries(ctx: dict[str, Any]) -> int:
    """Cron `deliveries.requeue`: QUEUED deliveries due a while ago whose job is gone."""
    before = utcnow() - STALE_AFTER
    async with ctx["db"].session() as session:
        stale = await deliveries_repository.stale_queued(session, before, limit=1000)
        items = [(row.id, None) for row in stale]
        for row in stale:
            row.updated_at = utcnow()
    queued = await ctx["queue"].enqueue_many(items)
    if queued:
        log.warning("requeued deliveries whose job was lost", extra={"count": queued})
    return queued


async def resume_broadcasts(ctx: dict[str, Any]) -> int:
    """Cron `broadcasts.resume`: pending or running broadcasts nobody advanced for a while."""
    async with ctx["db"].session() as session:
        ids = await broadcasts_repository.stalled(session, utcnow() - STALE_AFTER)
    for broadcast_id in ids:
        await ctx["queue"].enqueue_broadcast(broadcast_id)
    return len(ids)


async def purge_retention(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron `retention.purge`."""
    report = await purge(ctx["db"], ctx["settings"])
    log.info("retention purge", extra=report)
    return report


def build_worker_settings(settings: NotificationSettings) -> type:
    if not settings.database_url:
        raise RuntimeError("the notification worker needs DATABASE_URL")
    cls = worker_settings(
        settings,
        functions=[
            # keep_result=0: a settled delivery's id can be queued again by the requeue cron.
            func(
                send_delivery,
                name=SEND_DELIVERY,
                keep_result=0,
                max_tries=settings.delivery_max_attempts + 5,
            ),
            func(
                run_broadcast,
                name=RUN_BROADCAST,
                keep_result=0,
                timeout=3600,
                max_tries=BROADCAST_TRIES + 1,
            ),
        ],
        cron_jobs=[
            cron(requeue_deliveries, name="deliveries.requeue", second={5}, unique=True),
            cron(resume_broadcasts, name="broadcasts.resume", second={35}, unique=True),
            cron(purge_retention, name="retention.purge", hour={3}, minute={17}, second={0}),
        ],
        use_outbox=False,
        on_startup=startup,
        on_shutdown=shutdown,
    )
    cls.poll_delay = 0.1  # broadcasts and retries start within 100 ms
    return cls


def __getattr__(name: str) -> type:
    # Built on first access (arq's import of `WorkerSettings`), not at import: settings come
    # from the environment of the worker process, and tests import this module without one.
    if name == "WorkerSettings":
        return build_worker_settings(NotificationSettings())
    raise AttributeError(name)
