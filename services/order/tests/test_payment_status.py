from __future__ import annotations

import uuid
from typing import Any

import httpx
from order_helpers import BILLING_KEY, Cloud, Fleet, assert_problem, order_body

from order_service.context import OrderContext
from order_service.provisioning.service import provision_order

Customer = tuple[uuid.UUID, dict[str, str]]
BILLING = {"X-API-Key": BILLING_KEY}


def news(order: dict[str, Any], status: str = "PAID") -> dict[str, Any]:
    return {
        "invoice_id": "0b6f8d3e-0a51-4b0f-8f3c-6d1e2a3b4c5d",
        "invoice_number": "INV-20261123-XY34Z",
        "order_id": order["id"],
        "order_number": order["number"],
        "status": status,
        "paid_at": "2026-11-23T03:00:00+00:00" if status == "PAID" else None,
        "amount": order["amount"],
        "method": "QRIS",
        "occurred_at": "2026-11-23T03:00:00+00:00",
    }


async def place(client: httpx.AsyncClient, customer: Customer, plan_id: str, **kw: Any) -> dict:
    response = await client.post(
        "/api/v1/orders", json=order_body(plan_id, **kw), headers=customer[1]
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_paid_is_applied_once(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet, settled
) -> None:
    order = await place(client, customer, plans["do-1c-1gb"])
    path = f"/internal/orders/{order['id']}/payment-status"
    key = {"Idempotency-Key": "billing:payment-status:x:PAID"}
    first = await client.post(path, json=news(order), headers={**BILLING, **key})
    again = await client.post(path, json=news(order), headers={**BILLING, **key})
    assert first.json() == {"order_id": order["id"], "status": "PAID", "applied": True}
    assert again.json() == {"order_id": order["id"], "status": "PAID", "applied": False}
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    assert [e["to_status"] for e in detail["timeline"]] == ["PENDING_PAYMENT", "PAID"]
    assert detail["timeline"][1]["actor"] == "billing"
    assert detail["invoice_number"] == "INV-20261123-XY34Z"
    await settled()
    # An invoice's payment is announced by billing, with the payment; the order adds none.
    assert fleet.events("PAYMENT_CONFIRMED") == []


async def test_expired_invoice_expires_the_order_and_releases_the_promo(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet, settled
) -> None:
    order = await place(client, customer, plans["do-1c-1gb"], promo_code="HEMAT10")
    path = f"/internal/orders/{order['id']}/payment-status"
    for _ in range(2):
        await client.post(path, json=news(order, "EXPIRED"), headers=BILLING)
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    assert detail["status"] == "EXPIRED"
    late = await client.post(path, json=news(order, "PAID"), headers=BILLING)
    assert late.json()["applied"] is True and late.json()["status"] == "EXPIRED"
    # The money that came too late goes back to the wallet (see the cancel case below).
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    assert [e["action"] for e in detail["timeline"]] == [
        "created",
        "status_changed",
        "payment_after_close",
    ]
    assert detail["timeline"][1]["to_status"] == "EXPIRED"
    await settled()
    assert fleet.to("/internal/promos/release") == [
        {"order_id": order["id"], "reason": "invoice INV-20261123-XY34Z expired"}
    ]
    assert [r["amount"] for r in fleet.to("/internal/wallet/refund")] == [order["amount"]]


async def test_payment_landing_after_a_cancel_goes_back_to_the_wallet_once(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    admin: dict[str, str],
    fleet: Fleet,
    settled,
) -> None:
    # The customer cancels while their bank transfer goes through: billing has the invoice
    # PAID (and refuses its cancel), so nobody but the order gives the money back.
    order = await place(client, customer, plans["do-1c-1gb"])
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])
    assert cancelled.json()["status"] == "CANCELLED"
    path = f"/internal/orders/{order['id']}/payment-status"
    answers = [
        (await client.post(path, json=news(order), headers=BILLING)).json() for _ in range(3)
    ]
    assert [a["applied"] for a in answers] == [True, False, False]
    assert {a["status"] for a in answers} == {"CANCELLED"}
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    late = [e for e in detail["timeline"] if e["action"] == "payment_after_close"]
    assert len(late) == 1 and "refunded to the wallet" in late[0]["reason"]
    await settled()
    assert fleet.to("/internal/wallet/refund") == [
        {
            "user_id": str(customer[0]),
            "order_id": order["id"],
            "amount": order["amount"],
            "idempotency_key": f"order:wallet-refund:{order['id']}:0",
            "reason": late[0]["reason"],
        }
    ]
    # Nothing is left for an admin to refund a second time.
    refund = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund", json={"reason": "goodwill"}, headers=admin
    )
    assert_problem(refund, 409, "order_not_refundable")


async def test_after_a_tripay_refund_nothing_is_left_to_refund_to_the_wallet(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    admin: dict[str, str],
    fleet: Fleet,
    cloud: Cloud,
    worker: OrderContext,
    settled,
) -> None:
    order = await place(client, customer, plans["do-1c-1gb"])
    path = f"/internal/orders/{order['id']}/payment-status"
    await client.post(path, json=news(order), headers=BILLING)
    cloud.configure(creation_failure="reject")
    assert await provision_order(worker, uuid.UUID(order["id"])) == "PROVISIONING_FAILED"
    # The merchant refunded the payment in Tripay's dashboard; billing passes the news on.
    await client.post(path, json=news(order, "REFUNDED"), headers=BILLING)
    refund = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund", json={"reason": "again"}, headers=admin
    )
    assert_problem(refund, 409, "order_not_refundable")
    assert "Rp 0" in refund.json()["detail"]
    await settled()
    assert fleet.to("/internal/wallet/refund") == []


async def test_payment_status_needs_the_internal_key(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str]
) -> None:
    order = await place(client, customer, plans["do-1c-1gb"])
    path = f"/internal/orders/{order['id']}/payment-status"
    response = await client.post(path, json=news(order), headers=customer[1])
    assert_problem(response, 401, "api_key_invalid")
    response = await client.post(
        f"/internal/orders/{uuid.uuid4()}/payment-status", json=news(order), headers=BILLING
    )
    assert_problem(response, 404, "order_not_found")


async def test_a_refund_is_recorded_once_however_often_billing_repeats_it(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str]
) -> None:
    order = await place(client, customer, plans["do-1c-1gb"])
    path = f"/internal/orders/{order['id']}/payment-status"
    await client.post(path, json=news(order), headers=BILLING)
    answers = [
        (await client.post(path, json=news(order, "REFUNDED"), headers=BILLING)).json()
        for _ in range(3)
    ]
    later = {**news(order, "REFUNDED"), "occurred_at": "2026-11-24T03:00:00+00:00"}
    answers.append((await client.post(path, json=later, headers=BILLING)).json())

    assert [a["applied"] for a in answers] == [True, False, False, True]
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    refunds = [e for e in detail["timeline"] if e["action"] == "billing_refunded"]
    assert len(refunds) == 2
    assert detail["status"] in ("PAID", "PROVISIONING", "ACTIVE")  # a refund moves no status


async def test_payment_news_that_does_not_validate_changes_nothing(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str]
) -> None:
    order = await place(client, customer, plans["do-1c-1gb"])
    path = f"/internal/orders/{order['id']}/payment-status"
    response = await client.post(path, json=news(order, "SETTLED"), headers=BILLING)
    assert_problem(response, 422, "validation_error")
    response = await client.post(
        "/internal/orders/not-a-uuid/payment-status", json=news(order), headers=BILLING
    )
    assert_problem(response, 422, "validation_error")
    detail = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()
    assert detail["status"] == "PENDING_PAYMENT"
