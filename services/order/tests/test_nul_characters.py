"""PostgreSQL text cannot hold NUL: a request carrying one is refused (422) before any of its
side effects, not failed halfway with a 500."""

from __future__ import annotations

import uuid

import httpx
from order_helpers import SSH_KEY, Fleet, assert_problem, order_body
from sqlalchemy import func, select

from order_service.orders.models import Order
from webrana_common.db.session import Database

Customer = tuple[uuid.UUID, dict[str, str]]


async def test_order_with_nul_in_an_ssh_key_is_refused_and_not_placed(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    fleet: Fleet,
    db: Database,
) -> None:
    body = order_body(
        plans["do-1c-1gb"], promo_code="HEMAT10", ssh_keys=[SSH_KEY, "ssh-ed25519 A\u0000B"]
    )

    response = await client.post("/api/v1/orders", json=body, headers=customer[1])

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == "ssh_keys.1"
    assert "NUL" in problem["detail"]
    assert fleet.to("/internal/promos/redeem") == []  # refused before billing held a use
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0


async def test_admin_search_with_nul_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/api/v1/admin/orders", params={"q": "web\u00001"}, headers=admin)

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == "q"
