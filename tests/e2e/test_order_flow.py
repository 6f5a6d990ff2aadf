"""Issue 5: the checkout end to end on a real fleet (`webrana up`, every service, its workers
and the stand-ins), played by customers over HTTP through the gateway: register, verify the
emailed link, log in, pick a plan, order, pay the invoice by QRIS, "pay" at the Tripay
stand-in (which sends billing the signed callback through the gateway), and get a running
server with an IP. Customers cannot see each other's orders or invoices."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.flow_helpers import (
    Customer,
    Endpoints,
    FlowFleet,
    cloud_delays,
    endpoints,
    expect,
    is_active,
    new_email,
    start_fleet,
    tripay_pay,
)

ACTIVE_TIMEOUT = 60.0
INVOICE_TIMEOUT = 20.0


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowFleet]:
    fleet = start_fleet(tmp_path_factory.mktemp("order-flow"), cloud_delays(0.2, 0.2))
    try:
        yield fleet
    finally:
        with contextlib.suppress(Exception):
            fleet.stop()
        fleet.kill()


@pytest.fixture(scope="module")
def api(fleet: FlowFleet) -> Endpoints:
    found = endpoints(fleet)
    # The flow is meant to run as a customer sees it: through the gateway. Billing's Tripay
    # callbacks go through it in any case (TRIPAY_CALLBACK_URL = PUBLIC_BASE_URL + ...).
    assert found.via_gateway, f"the gateway does not route the order flow: {found.gateway_ready}"
    return found


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        yield client


async def _customer(client: httpx.AsyncClient, api: Endpoints, tag: str) -> Customer:
    customer = Customer(client, api, new_email(tag))
    await customer.register()
    await customer.login()
    return customer


async def _digitalocean_plan(customer: Customer) -> tuple[dict[str, Any], str, str]:
    """The cheapest DigitalOcean plan on sale, one of its regions and an Ubuntu image."""
    plans = [p for p in await customer.plans() if p["provider"]["slug"] == "digitalocean"]
    assert plans, "the seeded catalog sells no DigitalOcean plan"
    cheapest = min(plans, key=lambda p: p["prices"]["monthly"]["amount_idr"])
    plan = await customer.plan(cheapest["slug"])
    images = [i["slug"] for i in plan["images"]]
    image = "ubuntu-24.04" if "ubuntu-24.04" in images else images[0]
    return plan, plan["regions"][0]["slug"], image


async def _order_with_invoice(
    customer: Customer, hostname: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    plan, region, image = await _digitalocean_plan(customer)
    order = expect(await customer.place_order(plan, region, image, hostname), 201)
    assert order["status"] == "PENDING_PAYMENT"
    assert order["amount"] == plan["prices"]["monthly"]["amount_idr"]  # the catalog's price
    invoice = await customer.invoice_of(order["id"], INVOICE_TIMEOUT)
    assert (invoice["status"], invoice["amount"]) == ("PENDING", order["amount"])
    return order, invoice


async def test_customer_orders_pays_and_gets_a_running_server(
    api: Endpoints, client: httpx.AsyncClient
) -> None:
    customer = Customer(client, api, new_email("buyer"))
    registered = await customer.register(full_name="Budi Santoso")
    assert registered["email_verified"] is False

    await customer.verify_email(await customer.verification_token())
    await customer.login()
    assert (await customer.me())["email_verified"] is True

    hostname = f"web-{uuid.uuid4().hex[:8]}"
    order, listed = await _order_with_invoice(customer, hostname)
    assert order["hostname"] == hostname and order["payment_method"] == "tripay"

    invoice = expect(await customer.invoice(listed["id"]), 200)
    assert invoice["status"] == "PENDING" and invoice["payment"] is None
    assert (invoice["order_id"], invoice["order_number"]) == (order["id"], order["number"])

    payment = expect(await customer.pay(invoice["id"], "QRIS"), 201)
    assert payment["status"] == "UNPAID" and payment["channel"] == "QRIS"
    assert payment["qr_string"] and payment["total"] >= invoice["amount"]

    paid_at_tripay = await tripay_pay(client, api, invoice["number"])
    assert paid_at_tripay["transaction"]["status"] == "PAID"

    active = await customer.wait_for_order(order["id"], is_active, ACTIVE_TIMEOUT)

    assert active["ipv4"] and active["instance_id"] and active["paid_at"]
    assert (active["invoice_id"], active["invoice_number"]) == (invoice["id"], invoice["number"])
    moves = [(e["from_status"], e["to_status"]) for e in active["timeline"] if e["to_status"]]
    assert moves == [
        (None, "PENDING_PAYMENT"),
        ("PENDING_PAYMENT", "PAID"),
        ("PAID", "PROVISIONING"),
        ("PROVISIONING", "ACTIVE"),
    ]
    invoice = expect(await customer.invoice(invoice["id"]), 200)
    assert (invoice["status"], invoice["paid_via"]) == ("PAID", "QRIS")
    assert invoice["payment"]["reference"] == payment["reference"]
    # The stand-in's callback reached billing through the gateway, once, and was acknowledged.
    callbacks = expect(
        await client.get(
            f"{api.tripay}/_sandbox/callbacks", params={"reference": payment["reference"]}
        ),
        200,
    )["callbacks"]
    assert [c["state"] for c in callbacks] == ["delivered"]
    assert callbacks[0]["url"] == f"{api['billing']}/api/v1/billing/callbacks/tripay"
    assert [a["acknowledged"] for a in callbacks[0]["attempts"]] == [True]


async def test_someone_elses_order_and_invoice_are_not_found(
    api: Endpoints, client: httpx.AsyncClient
) -> None:
    alice = await _customer(client, api, "alice")
    order, invoice = await _order_with_invoice(alice, f"alice-{uuid.uuid4().hex[:8]}")
    bob = await _customer(client, api, "bob")

    not_found = [
        (await bob.order(order["id"]), "order_not_found"),
        (await bob.invoice(invoice["id"]), "invoice_not_found"),
        (await bob.pay(invoice["id"]), "invoice_not_found"),
        (
            await client.post(
                f"{api['order']}/api/v1/orders/{order['id']}/cancel",
                headers=bob.headers,
                json={},
            ),
            "order_not_found",
        ),
    ]
    for response, code in not_found:
        assert response.status_code == 404, response.text
        assert response.json()["code"] == code

    bobs_orders = expect(
        await client.get(f"{api['order']}/api/v1/orders", headers=bob.headers), 200
    )
    bobs_invoices = expect(
        await client.get(f"{api['billing']}/api/v1/billing/invoices", headers=bob.headers), 200
    )
    assert bobs_orders["items"] == [] and bobs_invoices["items"] == []
    anonymous = await client.get(f"{api['order']}/api/v1/orders/{order['id']}")
    assert anonymous.status_code == 401

    # Bob's attempts changed nothing: Alice's order and invoice are still hers and unpaid.
    assert expect(await alice.order(order["id"]), 200)["status"] == "PENDING_PAYMENT"
    invoice = expect(await alice.invoice(invoice["id"]), 200)
    assert invoice["status"] == "PENDING" and invoice["payment"] is None
