"""The order service is down when Tripay's callback arrives: the callback is still answered
(the payment is ours the moment it is recorded) and the order hears PAID once it is back."""

from __future__ import annotations

import asyncio

from billing_builders import BillingEnv

from webrana_common.outbox import OutboxMessage, relay_outbox


async def test_order_down_during_callback_gets_paid_when_it_returns(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    env.fleet.order.stop()
    try:
        await env.act(invoice["number"], "pay")

        assert env.sandbox.sender.deliveries[-1].state == "delivered"  # Tripay is satisfied
        assert (await env.invoice(invoice["id"])).status == "PAID"
        [message] = await env.outbox("order:")
        assert (message.status, message.attempts) == ("pending", 1)
        assert "ConnectError" in (message.last_error or "")
    finally:
        env.fleet.order.start()

    # The worker's relay round (cron `outbox.relay`) once the message is due again.
    async with env.db.session() as session:
        row = await session.get(OutboxMessage, message.id)
        assert row is not None
        row.next_attempt_at = row.created_at
    # The relay leaves a refusing service alone for the backoff of its refusal (1 s +-20%).
    await asyncio.sleep(1.3)
    delivered = await worker_relay(env)

    assert delivered == 1
    assert env.fleet.statuses(invoice["order_id"]) == ["PAID"]
    [message] = await env.outbox("order:")
    assert message.status == "delivered"
    assert await worker_relay(env) == 0  # nothing twice


async def worker_relay(env: BillingEnv) -> int:
    return await relay_outbox({"outbox_relay": env.app.state.db.outbox_relay})
