from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from auth_helpers import assert_problem, token_from_link
from sqlalchemy import select, update

from auth_service.audit.models import AuditEntry
from auth_service.one_time_tokens.models import OneTimeToken
from auth_service.sessions.models import RefreshFamily
from auth_service.users.models import User
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

CHANGE = "/api/v1/auth/password/change"
FORGOT = "/api/v1/auth/forgot-password"
RESET = "/api/v1/auth/reset-password"
NEW = "nasi-uduk-dan-teh-manis"


def _auth(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def _families(db: Database) -> dict[str, RefreshFamily]:
    async with db.session() as session:
        return {str(f.id): f for f in (await session.scalars(select(RefreshFamily))).all()}


async def test_change_password_revokes_other_sessions_but_keeps_this_one(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database, outbox: Any
) -> None:
    user = await make_user()
    other, mine = await login(user), await login(user)
    response = await client.post(
        CHANGE, json={"current_password": user.password, "new_password": NEW}, headers=_auth(mine)
    )
    assert response.status_code == 204, response.text
    families = await _families(db)
    assert families[other["session_id"]].revoked_reason == "password_changed"
    assert families[mine["session_id"]].revoked_at is None
    assert (
        await client.post("/api/v1/auth/login", json={"email": user.email, "password": NEW})
    ).status_code == 200
    [alert] = await outbox("SECURITY_ALERT")
    assert alert["data"]["reason"] == "password_changed"
    async with db.session() as session:
        entry = (await session.scalars(select(AuditEntry))).one()
    assert entry.action == "user.password_changed" and entry.after == {"other_sessions_revoked": 1}


async def test_change_password_needs_the_right_current_one_and_a_new_strong_one(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    user = await make_user()
    headers = _auth(await login(user))
    wrong = await client.post(
        CHANGE, json={"current_password": "not-it-at-all", "new_password": NEW}, headers=headers
    )
    assert_problem(wrong, 400, "current_password_incorrect")
    same = await client.post(
        CHANGE,
        json={"current_password": user.password, "new_password": user.password},
        headers=headers,
    )
    assert_problem(same, 422, "password_unchanged")
    weak = await client.post(
        CHANGE,
        json={"current_password": user.password, "new_password": "password1234"},
        headers=headers,
    )
    assert_problem(weak, 422, "password_too_common")
    assert (
        await client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": user.password}
        )
    ).status_code == 200


async def test_forgot_password_answers_the_same_for_unknown_addresses(
    client: httpx.AsyncClient, make_user: Any, outbox: Any
) -> None:
    user = await make_user()
    known = await client.post(FORGOT, json={"email": user.email})
    unknown = await client.post(FORGOT, json={"email": "nobody@example.co.id"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [message] = await outbox("PASSWORD_RESET")
    assert message["user_id"] == str(user.id)
    assert message["data"]["link"].startswith("https://app.webrana.test/reset-password?token=")


async def test_reset_password_sets_it_revokes_sessions_and_is_single_use(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database, outbox: Any
) -> None:
    user = await make_user(verified=False)
    session_before = await login(user)
    await client.post(FORGOT, json={"email": user.email})
    [message] = await outbox("PASSWORD_RESET")
    token = token_from_link(message["data"]["link"])

    response = await client.post(RESET, json={"token": token, "new_password": NEW})

    assert response.status_code == 204, response.text
    assert (await _families(db))[session_before["session_id"]].revoked_reason == "password_reset"
    assert (
        await client.post("/api/v1/auth/login", json={"email": user.email, "password": NEW})
    ).status_code == 200
    async with db.session() as session:
        stored = (await session.scalars(select(User))).one()
    assert stored.email_verified_at is not None  # the link proved the address
    again = await client.post(RESET, json={"token": token, "new_password": "another-fine-phrase"})
    assert_problem(again, 410, "reset_token_used")


async def test_reset_token_expires_after_30_minutes(
    client: httpx.AsyncClient, make_user: Any, db: Database, outbox: Any
) -> None:
    user = await make_user()
    await client.post(FORGOT, json={"email": user.email})
    [message] = await outbox("PASSWORD_RESET")
    async with db.session() as session:
        row = (await session.scalars(select(OneTimeToken))).one()
        assert abs((row.expires_at - row.created_at) - timedelta(minutes=30)) < timedelta(seconds=1)
        await session.execute(
            update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await client.post(
        RESET, json={"token": token_from_link(message["data"]["link"]), "new_password": NEW}
    )
    assert_problem(response, 410, "reset_token_expired")


async def test_a_newer_reset_link_voids_the_older_one(
    client: httpx.AsyncClient, make_user: Any, outbox: Any
) -> None:
    user = await make_user()
    await client.post(FORGOT, json={"email": user.email})
    await client.post(FORGOT, json={"email": user.email})
    old, new = await outbox("PASSWORD_RESET")
    stale = await client.post(
        RESET, json={"token": token_from_link(old["data"]["link"]), "new_password": NEW}
    )
    assert_problem(stale, 410, "reset_token_expired")
    fresh = await client.post(
        RESET, json={"token": token_from_link(new["data"]["link"]), "new_password": NEW}
    )
    assert fresh.status_code == 204


async def test_reset_with_a_weak_password_keeps_the_token_usable(
    client: httpx.AsyncClient, make_user: Any, outbox: Any
) -> None:
    user = await make_user()
    await client.post(FORGOT, json={"email": user.email})
    [message] = await outbox("PASSWORD_RESET")
    token = token_from_link(message["data"]["link"])
    local = user.email.split("@")[0]
    weak = await client.post(RESET, json={"token": token, "new_password": f"{local}-secret-99"})
    assert_problem(weak, 422, "password_contains_email")
    assert (await client.post(RESET, json={"token": token, "new_password": NEW})).status_code == 204


async def test_reset_lifts_a_login_lockout(
    client: httpx.AsyncClient, make_user: Any, outbox: Any
) -> None:
    user = await make_user()
    for _ in range(6):
        await client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": "nope-nope-1"}
        )
    await client.post(FORGOT, json={"email": user.email})
    [message] = await outbox("PASSWORD_RESET")
    await client.post(
        RESET, json={"token": token_from_link(message["data"]["link"]), "new_password": NEW}
    )
    ok = await client.post("/api/v1/auth/login", json={"email": user.email, "password": NEW})
    assert ok.status_code == 200


async def test_unknown_reset_token_is_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(RESET, json={"token": "Z" * 43, "new_password": NEW})
    assert_problem(response, 400, "reset_token_invalid")


async def test_outbox_messages_reach_the_notification_service_with_their_key(
    client: httpx.AsyncClient, make_user: Any, notification_sink: Any, db: Database
) -> None:
    import asyncio

    from webrana_common.outbox.models import OutboxMessage

    user = await make_user()
    await client.post(FORGOT, json={"email": user.email})
    for _ in range(100):
        async with db.session() as session:
            row = (await session.scalars(select(OutboxMessage))).one()
        if row.status == "delivered":
            break
        await asyncio.sleep(0.02)
    assert row.status == "delivered"
    [(headers, payload)] = [
        (h, p) for h, p in notification_sink.received if p["user_id"] == str(user.id)
    ]
    assert headers["idempotency-key"] == row.idempotency_key == payload["idempotency_key"]
    assert payload["event"] == "PASSWORD_RESET"
