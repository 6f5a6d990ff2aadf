"""The order service with the real billing app (its own database) instead of the stand-in,
both served over TCP so that billing's payment-status message reaches the order service."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from order_helpers import (
    ORDER_KEY,
    Fleet,
    TokenIssuer,
    assert_problem,
    in_thread,
    order_body,
    real_billing,
    redis_db,
)

from order_service.app import create_app
from order_service.config import OrderSettings
from webrana_common.testing.databases import DatabaseFactory
from webrana_common.testing.live_server import LiveServer

ORDER_API = {"X-API-Key": ORDER_KEY}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def order_port() -> int:
    return _free_port()


@pytest.fixture(scope="module")
def billing(
    database_factory: DatabaseFactory,
    redis_server_url: str,
    tokens: TokenIssuer,
    fleet_server: tuple[Fleet, str],
    order_port: int,
) -> Iterator[str]:
    with real_billing(
        in_thread(database_factory.create("billing")),
        redis_db(redis_server_url, 3),
        tokens,
        fleet_server[1],
        order_url=f"http://127.0.0.1:{order_port}",
        db_pool_size=5,
    ) as url:
        yield url


@pytest.fixture
async def api(
    settings: OrderSettings, billing: str, order_port: int, fleet: Fleet
) -> AsyncIterator[httpx.AsyncClient]:
    real = settings.model_copy(update={"billing_url": billing})
    with LiveServer(create_app(real), port=order_port) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            yield http


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "condition never met"
        await asyncio.sleep(0.05)


async def credit(billing: str, admin: dict[str, str], user_id: uuid.UUID, amount: int) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{billing}/api/v1/admin/billing/wallets/{user_id}/adjustments",
            json={"amount": amount, "reason": "test top-up"},
            headers=admin,
        )
    assert response.status_code == 201, response.text


async def invoice_of(billing: str, order_id: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{billing}/internal/orders/{order_id}/invoice", headers=ORDER_API
        )
    return response.json() if response.status_code == 200 else None


async def test_invoice_paid_from_the_wallet_in_billing_marks_the_order_paid(
    api: httpx.AsyncClient,
    billing: str,
    customer: tuple[uuid.UUID, dict[str, str]],
    admin: dict[str, str],
    plans: dict[str, str],
) -> None:
    user_id, headers = customer
    code = f"T{uuid.uuid4().hex[:8].upper()}"
    async with httpx.AsyncClient() as http:
        promo = await http.post(
            f"{billing}/api/v1/admin/billing/promos",
            json={"code": code, "discount_type": "percent", "value": 10},
            headers=admin,
        )
    assert promo.status_code == 201, promo.text
    await credit(billing, admin, user_id, 5_000_000)
    response = await api.post(
        "/api/v1/orders", json=order_body(plans["do-1c-1gb"], promo_code=code), headers=headers
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["discount"] == order["base_amount"] // 10
    invoice = await eventually(lambda: invoice_of(billing, order["id"]))
    assert (invoice["amount"], invoice["discount"]) == (order["amount"], order["discount"])
    assert invoice["order_number"] == order["number"] and invoice["status"] == "PENDING"

    async with httpx.AsyncClient() as http:
        paid = await http.post(
            f"{billing}/api/v1/billing/invoices/{invoice['id']}/pay",
            json={"channel": "WALLET"},
            headers=headers,
        )
    assert paid.status_code == 201, paid.text

    async def is_paid() -> dict[str, Any] | None:
        body = (await api.get(f"/api/v1/orders/{order['id']}", headers=headers)).json()
        return body if body["status"] == "PAID" else None

    detail = await eventually(is_paid)
    assert detail["invoice_id"] == invoice["id"]
    assert detail["timeline"][-1]["actor"] == "billing"


async def test_cancel_cancels_the_invoice_in_billing(
    api: httpx.AsyncClient,
    billing: str,
    customer: tuple[uuid.UUID, dict[str, str]],
    plans: dict[str, str],
) -> None:
    headers = customer[1]
    order = (
        await api.post("/api/v1/orders", json=order_body(plans["do-1c-1gb"]), headers=headers)
    ).json()
    await eventually(lambda: invoice_of(billing, order["id"]))
    response = await api.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
    assert response.status_code == 200, response.text

    async def cancelled() -> bool:
        invoice = await invoice_of(billing, order["id"])
        return invoice is not None and invoice["status"] == "CANCELLED"

    await eventually(cancelled)


async def test_wallet_order_debits_the_real_wallet_once(
    api: httpx.AsyncClient,
    billing: str,
    customer: tuple[uuid.UUID, dict[str, str]],
    admin: dict[str, str],
    plans: dict[str, str],
) -> None:
    user_id, headers = customer
    body = order_body(plans["do-1c-1gb"], payment="wallet")
    too_poor = await api.post("/api/v1/orders", json=body, headers=headers)
    assert_problem(too_poor, 409, "insufficient_balance")

    await credit(billing, admin, user_id, 5_000_000)
    keyed = {**headers, "Idempotency-Key": "wallet-1"}
    first = await api.post("/api/v1/orders", json=body, headers=keyed)
    again = await api.post("/api/v1/orders", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["status"] == "PAID" and again.json()["id"] == first.json()["id"]
    async with httpx.AsyncClient() as http:
        wallet = (await http.get(f"{billing}/internal/wallets/{user_id}", headers=ORDER_API)).json()
    assert wallet["balance"] == 5_000_000 - first.json()["amount"]
