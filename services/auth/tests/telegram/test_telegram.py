from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from auth_helpers import API_KEY, assert_problem
from sqlalchemy import select, update

from auth_service.one_time_tokens.models import OneTimeToken
from auth_service.users.models import User
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

LINK = "/api/v1/auth/telegram/link"
BIND = "/internal/telegram/link"
INTERNAL = {"X-API-Key": API_KEY}


async def _link_token(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post(LINK, headers=headers)
    assert response.status_code == 200, response.text
    url = urlsplit(response.json()["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "t.me", "/WeBranaCloudBot")
    [token] = parse_qs(url.query)["start"]
    return token


async def _chat_id(db: Database) -> int | None:
    async with db.session() as session:
        return (await session.scalars(select(User.telegram_chat_id))).one()


async def test_link_is_a_one_time_start_token_bound_by_the_bot(
    client: httpx.AsyncClient, make_user: Any, bearer: Any, db: Database
) -> None:
    user = await make_user()
    headers = await bearer(user)
    token = await _link_token(client, headers)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token)

    bound = await client.post(BIND, json={"token": token, "chat_id": 987654321}, headers=INTERNAL)

    assert bound.status_code == 200, bound.text
    assert bound.json()["id"] == str(user.id) and bound.json()["telegram_chat_id"] == 987654321
    assert await _chat_id(db) == 987654321
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["telegram_linked"] is True
    again = await client.post(BIND, json={"token": token, "chat_id": 1}, headers=INTERNAL)
    assert_problem(again, 410, "telegram_link_token_used")


async def test_link_token_expires_after_15_minutes(
    client: httpx.AsyncClient, make_user: Any, bearer: Any, db: Database
) -> None:
    token = await _link_token(client, await bearer(await make_user()))
    async with db.session() as session:
        row = (await session.scalars(select(OneTimeToken))).one()
        assert abs((row.expires_at - row.created_at) - timedelta(minutes=15)) < timedelta(seconds=1)
        await session.execute(
            update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await client.post(BIND, json={"token": token, "chat_id": 5}, headers=INTERNAL)
    assert_problem(response, 410, "telegram_link_token_expired")
    assert await _chat_id(db) is None


async def test_bind_refuses_unknown_and_malformed_tokens(client: httpx.AsyncClient) -> None:
    unknown = await client.post(BIND, json={"token": "Q" * 43, "chat_id": 5}, headers=INTERNAL)
    assert_problem(unknown, 400, "telegram_link_token_invalid")
    too_long = await client.post(BIND, json={"token": "Q" * 65, "chat_id": 5}, headers=INTERNAL)
    assert_problem(too_long, 422, "validation_error")


async def test_user_unlinks_telegram(
    client: httpx.AsyncClient, make_user: Any, bearer: Any, db: Database
) -> None:
    headers = await bearer(await make_user(telegram_chat_id=777))
    assert (await client.delete("/api/v1/auth/telegram", headers=headers)).status_code == 204
    assert await _chat_id(db) is None
    assert (await client.delete("/api/v1/auth/telegram", headers=headers)).status_code == 204


async def test_internal_unlink_only_when_the_chat_still_matches(
    client: httpx.AsyncClient, make_user: Any, db: Database
) -> None:
    user = await make_user(telegram_chat_id=777)
    url = f"/internal/users/{user.id}/telegram"
    stale = await client.delete(url, params={"chat_id": 111}, headers=INTERNAL)
    assert stale.status_code == 204
    assert await _chat_id(db) == 777
    assert (await client.delete(url, params={"chat_id": 777}, headers=INTERNAL)).status_code == 204
    assert await _chat_id(db) is None
    assert_problem(await client.delete(url), 401, "api_key_invalid")
