"""What billing must hear of an order, through the outbox (delivered after commit, re-delivered
until acknowledged; billing is idempotent on each `Idempotency-Key`)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.clients import BillingClient
from order_service.orders.models import Order
from webrana_common import outbox
from webrana_common.outbox.models import OutboxMessage, OutboxStatus


def describe(order: Order) -> str:
    return f"{order.plan_name}, {order.billing_cycle} ({order.hostname})"


async def create_invoice(
    session: outbox.Unit, order: Order, *, expires_in: int
) -> asyncio.Future[Any] | None:
    """Billing's answer to the request sent right after commit (the invoice), to follow."""
    items = [
        {
            "name": f"{order.plan_name}, {order.billing_cycle}",
            "price": order.base_amount,
            "sku": order.plan_slug,
        }
    ]
    if order.discount:
        items.append({"name": f"Promo {order.promo_code}", "price": -order.discount})
    payload = {
        "order_id": str(order.id),
        "order_number": order.number,
        "user_id": str(order.user_id),
        "amount": order.amount,
        "description": describe(order),
        "items": items,
        "discount": order.discount,
        "promo_code": order.promo_code,
        "kind": "order",
        "expires_in": expires_in,
    }
    return await outbox.add_and_follow(
        session, "billing:/internal/invoices", payload, invoice_key(order)
    )


def invoice_key(order: Order) -> str:
    return f"order:invoice:{order.id}"


async def cancel_invoice(
    session: AsyncSession, billing: BillingClient, order: Order, reason: str
) -> None:
    """Billing cancels by invoice id, which we learn only by asking. If our create message is
    still in the outbox it is withdrawn instead; locking it waits for a delivery in flight
    (the relay holds the row while it sends), so the invoice is either never sent or found."""
    message = await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.idempotency_key == invoice_key(order))
        .with_for_update()
    )
    if message is not None and message.status == OutboxStatus.PENDING:
        message.status = OutboxStatus.DEAD
        message.last_error = "withdrawn: the order was cancelled first"
        if message.attempts == 0:
            return  # never sent, so billing holds no invoice
    invoice = await billing.invoice_of(order.id)
    if invoice is None:
        return
    await outbox.add(
        session,
        f"billing:/internal/invoices/{invoice['id']}/cancel",
        {"reason": reason[:500]},
        f"order:invoice-cancel:{order.id}",
    )


async def release_promo(session: outbox.Unit, order: Order, reason: str) -> None:
    if not order.promo_code:
        return
    await outbox.add(
        session,
        "billing:/internal/promos/release",
        {"order_id": str(order.id), "reason": reason[:200]},
        f"order:promo-release:{order.id}",
    )


async def refund_to_wallet(
    session: outbox.Unit, order: Order, amount: int, *, reason: str, refund_no: int
) -> None:
    key = f"order:wallet-refund:{order.id}:{refund_no}"
    payload = {
        "user_id": str(order.user_id),
        "order_id": str(order.id),
        "amount": amount,
        "idempotency_key": key,
        "reason": reason[:500],
    }
    await outbox.add(session, "billing:/internal/wallet/refund", payload, key)
