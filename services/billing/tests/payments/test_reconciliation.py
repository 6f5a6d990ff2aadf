"""`payments.reconcile`: a transaction paid at Tripay whose callback never came is found by
asking Tripay, and settled as its callback would have settled it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from billing_builders import BillingEnv
from sqlalchemy import update

from billing_service import worker
from billing_service.payments.models import Payment
from webrana_common.db.base import utcnow


async def _age(env: BillingEnv, invoice_id: str) -> None:
    async with env.db.session() as session:
        await session.execute(
            update(Payment)
            .where(Payment.invoice_id == uuid.UUID(invoice_id))
            .values(created_at=utcnow() - timedelta(minutes=30))
        )


@pytest.fixture
def ctx(env: BillingEnv) -> dict[str, Any]:
    """What the worker's jobs find in ctx (worker.startup builds the same from settings)."""
    return {"db": env.app.state.db, "billing": env.app.state.billing}


async def test_missed_callback_is_reconciled(env: BillingEnv, ctx: dict[str, Any]) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BNIVA")
    waiting = await env.order_invoice()
    await env.pay(waiting, "BNIVA")
    await env.act(invoice["number"], "pay", miss_callback=True)
    assert (await env.invoice(invoice["id"])).status == "PENDING"
    await _age(env, invoice["id"])
    await _age(env, waiting["id"])

    report = await worker.reconcile_payments(ctx)
    await env.settle()

    assert report["checked"] == 2 and report["open"] == 1
    assert report["outcomes"] == {"applied": 1}
    assert (await env.invoice(invoice["id"])).status == "PAID"
    assert (await env.invoice(waiting["id"])).status == "PENDING"
    assert env.fleet.statuses(invoice["order_id"]) == ["PAID"]
    # A late callback afterwards changes nothing.
    await env.tripay.post("/_sandbox/callbacks/1/resend")
    await env.settle()
    assert env.fleet.statuses(invoice["order_id"]) == ["PAID"]


@pytest.mark.parametrize("settings_overrides", [{"reconcile_batch_size": 2}])
async def test_old_open_transactions_do_not_hide_a_newer_paid_one(
    env: BillingEnv, ctx: dict[str, Any]
) -> None:
    # More transactions left open than one round asks about: the ones asked about come last
    # in the next round, so a newer paid one is found on the second round, not never.
    waiting = []
    for _ in range(2):
        invoice = await env.order_invoice()
        await env.pay(invoice, "BNIVA")
        waiting.append(invoice)
    paid = await env.order_invoice()
    await env.pay(paid, "BNIVA")
    await env.act(paid["number"], "pay", miss_callback=True)
    for invoice in [*waiting, paid]:
        await _age(env, invoice["id"])

    first = await worker.reconcile_payments(ctx)
    second = await worker.reconcile_payments(ctx)
    await env.settle()

    assert (first["checked"], first["open"]) == (2, 2)
    assert second["outcomes"] == {"applied": 1}
    assert (await env.invoice(paid["id"])).status == "PAID"
    assert env.fleet.statuses(paid["order_id"]) == ["PAID"]


async def test_young_transactions_are_left_to_their_callback(
    env: BillingEnv, ctx: dict[str, Any]
) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BNIVA")
    await env.act(invoice["number"], "pay", miss_callback=True)

    assert (await worker.reconcile_payments(ctx))["checked"] == 0


async def test_tripay_down_stops_the_round_without_harm(
    env: BillingEnv, ctx: dict[str, Any]
) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BNIVA")
    await _age(env, invoice["id"])
    env.sandbox.settings.outage = True  # HTML 503s from Tripay's load balancer

    report = await worker.reconcile_payments(ctx)

    assert (report["checked"], report["stopped"]) == (0, "tripay_unavailable")
    assert (await env.invoice(invoice["id"])).status == "PENDING"
