"""All SQL of provisioning tasks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.orders.models import Order, OrderStatus
from order_service.provisioning.models import ProvisioningTask, TaskState


async def get(
    session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
) -> ProvisioningTask | None:
    return await session.get(
        ProvisioningTask, order_id, with_for_update=lock, populate_existing=lock
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
