"""All SQL of orders and their events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.orders.models import Order, OrderEvent
from webrana_common.db import raw
from webrana_common.pagination import paginate_newest_first


async def get(session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
    return await session.get(Order, order_id, with_for_update=lock, populate_existing=lock)


_LOCK_ROW = f"SELECT {raw.columns(Order)} FROM orders WHERE id = $1 FOR UPDATE"  # noqa: S608


_ROW = f"SELECT {raw.columns(Order)} FROM orders WHERE id = $1"  # noqa: S608


async def row(connection: asyncpg.Connection, order_id: uuid.UUID) -> Order | None:
    return raw.load(Order, await connection.fetchrow(_ROW, order_id))


async def lock_row(connection: asyncpg.Connection, order_id: uuid.UUID) -> Order | None:
    """`get(lock=True)` on the driver's connection (webrana_common.db.raw): a detached Order,
    which the caller changes through explicit statements (`transitions.move_now`)."""
    return raw.load(Order, await connection.fetchrow(_LOCK_ROW, order_id))


_ROW_BY_KEY = (
    f"SELECT {raw.columns(Order)} FROM orders"  # noqa: S608
    " WHERE user_id = $1 AND idempotency_key = $2"
)
_EVENT_ROWS = (
    f"SELECT {raw.columns(OrderEvent)} FROM order_events"  # noqa: S608
    " WHERE order_id = $1 ORDER BY created_at, id"
)


async def row_by_idempotency_key(
    connection: asyncpg.Connection, user_id: uuid.UUID, key: str
) -> Order | None:
    return raw.load(Order, await connection.fetchrow(_ROW_BY_KEY, user_id, key))


async def event_rows(connection: asyncpg.Connection, order_id: uuid.UUID) -> list[OrderEvent]:
    return [
        OrderEvent(**dict(row.items())) for row in await connection.fetch(_EVENT_ROWS, order_id)
    ]


# Built once (its cache key is memoized on the object): read on every poll of an order.
_EVENTS = (
    select(OrderEvent)
    .where(OrderEvent.order_id == bindparam("order_id"))
    .order_by(OrderEvent.created_at, OrderEvent.id)
)


async def events(session: AsyncSession, order_id: uuid.UUID) -> list[OrderEvent]:
    return list((await session.scalars(_EVENTS, {"order_id": order_id})).all())


def _filtered(
    *,
    user_id: uuid.UUID | None = None,
    status: str | None = None,
    query: str | None = None,
    provider: str | None = None,
) -> Select[tuple[Order]]:
    stmt = select(Order)
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if provider is not None:
        stmt = stmt.where(Order.provider == provider)
    if query:
        like = f"%{query.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(
            or_(
                Order.number.ilike(like),
                Order.hostname.ilike(like),
                Order.provider_instance_id == query,
                Order.ipv4 == query,
            )
        )
    return stmt


async def search(
    session: AsyncSession, *, cursor: str | None, limit: int, **filters: object
) -> Sequence[Order]:
    stmt = paginate_newest_first(_filtered(**filters), Order.created_at, Order.id, cursor, limit)  # type: ignore[arg-type]
    return (await session.scalars(stmt)).all()
