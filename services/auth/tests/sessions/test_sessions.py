from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
from auth_helpers import assert_problem
from sqlalchemy import select

from auth_service.sessions.models import RefreshFamily
from webrana_common.db.session import Database

SESSIONS = "/api/v1/auth/sessions"


def _auth(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def test_sessions_list_shows_device_ip_last_use_and_the_current_one(
    client: httpx.AsyncClient, make_user: Any, login: Any
) -> None:
    user = await make_user()
    phone = await login(
        user,
        **{
            "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac "
            "OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
            "Mobile/15E148 Safari/604.1",
            "X-Forwarded-For": "114.124.1.2",
        },
    )
    laptop = await login(user)
    response = await client.get(SESSIONS, headers=_auth(laptop))
    assert response.status_code == 200
    sessions = {s["id"]: s for s in response.json()}
    assert set(sessions) == {phone["session_id"], laptop["session_id"]}
    assert sessions[laptop["session_id"]]["current"] is True
    assert sessions[phone["session_id"]]["current"] is False
    assert sessions[phone["session_id"]]["device"].startswith("Mobile Safari 17.1 on iOS 17.1")
    assert sessions[phone["session_id"]]["ip"] == "114.124.1.2"
    assert sessions[phone["session_id"]]["last_used_at"]


async def test_revoking_a_session_ends_its_refresh_token(
    client: httpx.AsyncClient, make_user: Any, login: Any
) -> None:
    user = await make_user()
    other, mine = await login(user), await login(user)
    response = await client.delete(f"{SESSIONS}/{other['session_id']}", headers=_auth(mine))
    assert response.status_code == 204
    refused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert_problem(refused, 401, "session_revoked")
    listed = (await client.get(SESSIONS, headers=_auth(mine))).json()
    assert [s["id"] for s in listed] == [mine["session_id"]]


async def test_another_users_session_is_not_found(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    victim = await login(await make_user())
    attacker = await login(await make_user())
    response = await client.delete(f"{SESSIONS}/{victim['session_id']}", headers=_auth(attacker))
    assert_problem(response, 404, "session_not_found")
    missing = await client.delete(f"{SESSIONS}/{uuid4()}", headers=_auth(attacker))
    assert_problem(missing, 404, "session_not_found")
    async with db.session() as session:
        family = await session.get(RefreshFamily, victim["session_id"])
    assert family is not None and family.revoked_at is None


async def test_logout_ends_only_that_session(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    user = await make_user()
    leaving, staying = await login(user), await login(user)
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": leaving["refresh_token"]}
    )
    assert response.status_code == 204
    async with db.session() as session:
        families = {f.id.hex: f for f in (await session.scalars(select(RefreshFamily))).all()}
    assert families[leaving["session_id"].replace("-", "")].revoked_reason == "logout"
    assert families[staying["session_id"].replace("-", "")].revoked_at is None
    # Unknown tokens: still 204, nothing to reveal.
    unknown = await client.post("/api/v1/auth/logout", json={"refresh_token": "y" * 43})
    assert unknown.status_code == 204


async def test_logout_all_ends_every_session(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    user = await make_user()
    pairs = [await login(user) for _ in range(3)]
    assert (
        await client.post("/api/v1/auth/logout-all", headers=_auth(pairs[0]))
    ).status_code == 204
    async with db.session() as session:
        families = (await session.scalars(select(RefreshFamily))).all()
    assert {f.revoked_reason for f in families} == {"logout_all"}
    for pair in pairs:
        refused = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert_problem(refused, 401, "session_revoked")
