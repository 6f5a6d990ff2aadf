"""arq worker defaults: the same database, Redis, HTTP client and outbox relay as the API.

A service's `worker.py` does:

    WorkerSettings = worker_settings(BillingSettings(), functions=[...], cron_jobs=[...])

and starts with `arq billing_service.worker.WorkerSettings`. Every worker also runs the outbox
relay (`outbox.relay`) every few seconds when `use_outbox` is set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from arq import cron
from arq.cron import CronJob

from webrana_common.db.session import Database
from webrana_common.http import internal_client
from webrana_common.logs import configure_logging
from webrana_common.outbox.relay import OutboxRelay, OutboxSender, relay_outbox
from webrana_common.redis import arq_redis_settings, redis_client
from webrana_common.sentry import init_sentry
from webrana_common.settings import ServiceSettings

Hook = Callable[[dict[str, Any]], Awaitable[None]]
# Seconds of each minute at which the relay runs; post-commit delivery handles the fast path.
RELAY_SECONDS = {0, 10, 20, 30, 40, 50}


async def open_worker_context(
    ctx: dict[str, Any], settings: ServiceSettings, *, use_outbox: bool = True
) -> None:
    """What every job finds in `ctx`: settings, db, redis, http and (with the outbox) the relay."""
    configure_logging(f"{settings.service_name}-worker", settings.log_level)
    init_sentry(settings)
    ctx["settings"] = settings
    ctx["http"] = internal_client(
        api_key=settings.internal_api_key.get_secret_value(),
        timeout=settings.http_timeout_seconds,
    )
    ctx["redis"] = redis_client(settings.redis_url) if settings.redis_url else None
    ctx["db"] = Database(settings.database_url) if settings.database_url else None
    if use_outbox and ctx["db"] is not None:
        relay = OutboxRelay(ctx["db"], OutboxSender(ctx["http"], settings.service_urls()))
        ctx["db"].outbox_relay = relay
        ctx["outbox_relay"] = relay


async def close_worker_context(ctx: dict[str, Any]) -> None:
    if ctx.get("db") is not None:
        # First: dispose() lets post-commit outbox deliveries finish over ctx["http"].
        await ctx["db"].dispose()
    await ctx["http"].aclose()
    if ctx.get("redis") is not None:
        await ctx["redis"].aclose()


def worker_settings(
    settings: ServiceSettings,
    *,
    functions: Sequence[Any] = (),
    cron_jobs: Sequence[CronJob] = (),
    use_outbox: bool = True,
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
) -> type:
    if not settings.redis_url:
        raise RuntimeError("the worker needs REDIS_URL")

    async def startup(ctx: dict[str, Any]) -> None:
        await open_worker_context(ctx, settings, use_outbox=use_outbox)
        if on_startup is not None:
            await on_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if on_shutdown is not None:
            await on_shutdown(ctx)
        await close_worker_context(ctx)

    jobs = list(cron_jobs)
    if use_outbox and settings.database_url:
        jobs.append(cron(relay_outbox, name="outbox.relay", second=RELAY_SECONDS, unique=True))

    return type(
        f"{settings.service_name.title()}WorkerSettings",
        (),
        {
            "functions": list(functions),
            "cron_jobs": jobs,
            "redis_settings": arq_redis_settings(settings.redis_url),
            "on_startup": startup,
            "on_shutdown": shutdown,
            "queue_name": f"arq:{settings.service_name}",
            "health_check_key": f"arq:{settings.service_name}:health-check",
        },
    )
