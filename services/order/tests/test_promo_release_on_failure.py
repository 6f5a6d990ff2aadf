"""An order that fails after billing redeemed its promo gives the use back, whatever the
failure: not only a refusal (an `AppError`) but a database error or a bug. With the real
billing app, which counts the uses."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from order_helpers import (
    Fleet,
    TokenIssuer,
    in_thread,
    order_body,
    real_billing,
    redis_db,
)

from order_service import notifications
from order_service.config import OrderSettings
from webrana_common.testing.databases import DatabaseFactory


@pytest.fixture(scope="module")
def billing(
    database_factory: DatabaseFactory,
    redis_server_url: str,
    tokens: TokenIssuer,
    fleet_server: tuple[Fleet, str],
) -> Iterator[str]:
    with real_billing(
        in_thread(database_factory.create("billing")),
        redis_db(redis_server_url, 4),
        tokens,
        fleet_server[1],
    ) as url:
        yield url


@pytest.fixture
def settings(settings: OrderSettings, billing: str) -> OrderSettings:
    return settings.model_copy(update={"billing_url": billing})


async def usage(billing: str, admin: dict[str, str], promo_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{billing}/api/v1/admin/billing/promos/{promo_id}", headers=admin
        )
    assert response.status_code == 200, response.text
    return response.json()["usage"]


async def test_promo_use_is_given_back_when_placing_fails_with_a_bug(
    client: httpx.AsyncClient,
    billing: str,
    customer: tuple[uuid.UUID, dict[str, str]],
    admin: dict[str, str],
    plans: dict[str, str],
    settled: Callable[[], Awaitable[None]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = f"T{uuid.uuid4().hex[:8].upper()}"
    async with httpx.AsyncClient() as http:
        promo = await http.post(
            f"{billing}/api/v1/admin/billing/promos",
            json={"code": code, "discount_type": "percent", "value": 10},
            headers=admin,
        )
    assert promo.status_code == 201, promo.text

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a bug after the promo was redeemed")

    # Runs after billing redeemed the promo, inside the order's transaction.
    monkeypatch.setattr(notifications, "order_created", broken)
    body = order_body(plans["do-1c-1gb"], promo_code=code)
    with pytest.raises(RuntimeError, match="after the promo was redeemed"):
        await client.post("/api/v1/orders", json=body, headers=customer[1])
    await settled()  # the release goes out through the outbox, after its commit

    figures = await usage(billing, admin, promo.json()["id"])
    assert (figures["uses"], figures["released"]) == (0, 1)
