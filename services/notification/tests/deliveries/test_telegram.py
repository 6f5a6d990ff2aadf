"""Telegram jobs: python-telegram-bot against the Bot API stand-in, its real error codes
driving retries (429 honours retry_after), unlinking (403) and permanent failures (400)."""

from __future__ import annotations

import time
from typing import Any

import httpx
from notification_helpers import send
from redis.asyncio import Redis
from sqlalchemy import select

from auth_service.users.models import User
from notification_service.deliveries.models import Delivery
from notification_service.delivery_queue import delivery_job_id
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database


async def _telegram_delivery(db: Database) -> Delivery:
    async with db.session() as session:
        return (await session.scalars(select(Delivery).where(Delivery.channel == "telegram"))).one()


async def _messages(telegram: httpx.AsyncClient, chat_id: int) -> list[dict[str, Any]]:
    return (await telegram.get("/sandbox/messages", params={"chat_id": chat_id})).json()["messages"]


async def test_message_is_sent_in_html_parse_mode_and_logged(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, telegram: Any
) -> None:
    user = await make_user(chat_id=910001)
    await send(client, user, "VPS_ACTIVE", channels=["telegram"])
    await run_jobs()

    [message] = await _messages(telegram, 910001)
    assert message["parse_mode"] == "HTML"
    assert message["text"].startswith("🚀 <b>Server web-1 sudah aktif</b>")
    assert message["link_preview_options"] == {"is_disabled": True}
    delivery = await _telegram_delivery(db)
    assert (delivery.status, delivery.attempts, delivery.recipient) == ("SENT", 1, "910001")


async def test_429_waits_retry_after_then_sends(
    client: httpx.AsyncClient,
    make_user: Any,
    run_jobs: Any,
    db: Database,
    telegram: Any,
    redis_url: str,
) -> None:
    user = await make_user(chat_id=910002)
    await telegram.put("/sandbox/chats/910002", json={"fail": "rate_limited", "retry_after": 1})
    await send(client, user, "VPS_ACTIVE", channels=["telegram"])
    before = time.time()
    await run_jobs(max_jobs=1)

    delivery = await _telegram_delivery(db)
    assert (delivery.status, delivery.attempts) == ("QUEUED", 1)
    assert "429" in (delivery.last_error or "")
    waited = delivery.scheduled_for.timestamp() - before
    assert 1 <= waited < 2
    redis = Redis.from_url(redis_url)
    score = await redis.zscore("arq:notification", delivery_job_id(delivery.id))
    await redis.aclose()
    assert score is not None and score / 1000 >= before + 1

    await telegram.delete("/sandbox/chats/910002")
    await run_jobs()
    delivery = await _telegram_delivery(db)
    assert (delivery.status, delivery.attempts) == ("SENT", 2)
    assert time.time() - before >= 1
    assert len(await _messages(telegram, 910002)) == 1


async def test_a_blocked_bot_unlinks_the_chat_at_auth_and_is_not_retried(
    client: httpx.AsyncClient,
    make_user: Any,
    run_jobs: Any,
    db: Database,
    auth_db: Database,
    telegram: Any,
    redis_url: str,
) -> None:
    user = await make_user(chat_id=910003)
    await telegram.put("/sandbox/chats/910003", json={"fail": "blocked"})
    await send(client, user, "VPS_ACTIVE", channels=["telegram"])
    await run_jobs()

    delivery = await _telegram_delivery(db)
    assert (delivery.status, delivery.reason, delivery.attempts) == ("FAILED", "bot_blocked", 1)
    assert "bot was blocked by the user" in (delivery.last_error or "")
    async with auth_db.session() as session:
        assert (await session.get(User, user.id)).telegram_chat_id is None  # type: ignore[union-attr]
    redis = Redis.from_url(redis_url)
    assert await redis.zcard("arq:notification") == 0
    await redis.aclose()
    # The next notification knows the chat is gone (the cached user was forgotten).
    body = await send(client, user, "VPS_ACTIVE", channels=["telegram"])
    assert body["deliveries"][0]["reason"] == "no_chat_linked"


async def test_a_telegram_outage_is_retried(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, telegram: Any
) -> None:
    user = await make_user(chat_id=910004)
    await telegram.put("/sandbox/chats/910004", json={"fail": "server_error", "times": 2})
    await send(client, user, "VPS_ACTIVE", channels=["telegram"])
    await run_jobs()
    delivery = await _telegram_delivery(db)
    assert (delivery.status, delivery.attempts) == ("SENT", 3)


async def test_a_bad_request_fails_without_retry(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, telegram: Any
) -> None:
    user = await make_user(chat_id=910005)
    await telegram.put("/sandbox/chats/910005", json={"fail": "not_found"})
    await send(client, user, "VPS_ACTIVE", channels=["telegram"])
    await run_jobs()
    delivery = await _telegram_delivery(db)
    assert (delivery.status, delivery.reason, delivery.attempts) == ("FAILED", "rejected", 1)
    assert "Chat not found" in (delivery.last_error or "")


async def test_a_chat_unlinked_while_queued_is_skipped(
    client: httpx.AsyncClient,
    make_user: Any,
    run_jobs: Any,
    db: Database,
    auth_db: Database,
    telegram: Any,
) -> None:
    user = await make_user(chat_id=910006)
    await send(client, user, "VPS_ACTIVE", channels=["telegram"])
    async with auth_db.session() as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.telegram_chat_id, row.updated_at = None, utcnow()
    await run_jobs(user_cache_seconds=0)
    delivery = await _telegram_delivery(db)
    assert (delivery.status, delivery.reason) == ("SKIPPED", "no_chat_linked")
    assert await _messages(telegram, 910006) == []
