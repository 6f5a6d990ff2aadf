from __future__ import annotations

import asyncio
import uuid

import httpx
from order_helpers import Fleet, assert_problem, order_body
from sqlalchemy import func, select

from order_service.orders.models import Order
from webrana_common.db.session import Database

Customer = tuple[uuid.UUID, dict[str, str]]


async def test_retried_post_returns_the_same_order(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    fleet: Fleet,
    settled,
    db: Database,
) -> None:
    headers = {**customer[1], "Idempotency-Key": "checkout-1"}
    body = order_body(plans["do-1c-1gb"])
    first = await client.post("/api/v1/orders", json=body, headers=headers)
    again = await client.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["number"] == first.json()["number"]
    await settled()
    assert len(fleet.to("/internal/invoices")) == 1
    assert len(fleet.events("ORDER_CREATED")) == 1
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1


async def test_concurrent_duplicates_make_one_order(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], db: Database
) -> None:
    headers = {**customer[1], "Idempotency-Key": "double-click"}
    body = order_body(plans["do-1c-1gb"])
    answers = await asyncio.gather(
        *(client.post("/api/v1/orders", json=body, headers=headers) for _ in range(5))
    )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 4
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1


async def test_same_key_for_another_order_is_refused(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str]
) -> None:
    headers = {**customer[1], "Idempotency-Key": "checkout-2"}
    first = await client.post(
        "/api/v1/orders", json=order_body(plans["do-1c-1gb"]), headers=headers
    )
    assert first.status_code == 201
    other = order_body(plans["do-1c-1gb"], hostname="web-2")
    response = await client.post("/api/v1/orders", json=other, headers=headers)
    assert_problem(response, 409, "idempotency_key_reused")


async def test_keys_belong_to_one_user(
    client: httpx.AsyncClient, tokens, plans: dict[str, str]
) -> None:
    body = order_body(plans["do-1c-1gb"])
    ids = set()
    for _ in range(2):
        headers = {**tokens.headers(uuid.uuid4()), "Idempotency-Key": "same-key"}
        response = await client.post("/api/v1/orders", json=body, headers=headers)
        assert response.status_code == 201
        ids.add(response.json()["id"])
    assert len(ids) == 2
