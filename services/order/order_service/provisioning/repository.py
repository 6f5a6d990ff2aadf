"""All SQL of provisioning tasks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.orders.models import Order, OrderStatus
from order_service.provisioning.models import ProvisioningTask, TaskState
from webrana_common.db import raw


async def get(
    session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
) -> ProvisioningTask | None:
    return await session.get(
        ProvisioningTask, order_id, with_for_update=lock, populate_existing=lock
    )


# The worker's statements, on the driver's connection (webrana_common.db.raw).
_LOCK_ROW = (
    f"SELECT {raw.columns(ProvisioningTask)} FROM provisioning_tasks"  # noqa: S608
    " WHERE order_id = $1 FOR UPDATE"
)


async def lock_row(connection: asyncpg.Connection, order_id: uuid.UUID) -> ProvisioningTask | None:
    return raw.load(ProvisioningTask, await connection.fetchrow(_LOCK_ROW, order_id))


async def insert_row(connection: asyncpg.Connection, task: ProvisioningTask, now: datetime) -> None:
    task.created_at = task.updated_at = now
    await raw.insert(connection, task)


async def save(
    connection: asyncpg.Connection, order_id: uuid.UUID, now: datetime, **values: Any
) -> None:
    """UPDATE the task's `values` (column names from code, never from input) and updated_at."""
    names = [*values, "updated_at"]
    sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=2))
    await connection.execute(
        f"UPDATE provisioning_tasks SET {sets} WHERE order_id = $1",  # noqa: S608
        order_id,
        *values.values(),
        now,
    )


async def stalled(
    session: AsyncSession, now: datetime, limit: int = 100
) -> Sequence[tuple[uuid.UUID, int]]:
    """Paid orders never started, and started ones whose job's lease ran out (a dead worker)."""
    stmt = (
        select(Order.id, ProvisioningTask.attempt)
        .outerjoin(ProvisioningTask, ProvisioningTask.order_id == Order.id)
        .where(
            or_(
                Order.status == OrderStatus.PAID,
                (Order.status == OrderStatus.PROVISIONING)
                & ProvisioningTask.state.in_([TaskState.REQUESTING, TaskState.POLLING])
                & or_(ProvisioningTask.lease_until.is_(None), ProvisioningTask.lease_until < now),
            )
        )
        .order_by(Order.updated_at)
        .limit(limit)
    )
    return [(row[0], row[1] or 1) for row in (await session.execute(stmt)).all()]
