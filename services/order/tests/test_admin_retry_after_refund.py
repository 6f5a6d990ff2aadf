"""A failed order refunded to the wallet cannot be retried: the customer would get the server
for free (the refund leaves it PROVISIONING_FAILED)."""

from __future__ import annotations

import uuid

import httpx
from order_helpers import Cloud, Fleet, assert_problem, order_body

from order_service.context import OrderContext
from order_service.provisioning.service import provision_order

Customer = tuple[uuid.UUID, dict[str, str]]


async def test_retry_of_a_refunded_order_is_refused(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    admin: dict[str, str],
    fleet: Fleet,
    cloud: Cloud,
    worker: OrderContext,
) -> None:
    fleet.balances[str(customer[0])] = 100_000_000
    placed = await client.post(
        "/api/v1/orders",
        json=order_body(plans["do-1c-1gb"], payment="wallet"),
        headers=customer[1],
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    cloud.configure(creation_failure="reject")
    assert await provision_order(worker, uuid.UUID(order["id"])) == "PROVISIONING_FAILED"
    base = f"/api/v1/admin/orders/{order['id']}"
    refunded = await client.post(f"{base}/refund", json={"reason": "no capacity"}, headers=admin)
    assert refunded.status_code == 200, refunded.text

    response = await client.post(
        f"{base}/retry-provisioning", json={"reason": "capacity is back"}, headers=admin
    )

    problem = assert_problem(response, 409, "order_not_retryable")
    assert "refunded" in problem["detail"]
    assert problem["refunded_amount"] == order["amount"]
    detail = (await client.get(base, headers=admin)).json()
    assert detail["status"] == "PROVISIONING_FAILED"
    assert detail["timeline"][-1]["action"] == "refunded_to_wallet"
