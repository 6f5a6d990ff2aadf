"""`invoices.expire_due`: unpaid invoices past their time expire, unless Tripay says a last
payment went through."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from billing_builders import BillingEnv
from sqlalchemy import update

from billing_service.invoices.expiry import expire_due
from billing_service.invoices.models import Invoice
from webrana_common.db.base import utcnow


async def _make_due(
    env: BillingEnv, invoice_id: str, ago: timedelta = timedelta(seconds=1)
) -> None:
    async with env.db.session() as session:
        await session.execute(
            update(Invoice)
            .where(Invoice.id == uuid.UUID(invoice_id))
            .values(expires_at=utcnow() - ago)
        )


async def test_due_invoice_expires_tells_order_and_customer_and_frees_its_promo(
    env: BillingEnv,
) -> None:
    promo = await env.promo(max_uses=5)
    user = uuid.uuid4()
    invoice = await env.order_invoice(user)
    await env.client.post(
        "/internal/promos/redeem",
        json={
            "code": promo["code"],
            "user_id": str(user),
            "amount": 150_000,
            "order_id": invoice["order_id"],
        },
        headers={"X-API-Key": "order-test-key"},
    )
    await env.pay(invoice, "BRIVA")
    fresh = await env.order_invoice()
    await _make_due(env, invoice["id"])

    report = await expire_due(env.app.state.db, env.app.state.billing)
    await env.settle()

    assert report["expired"] == 1 and report["due"] == 1
    expired = await env.invoice(invoice["id"])
    assert expired.status == "EXPIRED" and expired.closed_at is not None
    assert (await env.invoice(fresh["id"])).status == "PENDING"
    assert env.fleet.statuses(invoice["order_id"]) == ["EXPIRED"]
    [notice] = env.fleet.events("INVOICE_EXPIRED")
    assert notice["data"]["invoice_number"] == invoice["number"]
    assert (await env.promo_row(promo["code"])).uses_count == 0
    assert [p.status for p in await env.payments(invoice["id"])] == ["ABANDONED"]
    assert (await expire_due(env.app.state.db, env.app.state.billing))["expired"] == 0


async def test_payment_made_before_expiry_wins_over_it(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "QRIS")
    await env.act(invoice["number"], "pay", miss_callback=True)  # paid; callback not here yet
    await _make_due(env, invoice["id"])

    report = await expire_due(env.app.state.db, env.app.state.billing)
    await env.settle()

    assert report["settled_by_tripay"] == 1 and report["expired"] == 0
    assert (await env.invoice(invoice["id"])).status == "PAID"
    assert env.fleet.statuses(invoice["order_id"]) == ["PAID"]


async def test_invoice_held_for_review_does_not_expire(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay", amount=500)
    await _make_due(env, invoice["id"])

    report = await expire_due(env.app.state.db, env.app.state.billing)

    assert report["due"] == 0  # not even looked at: admins decide
    assert (await env.invoice(invoice["id"])).status == "PENDING"


@pytest.mark.parametrize("settings_overrides", [{"expiry_batch_size": 2}])
async def test_invoices_held_for_review_do_not_hold_up_the_expiry_of_others(
    env: BillingEnv,
) -> None:
    held = []
    for _ in range(2):  # a batch's worth, older than the one that should expire
        invoice = await env.order_invoice()
        await env.pay(invoice, "BRIVA")
        await env.act(invoice["number"], "pay", amount=500)
        await _make_due(env, invoice["id"], ago=timedelta(hours=2))
        held.append(invoice)
    due = await env.order_invoice()
    await _make_due(env, due["id"])

    report = await expire_due(env.app.state.db, env.app.state.billing)

    assert (report["due"], report["expired"]) == (1, 1)
    assert (await env.invoice(due["id"])).status == "EXPIRED"
    assert [(await env.invoice(i["id"])).status for i in held] == ["PENDING", "PENDING"]
