"""POST /internal/notifications/send: idempotency, the user from auth, preferences, the
delivery log, jobs queued."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from notification_helpers import INTERNAL, SEND, assert_problem, sample, send
from redis.asyncio import Redis
from sqlalchemy import delete, func, select

from auth_service.users.models import User
from notification_service.app import create_app
from notification_service.clients import CACHE_PREFIX
from notification_service.deliveries.models import Delivery
from notification_service.delivery_queue import delivery_job_id
from notification_service.notifications.models import Notification
from notification_service.preferences.models import Preference
from notification_service.preferences.quiet_hours import JAKARTA
from webrana_common.db.session import Database
from webrana_common.testing.client import running_app


async def _deliveries(db: Database, notification_id: str) -> dict[str, Delivery]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.notification_id == uuid.UUID(notification_id))
        )
        return {row.channel: row for row in rows}


async def _count(db: Database, model: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _queued_jobs(redis_url: str) -> dict[str, float]:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        return dict(await redis.zrange("arq:notification", 0, -1, withscores=True))
    finally:
        await redis.aclose()


async def test_send_stores_in_app_logs_every_channel_and_queues_jobs(
    client: httpx.AsyncClient, make_user: Any, db: Database, redis_url: str, app: Any
) -> None:
    user = await make_user(chat_id=777001)
    body = await send(client, user, "PAYMENT_CONFIRMED")

    assert body["duplicate"] is False
    assert {d["channel"]: d["status"] for d in body["deliveries"]} == {
        "in_app": "SENT",
        "email": "QUEUED",
        "telegram": "QUEUED",
    }
    async with db.session() as session:
        row = (await session.scalars(select(Notification))).one()
    assert row.user_id == user.id and row.in_app and row.seq == 1
    assert row.category == "billing" and row.priority == "high" and row.locale == "id"
    assert row.title == "Pembayaran Rp 150.000 diterima"
    logged = await _deliveries(db, body["notification_id"])
    assert logged["email"].recipient == user.email
    assert logged["telegram"].recipient == "777001"
    assert logged["in_app"].sent_at is not None
    await app.state.db.wait_for_background()
    jobs = await _queued_jobs(redis_url)
    assert set(jobs) == {
        delivery_job_id(logged["email"].id),
        delivery_job_id(logged["telegram"].id),
    }


async def test_the_same_key_never_notifies_twice(
    client: httpx.AsyncClient, make_user: Any, db: Database, app: Any, redis_url: str
) -> None:
    user = await make_user()
    first = await send(client, user, key="billing:paid:INV-1")
    await app.state.db.wait_for_background()
    again = await send(client, user, key="billing:paid:INV-1", expect=200)

    assert again["duplicate"] is True
    assert again["notification_id"] == first["notification_id"]
    assert {d["channel"] for d in again["deliveries"]} == {"in_app", "email", "telegram"}
    assert await _count(db, Notification) == 1 and await _count(db, Delivery) == 3
    assert len(await _queued_jobs(redis_url)) == 1  # the email job, once


async def test_the_outbox_header_is_the_key(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user()
    payload = {"event": "WALLET_TOPUP", "user_id": str(user.id), "data": sample("WALLET_TOPUP")}
    headers = {**INTERNAL, "Idempotency-Key": "billing:topup:T1"}
    first = await client.post(SEND, json=payload, headers=headers)
    second = await client.post(SEND, json=payload, headers=headers)

    assert (first.status_code, second.status_code) == (202, 200)
    async with db.session() as session:
        assert (await session.scalars(select(Notification.idempotency_key))).all() == [
            "billing:topup:T1"
        ]
    mismatch = await client.post(
        SEND, json={**payload, "idempotency_key": "other"}, headers=headers
    )
    assert_problem(mismatch, 400, "idempotency_key_mismatch")
    missing = await client.post(SEND, json=payload, headers=INTERNAL)
    assert_problem(missing, 400, "idempotency_key_missing")


async def test_concurrent_sends_of_one_key_make_one_notification(
    app: Any, make_user: Any, db: Database
) -> None:
    user = await make_user()
    async with running_app(app) as client:
        results = await asyncio.gather(
            *(send(client, user, key="race-1", expect=None) for _ in range(6))
        )
    assert sorted(r["duplicate"] for r in results) == [False] + [True] * 5
    assert len({r["notification_id"] for r in results}) == 1
    assert await _count(db, Notification) == 1 and await _count(db, Delivery) == 3


async def test_refused_without_an_api_key(client: httpx.AsyncClient) -> None:
    response = await client.post(SEND, json={})
    assert_problem(response, 401, "api_key_invalid")


async def test_data_breaking_the_contract_is_refused(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user()
    data = {**sample("VPS_ACTIVE")}
    del data["ip_address"]
    response = await client.post(
        SEND,
        json={"event": "VPS_ACTIVE", "user_id": str(user.id), "data": data, "idempotency_key": "k"},
        headers=INTERNAL,
    )
    body = assert_problem(response, 422, "invalid_event_data")
    assert [e["field"] for e in body["errors"]] == ["ip_address"]
    bad_link = {**sample("EMAIL_VERIFY"), "link": "javascript:alert(1)"}
    response = await client.post(
        SEND,
        json={
            "event": "EMAIL_VERIFY",
            "user_id": str(user.id),
            "data": bad_link,
            "idempotency_key": "k",
        },
        headers=INTERNAL,
    )
    assert_problem(response, 422, "invalid_event_data")
    unknown = await client.post(
        SEND,
        json={"event": "NOPE", "user_id": str(user.id), "data": {}, "idempotency_key": "k"},
        headers=INTERNAL,
    )
    assert_problem(unknown, 422, "validation_error")
    assert await _count(db, Notification) == 0


async def test_unknown_user_is_404_and_auth_down_is_503(
    client: httpx.AsyncClient, make_settings: Any
) -> None:
    response = await client.post(
        SEND,
        json={
            "event": "WALLET_TOPUP",
            "user_id": str(uuid.uuid4()),
            "data": sample("WALLET_TOPUP"),
            "idempotency_key": "k",
        },
        headers=INTERNAL,
    )
    assert_problem(response, 404, "user_not_found")
    down = create_app(make_settings(auth_url="http://127.0.0.1:9"))
    async with running_app(down) as other:
        response = await other.post(
            SEND,
            json={
                "event": "WALLET_TOPUP",
                "user_id": str(uuid.uuid4()),
                "data": sample("WALLET_TOPUP"),
                "idempotency_key": "k2",
            },
            headers=INTERNAL,
        )
    assert_problem(response, 503, "auth_unavailable")


async def test_user_lookups_are_cached_briefly_in_redis(
    make_settings: Any, make_user: Any, auth_db: Database, redis_url: str
) -> None:
    user = await make_user()
    async with running_app(create_app(make_settings(user_cache_seconds=30))) as client:
        await send(client, user)
        redis = Redis.from_url(redis_url)
        ttl = await redis.ttl(CACHE_PREFIX + str(user.id))
        await redis.aclose()
        assert 0 < ttl <= 30
        async with auth_db.session() as session:
            await session.execute(delete(User).where(User.id == user.id))
        await send(client, user)  # served from the cache, auth not asked
    async with running_app(create_app(make_settings(user_cache_seconds=0))) as client:
        await send(client, user, expect=404)


async def test_channels_restrict_where_it_goes(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user(chat_id=1)
    body = await send(client, user, channels=["in_app"])
    assert [d["channel"] for d in body["deliveries"]] == ["in_app"]
    body = await send(client, user, "EMAIL_VERIFY", channels=["email", "in_app"])
    assert sorted(d["channel"] for d in body["deliveries"]) == ["email", "in_app"]


async def test_unverified_email_is_skipped_except_for_verification_and_reset(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user(verified=False)
    body = await send(client, user, "VPS_ACTIVE")
    email = next(d for d in body["deliveries"] if d["channel"] == "email")
    assert (email["status"], email["reason"]) == ("SKIPPED", "email_unverified")
    for event in ("EMAIL_VERIFY", "PASSWORD_RESET"):
        body = await send(client, user, event)
        assert [(d["channel"], d["status"]) for d in body["deliveries"]] == [("email", "QUEUED")]


async def test_no_chat_linked_is_skipped_not_failed(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    body = await send(client, await make_user(chat_id=None), "VPS_ACTIVE")
    logged = await _deliveries(db, body["notification_id"])
    assert (logged["telegram"].status, logged["telegram"].reason) == ("SKIPPED", "no_chat_linked")


async def test_telegram_without_a_bot_token_is_skipped(make_settings: Any, make_user: Any) -> None:
    async with running_app(create_app(make_settings(telegram_bot_token=None))) as client:
        body = await send(client, await make_user(chat_id=5), "VPS_ACTIVE")
    telegram = next(d for d in body["deliveries"] if d["channel"] == "telegram")
    assert (telegram["status"], telegram["reason"]) == ("SKIPPED", "telegram_disabled")


async def _prefer(db: Database, user_id: uuid.UUID, **values: Any) -> None:
    async with db.session() as session:
        session.add(
            Preference(
                user_id=user_id,
                channels=values.pop("channels", {}),
                muted_email=values.pop("muted_email", False),
                muted_telegram=values.pop("muted_telegram", False),
                **values,
            )
        )


async def test_preferences_and_mutes_skip_channels_but_not_security_email(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user(chat_id=42)
    await _prefer(
        db,
        user.id,
        channels={"billing": {"email": False, "in_app": False}},
        muted_telegram=True,
        muted_email=True,
    )
    billing = {d["channel"]: d for d in (await send(client, user, "WALLET_TOPUP"))["deliveries"]}
    assert billing["email"]["reason"] == "preference_off"
    assert billing["in_app"]["reason"] == "preference_off"
    assert billing["telegram"]["reason"] == "channel_muted"
    security = {d["channel"]: d for d in (await send(client, user, "SECURITY_ALERT"))["deliveries"]}
    assert security["email"]["status"] == "QUEUED"  # muted email does not silence security
    assert security["in_app"]["status"] == "SENT"
    assert security["telegram"]["reason"] == "channel_muted"
    async with db.session() as session:
        hidden = (
            await session.scalars(select(Notification).where(Notification.event == "WALLET_TOPUP"))
        ).one()
    assert hidden.in_app is False  # stored for the log, not shown in the inbox


def _window_around_now() -> tuple[time, time]:
    now = datetime.now(UTC).astimezone(JAKARTA)
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    return start, end


async def test_quiet_hours_defer_email_and_telegram_but_store_in_app(
    client: httpx.AsyncClient, make_user: Any, db: Database, app: Any, redis_url: str
) -> None:
    user = await make_user(chat_id=43)
    start, end = _window_around_now()
    await _prefer(db, user.id, quiet_hours_start=start, quiet_hours_end=end)

    body = await send(client, user, "VPS_EXPIRING")
    by_channel = {d["channel"]: d for d in body["deliveries"]}
    assert by_channel["in_app"]["status"] == "SENT"
    for channel in ("email", "telegram"):
        assert (by_channel[channel]["status"], by_channel[channel]["reason"]) == (
            "QUEUED",
            "quiet_hours",
        )
        due = datetime.fromisoformat(by_channel[channel]["scheduled_for"]).astimezone(JAKARTA)
        assert due.time() == end and due > datetime.now(UTC)
    await app.state.db.wait_for_background()
    logged = await _deliveries(db, body["notification_id"])
    jobs = await _queued_jobs(redis_url)
    score = jobs[delivery_job_id(logged["email"].id)]
    assert abs(score / 1000 - logged["email"].scheduled_for.timestamp()) < 1

    urgent = {d["channel"]: d for d in (await send(client, user, "VPS_SUSPENDED"))["deliveries"]}
    assert urgent["email"]["reason"] is None and urgent["email"]["scheduled_for"] is None


@pytest.mark.parametrize("event", ["EMAIL_VERIFY", "PASSWORD_RESET"])
async def test_account_mails_are_email_only_and_hidden_from_the_inbox(
    client: httpx.AsyncClient, make_user: Any, db: Database, event: str
) -> None:
    await send(client, await make_user(), event)
    async with db.session() as session:
        row = (await session.scalars(select(Notification))).one()
    assert row.in_app is False
