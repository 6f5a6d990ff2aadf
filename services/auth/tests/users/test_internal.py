from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest
from auth_helpers import API_KEY, assert_problem


async def test_internal_user_lookup_returns_contact_details(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    user = await make_user(phone="+6281234567890", locale="en", telegram_chat_id=4242)
    response = await client.get(f"/internal/users/{user.id}", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "full_name": "Budi Santoso",
        "phone": "+6281234567890",
        "locale": "en",
        "role": "customer",
        "status": "active",
        "email_verified": True,
        "telegram_chat_id": 4242,
    }


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
async def test_internal_routes_refuse_missing_or_wrong_api_key(
    client: httpx.AsyncClient, make_user: Any, headers: dict[str, str]
) -> None:
    user = await make_user()
    assert_problem(
        await client.get(f"/internal/users/{user.id}", headers=headers), 401, "api_key_invalid"
    )
    assert_problem(
        await client.post(
            "/internal/telegram/link", json={"token": "A" * 43, "chat_id": 1}, headers=headers
        ),
        401,
        "api_key_invalid",
    )


async def test_internal_lookup_of_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/internal/users/{uuid4()}", headers={"X-API-Key": API_KEY})
    assert_problem(response, 404, "user_not_found")
