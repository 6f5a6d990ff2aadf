"""The one place order statuses change: the transition table, and the event every move leaves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.errors import IllegalTransition
from order_service.orders.models import Order, OrderEvent, OrderStatus
from webrana_common.db import raw
from webrana_common.db.base import utcnow
from webrana_common.db.raw import RawTransaction

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
    event = _event(order.id, action, actor, utcnow(), reason, data, from_status, to_status)
    session.add(event)
    return event


def _event(
    order_id: uuid.UUID,
    action: str,
    actor: str,
    now: datetime,
    reason: str | None,
    data: dict[str, Any] | None,
    from_status: str | None,
    to_status: str | None,
) -> OrderEvent:
    return OrderEvent(
        id=uuid.uuid4(),
        order_id=order_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        data=data or {},
        created_at=now,
    )


def _check(order: Order, target: OrderStatus) -> None:
    if not can_move(order.status, target):
        raise IllegalTransition(
            f"Order {order.number} is {order.status} and cannot become {target}",
            current=order.status,
            requested=str(target),
        )


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
    _check(order, target)
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


# The same on the driver's connection (webrana_common.db.raw), for the hot paths (placing an
# order, payment news, the provisioning worker): the order is a detached row
# (`repository.lock_row`, or one just inserted), changed by one explicit UPDATE.


async def record_now(
    connection: asyncpg.Connection,
    order_id: uuid.UUID,
    action: str,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    along: tuple[str, Sequence[Any]] | None = None,
) -> OrderEvent:
    """`along`: the change the event records (an UPDATE), in the same statement
    (`raw.insert`): one round trip to the database instead of two."""
    event = _event(order_id, action, actor, now, reason, data, from_status, to_status)
    await raw.insert(connection, event, along=along)
    return event


async def move_now(
    transaction: RawTransaction,
    order: Order,
    target: OrderStatus,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> OrderEvent:
    """`move`, plus the other columns in `changes` (names from code, never from input), in
    one UPDATE; `order` is changed to match. The caller holds the row lock."""
    _check(order, target)
    previous = order.status
    now = utcnow()
    values = {"status": str(target), "updated_at": now, **changes}
    for name, value in values.items():
        setattr(order, name, value)
    sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(values, start=2))
    update = f"UPDATE orders SET {sets} WHERE id = $1"  # noqa: S608
    return await record_now(
        transaction.connection,
        order.id,
        "status_changed",
        actor=actor,
        now=now,
        reason=reason,
        data=data,
        from_status=previous,
        to_status=target,
        along=(update, [order.id, *values.values()]),
    )


async def created_now(transaction: RawTransaction, order: Order, *, actor: str) -> OrderEvent:
    return await record_now(
        transaction.connection,
        order.id,
        "created",
        actor=actor,
        now=order.created_at,
        to_status=order.status,
        reason="order placed",
    )
