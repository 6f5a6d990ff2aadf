from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from auth_helpers import assert_problem
from sqlalchemy import select, update

from auth_service.audit.models import AuditEntry
from auth_service.sessions.models import RefreshFamily, RefreshToken
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

REFRESH = "/api/v1/auth/refresh"


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def _age_rotations(db: Database, seconds: float) -> None:
    """Pretend every rotation happened `seconds` ago (past the grace window)."""
    async with db.session() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utcnow() - timedelta(seconds=seconds))
        )


async def test_refresh_rotates_the_token_and_keeps_the_session(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    first = await login(await make_user())
    response = await _refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["session_id"] == first["session_id"]
    async with db.session() as session:
        tokens = (
            await session.scalars(select(RefreshToken).order_by(RefreshToken.created_at))
        ).all()
    assert [t.used_at is not None for t in tokens] == [True, False]
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {second['access_token']}"}
    )
    assert me.status_code == 200


async def test_concurrent_refreshes_of_one_token_get_the_same_pair(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    pair = await login(await make_user())
    one, two = await asyncio.gather(
        _refresh(client, pair["refresh_token"]), _refresh(client, pair["refresh_token"])
    )
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    assert one.json() == two.json()
    async with db.session() as session:
        assert len((await session.scalars(select(RefreshToken))).all()) == 2  # one rotation
        family = (await session.scalars(select(RefreshFamily))).one()
    assert family.revoked_at is None
    # The shared new token still works (rotation continues normally).
    assert (await _refresh(client, one.json()["refresh_token"])).status_code == 200


async def test_spent_token_within_grace_window_returns_the_same_pair(
    client: httpx.AsyncClient, make_user: Any, login: Any
) -> None:
    pair = await login(await make_user())
    first = await _refresh(client, pair["refresh_token"])
    again = await _refresh(client, pair["refresh_token"])
    assert again.status_code == 200
    assert again.json() == first.json()


async def test_spent_token_after_grace_window_revokes_the_family_and_is_audited(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database, outbox: Any
) -> None:
    user = await make_user()
    pair = await login(user)
    rotated = (await _refresh(client, pair["refresh_token"])).json()
    await _age_rotations(db, 11)

    reuse = await _refresh(client, pair["refresh_token"])

    assert_problem(reuse, 401, "refresh_token_reused")
    async with db.session() as session:
        family = (await session.scalars(select(RefreshFamily))).one()
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert family.revoked_at is not None and family.revoked_reason == "reuse_detected"
    assert entry.action == "session.refresh_token_reused"
    assert entry.target_user_id == user.id and entry.actor_id is None
    assert entry.request_id == reuse.headers["x-request-id"]
    [alert] = await outbox("SECURITY_ALERT")
    assert alert["data"]["reason"] == "refresh_token_reused"
    # The thief's (or victim's) newer token is dead too: the whole family is gone.
    assert_problem(await _refresh(client, rotated["refresh_token"]), 401, "session_revoked")


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    assert_problem(await _refresh(client, "x" * 43), 401, "refresh_token_invalid")
    assert_problem(await _refresh(client, "short"), 422, "validation_error")


async def test_expired_refresh_token_is_refused(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    pair = await login(await make_user())
    async with db.session() as session:
        await session.execute(
            update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_problem(await _refresh(client, pair["refresh_token"]), 401, "refresh_token_expired")


async def test_suspended_user_cannot_refresh(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    from auth_service.users.models import User

    pair = await login(await make_user())
    # Suspended behind the service's back (no session revocation): refresh still refuses.
    async with db.session() as session:
        await session.execute(update(User).values(status="suspended"))
    assert_problem(await _refresh(client, pair["refresh_token"]), 403, "account_suspended")


async def test_refresh_picks_up_a_role_change(
    client: httpx.AsyncClient, make_user: Any, login: Any, db: Database
) -> None:
    from jose import jwt

    from auth_service.users.models import User

    pair = await login(await make_user())
    async with db.session() as session:
        await session.execute(update(User).values(role="admin"))
    fresh = (await _refresh(client, pair["refresh_token"])).json()
    assert jwt.get_unverified_claims(fresh["access_token"])["role"] == "admin"
