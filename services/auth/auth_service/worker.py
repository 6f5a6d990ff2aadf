"""arq worker: `arq auth_service.worker.WorkerSettings` (REDIS_URL, DATABASE_URL)."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from arq import cron

from auth_service.config import AuthSettings
from auth_service.one_time_tokens import repository as one_time_tokens
from auth_service.sessions import repository as sessions
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database
from webrana_common.outbox import relay_outbox
from webrana_common.redis import arq_redis_settings
from webrana_common.worker import close_worker_context, open_worker_context

log = logging.getLogger("auth.worker")

# Kept a while after they stop working, so a late click says "expired" rather than "invalid"
# and a replayed token of a revoked session is still recognised as one.
RETENTION = timedelta(days=30)


async def startup(ctx: dict[str, Any]) -> None:
    settings = AuthSettings()
    if not settings.database_url:
        raise RuntimeError("the auth worker needs DATABASE_URL")
    await open_worker_context(ctx, settings)


async def shutdown(ctx: dict[str, Any]) -> None:
    await close_worker_context(ctx)


async def purge_expired(ctx: dict[str, Any]) -> dict[str, int]:
    """Job `tokens.purge_expired`: drop dead tokens and sessions, forget sealed grace pairs."""
    settings: AuthSettings = ctx["settings"]
    db: Database = ctx["db"]
    now = utcnow()
    async with db.session() as session:
        report = {
            "one_time_tokens": await one_time_tokens.delete_expired_before(
                session, now - RETENTION
            ),
            "sessions": await sessions.delete_dead_families(session, now - RETENTION),
            "sealed_pairs": await sessions.forget_sealed_pairs(
                session, now - timedelta(seconds=settings.refresh_reuse_grace_seconds)
            ),
        }
    log.info("purged expired tokens", extra=report)
    return report


class WorkerSettings:
    functions = [relay_outbox, purge_expired]
    cron_jobs = [
        # Post-commit delivery handles the common case; this catches what it could not send.
        cron(relay_outbox, name="outbox.relay", second={0, 15, 30, 45}, run_at_startup=True),
        cron(purge_expired, name="tokens.purge_expired", minute={7, 37}, second=0),
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = arq_redis_settings(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
