from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from order_helpers import Fleet, assert_problem, order_body
from sqlalchemy import select

from order_service.orders.models import Order, OrderEvent
from webrana_common.db.session import Database
from webrana_common.outbox.models import OutboxMessage

Customer = tuple[uuid.UUID, dict[str, str]]


async def test_order_is_priced_from_the_catalog_quote(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    catalog: str,
    fleet: Fleet,
    settled,
    db: Database,
) -> None:
    user_id, headers = customer
    response = await client.post(
        "/api/v1/orders", json=order_body(plans["do-1c-1gb"]), headers=headers
    )
    assert response.status_code == 201, response.text
    order = response.json()
    async with httpx.AsyncClient() as http:
        quote = (
            await http.get(
                f"{catalog}/internal/plans/{plans['do-1c-1gb']}/quote",
                params={"cycle": "monthly", "region": "sg-sin", "image": "ubuntu-24.04"},
                headers={"X-API-Key": "order-test-key"},
            )
        ).json()
    assert order["status"] == "PENDING_PAYMENT"
    assert order["amount"] == order["base_amount"] == quote["amount_idr"] > 0
    assert order["number"].startswith("ORD-") and len(order["number"]) == 18
    assert order["provider"] == "digitalocean"
    assert [e["to_status"] for e in order["timeline"]] == ["PENDING_PAYMENT"]
    await settled()
    invoice = fleet.to("/internal/invoices")
    assert invoice[0]["amount"] == quote["amount_idr"] and invoice[0]["order_id"] == order["id"]
    assert fleet.events("ORDER_CREATED")[0]["data"]["order_number"] == order["number"]
    async with db.session() as session:
        stored = await session.get(Order, uuid.UUID(order["id"]))
        assert stored is not None and stored.provider_region == "sgp1"
        assert stored.user_id == user_id


async def test_the_new_order_names_its_invoice_when_billing_made_it_in_time(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet
) -> None:
    response = await client.post(
        "/api/v1/orders", json=order_body(plans["do-1c-1gb"]), headers=customer[1]
    )
    order = response.json()
    invoice = fleet.invoices[order["id"]]
    shown = (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json()

    assert response.status_code == 201
    assert (order["invoice_id"], order["invoice_number"]) == (invoice["id"], invoice["number"])
    # Kept on the order: its page can link the invoice before it is paid.
    assert (shown["invoice_id"], shown["invoice_number"]) == (invoice["id"], invoice["number"])


async def test_the_new_order_comes_without_its_invoice_when_billing_is_down(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    fleet: Fleet,
    settled: Callable[[], Awaitable[None]],
    db: Database,
) -> None:
    fleet.invoices_up = False
    started = time.monotonic()
    response = await client.post(
        "/api/v1/orders", json=order_body(plans["do-1c-1gb"]), headers=customer[1]
    )
    elapsed = time.monotonic() - started
    await settled()

    order = response.json()
    assert response.status_code == 201 and order["status"] == "PENDING_PAYMENT"
    assert (order["invoice_id"], order["invoice_number"]) == (None, None)
    assert elapsed < 2.0  # a refusal answers at once: no waiting out the whole window
    async with db.session() as session:  # the outbox keeps asking billing
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.target == "billing:/internal/invoices")
        )
    assert message is not None and message.status == "pending" and message.attempts == 1


async def test_client_sent_price_is_refused(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], db: Database
) -> None:
    body = order_body(plans["do-1c-1gb"], amount=1000, price=1000)
    response = await client.post("/api/v1/orders", json=body, headers=customer[1])
    problem = assert_problem(response, 422, "validation_error")
    assert {e["field"] for e in problem["errors"]} >= {"amount", "price"}
    async with db.session() as session:
        assert (await session.scalars(select(Order))).all() == []


async def test_bad_hostname_is_refused(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str]
) -> None:
    for hostname in ("-web", "web_1", "a" * 64, "web.example.com", ""):
        body = order_body(plans["do-1c-1gb"], hostname=hostname)
        response = await client.post("/api/v1/orders", json=body, headers=customer[1])
        problem = assert_problem(response, 422, "validation_error")
        assert [e["field"] for e in problem["errors"]] == ["hostname"], hostname


async def test_unknown_plan_is_a_precise_422(client: httpx.AsyncClient, customer: Customer) -> None:
    response = await client.post(
        "/api/v1/orders", json=order_body(uuid.uuid4()), headers=customer[1]
    )
    assert_problem(response, 422, "unknown_plan")


