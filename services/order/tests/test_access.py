"""Who sees what: a customer only their own orders; admin routes only for admins."""

from __future__ import annotations

import uuid

import httpx
import pytest
from order_helpers import Fleet, assert_problem, order_body
from sqlalchemy import select

from webrana_common.outbox.models import OutboxMessage

Customer = tuple[uuid.UUID, dict[str, str]]


async def place(client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, **kw) -> dict:
    response = await client.post("/api/v1/orders", json=order_body(plan_id, **kw), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_another_users_order_is_not_found(
    client: httpx.AsyncClient, customer: Customer, tokens, plans: dict[str, str]
) -> None:
    order = await place(client, customer[1], plans["do-1c-1gb"])
    stranger = tokens.headers(uuid.uuid4())
    response = await client.get(f"/api/v1/orders/{order['id']}", headers=stranger)
    assert_problem(response, 404, "order_not_found")
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=stranger)
    assert_problem(response, 404, "order_not_found")
    mine = await client.get("/api/v1/orders", headers=stranger)
    assert mine.json() == {"items": [], "next_cursor": None}


async def test_orders_need_a_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/orders"), 401, "token_missing")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/orders"),
        ("GET", "/api/v1/admin/orders/{id}"),
        ("POST", "/api/v1/admin/orders/{id}/retry-provisioning"),
        ("POST", "/api/v1/admin/orders/{id}/cancel"),
        ("POST", "/api/v1/admin/orders/{id}/refund"),
    ],
)
async def test_admin_routes_refuse_customers(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], method: str, path: str
) -> None:
    order = await place(client, customer[1], plans["do-1c-1gb"])
    response = await client.request(
        method, path.format(id=order["id"]), json={"reason": "trying my luck"}, headers=customer[1]
    )
    assert_problem(response, 403, "admin_required")
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    assert detail["status"] == "PENDING_PAYMENT" and len(detail["timeline"]) == 1


async def test_list_mine_filters_by_status_and_pages(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet
) -> None:
    fleet.balances[str(customer[0])] = 100_000_000
    created = [await place(client, customer[1], plans["do-1c-1gb"]) for _ in range(3)]
    paid = await place(client, customer[1], plans["do-1c-1gb"], payment="wallet")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/orders", params=params, headers=customer[1])).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [paid["id"], *[o["id"] for o in reversed(created)]]
    only_paid = await client.get("/api/v1/orders", params={"status": "PAID"}, headers=customer[1])
    assert [o["id"] for o in only_paid.json()["items"]] == [paid["id"]]


async def test_cancel_while_unpaid_cancels_invoice_and_releases_promo(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet, settled
) -> None:
    order = await place(client, customer[1], plans["do-1c-1gb"], promo_code="HEMAT10")
    await settled()  # billing has the invoice
    path = f"/api/v1/orders/{order['id']}/cancel"
    response = await client.post(path, json={"reason": "salah pilih paket"}, headers=customer[1])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["timeline"][-1]["actor"] == "customer"
    await settled()
    invoice = fleet.invoices[order["id"]]
    assert fleet.to(f"/internal/invoices/{invoice['id']}/cancel") == [
        {"reason": "salah pilih paket"}
    ]
    assert fleet.to("/internal/promos/release")[0]["order_id"] == order["id"]
    assert_problem(await client.post(path, headers=customer[1]), 409, "order_not_cancellable")


async def test_paid_order_cannot_be_cancelled(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet
) -> None:
    fleet.balances[str(customer[0])] = 100_000_000
    order = await place(client, customer[1], plans["do-1c-1gb"], payment="wallet")
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])
    assert_problem(response, 409, "order_not_cancellable")


async def test_cancel_before_billing_has_the_invoice_withdraws_it(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    fleet: Fleet,
    settled,
    db,
) -> None:

    fleet.invoices_up = False
    order = await place(client, customer[1], plans["do-1c-1gb"])
    await settled()
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])
    assert response.status_code == 200, response.text
    async with db.session() as session:
        message = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key == f"order:invoice:{order['id']}"
            )
        )
    assert message is not None and message.status == "dead"
    fleet.invoices_up = True
    await settled()
    assert fleet.invoices == {}
    assert not [c for c in fleet.calls if c.path.endswith("/cancel")]
