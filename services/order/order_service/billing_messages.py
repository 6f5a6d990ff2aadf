"""What billing must hear of an order, through the outbox (delivered after commit, re-delivered
until acknowledged; billing is idempotent on each `Idempotency-Key`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from order_service.orders.models import Order
from webrana_common import outbox


def describe(order: Order) -> str:
    return f"{order.plan_name}, {order.billing_cycle} ({order.hostname})"


async def create_invoice(session: AsyncSession, order: Order, *, expires_in: int) -> None:
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
    await outbox.add(session, "billing:/internal/invoices", payload, f"order:invoice:{order.id}")


async def cancel_invoice(session: AsyncSession, order: Order, reason: str) -> None:
    await outbox.add(
        session,
        f"billing:/internal/orders/{order.id}/invoice/cancel",
        {"order_id": str(order.id), "reason": reason},
        f"order:invoice-cancel:{order.id}",
    )


async def release_promo(session: AsyncSession, order: Order, reason: str) -> None:
    if not order.promo_code:
        return
    await outbox.add(
        session,
        "billing:/internal/promos/release",
        {"order_id": str(order.id), "reason": reason},
        f"order:promo-release:{order.id}",
    )


async def refund_to_wallet(
    session: AsyncSession, order: Order, amount: int, *, reason: str, refund_no: int
) -> None:
    await outbox.add(
        session,
        "billing:/internal/wallet/refund",
        {
            "user_id": str(order.user_id),
            "order_id": str(order.id),
            "order_number": order.number,
            "amount": amount,
            "reason": reason,
        },
        f"order:wallet-refund:{order.id}:{refund_no}",
    )
