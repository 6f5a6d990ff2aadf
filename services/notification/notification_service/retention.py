"""Retention: read in-app notifications after NOTIFICATION_RETENTION_DAYS (90), the delivery
log after DELIVERY_LOG_RETENTION_DAYS (180). Deleted in batches, each its own transaction,
so the purge never holds long locks."""

from __future__ import annotations

from datetime import datetime, timedelta

from notification_service.config import NotificationSettings
from notification_service.deliveries import repository as deliveries
from notification_service.notifications import repository as notifications
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

BATCH = 5000


async def purge(
    db: Database, settings: NotificationSettings, now: datetime | None = None
) -> dict[str, int]:
    now = now or utcnow()
    notification_cutoff = now - timedelta(days=settings.notification_retention_days)
    delivery_cutoff = now - timedelta(days=settings.delivery_log_retention_days)
    report = {"notifications": 0, "deliveries": 0}
    while True:
        async with db.session() as session:
            removed = await notifications.delete_read_before(session, notification_cutoff, BATCH)
        report["notifications"] += removed
        if removed < BATCH:
            break
    while True:
        async with db.session() as session:
            removed = await deliveries.delete_before(session, delivery_cutoff, BATCH)
        report["deliveries"] += removed
        if removed < BATCH:
            break
    return report