async def test_region_not_offered_is_a_precise_422(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], db: Database
) -> None:
    body = order_body(plans["do-1c-1gb"], region="jp-tyo")
    response = await client.post("/api/v1/orders", json=body, headers=customer[1])
    assert_problem(response, 422, "region_not_offered")
    body = order_body(plans["do-1c-1gb"], image="windows-11")
    response = await client.post("/api/v1/orders", json=body, headers=customer[1])
    assert_problem(response, 422, "unknown_image")
    async with db.session() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []


async def test_promo_is_applied_through_billing(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet, settled
) -> None:
    body = order_body(plans["do-1c-1gb"], promo_code="hemat10")
    response = await client.post("/api/v1/orders", json=body, headers=customer[1])
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["promo_code"] == "HEMAT10"
    assert order["discount"] == order["base_amount"] // 10
    assert order["amount"] == order["base_amount"] - order["discount"]
    redeem = fleet.to("/internal/promos/redeem")[0]
    assert redeem["order_id"] == order["id"] and redeem["amount"] == order["base_amount"]
    await settled()
    assert fleet.to("/internal/invoices")[0]["discount"] == order["discount"]


async def test_unknown_promo_is_refused_with_billings_code(
    client: httpx.AsyncClient, customer: Customer, plans: dict[str, str], fleet: Fleet, settled
) -> None:
    body = order_body(plans["do-1c-1gb"], promo_code="NOPE")
    response = await client.post("/api/v1/orders", json=body, headers=customer[1])
    assert_problem(response, 422, "promo_unknown")
    await settled()
    assert fleet.to("/internal/promos/release") == []  # nothing was held
    assert fleet.to("/internal/invoices") == []


async def test_wallet_payment_is_paid_at_once(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    fleet: Fleet,
    settled,
    redis_url: str,
) -> None:
    user_id, headers = customer
    fleet.balances[str(user_id)] = 10_000_000
    body = order_body(plans["do-1c-1gb"], payment="wallet")
    response = await client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "PAID" and order["paid_at"] is not None
    assert [e["to_status"] for e in order["timeline"]] == ["PENDING_PAYMENT", "PAID"]
    assert fleet.balances[str(user_id)] == 10_000_000 - order["amount"]
    await settled()
    assert fleet.to("/internal/invoices") == []
    assert fleet.events("PAYMENT_CONFIRMED")[0]["data"]["payment_method"] == "wallet"
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        queued = await redis.zrange("arq:order", 0, -1)
    finally:
        await redis.aclose()
    assert [q.decode() for q in queued] == [f"orders.provision:{order['id']}:1"]


async def test_wallet_without_balance_places_nothing_and_releases_the_promo(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    fleet: Fleet,
    db: Database,
    app,
) -> None:
    body = order_body(plans["do-1c-1gb"], payment="wallet", promo_code="HEMAT10")
    response = await client.post("/api/v1/orders", json=body, headers=customer[1])
    assert_problem(response, 409, "insufficient_balance")
    async with db.session() as session:
        assert (await session.scalars(select(Order))).all() == []
        assert (await session.scalars(select(OrderEvent))).all() == []
    await app.state.db.wait_for_background()
    released = fleet.to("/internal/promos/release")
    assert released == [
        {
            "order_id": fleet.to("/internal/promos/redeem")[0]["order_id"],
            "reason": "order not placed",
        }
    ]


def _referenced_calls(catalog: str) -> float:
    """How many times the catalog was asked to mark a plan referenced (its metrics)."""
    metrics = httpx.get(f"{catalog}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("http_requests_total{")
        and 'route="/internal/plans/{plan_id}/referenced"' in line
    )


async def test_a_plan_is_marked_referenced_once_per_process(
    client: httpx.AsyncClient,
    customer: Customer,
    plans: dict[str, str],
    catalog: str,
) -> None:
    """The marker freezes the plan's provider and size in the catalog; it is never removed,
    so after the first acknowledged call the next orders of that plan skip the round trip."""
    before = _referenced_calls(catalog)
    for hostname in ("web-a", "web-b", "web-c"):
        body = order_body(plans["do-1c-1gb"], hostname=hostname)
        response = await client.post("/api/v1/orders", json=body, headers=customer[1])
        assert response.status_code == 201, response.text
    assert _referenced_calls(catalog) - before == 1
