from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from auth_service.audit.models import AuditEntry
from auth_service.bootstrap import create_admin
from auth_service.errors import WeakPassword
from auth_service.users.models import User
from webrana_common.db.session import Database


async def _users(db: Database) -> list[User]:
    async with db.session() as session:
        return list((await session.scalars(select(User))).all())


async def test_create_admin_creates_a_verified_admin_who_can_log_in(
    database_url: str, db: Database, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGON2_TIME_COST", "1")
    monkeypatch.setenv("ARGON2_MEMORY_COST_KIB", "1024")
    user_id = await create_admin(
        database_url, " Admin@Example.com ", "kopi-tubruk-di-pagi-hari", "First Admin"
    )
    [user] = await _users(db)
    assert str(user.id) == user_id and uuid.UUID(user_id)
    assert (user.email, user.role, user.email_verified) == ("admin@example.com", "admin", True)
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": "admin@example.com", "password": "kopi-tubruk-di-pagi-hari"},
    )
    assert login.status_code == 200
    listed = await client.get(
        "/api/v1/admin/users", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert listed.status_code == 200


async def test_create_admin_promotes_an_existing_user_keeping_the_password_and_is_idempotent(
    database_url: str, db: Database, make_user: Any
) -> None:
    existing = await make_user(email="budi@example.co.id", verified=False)
    first = await create_admin(database_url, "BUDI@example.co.id", "ignored-for-existing", "X")
    second = await create_admin(database_url, "budi@example.co.id", "ignored-for-existing", "X")
    assert first == second == str(existing.id)
    [user] = await _users(db)
    assert user.role == "admin" and user.email_verified and user.full_name == "Budi Santoso"
    async with db.session() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
    assert [e.action for e in entries] == ["user.admin_bootstrapped"]  # the no-op left none


async def test_create_admin_refuses_weak_passwords_and_bad_emails(
    database_url: str, db: Database
) -> None:
    with pytest.raises(WeakPassword):
        await create_admin(database_url, "admin@example.com", "password123", "Admin")
    with pytest.raises(ValueError, match="email"):
        await create_admin(database_url, "not-an-email", "kopi-tubruk-di-pagi-hari", "Admin")
    assert await _users(db) == []
