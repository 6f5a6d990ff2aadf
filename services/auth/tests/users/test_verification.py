from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from auth_helpers import PASSWORD, assert_problem, token_from_link
from sqlalchemy import select, update

from auth_service.one_time_tokens.models import OneTimeToken
from auth_service.users.models import User
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/resend-verification"


async def _register(client: httpx.AsyncClient, outbox: Any) -> str:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "sari@example.co.id", "password": PASSWORD, "full_name": "Sari"},
    )
    assert response.status_code == 201
    [message] = await outbox("EMAIL_VERIFY")
    return token_from_link(message["data"]["link"])


async def _verified(db: Database) -> bool:
    async with db.session() as session:
        user = (await session.scalars(select(User))).one()
    return user.email_verified_at is not None


async def test_verification_token_verifies_the_email_once(
    client: httpx.AsyncClient, db: Database, outbox: Any
) -> None:
    token = await _register(client, outbox)
    response = await client.post(VERIFY, json={"token": token})
    assert response.status_code == 200
    assert response.json()["email_verified"] is True
    assert await _verified(db)
    again = await client.post(VERIFY, json={"token": token})
    assert_problem(again, 410, "verification_token_used")


async def test_expired_verification_token_is_refused(
    client: httpx.AsyncClient, db: Database, outbox: Any
) -> None:
    token = await _register(client, outbox)
    async with db.session() as session:
        await session.execute(
            update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_problem(
        await client.post(VERIFY, json={"token": token}), 410, "verification_token_expired"
    )
    assert not await _verified(db)


async def test_verification_token_lives_24_hours(
    client: httpx.AsyncClient, db: Database, outbox: Any
) -> None:
    await _register(client, outbox)
    async with db.session() as session:
        row = (await session.scalars(select(OneTimeToken))).one()
    assert abs((row.expires_at - row.created_at) - timedelta(hours=24)) < timedelta(seconds=1)


async def test_unknown_or_malformed_verification_token_is_refused(
    client: httpx.AsyncClient,
) -> None:
    assert_problem(
        await client.post(VERIFY, json={"token": "A" * 43}), 400, "verification_token_invalid"
    )
    assert_problem(await client.post(VERIFY, json={"token": "bad token!"}), 422, "validation_error")


async def test_reset_token_does_not_verify_email(
    client: httpx.AsyncClient, db: Database, outbox: Any, make_user: Any
) -> None:
    user = await make_user(verified=False)
    await client.post("/api/v1/auth/forgot-password", json={"email": user.email})
    [message] = await outbox("PASSWORD_RESET")
    response = await client.post(VERIFY, json={"token": token_from_link(message["data"]["link"])})
    assert_problem(response, 400, "verification_token_invalid")


async def test_resend_sends_a_new_link_to_unverified_accounts_only(
    client: httpx.AsyncClient, outbox: Any, make_user: Any
) -> None:
    unverified = await make_user(verified=False)
    verified = await make_user(verified=True)
    answers = [
        await client.post(RESEND, json={"email": email})
        for email in (unverified.email.upper(), verified.email, "nobody@example.co.id")
    ]
    # One answer for all three: nothing tells which address has an account.
    assert {r.status_code for r in answers} == {202}
    assert len({r.text for r in answers}) == 1
    messages = await outbox("EMAIL_VERIFY")
    assert [m["user_id"] for m in messages] == [str(unverified.id)]


async def test_resend_is_capped_per_address_per_hour(
    client: httpx.AsyncClient, outbox: Any, make_user: Any, settings: Any
) -> None:
    user = await make_user(verified=False)
    for _ in range(settings.account_emails_per_hour + 3):
        assert (await client.post(RESEND, json={"email": user.email})).status_code == 202
    assert len(await outbox("EMAIL_VERIFY")) == settings.account_emails_per_hour
