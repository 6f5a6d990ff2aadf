"""arq worker defaults: a real arq worker on real Redis gets the database, the HTTP client and
the outbox relay, so a job's outbox messages reach their receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from arq import create_pool
from arq.worker import create_worker
from fastapi import FastAPI, Request
from sqlalchemy import select

from webrana_common.db.session import Database
from webrana_common.outbox import OutboxMessage, OutboxStatus, add
from webrana_common.redis import arq_redis_settings
from webrana_common.settings import ServiceSettings
from webrana_common.testing.live_server import LiveServer
from webrana_common.worker import worker_settings


@pytest.fixture
def receiver() -> Iterator[tuple[LiveServer, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/internal/notifications/send")
    async def send(request: Request) -> dict[str, bool]:
        received.append({"key": request.headers["idempotency-key"], **(await request.json())})
        return {"ok": True}

    with LiveServer(app) as server:
        yield server, received


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    db = Database(empty_database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(OutboxMessage.metadata.create_all)
    await db.dispose()
    return empty_database_url


async def notify_user(ctx: dict[str, Any], user: str) -> str:
    async with ctx["db"].session() as session:
        await add(session, "notification:/internal/notifications/send", {"user": user}, user)
    return user


def make_settings(database_url: str, redis_url: str, notification_url: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="demo",
        database_url=database_url,
        redis_url=redis_url,
        notification_url=notification_url,
        environment="test",
    )


def test_worker_settings_register_jobs_and_the_outbox_relay_cron(redis_server_url: str) -> None:
    settings = ServiceSettings(
        service_name="demo",
        redis_url=redis_server_url,
        database_url="postgresql://x@/y",
        environment="test",
    )
    cls = worker_settings(settings, functions=[notify_user])
    assert cls.functions == [notify_user]
    assert [job.name for job in cls.cron_jobs] == ["outbox.relay"]
    assert cls.queue_name == "arq:demo"
    without_outbox = worker_settings(settings, use_outbox=False)
    assert without_outbox.cron_jobs == []


def test_worker_needs_redis() -> None:
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        worker_settings(ServiceSettings(environment="test"))


async def test_a_jobs_outbox_message_is_delivered_after_the_job_commits(
    database_url: str, redis_url: str, receiver: tuple[LiveServer, list[dict[str, Any]]]
) -> None:
    server, received = receiver
    settings = make_settings(database_url, redis_url, server.url)
    cls = worker_settings(settings, functions=[notify_user])
    pool = await create_pool(arq_redis_settings(redis_url))
    try:
        await pool.enqueue_job("notify_user", "u-1", _queue_name=cls.queue_name)
        worker = create_worker(cls, burst=True, poll_delay=0.05)
        try:
            await worker.main()
        finally:
            await worker.close()
    finally:
        await pool.aclose()
    # The post-commit delivery ran before shutdown (dispose waits for it).
    assert received == [{"key": "u-1", "user": "u-1"}]
    db = Database(database_url)
    try:
        async with db.session() as session:
            [message] = (await session.scalars(select(OutboxMessage))).all()
        assert message.status == OutboxStatus.DELIVERED
    finally:
        await db.dispose()


async def test_relay_cron_job_sends_what_post_commit_delivery_could_not(
    database_url: str, redis_url: str, receiver: tuple[LiveServer, list[dict[str, Any]]]
) -> None:
    server, received = receiver
    # Stored while no relay was attached, as when a process died right after its commit.
    db = Database(database_url)
    async with db.session() as session:
        await add(session, "notification:/internal/notifications/send", {"user": "u-2"}, "k-2")
    await db.dispose()
    assert received == []

    cls = worker_settings(make_settings(database_url, redis_url, server.url))
    ctx: dict[str, Any] = {}
    await cls.on_startup(ctx)
    try:
        [relay_job] = cls.cron_jobs
        assert await relay_job.coroutine(ctx) == 1
    finally:
        await cls.on_shutdown(ctx)
    await asyncio.sleep(0)
    assert received == [{"key": "k-2", "user": "u-2"}]
