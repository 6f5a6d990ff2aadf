from __future__ import annotations

import uuid

import httpx
from order_helpers import Cloud, Fleet, assert_problem, order_body

from order_service.context import OrderContext
from order_service.provisioning.service import provision_order

Customer = tuple[uuid.UUID, dict[str, str]]


async def place(client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, **kw) -> dict:
    response = await client.post("/api/v1/orders", json=order_body(plan_id, **kw), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_admin_searches_and_filters(
    client: httpx.AsyncClient,
    customer: Customer,
    tokens,
    plans: dict[str, str],
    admin: dict[str, str],
) -> None:
    mine = await place(client, customer[1], plans["do-1c-1gb"], hostname="budi-db")
    other = await place(client, tokens.headers(uuid.uuid4()), plans["do-1c-1gb"])
    everything = (await client.get("/api/v1/admin/orders", headers=admin)).json()
    assert [o["id"] for o in everything["items"]] == [other["id"], mine["id"]]
    by_user = await client.get(
        "/api/v1/admin/orders", params={"user_id": str(customer[0])}, headers=admin
    )
    assert [o["id"] for o in by_user.json()["items"]] == [mine["id"]]
    for q in ("budi-db", mine["number"]):
        found = await client.get("/api/v1/admin/orders", params={"q": q}, headers=admin)
        assert [o["id"] for o in found.json()["items"]] == [mine["id"]], q
    none = await client.get("/api/v1/admin/orders", params={"status": "ACTIVE"}, headers=admin)
    assert none.json()["items"] == []


async def test_admin_cancel_is_audited(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    admin: dict[str, str],
    fleet: Fleet,
    settled,
) -> None:
    order = await place(client, customer[1], plans["do-1c-1gb"])
    path = f"/api/v1/admin/orders/{order['id']}/cancel"
    assert_problem(await client.post(path, json={}, headers=admin), 422, "validation_error")
    response = await client.post(path, json={"reason": "fraud suspected"}, headers=admin)
    assert response.status_code == 200, response.text
    last = response.json()["timeline"][-1]
    assert last["to_status"] == "CANCELLED" and last["reason"] == "fraud suspected"
    assert last["actor"].startswith("admin:")
    # The customer sees that an admin did it, not which one.
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    assert detail["timeline"][-1]["actor"] == "admin"
    await settled()
    assert fleet.to(f"/internal/invoices/{fleet.invoices[order['id']]['id']}/cancel")


async def test_retry_only_a_failed_order(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], admin: dict[str, str]
) -> None:
    order = await place(client, customer[1], plans["do-1c-1gb"])
    response = await client.post(
        f"/api/v1/admin/orders/{order['id']}/retry-provisioning",
        json={"reason": "try again"},
        headers=admin,
    )
    assert_problem(response, 409, "order_not_retryable")
    missing = await client.get(f"/api/v1/admin/orders/{uuid.uuid4()}", headers=admin)
    assert_problem(missing, 404, "order_not_found")


async def test_refund_of_a_failed_order_goes_to_the_wallet_once(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    admin: dict[str, str],
    fleet: Fleet,
    cloud: Cloud,
    worker: OrderContext,
    settled,
) -> None:
    fleet.balances[str(customer[0])] = 100_000_000
    order = await place(client, customer[1], plans["do-1c-1gb"], payment="wallet")
    path = f"/api/v1/admin/orders/{order['id']}/refund"
    # Not before it failed: the customer may still get the server.
    assert_problem(
        await client.post(path, json={"reason": "early"}, headers=admin),
        409,
        "order_not_refundable",
    )
    cloud.configure(creation_failure="reject")
    assert await provision_order(worker, uuid.UUID(order["id"])) == "PROVISIONING_FAILED"
    response = await client.post(path, json={"reason": "no capacity"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["timeline"][-1]["action"] == "refunded_to_wallet"
    again = await client.post(path, json={"reason": "no capacity"}, headers=admin)
    assert_problem(again, 409, "order_not_refundable")
    await settled()
    assert fleet.to("/internal/wallet/refund") == [
        {
            "user_id": str(customer[0]),
            "order_id": order["id"],
            "amount": order["amount"],
            "idempotency_key": f"order:wallet-refund:{order['id']}:0",
            "reason": "no capacity",
        }
    ]
