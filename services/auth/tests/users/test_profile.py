from __future__ import annotations

from typing import Any

import httpx
from auth_helpers import assert_problem
from sqlalchemy import select

from auth_service.users.models import User
from webrana_common.db.session import Database

ME = "/api/v1/auth/me"


async def test_me_returns_the_callers_profile(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    user = await make_user(phone="+6281234567890")
    response = await client.get(ME, headers=await bearer(user))
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == str(user.id)
    assert me["email"] == user.email
    assert me["phone"] == "+6281234567890"
    assert me["telegram_linked"] is False
    assert "password_hash" not in me


async def test_me_without_or_with_a_bad_token_is_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(ME), 401, "token_missing")
    bad = await client.get(ME, headers={"Authorization": "Bearer not.a.jwt"})
    assert_problem(bad, 401, "token_invalid")


async def test_patch_me_changes_only_the_fields_sent(
    client: httpx.AsyncClient, make_user: Any, bearer: Any, db: Database
) -> None:
    user = await make_user(phone="+6281234567890", full_name="Budi")
    headers = await bearer(user)
    response = await client.patch(ME, json={"locale": "en", "phone": None}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["locale"] == "en"
    async with db.session() as session:
        stored = (await session.scalars(select(User))).one()
    assert (stored.locale, stored.phone, stored.full_name) == ("en", None, "Budi")


async def test_patch_me_refuses_bad_phone_null_name_and_empty_body(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    headers = await bearer(await make_user())
    for body in ({"phone": "+44 20 7946 0958"}, {"full_name": None}, {}, {"email": "x@y.id"}):
        assert_problem(await client.patch(ME, json=body, headers=headers), 422, "validation_error")
