"""What billing tells us about an order's payment (`POST /internal/orders/{id}/payment-status`).

Idempotent by state: billing re-delivers until it gets a 2xx, so news already known is
acknowledged (`applied: false`) and changes nothing. Once per paid order, so on the driver's
connection (webrana_common.db.raw), like the provisioning worker."""

from __future__ import annotations

import logging

from order_service import billing_messages
from order_service.context import OrderContext
from order_service.orders import transitions
from order_service.orders.models import Order, OrderStatus
from order_service.orders.schemas import PaymentStatus, PaymentStatusBody
from order_service.provisioning import queue
from webrana_common.db.base import utcnow
from webrana_common.db.raw import RawTransaction

log = logging.getLogger("order.payments")
ACTOR = "billing"


async def apply(
    transaction: RawTransaction, ctx: OrderContext, order: Order, body: PaymentStatusBody
) -> bool:
    if body.status == PaymentStatus.PAID:
        return await _paid(transaction, ctx, order, body)
    if body.status in (PaymentStatus.EXPIRED, PaymentStatus.CANCELLED):
        return await _closed(transaction, order, body)
    return await _refunded(transaction, order, body)


async def _paid(
    transaction: RawTransaction, ctx: OrderContext, order: Order, body: PaymentStatusBody
) -> bool:
    if order.status != OrderStatus.PENDING_PAYMENT:
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            return await _paid_after_close(transaction, order, body)
        return False
    await transitions.move_now(
        transaction,
        order,
        OrderStatus.PAID,
        actor=ACTOR,
        reason=f"invoice {body.invoice_number} paid via {body.method or 'tripay'}",
        data={"invoice_id": str(body.invoice_id), "amount": body.amount},
        invoice_id=body.invoice_id,
        invoice_number=body.invoice_number,
        paid_at=body.paid_at or utcnow(),
    )
    # PAYMENT_CONFIRMED of an invoice is billing's to send (it sends it with the payment).
    queue.enqueue_after_commit(transaction, ctx.arq, order.id, attempt=1)
    return True


async def _paid_after_close(
    transaction: RawTransaction, order: Order, body: PaymentStatusBody
) -> bool:
    """The invoice was paid while the order closed: the customer cancelled while paying (billing
    then refuses the cancel of a paid invoice), or it expired here as the payment landed.
    Billing holds the money as an ordinary payment and gives nothing back by itself, so what
    was paid goes to the wallet at once. Once: a re-delivery finds `paid_at` set."""
    if order.paid_at is not None:
        return False
    log.warning("payment for a closed order, refunded", extra={"order": order.number})
    now = utcnow()
    refunds = order.refunded_amount  # part of the refund's key, as an admin refund's
    amount = order.amount - refunds
    order.paid_at = body.paid_at or now
    order.refunded_amount += amount
    reason = (
        f"invoice {body.invoice_number} paid while the order was {order.status}; "
        f"Rp {amount} refunded to the wallet"
    )
    await transitions.record_now(
        transaction.connection,
        order.id,
        "payment_after_close",
        actor=ACTOR,
        now=now,
        reason=reason,
        data=body.model_dump(mode="json") | {"refunded": amount},
        along=(_PAID_AND_REFUNDED, [order.id, order.paid_at, order.refunded_amount, now]),
    )
    if amount > 0:
        await billing_messages.refund_to_wallet(
            transaction, order, amount, reason=reason, refund_no=refunds
        )
    return True


_PAID_AND_REFUNDED = (
    "UPDATE orders SET paid_at = $2, refunded_amount = $3, updated_at = $4 WHERE id = $1"
)


async def _closed(transaction: RawTransaction, order: Order, body: PaymentStatusBody) -> bool:
    if order.status != OrderStatus.PENDING_PAYMENT:
        return False
    target = OrderStatus.EXPIRED if body.status == PaymentStatus.EXPIRED else OrderStatus.CANCELLED
    reason = f"invoice {body.invoice_number} {body.status.lower()}"
    await transitions.move_now(transaction, order, target, actor=ACTOR, reason=reason)
    await billing_messages.release_promo(transaction, order, reason)
    return True


async def _refunded(transaction: RawTransaction, order: Order, body: PaymentStatusBody) -> bool:
    data = body.model_dump(mode="json")
    known = await transaction.connection.fetch(_REFUNDS, order.id)
    # Compared as stored (JSON mode writes UTC as "Z"; isoformat() as "+00:00", which never
    # matched, so every re-delivery of one refund was recorded again).
    if any(row["data"].get("occurred_at") == data["occurred_at"] for row in known):
        return False
    # Tripay gave the whole payment back: nothing is left for an admin to refund to the wallet.
    now = utcnow()
    order.refunded_amount = order.amount
    await transitions.record_now(
        transaction.connection,
        order.id,
        "billing_refunded",
        actor=ACTOR,
        now=now,
        reason=f"invoice {body.invoice_number} refunded",
        data=data,
        along=(_ALL_REFUNDED, [order.id, order.refunded_amount, now]),
    )
    return True


_REFUNDS = "SELECT data FROM order_events WHERE order_id = $1 AND action = 'billing_refunded'"
_ALL_REFUNDED = "UPDATE orders SET refunded_amount = $2, updated_at = $3 WHERE id = $1"
