from __future__ import annotations

from typing import Any

import httpx
from auth_helpers import assert_problem
from jose import jwt
from sqlalchemy import select

from auth_service.sessions.models import RefreshFamily, RefreshToken
from auth_service.users.models import User
from webrana_common.db.session import Database

LOGIN = "/api/v1/auth/login"


async def test_login_returns_rs256_access_token_with_the_fleet_claims(
    client: httpx.AsyncClient, make_user: Any, login: Any, settings: Any
) -> None:
    user = await make_user()
    pair = await login(user)
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 900
    header = jwt.get_unverified_header(pair["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = jwt.get_unverified_claims(pair["access_token"])
    assert claims["sub"] == str(user.id)
    assert claims["role"] == "customer"
    assert claims["iss"] == settings.jwt_issuer and claims["aud"] == settings.jwt_audience
    assert claims["sid"] == pair["session_id"]
    assert claims["exp"] - claims["iat"] == 900 and claims["nbf"] == claims["iat"]
    assert len(claims["jti"]) == 32


async def test_login_stores_only_the_hash_of_the_refresh_token_and_the_device(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user()
    response = await client.post(
        LOGIN,
        json={"email": user.email.upper(), "password": user.password},
        headers={
            "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "X-Forwarded-For": "36.72.1.9",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    refresh = response.json()["refresh_token"]
    async with db.session() as session:
        family = (await session.scalars(select(RefreshFamily))).one()
        token = (await session.scalars(select(RefreshToken))).one()
        stored_user = (await session.scalars(select(User))).one()
    assert token.token_hash != refresh and len(token.token_hash) == 64
    assert family.device == "Chrome 120.0.0 on Windows 10"
    assert family.created_ip == "36.72.1.9"
    assert stored_user.last_login_at is not None


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    wrong = await client.post(LOGIN, json={"email": user.email, "password": "not-the-password"})
    unknown = await client.post(
        LOGIN, json={"email": "nobody@example.co.id", "password": "not-the-password"}
    )
    for response in (wrong, unknown):
        assert_problem(response, 401, "invalid_credentials")
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_suspended_user_cannot_log_in(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user(status="suspended")
    response = await client.post(LOGIN, json={"email": user.email, "password": user.password})
    assert_problem(response, 403, "account_suspended")


async def test_login_rehashes_a_password_stored_with_old_parameters(
    make_user: Any, make_settings: Any, db: Database
) -> None:
    from auth_service.app import create_app
    from webrana_common.testing.client import running_app

    user = await make_user()  # hashed with time_cost=1
    stronger = make_settings(argon2_time_cost=2)
    async with running_app(create_app(stronger)) as client:
        response = await client.post(LOGIN, json={"email": user.email, "password": user.password})
        assert response.status_code == 200
    async with db.session() as session:
        stored = (await session.scalars(select(User))).one()
    assert "t=2," in stored.password_hash


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(
    make_user: Any, make_settings: Any, db: Database
) -> None:
    from auth_service.app import create_app
    from webrana_common.testing.client import running_app

    user = await make_user()
    # The test client's address (127.0.0.1) is not a trusted proxy here.
    async with running_app(create_app(make_settings(trusted_proxies="10.0.0.0/8"))) as client:
        response = await client.post(
            LOGIN,
            json={"email": user.email, "password": user.password},
            headers={"X-Forwarded-For": "1.2.3.4"},
        )
        assert response.status_code == 200
    async with db.session() as session:
        family = (await session.scalars(select(RefreshFamily))).one()
    assert family.created_ip == "127.0.0.1"
