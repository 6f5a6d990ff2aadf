"""Retention: read in-app notifications after 90 days, the delivery log after 180 (both set
by settings); unread notifications stay whatever their age."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from notification_helpers import send
from sqlalchemy import func, select, update

from notification_service.deliveries.models import Delivery
from notification_service.notifications.models import Notification
from notification_service.retention import purge
from notification_service.worker import purge_retention
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database


async def _age(db: Database, model: Any, notification_id: str, days: int, **values: Any) -> None:
    column = model.id if model is Notification else model.notification_id
    async with db.session() as session:
        await session.execute(
            update(model)
            .where(column == notification_id)
            .values(created_at=utcnow() - timedelta(days=days), **values)
        )


async def _count(db: Database, model: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_purge_removes_old_read_notifications_and_old_log_entries(
    client: httpx.AsyncClient, make_user: Any, db: Database, settings: Any
) -> None:
    user = await make_user()
    old_read, old_unread, recent_read, ancient = [
        (await send(client, user, "WALLET_TOPUP"))["notification_id"] for _ in range(4)
    ]
    await _age(db, Notification, old_read, 91, read_at=utcnow())
    await _age(db, Notification, old_unread, 91)
    await _age(db, Notification, recent_read, 89, read_at=utcnow())
    await _age(db, Delivery, old_read, 91)
    await _age(db, Delivery, ancient, 181)

    report = await purge(db, settings)

    assert report == {"notifications": 1, "deliveries": 3}
    async with db.session() as session:
        left = set(await session.scalars(select(Notification.id)))
    assert {str(i) for i in left} == {old_unread, recent_read, ancient}
    assert await _count(db, Delivery) == 9  # 4 x 3 minus the ancient three


async def test_retention_days_are_settings(
    client: httpx.AsyncClient, make_user: Any, db: Database, make_settings: Any
) -> None:
    notification = (await send(client, await make_user(), "WALLET_TOPUP"))["notification_id"]
    await _age(db, Notification, notification, 8, read_at=utcnow())
    await _age(db, Delivery, notification, 8)
    short = make_settings(notification_retention_days=7, delivery_log_retention_days=7)
    report = await purge_retention({"db": db, "settings": short})
    assert report == {"notifications": 1, "deliveries": 3}
