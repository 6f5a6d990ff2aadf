from __future__ import annotations

from typing import Any

import httpx
import pytest
from auth_helpers import PASSWORD, assert_problem
from sqlalchemy import func, select

from auth_service.users.models import User
from webrana_common.db.session import Database

REGISTER = "/api/v1/auth/register"


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "Budi.Santoso@Example.co.id",
        "password": PASSWORD,
        "full_name": "  Budi   Santoso ",
        "phone": "0812-3456-7890",
        **overrides,
    }


async def _users(db: Database) -> list[User]:
    async with db.session() as session:
        return list((await session.scalars(select(User))).all())


async def test_register_normalises_email_phone_and_name(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(REGISTER, json=body())
    assert response.status_code == 201, response.text
    me = response.json()
    assert me["email"] == "budi.santoso@example.co.id"
    assert me["phone"] == "+6281234567890"
    assert me["full_name"] == "Budi Santoso"
    assert me["locale"] == "id"
    assert me["role"] == "customer" and me["status"] == "active"
    assert me["email_verified"] is False
    [user] = await _users(db)
    assert user.email == "budi.santoso@example.co.id"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize("phone", ["+62 812 3456 7890", "6281234567890", "(0812) 3456-7890"])
async def test_register_accepts_usual_indonesian_spellings(
    client: httpx.AsyncClient, phone: str
) -> None:
    response = await client.post(REGISTER, json=body(phone=phone))
    assert response.status_code == 201, response.text
    assert response.json()["phone"] == "+6281234567890"


async def test_register_sends_verification_email_through_outbox(
    client: httpx.AsyncClient, outbox: Any
) -> None:
    response = await client.post(REGISTER, json=body())
    [message] = await outbox("EMAIL_VERIFY")
    assert message["user_id"] == response.json()["id"]
    assert message["data"]["link"].startswith("https://app.webrana.test/verify-email?token=")
    assert message["data"]["email"] == "budi.santoso@example.co.id"
    assert message["idempotency_key"].startswith("auth:email-verify:")


async def test_duplicate_email_differing_in_case_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    assert (await client.post(REGISTER, json=body())).status_code == 201
    again = await client.post(REGISTER, json=body(email="BUDI.SANTOSO@EXAMPLE.CO.ID"))
    assert_problem(again, 409, "email_already_registered")
    assert len(await _users(db)) == 1


async def test_database_refuses_two_spellings_of_one_email(
    client: httpx.AsyncClient, db: Database
) -> None:
    """The functional unique index guards writers that skip normalisation."""
    assert (await client.post(REGISTER, json=body())).status_code == 201
    async with db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(User)
            .where(func.lower(User.email) == "budi.santoso@example.co.id")
        )
    assert count == 1
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(User(email="Budi.Santoso@example.co.id", password_hash="x", full_name="B"))


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short-pw1", "password_too_short"),
        ("x" * 129, "validation_error"),
        ("my-budi.santoso-pass", "password_contains_email"),
        ("SANTOSO-is-my-name-99", "password_contains_email"),
        ("password123", "password_too_common"),
        ("P@ssw0rd2024!", "password_too_common"),
        ("sayangku12345", "password_too_common"),
        ("qwertyuiop", "password_too_common"),
        ("aaaaaaaaaaaa", "password_too_common"),
    ],
)
async def test_weak_passwords_are_refused_with_a_precise_code(
    client: httpx.AsyncClient, db: Database, password: str, code: str
) -> None:
    response = await client.post(REGISTER, json=body(password=password))
    assert_problem(response, 422, code)
    assert await _users(db) == []


@pytest.mark.parametrize("phone", ["12345", "+1 415 555 2671", "0812", "phone-number", "+62 21 1"])
async def test_non_indonesian_or_invalid_phone_is_refused(
    client: httpx.AsyncClient, phone: str
) -> None:
    response = await client.post(REGISTER, json=body(phone=phone))
    problem = assert_problem(response, 422, "validation_error")
    [error] = problem["errors"]
    assert error["field"] == "phone"
    assert "0812-3456-7890" in error["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 310 + "@example.com"}, "email"),
        ({"full_name": "   "}, "full_name"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"full_name": "Budi\x00"}, "full_name"),
        ({"locale": "fr"}, "locale"),
        ({"role": "admin"}, "role"),
    ],
)
async def test_bad_fields_are_named_in_the_problem(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post(REGISTER, json=body(**overrides))
    problem = assert_problem(response, 422, "validation_error")
    assert field in [e["field"] for e in problem["errors"]]
