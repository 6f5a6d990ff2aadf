"""Issue 5: the checkout end to end on a real fleet (`webrana up`, every service, its workers
and the stand-ins), played by customers over HTTP through the gateway: register, verify the
emailed link, log in, pick a plan, order, pay the invoice by QRIS, "pay" at the Tripay
stand-in (which sends billing the signed callback through the gateway), and get a running
server with an IP. Customers cannot see each other's orders or invoices. The customer hears
of each step (order created, payment confirmed, server active) once in each channel: by mail,
in the linked Telegram chat, and in-app (pushed live over the WebSocket and in the inbox)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.flow_helpers import (
    Customer,
    Endpoints,
    FlowFleet,
    LiveNotifications,
    cloud_delays,
    endpoints,
    eventually,
    expect,
    is_active,
    mails_to,
    new_email,
    start_fleet,
    telegram_messages,
    telegram_webhook,
    tripay_pay,
)

ACTIVE_TIMEOUT = 60.0
INVOICE_TIMEOUT = 20.0
NOTIFY_TIMEOUT = 30.0  # the last step's mail and Telegram message, after the server is ACTIVE
# After everything arrived, how long a duplicate (a re-delivered outbox message, a second
# producer of the same event) gets to show up before "exactly once" is judged.
SETTLE_SECONDS = 3.0
ORDER_EVENTS = ("ORDER_CREATED", "PAYMENT_CONFIRMED", "VPS_ACTIVE")
CHANNELS = ("live", "inbox", "email", "telegram")


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
    # Billing answered within the order's wait: the order names its invoice at once.
    assert (order["invoice_id"], order["invoice_number"]) == (invoice["id"], invoice["number"])
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
    # Ordered seconds after verifying the address: the order's mail still comes (the address
    # was not remembered unverified from the verification mail).
    mails = await eventually(
        lambda: mails_to(client, api, customer.email),
        lambda mails: any(order["number"] in m["subject"] for m in mails),
        NOTIFY_TIMEOUT,
        f"the mail of order {order['number']}",
    )
    assert sum(order["number"] in m["subject"] for m in mails) == 1, mails


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


async def _paid_and_active(
    customer: Customer, client: httpx.AsyncClient, api: Endpoints, hostname: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Order, pay the invoice by QRIS, pay at the Tripay stand-in, wait for the server."""
    order, invoice = await _order_with_invoice(customer, hostname)
    expect(await customer.pay(invoice["id"], "QRIS"), 201)
    await tripay_pay(client, api, invoice["number"])
    active = await customer.wait_for_order(order["id"], is_active, ACTIVE_TIMEOUT)
    return active, expect(await customer.invoice(invoice["id"]), 200)


def _event_of_text(text: str, order: dict[str, Any]) -> str | None:
    """Which step a mail or a Telegram message tells of, by what its reader sees: the server's
    IP, else the invoice number, else the order number (each later step's text may repeat an
    earlier step's number, never the other way round)."""
    if order["ipv4"] in text:
        return "VPS_ACTIVE"
    if order["invoice_number"] in text:
        return "PAYMENT_CONFIRMED"
    if order["number"] in text:
        return "ORDER_CREATED"
    return None


def _mail_event(mail: dict[str, Any], order: dict[str, Any]) -> str | None:
    return _event_of_text(f"{mail['subject']}\n{mail.get('text') or ''}", order)


async def _received(
    customer: Customer,
    client: httpx.AsyncClient,
    api: Endpoints,
    live: LiveNotifications,
    chat_id: int,
    order: dict[str, Any],
) -> dict[str, list[tuple[str | None, dict[str, Any]]]]:
    """What the customer has been told so far, per channel, as (event, item) pairs."""
    mails = await mails_to(client, api, customer.email)
    chat = await telegram_messages(client, api, chat_id)
    return {
        "live": [(n["event"], n) for n in live.new()],
        "inbox": [(n["event"], n) for n in await customer.notifications()],
        "email": [(_mail_event(m, order), m) for m in mails],
        "telegram": [(_event_of_text(m["visible_text"], order), m) for m in chat],
    }


def _counts(received: dict[str, list[tuple[str | None, dict[str, Any]]]]) -> dict[str, Counter]:
    return {channel: Counter(event for event, _ in items) for channel, items in received.items()}


def _all_arrived(received: dict[str, list[tuple[str | None, dict[str, Any]]]]) -> bool:
    counts = _counts(received)
    return all(counts[channel][event] >= 1 for channel in CHANNELS for event in ORDER_EVENTS)


