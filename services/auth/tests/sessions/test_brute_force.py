from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from auth_helpers import assert_problem

LOGIN = "/api/v1/auth/login"


async def _fail(client: httpx.AsyncClient, email: str, ip: str = "36.80.0.1") -> httpx.Response:
    return await client.post(
        LOGIN,
        json={"email": email, "password": "definitely-wrong"},
        headers={"X-Forwarded-For": ip},
    )


@pytest.mark.parametrize("known", [True, False], ids=["known account", "unknown account"])
async def test_five_failures_lock_the_account_with_retry_after(
    client: httpx.AsyncClient, make_user: Any, known: bool
) -> None:
    email = (await make_user()).email if known else "ghost@example.co.id"
    for _ in range(5):
        assert_problem(await _fail(client, email), 401, "invalid_credentials")
    locked = await _fail(client, email)
    problem = assert_problem(locked, 429, "login_locked")
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 900
    assert problem["retry_after"] == retry_after


async def test_locked_and_unknown_accounts_answer_alike(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    known = (await make_user()).email
    answers = []
    for email in (known, "ghost@example.co.id"):
        for _ in range(5):
            await _fail(client, email)
        answers.append((await _fail(client, email)).json())
    for body in answers:
        body.pop("request_id")
        body.pop("retry_after")
    assert answers[0] == answers[1]


async def test_lockout_refuses_even_the_right_password(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    for _ in range(5):
        await _fail(client, user.email)
    right = await client.post(LOGIN, json={"email": user.email, "password": user.password})
    assert_problem(right, 429, "login_locked")
    assert "Retry-After" in right.headers


async def test_lockout_is_per_account(client: httpx.AsyncClient, make_user: Any) -> None:
    victim, bystander = await make_user(), await make_user()
    for _ in range(6):
        await _fail(client, victim.email, ip="36.80.0.1")
    ok = await client.post(
        LOGIN,
        json={"email": bystander.email, "password": bystander.password},
        headers={"X-Forwarded-For": "36.80.0.2"},
    )
    assert ok.status_code == 200


async def test_a_success_clears_earlier_failures(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    for _ in range(4):
        await _fail(client, user.email)
    ok = await client.post(LOGIN, json={"email": user.email, "password": user.password})
    assert ok.status_code == 200
    for _ in range(4):
        assert_problem(await _fail(client, user.email), 401, "invalid_credentials")


async def test_concurrent_guesses_cannot_exceed_the_budget(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user()
    answers = await asyncio.gather(*(_fail(client, user.email) for _ in range(20)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(401) == 5
    assert statuses.count(429) == 15


async def test_per_ip_limit_spans_accounts(make_settings: Any, make_user: Any) -> None:
    from auth_service.app import create_app
    from webrana_common.testing.client import running_app

    async with running_app(create_app(make_settings(login_max_failures_per_ip=8))) as client:
        for i in range(8):
            assert_problem(
                await _fail(client, f"user{i}@example.co.id", ip="36.80.9.9"),
                401,
                "invalid_credentials",
            )
        limited = await _fail(client, "another@example.co.id", ip="36.80.9.9")
        assert_problem(limited, 429, "login_rate_limited")
        assert int(limited.headers["Retry-After"]) > 0
        # Other addresses are unaffected.
        user = await make_user()
        ok = await client.post(
            LOGIN,
            json={"email": user.email, "password": user.password},
            headers={"X-Forwarded-For": "36.80.9.10"},
        )
        assert ok.status_code == 200
