"""The worker's wiring and its crons: lost jobs requeued, stalled broadcasts resumed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from notification_helpers import send
from redis.asyncio import Redis
from sqlalchemy import select, update

from notification_service import worker
from notification_service.broadcasts.models import Broadcast
from notification_service.deliveries.models import Delivery
from notification_service.delivery_queue import delivery_job_id
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database
from webrana_common.worker import close_worker_context, open_worker_context


def test_worker_settings_are_built_from_the_environment(monkeypatch: Any, settings: Any) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    built = worker.WorkerSettings
    assert built.queue_name == "arq:notification"
    assert {f.name for f in built.functions} == {"deliveries.send", "broadcasts.run"}
    assert {c.name for c in built.cron_jobs} == {
        "deliveries.requeue",
        "broadcasts.resume",
        "retention.purge",
    }


async def _context(settings: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    await open_worker_context(ctx, settings, use_outbox=False)
    await worker.startup(ctx)
    return ctx


async def _shutdown(ctx: dict[str, Any]) -> None:
    await worker.shutdown(ctx)
    await close_worker_context(ctx)


async def test_requeue_finds_deliveries_whose_job_was_lost(
    client: httpx.AsyncClient,
    make_user: Any,
    db: Database,
    settings: Any,
    redis_url: str,
    app: Any,
) -> None:
    await send(client, await make_user(), "WALLET_TOPUP", channels=["email"])
    await app.state.db.wait_for_background()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()  # Redis lost the job
    async with db.session() as session:
        delivery = (
            await session.scalars(select(Delivery).where(Delivery.channel == "email"))
        ).one()
        await session.execute(update(Delivery).values(updated_at=utcnow() - timedelta(minutes=3)))

    ctx = await _context(settings)
    try:
        assert await worker.requeue_deliveries(ctx) == 1
        assert await worker.requeue_deliveries(ctx) == 0  # touched: not again next minute
    finally:
        await _shutdown(ctx)
    assert await redis.zscore("arq:notification", delivery_job_id(delivery.id)) is not None
    await redis.aclose()


async def test_stalled_broadcasts_are_resumed(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    db: Database,
    settings: Any,
    redis_url: str,
    app: Any,
) -> None:
    created = await client.post(
        "/api/v1/admin/notifications/broadcasts",
        json={"title": "t", "body": "b", "idempotency_key": "stalled"},
        headers=admin_headers,
    )
    await app.state.db.wait_for_background()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()  # its job is gone
    async with db.session() as session:
        await session.execute(update(Broadcast).values(updated_at=utcnow() - timedelta(minutes=5)))
    ctx = await _context(settings)
    try:
        assert await worker.resume_broadcasts(ctx) == 1
    finally:
        await _shutdown(ctx)
    assert await redis.exists(f"arq:job:broadcast:{created.json()['id']}") == 1
    await redis.aclose()
