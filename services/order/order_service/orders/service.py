"""Placing, reading and cancelling orders. Prices come from the catalog, promos from billing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from order_service import billing_messages, notifications
from order_service.context import OrderContext
from order_service.errors import (
    DependencyFailed,
    DependencyUnavailable,
    IdempotencyKeyReused,
    OrderNotCancellable,
    OrderNotFound,
)
from order_service.numbers import order_number
from order_service.orders import repository, transitions
from order_service.orders.models import Order, OrderEvent, OrderStatus, PaymentMethod
from order_service.orders.schemas import CreateOrder
from order_service.provisioning import queue
from webrana_common.db import raw
from webrana_common.db.base import utcnow
from webrana_common.db.raw import RawTransaction
from webrana_common.db.session import Database

log = logging.getLogger("order.orders")
# Keys of one user's orders live in their own namespace: uuid5(namespace, "<user>:<key>").
ORDER_ID_NAMESPACE = uuid.UUID("1b6f2a63-6c1e-4df4-9f5b-3f0e8c2d7a10")


def fingerprint(body: CreateOrder) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_id_for(user_id: uuid.UUID, idempotency_key: str | None) -> uuid.UUID:
    """With a key, the same order id on every retry, so billing's own idempotency (keyed on the
    order id) holds even when our commit was lost after billing acted."""
    if idempotency_key is None:
        return uuid.uuid4()
    return uuid.uuid5(ORDER_ID_NAMESPACE, f"{user_id}:{idempotency_key}")


_KEY_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"


async def _replay(
    transaction: RawTransaction, user_id: uuid.UUID, key: str, print_: str
) -> Order | None:
    # Concurrent duplicates queue here until the first commits, then find its order.
    connection = transaction.connection
    await connection.execute(_KEY_LOCK, f"order:{user_id}:{key}")
    existing = await repository.row_by_idempotency_key(connection, user_id, key)
    if existing is not None and existing.request_fingerprint != print_:
        raise IdempotencyKeyReused("This Idempotency-Key was used for a different order")
    return existing


@dataclass(frozen=True)
class Placed:
    order: Order
    created: bool  # False: a retry with the same Idempotency-Key found the first order
    # The timeline so far when the order was just placed (no need to read it back).
    events: list[OrderEvent] | None = None
    # Billing's answer to the invoice request sent right after commit (Tripay orders).
    invoice: asyncio.Future[Any] | None = None


async def create(
    transaction: RawTransaction,
    ctx: OrderContext,
    body: CreateOrder,
    *,
    user_id: uuid.UUID,
    idempotency_key: str | None,
) -> Placed:
    """Every checkout places one, so on the driver's connection (webrana_common.db.raw)."""
    print_ = fingerprint(body)
    if idempotency_key is not None:
        existing = await _replay(transaction, user_id, idempotency_key, print_)
        if existing is not None:
            return Placed(existing, created=False)

    quote = await ctx.catalog.quote(body.plan_id, body.billing_cycle, body.region, body.image)
    order_id = order_id_for(user_id, idempotency_key)
    now = utcnow()
    order = Order(
        id=order_id,
        number=order_number(now),
        user_id=user_id,
        status=OrderStatus.PENDING_PAYMENT,
        plan_id=body.plan_id,
        plan_slug=quote["plan_slug"],
        plan_name=quote["plan_name"],
        provider=quote["provider"],
        provider_size=quote["provider_size"],
        region=body.region,
        provider_region=quote["provider_region"],
        image=body.image,
        provider_image=quote["provider_image"],
        hostname=body.hostname.lower(),
        ssh_keys=list(body.ssh_keys),
        billing_cycle=str(body.billing_cycle),
        months=int(quote["months"]),
        catalog_version=int(quote["catalog_version"]),
        base_amount=int(quote["amount_idr"]),
        discount=0,
        amount=int(quote["amount_idr"]),
        refunded_amount=0,
        promo_code=body.promo_code,
        payment_method=str(body.payment),
        idempotency_key=idempotency_key,
        request_fingerprint=print_,
        instance_id=uuid.uuid4(),
        created_at=now,
        updated_at=now,
    )
    await ctx.catalog.mark_referenced(body.plan_id)
    if body.promo_code:
        try:
            discount = await ctx.billing.redeem_promo(
                body.promo_code, user_id=user_id, order_id=order_id, amount=order.base_amount
            )
        except (DependencyUnavailable, DependencyFailed):
            # Billing may have redeemed it before its answer was lost.
            await _compensate(ctx, order)
            raise
        order.discount = min(discount, order.base_amount)
        order.amount = order.base_amount - order.discount
    events: list[OrderEvent] = []
    try:
        invoice = await _place(transaction, ctx, order, events, actor=f"user:{user_id}")
    except Exception:
        # Nothing of this order will be committed, whatever failed (a refusal, the database,
        # a bug): give back the promo use billing holds.
        await _compensate(ctx, order)
        raise
    return Placed(order, created=True, events=events, invoice=invoice)


async def _insert_numbered(connection: asyncpg.Connection, order: Order) -> None:
    """The order under a free number: five random letters a day are 28.6 million numbers, so
    a busy day draws a taken one now and then (the birthday bound: ~4% of days with 1,500
    orders). The INSERT meets it (ON CONFLICT DO NOTHING), so no savepoint is needed."""
    for _ in range(NUMBER_ATTEMPTS):
        if await raw.insert(connection, order, skip_conflicts=True):
            return
        if not await connection.fetchval(_NUMBER_TAKEN, order.number):
            raise RuntimeError(f"order {order.id} conflicts with a stored order")
        order.number = order_number(order.created_at)
    raise RuntimeError("could not find a free order number")


