"""The Tripay callback, driven by the stand-in: signed callbacks of every status, the same
callback many times at once, forged ones, wrong amounts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid

import pytest
from billing_builders import BillingEnv
from billing_helpers import ADMIN_ALERT_ID, assert_problem
from sqlalchemy import select

from billing_service.payments.models import Payment, TripayCallback
from devstack.sandbox.tripay_standin.callbacks import callback_body, php_json
from webrana_common.outbox.models import OutboxMessage

CALLBACK = "/api/v1/billing/callbacks/tripay"
KEY = "sandbox-private-key"


def signed(body: bytes, key: str = KEY) -> dict[str, str]:
    signature = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Callback-Signature": signature,
        "X-Callback-Event": "payment_status",
        "Content-Type": "application/json",
    }


async def paid_callback(env: BillingEnv, invoice: dict, **changes: object) -> bytes:
    """The body the stand-in would send once the customer paid, without sending it."""
    transaction = env.sandbox.store.find(invoice["number"])
    transaction.status, transaction.paid_at = "PAID", 1_736_900_000
    body = callback_body(transaction)
    body.update(changes)
    return php_json(body)


async def test_paid_callback_pays_the_invoice_and_tells_order_and_customer(env: BillingEnv) -> None:
    invoice = await env.order_invoice(amount=150_000)
    instructions = await env.pay(invoice, "BRIVA")

    result = await env.act(invoice["number"], "pay")

    assert result["callback"]["state"] in ("pending", "delivered")
    assert env.sandbox.sender.deliveries[-1].state == "delivered"
    paid = await env.invoice(invoice["id"])
    assert (paid.status, paid.paid_via, paid.payment_method) == (
        "PAID",
        "BRIVA",
        "BRI Virtual Account",
    )
    [message] = env.fleet.order_messages.values()
    assert message["_order_id"] == invoice["order_id"]
    assert {
        k: message[k] for k in ("invoice_id", "invoice_number", "status", "amount", "method")
    } == {
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "status": "PAID",
        "amount": 150_000,
        "method": "BRIVA",
    }
    assert message["paid_at"]
    [confirmed] = env.fleet.events("PAYMENT_CONFIRMED")
    assert confirmed["data"]["payment_method"] == "BRI Virtual Account"
    assert confirmed["user_id"] == invoice["user_id"]
    [payment] = await env.payments(invoice["id"])
    assert (payment.status, payment.reference) == ("PAID", instructions["reference"])


async def test_same_callback_50_times_at_once_makes_one_payment_and_one_order_message(
    env: BillingEnv,
) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "QRIS")
    body = await paid_callback(env, invoice)

    answers = await asyncio.gather(
        *(env.client.post(CALLBACK, content=body, headers=signed(body)) for _ in range(50))
    )
    await env.settle()

    assert {(a.status_code, a.text) for a in answers} == {(200, '{"success":true}')}
    assert await env.count(Payment, Payment.status == "PAID") == 1
    outcomes = [c.outcome for c in await _callbacks(env)]
    assert sorted(set(outcomes)) == ["applied", "duplicate"] and outcomes.count("applied") == 1
    order_messages = await env.outbox("order:")
    assert len(order_messages) == 1
    assert env.fleet.statuses() == ["PAID"]
    assert sum(env.fleet.order_calls.values()) == 1
    assert len(env.fleet.events("PAYMENT_CONFIRMED")) == 1


async def test_forged_signature_is_refused_and_changes_nothing(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")

    await env.act(invoice["number"], "pay", forge_signature=True)

    attempts = env.sandbox.sender.deliveries[-1].attempts
    assert [a["status_code"] for a in attempts] == [403] * 4  # first try + Tripay's 3 retries
    assert (await env.invoice(invoice["id"])).status == "PENDING"
    assert await env.count(TripayCallback) == 0
    assert await env.count(OutboxMessage) == 0
    body = await paid_callback(env, invoice)
    response = await env.client.post(CALLBACK, content=body, headers=signed(body, "not-the-key"))
    assert_problem(response, 403, "invalid_signature")
    assert (await env.invoice(invoice["id"])).status == "PENDING"


async def test_signature_is_over_the_raw_bytes_not_a_reserialised_body(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    raw = await paid_callback(env, invoice, note="https://example.test/x")
    assert b"https:\\/\\/example.test\\/x" in raw  # PHP's escaped slashes, kept verbatim
    reserialised = json.dumps(json.loads(raw)).encode()

    refused = await env.client.post(CALLBACK, content=reserialised, headers=signed(raw))
    accepted = await env.client.post(CALLBACK, content=raw, headers=signed(raw))

    assert_problem(refused, 403, "invalid_signature")
    assert accepted.json() == {"success": True}
    [stored] = await _callbacks(env)
    assert stored.raw_body.encode() == raw


async def test_callback_without_event_header_is_refused(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    body = await paid_callback(env, invoice)
    headers = signed(body)
    del headers["X-Callback-Event"]

    assert_problem(
        await env.client.post(CALLBACK, content=body, headers=headers),
        400,
        "callback_event_missing",
    )
    other = {**signed(body), "X-Callback-Event": "something_new"}
    assert (await env.client.post(CALLBACK, content=body, headers=other)).json() == {
        "success": True
    }
    assert (await env.invoice(invoice["id"])).status == "PENDING"


async def test_amount_mismatch_flags_the_invoice_and_alerts_admins_not_the_order(
    env: BillingEnv,
) -> None:
    invoice = await env.order_invoice(amount=150_000)
    instructions = await env.pay(invoice, "BRIVA")

    await env.act(invoice["number"], "pay", amount=1000)

    flagged = await env.invoice(invoice["id"])
    assert flagged.status == "PENDING" and flagged.flagged_at is not None
    assert "Rp 1000" in (flagged.flag_reason or "")
    assert env.fleet.order_messages == {}
    [alert] = [
        m.payload
        for m in await env.outbox("notification:")
        if m.payload["event"] == "BILLING_REVIEW_REQUIRED"
    ]
    assert alert["user_id"] == str(ADMIN_ALERT_ID)
    assert alert["data"]["expected_amount"] == instructions["total"]
    assert alert["data"]["reported_amount"] == 1000
    again = await env.client.post(
        f"/api/v1/billing/invoices/{invoice['id']}/pay",
        json={"channel": "QRIS"},
        headers=env.headers(uuid.UUID(invoice["user_id"])),
    )
    assert_problem(again, 409, "invoice_under_review")


async def test_expired_transaction_leaves_an_open_invoice_payable(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")

    await env.act(invoice["number"], "expire")

    assert (await env.invoice(invoice["id"])).status == "PENDING"
    [payment] = await env.payments(invoice["id"])
    assert payment.status == "EXPIRED"
    fresh = await env.pay(invoice, "BRIVA")  # a new transaction, not the expired one
    assert fresh["reference"] != payment.reference


async def test_failed_transaction_is_recorded_and_invoice_stays_open(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "OVO")

    await env.act(invoice["number"], "fail")

    assert (await env.invoice(invoice["id"])).status == "PENDING"
    assert [p.status for p in await env.payments(invoice["id"])] == ["FAILED"]
    assert env.fleet.order_messages == {}


async def test_refund_marks_the_invoice_refunded_and_tells_the_order(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BCAVA")
    await env.act(invoice["number"], "pay")

    await env.act(invoice["number"], "refund")

    assert (await env.invoice(invoice["id"])).status == "REFUNDED"
    assert sorted(env.fleet.statuses(invoice["order_id"])) == ["PAID", "REFUNDED"]
    assert [p.status for p in await env.payments(invoice["id"])] == ["REFUNDED"]


async def test_paying_an_abandoned_transaction_still_pays_the_invoice(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    first = await env.pay(invoice, "BRIVA")
    await env.pay(invoice, "QRIS")

    await env.act(first["reference"], "pay")  # the customer used the old VA anyway

    paid = await env.invoice(invoice["id"])
    assert (paid.status, paid.paid_via) == ("PAID", "BRIVA")
    assert env.fleet.statuses() == ["PAID"]


async def _detail(env: BillingEnv, invoice: dict) -> dict:
    response = await env.client.get(
        f"/api/v1/billing/invoices/{invoice['id']}",
        headers=env.headers(uuid.UUID(invoice["user_id"])),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _top_up_invoice(env: BillingEnv) -> dict:
    user = uuid.uuid4()
    created = await env.client.post(
        "/api/v1/billing/wallet/topups", json={"amount": 50_000}, headers=env.headers(user)
    )
    return {**created.json(), "user_id": str(user)}


# An order invoice is settled on the fast path (`paid_now`), a top-up by `apply`.
@pytest.mark.parametrize("kind", ["order", "top-up"])
async def test_paying_an_abandoned_transaction_abandons_the_open_one(
    env: BillingEnv, kind: str
) -> None:
    invoice = await (env.order_invoice() if kind == "order" else _top_up_invoice(env))
    first = await env.pay(invoice, "BRIVA")
    second = await env.pay(invoice, "QRIS")

    await env.act(first["reference"], "pay")

    statuses = {p.reference: p.status for p in await env.payments(invoice["id"])}
    assert statuses == {first["reference"]: "PAID", second["reference"]: "ABANDONED"}
    detail = await _detail(env, invoice)
    assert detail["status"] == "PAID"
    assert (detail["payment"]["reference"], detail["payment"]["status"]) == (
        first["reference"],
        "PAID",
    )


async def test_payment_for_a_cancelled_invoice_goes_to_the_wallet(env: BillingEnv) -> None:
    invoice = await env.order_invoice(amount=150_000)
    user = uuid.UUID(invoice["user_id"])
    await env.pay(invoice, "BRIVA")
    cancelled = await env.client.post(
        f"/api/v1/billing/invoices/{invoice['id']}/cancel", headers=env.headers(user)
    )
    assert cancelled.json()["status"] == "CANCELLED"

    await env.act(invoice["number"], "pay")

    after = await env.invoice(invoice["id"])
    assert after.status == "CANCELLED" and after.flagged_at is not None
    wallet = await env.client.get("/api/v1/billing/wallet", headers=env.headers(user))
    assert wallet.json()["balance"] == 150_000
    assert env.fleet.statuses() == ["CANCELLED"]


async def test_callback_for_an_unknown_invoice_is_acknowledged_and_kept(env: BillingEnv) -> None:
    body = php_json(
        {
            "reference": "DEV-T0001X",
            "merchant_ref": "INV-20250101-ZZZZZ",
            "status": "PAID",
            "total_amount": 1000,
            "paid_at": 1_736_900_000,
        }
    )
    response = await env.client.post(CALLBACK, content=body, headers=signed(body))
    assert response.json() == {"success": True}
    [stored] = await _callbacks(env)
    assert stored.outcome == "unknown_invoice"


async def _callbacks(env: BillingEnv) -> list[TripayCallback]:
    async with env.db.session() as session:
        return list(
            await session.scalars(select(TripayCallback).order_by(TripayCallback.received_at))
        )