def _one(items: list[tuple[str | None, dict[str, Any]]], event: str) -> dict[str, Any]:
    found = [item for kind, item in items if kind == event]
    assert len(found) == 1, f"{event}: {len(found)} times: {found}"
    return found[0]


async def test_order_notifications_reach_mail_telegram_and_in_app_once_each(
    api: Endpoints, client: httpx.AsyncClient
) -> None:
    customer = Customer(client, api, new_email("notified"))
    await customer.register(full_name="Siti Aminah")
    await customer.verify_email(await customer.verification_token())
    await customer.login()
    assert (await customer.me())["email_verified"] is True  # else no mail but the link
    # The defaults must not hold back email or Telegram: no quiet hours, every channel on.
    preferences = expect(
        await client.get(
            f"{api['notification']}/api/v1/notifications/preferences", headers=customer.headers
        ),
        200,
    )
    assert preferences["quiet_hours"] is None, preferences
    assert not any(preferences["muted"].values()), preferences

    # Telegram: open the t.me link, press Start; the bot links the chat and says so.
    await telegram_webhook(client, api)
    chat_id = random.randrange(10**9, 10**10)
    started = await customer.link_telegram(chat_id)
    assert started["delivered"], started
    assert started["response"]["outcome"] == "linked", started
    assert (await customer.me())["telegram_linked"] is True
    welcome = await telegram_messages(client, api, chat_id)
    masked = customer.email[0] + "***@example.com"
    assert len(welcome) == 1 and masked in welcome[0]["visible_text"], welcome

    async with customer.live() as live:
        assert live.ready["unread_count"] == 0, live.ready
        hostname = f"notified-{uuid.uuid4().hex[:8]}"
        order, invoice = await _paid_and_active(customer, client, api, hostname)
        assert order["invoice_number"] == invoice["number"]

        async def received() -> dict[str, list[tuple[str | None, dict[str, Any]]]]:
            return await _received(customer, client, api, live, chat_id, order)

        await eventually(
            received, _all_arrived, NOTIFY_TIMEOUT, "every step in every channel", interval=0.5
        )
        await asyncio.sleep(SETTLE_SECONDS)
        got = await received()
        assert live.close_code is None, f"the live socket closed: {live.close_code}"

    # Exactly once per channel, and nothing else than the three steps (and, by mail, the
    # verification link; in the chat, the bot's welcome).
    expected = Counter(ORDER_EVENTS)
    counts = _counts(got)
    assert counts["live"] == expected, counts
    assert counts["inbox"] == expected, counts
    assert counts["email"] == expected + Counter({None: 1}), [m["subject"] for _, m in got["email"]]
    assert counts["telegram"] == expected + Counter({None: 1}), [
        m["visible_text"] for _, m in got["telegram"]
    ]

    # In-app: the pushed notifications are the inbox's (newest first there).
    inbox = got["inbox"]
    assert {n["id"] for _, n in got["live"]} == {n["id"] for _, n in inbox}
    assert [event for event, _ in inbox] == list(reversed(ORDER_EVENTS))
    created = _one(inbox, "ORDER_CREATED")
    paid = _one(inbox, "PAYMENT_CONFIRMED")
    up = _one(inbox, "VPS_ACTIVE")
    assert order["number"] in created["title"], created
    assert invoice["number"] in paid["message"] and order["number"] in paid["message"], paid
    assert hostname in up["title"] and order["ipv4"] in up["message"], up
    assert all(not n["read"] for n in (created, paid, up))

    # Mail, to the customer's verified address.
    mails = got["email"]
    for event in ORDER_EVENTS:
        assert _one(mails, event)["to"] == [customer.email]
    assert order["number"] in _one(mails, "ORDER_CREATED")["subject"]
    paid_mail = _one(mails, "PAYMENT_CONFIRMED")
    assert invoice["number"] in paid_mail["subject"] and order["number"] in paid_mail["text"]
    up_mail = _one(mails, "VPS_ACTIVE")
    assert hostname in up_mail["subject"] and order["ipv4"] in up_mail["text"]
    assert order["ipv4"] in (up_mail["html"] or "")

    # Telegram, in the linked chat.
    chat = got["telegram"]
    assert order["number"] in _one(chat, "ORDER_CREATED")["visible_text"]
    assert order["number"] in _one(chat, "PAYMENT_CONFIRMED")["visible_text"]
    up_message = _one(chat, "VPS_ACTIVE")["visible_text"]
    assert hostname in up_message and order["ipv4"] in up_message