NUMBER_ATTEMPTS = 5
_NUMBER_TAKEN = "SELECT EXISTS (SELECT 1 FROM orders WHERE number = $1)"


async def _place(
    transaction: RawTransaction,
    ctx: OrderContext,
    order: Order,
    events: list[OrderEvent],
    *,
    actor: str,
) -> asyncio.Future[Any] | None:
    await _insert_numbered(transaction.connection, order)
    events.append(await transitions.created_now(transaction, order, actor=actor))
    await notifications.order_created(transaction, order)
    if order.payment_method == PaymentMethod.TRIPAY and order.amount > 0:
        return await billing_messages.create_invoice(
            transaction, order, expires_in=ctx.settings.order_invoice_ttl_seconds
        )
    method = "wallet"
    if order.amount > 0:
        await ctx.billing.debit_wallet(
            user_id=order.user_id,
            order_id=order.id,
            amount=order.amount,
            description=billing_messages.describe(order),
        )
    else:
        method = "promo"  # fully discounted: nothing to collect
    events.append(
        await transitions.move_now(
            transaction,
            order,
            OrderStatus.PAID,
            actor=actor,
            reason=f"paid from the {method}",
            paid_at=utcnow(),
        )
    )
    await notifications.payment_confirmed(transaction, order, method=method)
    queue.enqueue_after_commit(transaction, ctx.arq, order.id, attempt=1)
    return None


async def invoice_made(
    ctx: OrderContext, order: Order, answer: asyncio.Future[Any]
) -> tuple[uuid.UUID, str] | None:
    """(id, number) of the invoice billing made for a new order, if it answered within the
    wait (after commit); stored on the order then, so the order shows it from now on."""
    try:
        made = await asyncio.wait_for(
            asyncio.shield(answer), ctx.settings.order_invoice_wait_seconds
        )
    except TimeoutError:
        return None
    try:
        found = uuid.UUID(str(made["id"])), str(made["number"])
    except (TypeError, KeyError, ValueError):
        return None  # no answer (the send failed; the outbox retries), or not an invoice
    async with ctx.db.driver() as connection:
        # Payment may have recorded it first: the same values, so either write is right.
        await connection.execute(_INVOICE_MADE, order.id, *found)
    return found


_INVOICE_MADE = (
    "UPDATE orders SET invoice_id = $2, invoice_number = $3 WHERE id = $1 AND invoice_id IS NULL"
)


async def _compensate(ctx: OrderContext, order: Order) -> None:
    if not order.promo_code:
        return
    async with ctx.db.session() as session:
        await billing_messages.release_promo(session, order, "order not placed")


async def detail_for_user(
    db: Database, order_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Order, list[OrderEvent]]:
    """The order and its timeline, as every client polls it: two statements on the driver's
    connection (webrana_common.db.raw)."""
    async with db.driver() as connection:
        order = await repository.row(connection, order_id)
        # Someone else's order is "not found", never "forbidden".
        if order is None or order.user_id != user_id:
            raise OrderNotFound(f"No order {order_id}")
        return order, await repository.event_rows(connection, order.id)


async def get_for_user(session: AsyncSession, order_id: uuid.UUID, user_id: uuid.UUID) -> Order:
    order = await repository.get(session, order_id)
    # Someone else's order is "not found", never "forbidden": ids are not confirmed to strangers.
    if order is None or order.user_id != user_id:
        raise OrderNotFound(f"No order {order_id}")
    return order


async def get(session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False) -> Order:
    order = await repository.get(session, order_id, lock=lock)
    if order is None:
        raise OrderNotFound(f"No order {order_id}")
    return order


async def timeline(session: AsyncSession, order: Order) -> list[OrderEvent]:
    return await repository.events(session, order.id)


async def timeline_now(transaction: RawTransaction, order: Order) -> list[OrderEvent]:
    return await repository.event_rows(transaction.connection, order.id)


async def list_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    status: OrderStatus | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Order]:
    return await repository.search(
        session, user_id=user_id, status=status, cursor=cursor, limit=limit
    )


async def cancel(
    session: AsyncSession,
    ctx: OrderContext,
    order: Order,
    *,
    actor: str,
    reason: str,
    admin: bool = False,
) -> Order:
    """Cancel an unpaid order (an admin may also give up a failed one): the invoice is
    cancelled and the promo use released, through the outbox."""
    allowed = {OrderStatus.PENDING_PAYMENT}
    if admin:
        allowed.add(OrderStatus.PROVISIONING_FAILED)
    if order.status not in allowed:
        raise OrderNotCancellable(
            f"Order {order.number} is {order.status}; only an unpaid order can be cancelled"
        )
    was_unpaid = order.status == OrderStatus.PENDING_PAYMENT
    transitions.move(session, order, OrderStatus.CANCELLED, actor=actor, reason=reason)
    if was_unpaid:
        if order.payment_method == PaymentMethod.TRIPAY:
            await billing_messages.cancel_invoice(session, ctx.billing, order, reason)
        await billing_messages.release_promo(session, order, reason)
    return order
