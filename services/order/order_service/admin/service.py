"""Admin actions on orders; each one leaves an event naming the admin and the reason."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from order_service import billing_messages
from order_service.errors import OrderNotRefundable
from order_service.orders import transitions
from order_service.orders.models import Order, OrderStatus

# A refund gives money back for a server the customer did not get.
REFUNDABLE = {OrderStatus.PROVISIONING_FAILED, OrderStatus.CANCELLED}


async def refund(
    session: AsyncSession, order: Order, amount: int | None, *, actor: str, reason: str
) -> int:
    """Credit the wallet (through billing's outbox) with `amount`, or what is left to refund."""
    paid = order.paid_at is not None
    left = order.amount - order.refunded_amount
    if order.status not in REFUNDABLE or not paid:
        raise OrderNotRefundable(
            f"Order {order.number} is {order.status}"
            + ("" if paid else " and was never paid")
            + "; only a paid order that got no server can be refunded"
        )
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise OrderNotRefundable(
            f"At most Rp {left} of order {order.number} can still be refunded", refundable=left
        )
    refunds = order.refunded_amount  # part of the key: a second partial refund is a new one
    order.refunded_amount += amount
    await billing_messages.refund_to_wallet(
        session, order, amount, reason=reason, refund_no=refunds
    )
    transitions.record(
        session, order, "refunded_to_wallet", actor=actor, reason=reason, data={"amount": amount}
    )
    return amount
