"""The one place order statuses change: the transition table, and the event every move leaves."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from order_service.errors import IllegalTransition
from order_service.orders.models import Order, OrderEvent, OrderStatus
from webrana_common.db.base import utcnow

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED, S.EXPIRED}),
    S.PAID: frozenset({S.PROVISIONING}),
    S.PROVISIONING: frozenset({S.ACTIVE, S.PROVISIONING_FAILED}),
    # Retried by an admin, or given up (cancelled, then refunded to the wallet).
    S.PROVISIONING_FAILED: frozenset({S.PROVISIONING, S.CANCELLED}),
    S.ACTIVE: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}


def can_move(current: str, target: OrderStatus) -> bool:
    return target in TRANSITIONS[OrderStatus(current)]


def record(
    session: AsyncSession,
    order: Order,
    action: str,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> OrderEvent:
    event = OrderEvent(
        order_id=order.id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        data=data or {},
        created_at=utcnow(),
    )
    session.add(event)
    return event


def move(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """Move `order` to `target` or raise IllegalTransition; the caller holds the row lock."""
    if not can_move(order.status, target):
        raise IllegalTransition(
            f"Order {order.number} is {order.status} and cannot become {target}",
            current=order.status,
            requested=str(target),
        )
    previous = order.status
    order.status = target
    order.updated_at = utcnow()
    return record(
        session,
        order,
        "status_changed",
        actor=actor,
        reason=reason,
        data=data,
        from_status=previous,
        to_status=target,
    )


def created(session: AsyncSession, order: Order, *, actor: str) -> OrderEvent:
    return record(
        session, order, "created", actor=actor, to_status=order.status, reason="order placed"
    )
