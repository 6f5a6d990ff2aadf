"""notification service: in-app inbox with live push, email, Telegram, preferences, broadcasts."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq.connections import create_pool
from fastapi import FastAPI
from prometheus_client import Gauge
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.middleware import Middleware
from telegram.error import TelegramError

from notification_service.admin.router import WEBHOOK_PATH
from notification_service.admin.router import router as admin_router
from notification_service.broadcasts.router import router as broadcasts_router
from notification_service.clients import AuthClient
from notification_service.config import NotificationSettings
from notification_service.deliveries.router import router as deliveries_router
from notification_service.delivery_queue import DeliveryQueue
from notification_service.live import service as live_service
from notification_service.live.connection import LiveConnection
from notification_service.live.hub import LiveHub
from notification_service.live.router import router as live_router
from notification_service.notifications.router import router as notifications_router
from notification_service.preferences.router import router as preferences_router
from notification_service.preferences.router import unsubscribe_router
from notification_service.rendering.renderer import Renderer
from notification_service.sending.fast_path import SendFastPath
from notification_service.sending.router import router as sending_router
from notification_service.sending.service import Senders
from notification_service.telegram_bot.bot import TelegramBot
from notification_service.telegram_bot.router import router as telegram_router
from webrana_common.db.session import to_async_url
from webrana_common.redis import arq_redis_settings
from webrana_common.service import create_service_app

log = logging.getLogger("notification.app")
# Allocations (minus frees) between young-generation collections; Python's default is 700.
GC_GEN0_THRESHOLD = 20_000

TAGS = [
    {"name": "notifications", "description": "The in-app inbox (and its WebSocket)"},
    {"name": "preferences", "description": "Channels per category, mutes, quiet hours"},
    {"name": "telegram", "description": "The Telegram bot's webhook"},
    {"name": "admin", "description": "Broadcasts, templates, the delivery log (admins only)"},
    {
        "name": "internal",
        "description": "Service-to-service only (X-API-Key); never routed by the gateway",
    },
]


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state
        if state.db is None or state.redis is None or not settings.redis_url:
            raise RuntimeError("the notification service needs DATABASE_URL and REDIS_URL")
        pool = await create_pool(
            arq_redis_settings(settings.redis_url), default_queue_name=settings.arq_queue_name
        )
        state.delivery_queue = DeliveryQueue(pool, settings.arq_queue_name)
        state.send_engine = send_engine(settings)
        # Its own connection for the user cache, read on every send: a pooled checkout peeks
        # at the socket first, which doubles the cost of a GET (measured: 270 vs 120 us CPU).
        state.user_cache = Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            single_connection_client=True,
            socket_connect_timeout=3,
            socket_timeout=5,
        )
        state.auth = AuthClient(
            state.http,
            settings.auth_url,
            state.user_cache,
            cache_seconds=settings.user_cache_seconds,
        )
        state.renderer = Renderer(settings.public_base_url)
        state.bot = TelegramBot(settings)

        async def resync(connection: LiveConnection) -> None:
            await live_service.resume(
                state.send_engine, connection, last_id=None, limit=settings.ws_resume_limit
            )

        state.hub = LiveHub(
            settings.redis_url,
            channel=settings.live_channel,
            heartbeat_seconds=settings.ws_heartbeat_seconds,
            resync=resync,
        )
        state.senders = Senders(
            settings=settings,
            auth=state.auth,
            renderer=state.renderer,
            hub=state.hub,
            queue=state.delivery_queue,
        )
        await state.hub.start()
        _tune_garbage_collector()
        state.readiness_checks["live_channel"] = state.hub.check
        Gauge(
            "notification_websocket_connections",
            "Open notification WebSockets in this process",
            registry=state.metrics_registry,
        ).set_function(lambda: state.hub.connection_count)
        registration = None
        if settings.telegram_register_webhook:
            registration = asyncio.create_task(_register_webhook(settings, state.bot))
        try:
            yield
        finally:
            if registration is not None:
                registration.cancel()
            # Post-commit pushes and enqueues still running need the pool and the hub.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await state.db.wait_for_background()
            await state.hub.stop()
            await state.bot.close()
            await pool.aclose()
            await state.user_cache.aclose()
            await state.send_engine.dispose()

    app = create_service_app(
        settings,
        title="WeBrana notification",
        description="In-app notifications with live push, email and Telegram delivery, "
        "preferences and broadcasts. Errors are RFC 9457 `application/problem+json` with a "
        "stable `code`.",
        lifespan=lifespan,
        openapi_tags=TAGS,
        inner_middleware=[Middleware(SendFastPath)],
    )
    # The hot route first: routes are matched in order. Static paths before
    # /api/v1/notifications/{id}.
    app.include_router(sending_router)
    app.include_router(preferences_router)
    app.include_router(unsubscribe_router)
    app.include_router(telegram_router)
    app.include_router(live_router)
    app.include_router(notifications_router)
    app.include_router(broadcasts_router)
    app.include_router(deliveries_router)
    app.include_router(admin_router)
    return app


def _tune_garbage_collector() -> None:
    """Measured with 3,000-5,000 open sockets: full collections walked every object of the
    process (imports, then each socket's few hundred) and stopped the loop for 0.3-0.8 s every
    few seconds under load, which is the whole p99 of a push. What exists at startup is
    permanent (frozen out of every collection) and the youngest generation is collected
    less eagerly, so the oldest is reached far less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 20, 50)


def send_engine(settings: NotificationSettings) -> AsyncEngine:
    """The pool of `POST /internal/notifications/send`: autocommit (its insert is one atomic
    statement) and no pre-ping. Measured here, the shared pool's pre-ping costs three round
    trips per request (BEGIN, ping, ROLLBACK) and BEGIN/COMMIT two more, around two useful
    statements; a connection that died is dropped on its first error instead."""
    return create_async_engine(
        to_async_url(settings.database_url or ""),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
    )


async def _register_webhook(settings: NotificationSettings, bot: TelegramBot) -> None:
    if not bot.enabled or settings.telegram_webhook_secret is None:
        log.warning(
            "TELEGRAM_REGISTER_WEBHOOK needs TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET"
        )
        return
    try:
        await bot.set_webhook(
            settings.link(WEBHOOK_PATH), settings.telegram_webhook_secret.get_secret_value()
        )
    except TelegramError:
        log.exception(
            "setWebhook failed; PUT /api/v1/admin/notifications/telegram/webhook retries it"
        )
