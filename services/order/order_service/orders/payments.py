"""What billing tells us about an order's payment (`POST /internal/orders/{id}/payment-status`).

Idempotent by state: billing re-delivers until it gets a 2xx, so news already known is
acknowledged (`applied: false`) and changes nothing."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from order_service import billing_messages
from order_service.context import OrderContext
from order_service.orders import repository, transitions
from order_service.orders.models import Order, OrderStatus
from order_service.orders.schemas import PaymentStatus, PaymentStatusBody
from order_service.provisioning import queue
from webrana_common.db.base import utcnow

log = logging.getLogger("order.payments")
ACTOR = "billing"


async def apply(
    session: AsyncSession, ctx: OrderContext, order: Order, body: PaymentStatusBody
) -> bool:
    if body.status == PaymentStatus.PAID:
        return await _paid(session, ctx, order, body)
    if body.status in (PaymentStatus.EXPIRED, PaymentStatus.CANCELLED):
        return await _closed(session, order, body)
    return await _refunded(session, order, body)


async def _paid(
    session: AsyncSession, ctx: OrderContext, order: Order, body: PaymentStatusBody
) -> bool:
    if order.status != OrderStatus.PENDING_PAYMENT:
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            # Money arrived for a closed order: acknowledged (billing must stop re-sending), and
            # left in the timeline for an admin to refund.
            log.warning("payment for a closed order", extra={"order": order.number})
            transitions.record(
                session,
                order,
                "payment_after_close",
                actor=ACTOR,
                reason=f"invoice {body.invoice_number} paid while the order was {order.status}",
                data=body.model_dump(mode="json"),
            )
        return False
    order.invoice_id = body.invoice_id
    order.invoice_number = body.invoice_number
    order.paid_at = body.paid_at or utcnow()
    transitions.move(
        session,
        order,
        OrderStatus.PAID,
        actor=ACTOR,
        reason=f"invoice {body.invoice_number} paid via {body.method or 'tripay'}",
        data={"invoice_id": str(body.invoice_id), "amount": body.amount},
    )
    # PAYMENT_CONFIRMED of an invoice is billing's to send (it sends it with the payment).
    queue.enqueue_after_commit(session, ctx.arq, order.id, attempt=1)
    return True


async def _closed(session: AsyncSession, order: Order, body: PaymentStatusBody) -> bool:
    if order.status != OrderStatus.PENDING_PAYMENT:
        return False
    target = OrderStatus.EXPIRED if body.status == PaymentStatus.EXPIRED else OrderStatus.CANCELLED
    reason = f"invoice {body.invoice_number} {body.status.lower()}"
    transitions.move(session, order, target, actor=ACTOR, reason=reason)
    await billing_messages.release_promo(session, order, reason)
    return True


async def _refunded(session: AsyncSession, order: Order, body: PaymentStatusBody) -> bool:
    known = await repository.events(session, order.id)
    if any(
        e.action == "billing_refunded" and e.data.get("occurred_at") == _at(body) for e in known
    ):
        return False
    transitions.record(
        session,
        order,
        "billing_refunded",
        actor=ACTOR,
        reason=f"invoice {body.invoice_number} refunded",
        data=body.model_dump(mode="json"),
    )
    return True


def _at(body: PaymentStatusBody) -> str | None:
    return body.occurred_at.isoformat() if body.occurred_at else None
