from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest
from auth_helpers import assert_problem
from sqlalchemy import select

from auth_service.audit.models import AuditEntry
from auth_service.sessions.models import RefreshFamily
from webrana_common.db.session import Database

ADMIN = "/api/v1/admin/users"


@pytest.fixture
async def admin(make_user: Any, bearer: Any) -> tuple[Any, dict[str, str]]:
    user = await make_user(email="admin@webrana.co.id", role="admin")
    return user, {**await bearer(user), "X-Request-ID": "req-admin-1"}


async def _audit(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return list(
            (await session.scalars(select(AuditEntry).order_by(AuditEntry.created_at))).all()
        )


async def test_customers_get_403_on_every_admin_route(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    headers = await bearer(await make_user())
    target = uuid4()
    for method, url, body in [
        ("GET", ADMIN, None),
        ("GET", f"{ADMIN}/{target}", None),
        ("GET", f"{ADMIN}/audit", None),
        ("POST", f"{ADMIN}/{target}/suspend", {"reason": "because"}),
        ("POST", f"{ADMIN}/{target}/unsuspend", None),
        ("PUT", f"{ADMIN}/{target}/role", {"role": "admin"}),
    ]:
        response = await client.request(method, url, json=body, headers=headers)
        assert_problem(response, 403, "admin_required")
    assert_problem(await client.get(ADMIN), 401, "token_missing")


async def test_admin_lists_and_filters_users(
    client: httpx.AsyncClient, make_user: Any, admin: Any
) -> None:
    await make_user(email="siti@example.co.id", full_name="Siti Aminah", verified=False)
    await make_user(email="joko@example.co.id", status="suspended")
    _, headers = admin

    async def emails(**params: Any) -> list[str]:
        response = await client.get(ADMIN, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return sorted(u["email"] for u in response.json()["items"])

    assert await emails() == ["admin@webrana.co.id", "joko@example.co.id", "siti@example.co.id"]
    assert await emails(q="AMINAH") == ["siti@example.co.id"]
    assert await emails(q="%") == []
    assert await emails(status="suspended") == ["joko@example.co.id"]
    assert await emails(role="admin") == ["admin@webrana.co.id"]
    assert await emails(verified="false") == ["siti@example.co.id"]
    assert_problem(
        await client.get(ADMIN, params={"status": "gone"}, headers=headers), 422, "validation_error"
    )


async def test_admin_user_list_pages_with_a_cursor(
    client: httpx.AsyncClient, make_user: Any, admin: Any
) -> None:
    for _ in range(4):
        await make_user()
    _, headers = admin
    first = (await client.get(ADMIN, params={"limit": 3}, headers=headers)).json()
    second = (
        await client.get(
            ADMIN, params={"limit": 3, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    ids = [u["id"] for u in first["items"] + second["items"]]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert second["next_cursor"] is None


async def test_admin_views_one_user_or_gets_404(
    client: httpx.AsyncClient, make_user: Any, admin: Any
) -> None:
    user = await make_user(phone="+6281234567890")
    _, headers = admin
    response = await client.get(f"{ADMIN}/{user.id}", headers=headers)
    assert response.status_code == 200
    assert response.json()["phone"] == "+6281234567890"
    assert_problem(await client.get(f"{ADMIN}/{uuid4()}", headers=headers), 404, "user_not_found")


async def test_suspension_revokes_sessions_refuses_login_and_is_audited(
    client: httpx.AsyncClient, make_user: Any, login: Any, admin: Any, db: Database
) -> None:
    actor, headers = admin
    user = await make_user()
    pair = await login(user)

    response = await client.post(
        f"{ADMIN}/{user.id}/suspend", json={"reason": "fraud #42"}, headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "suspended"
    async with db.session() as session:
        family = (
            await session.scalars(select(RefreshFamily).where(RefreshFamily.user_id == user.id))
        ).one()
    assert family.revoked_reason == "suspended"
    refused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert_problem(refused, 401, "session_revoked")
    login_refused = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": user.password}
    )
    assert_problem(login_refused, 403, "account_suspended")
    # A still-valid access token no longer opens auth's own routes.
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert_problem(me, 403, "account_suspended")
    [entry] = await _audit(db)
    assert (entry.actor_id, entry.target_user_id, entry.action) == (
        actor.id,
        user.id,
        "user.suspended",
    )
    assert entry.before["status"] == "active"
    assert entry.after["status"] == "suspended" and entry.after["suspended_reason"] == "fraud #42"
    assert entry.request_id == "req-admin-1"
    again = await client.post(
        f"{ADMIN}/{user.id}/suspend", json={"reason": "again"}, headers=headers
    )
    assert_problem(again, 409, "user_already_suspended")


async def test_unsuspend_restores_login_and_is_audited(
    client: httpx.AsyncClient, make_user: Any, admin: Any, db: Database
) -> None:
    _, headers = admin
    user = await make_user(status="suspended", suspended_reason="old")
    response = await client.post(f"{ADMIN}/{user.id}/unsuspend", headers=headers)
    assert response.status_code == 200 and response.json()["suspended_reason"] is None
    ok = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": user.password}
    )
    assert ok.status_code == 200
    [entry] = await _audit(db)
    assert entry.action == "user.unsuspended" and entry.before["status"] == "suspended"
    again = await client.post(f"{ADMIN}/{user.id}/unsuspend", headers=headers)
    assert_problem(again, 409, "user_not_suspended")


async def test_role_change_is_audited_and_reaches_the_next_token(
    client: httpx.AsyncClient, make_user: Any, login: Any, admin: Any, db: Database
) -> None:
    actor, headers = admin
    user = await make_user()
    pair = await login(user)
    response = await client.put(f"{ADMIN}/{user.id}/role", json={"role": "admin"}, headers=headers)
    assert response.status_code == 200 and response.json()["role"] == "admin"
    [entry] = await _audit(db)
    assert (entry.actor_id, entry.action, entry.before["role"], entry.after["role"]) == (
        actor.id,
        "user.role_changed",
        "customer",
        "admin",
    )
    fresh = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).json()
    listed = await client.get(ADMIN, headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert listed.status_code == 200


async def test_demoted_admin_loses_admin_routes_before_the_token_expires(
    client: httpx.AsyncClient, make_user: Any, bearer: Any, admin: Any
) -> None:
    _, headers = admin
    other = await make_user(role="admin")
    other_headers = await bearer(other)
    await client.put(f"{ADMIN}/{other.id}/role", json={"role": "customer"}, headers=headers)
    assert_problem(await client.get(ADMIN, headers=other_headers), 403, "admin_required")


async def test_admin_cannot_suspend_or_demote_themselves(
    client: httpx.AsyncClient, admin: Any, db: Database
) -> None:
    actor, headers = admin
    suspend = await client.post(
        f"{ADMIN}/{actor.id}/suspend", json={"reason": "oops"}, headers=headers
    )
    assert_problem(suspend, 409, "admin_self_change")
    demote = await client.put(
        f"{ADMIN}/{actor.id}/role", json={"role": "customer"}, headers=headers
    )
    assert_problem(demote, 409, "admin_self_change")
    assert await _audit(db) == []


async def test_admin_bodies_are_validated(
    client: httpx.AsyncClient, make_user: Any, admin: Any
) -> None:
    _, headers = admin
    user = await make_user()
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}):
        response = await client.post(f"{ADMIN}/{user.id}/suspend", json=body, headers=headers)
        assert_problem(response, 422, "validation_error")
    bad_role = await client.put(f"{ADMIN}/{user.id}/role", json={"role": "root"}, headers=headers)
    assert_problem(bad_role, 422, "validation_error")
    bad_id = await client.get(f"{ADMIN}/not-a-uuid", headers=headers)
    assert_problem(bad_id, 422, "validation_error")
