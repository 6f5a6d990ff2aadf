"""`/internal/invoices` for the order service: idempotent creation, lookups, cancellation."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from billing_builders import INTERNAL, BillingEnv
from billing_helpers import assert_problem

from billing_service.invoices import service


def order_body(**fields: object) -> dict[str, object]:
    return {
        "order_id": str(uuid.uuid4()),
        "order_number": "ORD-20250115-AB12C",
        "user_id": str(uuid.uuid4()),
        "amount": 135_000,
        "description": "Cloud VPS 2 GB, monthly (web-1)",
        "items": [
            {"name": "Cloud VPS 2 GB, monthly", "price": 150_000, "sku": "s-1vcpu-2gb"},
            {"name": "Promo HEMAT10", "price": -15_000},
        ],
        "discount": 15_000,
        "promo_code": "hemat10",
        "expires_in": 3600,
        **fields,
    }


async def test_creation_is_idempotent_on_the_order(env: BillingEnv) -> None:
    body = order_body()

    answers = await asyncio.gather(
        *(env.client.post("/internal/invoices", json=body, headers=INTERNAL) for _ in range(5))
    )

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    invoice = answers[0].json()
    assert re.fullmatch(r"INV-\d{8}-[0-9A-Z]{5}", invoice["number"])
    assert (invoice["status"], invoice["amount"], invoice["promo_code"]) == (
        "PENDING",
        135_000,
        "HEMAT10",
    )
    by_order = await env.client.get(
        f"/internal/orders/{body['order_id']}/invoice", headers=INTERNAL
    )
    assert by_order.json()["id"] == invoice["id"]


async def test_a_number_already_taken_is_drawn_again(
    env: BillingEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await env.client.post("/internal/invoices", json=order_body(), headers=INTERNAL)
    numbers = iter([first.json()["number"], "INV-20261123-ZZZZ9"])
    monkeypatch.setattr(service, "invoice_number", lambda _now: next(numbers))

    second = await env.client.post("/internal/invoices", json=order_body(), headers=INTERNAL)

    assert second.status_code == 201, second.text
    assert second.json()["number"] == "INV-20261123-ZZZZ9"
    assert second.json()["id"] != first.json()["id"]


async def test_same_order_with_another_amount_is_a_conflict(env: BillingEnv) -> None:
    body = order_body()
    await env.client.post("/internal/invoices", json=body, headers=INTERNAL)

    response = await env.client.post(
        "/internal/invoices", json={**body, "amount": 1, "items": None}, headers=INTERNAL
    )

    assert_problem(response, 409, "invoice_conflict")


async def test_items_must_add_up_and_expiry_must_be_ahead(env: BillingEnv) -> None:
    assert_problem(
        await env.client.post("/internal/invoices", json=order_body(amount=1000), headers=INTERNAL),
        422,
        "invoice_items_mismatch",
    )
    assert_problem(
        await env.client.post(
            "/internal/invoices",
            json=order_body(expires_in=None, expires_at="2020-01-01T00:00:00Z"),
            headers=INTERNAL,
        ),
        422,
        "invoice_expiry_invalid",
    )
    assert_problem(
        await env.client.post(
            "/internal/invoices", json=order_body(order_id=None), headers=INTERNAL
        ),
        422,
        "validation_error",
    )


async def test_internal_routes_need_the_api_key(env: BillingEnv) -> None:
    response = await env.client.post("/internal/invoices", json=order_body())
    assert_problem(response, 401, "api_key_invalid")
    wrong = await env.client.post("/internal/wallet/debit", json={}, headers={"X-API-Key": "guess"})
    assert_problem(wrong, 401, "api_key_invalid")


async def test_internal_cancel_is_idempotent_and_not_echoed_to_the_order(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    path = f"/internal/invoices/{invoice['id']}/cancel"

    first = await env.client.post(path, json={"reason": "customer gave up"}, headers=INTERNAL)
    second = await env.client.post(path, json={}, headers=INTERNAL)
    await env.settle()

    assert first.json()["status"] == second.json()["status"] == "CANCELLED"
    assert first.json()["close_reason"] == "customer gave up"
    assert env.fleet.order_messages == {}


async def test_paid_invoice_cannot_be_cancelled(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay")

    response = await env.client.post(
        f"/internal/invoices/{invoice['id']}/cancel", json={}, headers=INTERNAL
    )
    assert_problem(response, 409, "invoice_not_cancellable")
