"""Storing accepted notifications with their delivery log in the caller's transaction, then,
after commit, pushing the in-app ones live and queueing the email and Telegram jobs.

Used for one send and for a page of a broadcast alike: one statement whatever the number of
users (next seqs, notifications, deliveries, unread counts; see `insert_many`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.clients import AuthUser
from notification_service.contracts import Channel, EventSpec
from notification_service.deliveries.models import DeliveryStatus
from notification_service.delivery_queue import DeliveryQueue
from notification_service.live import protocol
from notification_service.live.hub import LivePublisher
from notification_service.notifications import repository as notifications
from notification_service.rendering.renderer import InApp, locale_for
from notification_service.sending.planning import ChannelPlan
from webrana_common.db.session import AfterCommit, Database, after_commit


@dataclass(frozen=True)
class Outgoing:
    user: AuthUser
    idempotency_key: str
    plans: list[ChannelPlan]
    in_app: InApp


@dataclass
class Stored:
    notification_id: uuid.UUID
    user_id: uuid.UUID
    view: dict[str, Any]
    visible: bool
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    unread_count: int = 0


async def store(
    session: AsyncSession | AsyncConnection | asyncpg.Connection,
    spec: EventSpec,
    data: dict[str, Any],
    outgoing: Sequence[Outgoing],
    *,
    now: datetime,
    broadcast_id: uuid.UUID | None = None,
) -> list[Stored]:
    """Those of `outgoing` whose key was new, in one statement; a key stored before (an
    outbox re-delivery, a redone broadcast page, a racing request) is left out by the insert
    itself, so two requests can never both win."""
    rows, stored = [], []
    for item in outgoing:
        row = _notification_row(spec, data, item, now)
        rows.append(row)
        stored.append(
            Stored(
                notification_id=row["id"],
                user_id=item.user.id,
                view=_view(row),
                visible=row["in_app"],
                deliveries=[_delivery_row(row, plan, now) for plan in item.plans],
            )
        )
    common = {
        "event": str(spec.event),
        "category": str(spec.category),
        "priority": str(spec.priority),
        "data": data,
        "broadcast_id": broadcast_id,
        "created_at": now,
    }
    inserted = await notifications.insert_many(
        session, common, rows, [d for s in stored for d in s.deliveries]
    )
    result = []
    for item in stored:
        if item.notification_id in inserted:
            item.view["seq"], item.unread_count = inserted[item.notification_id]
            result.append(item)
    return result


def _notification_row(
    spec: EventSpec, data: dict[str, Any], item: Outgoing, now: datetime
) -> dict[str, Any]:
    visible = any(
        p.channel == Channel.IN_APP and p.status == DeliveryStatus.SENT for p in item.plans
    )
    return {
        "id": uuid.uuid4(),
        "user_id": item.user.id,
        "seq": 0,  # taken by the insert
        "event": str(spec.event),
        "category": str(spec.category),
        "priority": str(spec.priority),
        "locale": locale_for(item.user.locale),
        "idempotency_key": item.idempotency_key,
        "data": data,
        "title": item.in_app.title,
        "message": item.in_app.message,
        "action_url": item.in_app.action_url,
        "in_app": visible,
        "created_at": now,
    }


def _delivery_row(notification: dict[str, Any], plan: ChannelPlan, now: datetime) -> dict[str, Any]:
    sent = plan.status == DeliveryStatus.SENT
    return {
        "id": uuid.uuid4(),
        "notification_id": notification["id"],
        "user_id": notification["user_id"],
        "event": notification["event"],
        "channel": str(plan.channel),
        "status": str(plan.status),
        "reason": str(plan.reason) if plan.reason else None,
        "recipient": plan.recipient,
        "subject": notification["title"] if sent else None,
        "attempts": 1 if sent else 0,
        "last_error": None,
        "scheduled_for": plan.scheduled_for,
        "sent_at": now if sent else None,
        "failed_at": None,
        "created_at": now,
        "updated_at": now,
    }


def _view(row: dict[str, Any]) -> dict[str, Any]:
    """The NotificationView of a row just inserted, JSON-ready, without reading it back."""
    return {
        "id": str(row["id"]),
        "seq": row["seq"],
        "event": row["event"],
        "category": row["category"],
        "priority": row["priority"],
        "title": row["title"],
        "message": row["message"],
        "action_url": row["action_url"],
        "data": row["data"],
        "read": False,
        "read_at": None,
        "created_at": row["created_at"].isoformat(),
    }


def _dispatch(
    hub: LivePublisher, queue: DeliveryQueue, stored: Sequence[Stored]
) -> AfterCommit | None:
    """Live push first (it is what a waiting user sees), then the channel jobs. A job lost
    here (Redis down, crash) is found by the `deliveries.requeue` cron."""
    live = [(s.user_id, protocol.new(s.view, s.unread_count)) for s in stored if s.visible]
    jobs = [
        (d["id"], d["scheduled_for"])
        for s in stored
        for d in s.deliveries
        if d["status"] == DeliveryStatus.QUEUED
    ]
    if not live and not jobs:
        return None

    async def run() -> None:
        try:
            if live:
                await hub.publish(live)
        finally:
            if jobs:
                await queue.enqueue_many(jobs)

    return run


def dispatch_after_commit(
    session: AsyncSession, hub: LivePublisher, queue: DeliveryQueue, stored: Sequence[Stored]
) -> None:
    run = _dispatch(hub, queue, stored)
    if run is not None:
        after_commit(session, run)


def dispatch_now(
    db: Database, hub: LivePublisher, queue: DeliveryQueue, stored: Sequence[Stored]
) -> None:
    """For what an autocommit statement stored: it is committed already."""
    run = _dispatch(hub, queue, stored)
    if run is not None:
        db.run_in_background(run)
