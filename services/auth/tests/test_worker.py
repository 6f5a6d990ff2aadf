from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from auth_service import worker
from auth_service.one_time_tokens.models import OneTimeToken
from auth_service.sessions.models import RefreshFamily, RefreshToken
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database
from webrana_common.outbox.models import OutboxMessage


@pytest.fixture
async def ctx(
    monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str, notification_sink: Any
) -> Any:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("NOTIFICATION_URL", notification_sink.url)
    context: dict[str, Any] = {}
    await worker.startup(context)
    yield context
    await worker.shutdown(context)


async def _count(db: Database, model: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def test_worker_settings_schedule_the_outbox_relay_and_the_purge() -> None:
    names = {job.name for job in worker.WorkerSettings.cron_jobs}
    assert names == {"outbox.relay", "tokens.purge_expired"}


async def test_relay_job_delivers_what_post_commit_delivery_missed(
    ctx: Any, db: Database, notification_sink: Any
) -> None:
    from webrana_common import outbox

    async with db.session() as session:  # no relay on this Database: nothing sent at commit
        await outbox.add(
            session,
            "notification:/internal/notifications/send",
            {"event": "SECURITY_ALERT", "user_id": "u", "data": {}, "idempotency_key": "k-1"},
            "k-1",
        )
    assert await worker.relay_outbox(ctx) == 1
    async with db.session() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert row.status == "delivered"
    assert any(p["idempotency_key"] == "k-1" for _, p in notification_sink.received)


async def test_purge_drops_dead_sessions_and_tokens_and_forgets_sealed_pairs(
    ctx: Any, client: Any, make_user: Any, login: Any, db: Database
) -> None:
    user = await make_user()
    dead, alive = await login(user), await login(user)
    await client.post("/api/v1/auth/refresh", json={"refresh_token": alive["refresh_token"]})
    await client.post("/api/v1/auth/forgot-password", json={"email": user.email})
    long_ago = utcnow() - timedelta(days=31)
    async with db.session() as session:
        await session.execute(
            update(RefreshFamily)
            .where(RefreshFamily.id == dead["session_id"])
            .values(revoked_at=long_ago)
        )
        await session.execute(update(OneTimeToken).values(expires_at=long_ago))
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utcnow() - timedelta(minutes=1))
        )

    report = await worker.purge_expired(ctx)

    assert report == {"one_time_tokens": 1, "sessions": 1, "sealed_pairs": 1}
    assert await _count(db, RefreshFamily) == 1
    assert await _count(db, OneTimeToken) == 0
    async with db.session() as session:
        sealed = await session.scalar(
            select(func.count())
            .select_from(RefreshToken)
            .where(RefreshToken.successor_sealed.is_not(None))
        )
    assert sealed == 0
