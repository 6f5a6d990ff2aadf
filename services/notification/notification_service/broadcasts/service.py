"""SYSTEM_ANNOUNCEMENT to every user auth lists (or a filtered part), page by page.

Each page is one transaction: the users' notifications and deliveries, and the broadcast's
cursor and counters. A run that dies resumes from the last committed cursor; a page redone is
harmless because each notification's key is `broadcast:<id>:<user>`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.broadcasts import repository
from notification_service.broadcasts.models import Broadcast, BroadcastStatus
from notification_service.broadcasts.schemas import BroadcastRequest, BroadcastView
from notification_service.clients import AuthClient
from notification_service.config import NotificationSettings
from notification_service.contracts import (
    EVENTS,
    Channel,
    NotificationEvent,
    SystemAnnouncement,
)
from notification_service.delivery_queue import DeliveryQueue
from notification_service.errors import BroadcastNotFound
from notification_service.live.hub import LivePublisher
from notification_service.preferences import service as preferences
from notification_service.rendering.renderer import LOCALES, InApp, Renderer
from notification_service.sending.planning import plan_channels
from notification_service.sending.store import Outgoing, dispatch_after_commit, store
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database, after_commit

log = logging.getLogger("notification.broadcasts")
EVENT = NotificationEvent.SYSTEM_ANNOUNCEMENT


@dataclass(frozen=True)
class Broadcaster:
    settings: NotificationSettings
    db: Database
    auth: AuthClient
    renderer: Renderer
    publisher: LivePublisher
    queue: DeliveryQueue


async def create(
    session: AsyncSession,
    queue: DeliveryQueue,
    admin_id: uuid.UUID,
    request: BroadcastRequest,
    key: str,
) -> tuple[BroadcastView, bool]:
    """(the broadcast, whether it is new); a known key returns the existing one."""
    SystemAnnouncement.model_validate(request.announcement())
    new_id = await repository.create(
        session,
        {
            "idempotency_key": key,
            "created_by": admin_id,
            "status": BroadcastStatus.PENDING,
            "data": request.announcement(),
            "audience": request.audience.model_dump(exclude_none=True),
            "channels": [str(c) for c in request.channels] if request.channels else [],
        },
    )
    row = await (repository.get(session, new_id) if new_id else repository.by_key(session, key))
    assert row is not None
    if new_id is not None:
        after_commit(session, lambda: queue.enqueue_broadcast(new_id))
    return BroadcastView.of(row), new_id is not None


async def get(session: AsyncSession, broadcast_id: uuid.UUID) -> Broadcast:
    row = await repository.get(session, broadcast_id)
    if row is None:
        raise BroadcastNotFound(f"No broadcast {broadcast_id}")
    return row


async def resume(session: AsyncSession, queue: DeliveryQueue, broadcast_id: uuid.UUID) -> Broadcast:
    row = await get(session, broadcast_id)
    if row.status != BroadcastStatus.COMPLETED:
        row.status = BroadcastStatus.RUNNING
        row.last_error = None
        after_commit(session, lambda: queue.enqueue_broadcast(broadcast_id))
    return row


async def run(
    broadcaster: Broadcaster, broadcast_id: uuid.UUID, *, max_pages: int | None = None
) -> bool:
    """Process pages until done (True) or `max_pages` were done (False)."""
    in_app = await _render(broadcaster, broadcast_id)
    pages = 0
    while max_pages is None or pages < max_pages:
        if await run_page(broadcaster, broadcast_id, in_app):
            return True
        pages += 1
    return False


async def _render(broadcaster: Broadcaster, broadcast_id: uuid.UUID) -> dict[str, InApp]:
    async with broadcaster.db.session() as session:
        row = await get(session, broadcast_id)
        data = SystemAnnouncement.model_validate(row.data)
    # One rendering per locale, not per user: the announcement is the same for everyone.
    return {locale: broadcaster.renderer.in_app(EVENT, locale, data) for locale in LOCALES}


async def run_page(
    broadcaster: Broadcaster, broadcast_id: uuid.UUID, in_app: dict[str, InApp]
) -> bool:
    """One page of users in one transaction; True once the broadcast is complete."""
    spec = EVENTS[EVENT]
    async with broadcaster.db.session() as session:
        # Locked: a second runner (a requeue racing a live run) waits here, then continues
        # from the cursor this one committed.
        row = await repository.get(session, broadcast_id, for_update=True)
        if row is None or row.status == BroadcastStatus.COMPLETED:
            return True
        now = utcnow()
        if row.started_at is None:
            row.started_at = now
        row.status = BroadcastStatus.RUNNING
        users, next_cursor = await broadcaster.auth.list_users(
            cursor=row.cursor,
            limit=broadcaster.settings.broadcast_batch_size,
            filters=row.audience,
        )
        choices = await preferences.load_many(session, [u.id for u in users])
        requested = [Channel(c) for c in row.channels] or None
        outgoing = [
            Outgoing(
                user,
                f"broadcast:{row.id}:{user.id}",
                plan_channels(
                    spec,
                    requested,
                    user,
                    choices[user.id],
                    now=now,
                    telegram_enabled=broadcaster.settings.telegram_enabled,
                ),
                in_app["en" if user.locale == "en" else "id"],
            )
            for user in users
        ]
        stored = await store(session, spec, row.data, outgoing, now=now, broadcast_id=row.id)
        dispatch_after_commit(session, broadcaster.publisher, broadcaster.queue, stored)
        row.cursor = next_cursor
        row.pages += 1
        row.recipients += len(users)
        row.created += len(stored)
        row.last_error = None
        if next_cursor is None:
            row.status = BroadcastStatus.COMPLETED
            row.finished_at = now
        log.info(
            "broadcast page",
            extra={"broadcast": str(row.id), "users": len(users), "new": len(stored)},
        )
        return next_cursor is None


async def record_failure(db: Database, broadcast_id: uuid.UUID, error: str, *, final: bool) -> None:
    async with db.session() as session:
        row = await repository.get(session, broadcast_id, for_update=True)
        if row is None or row.status == BroadcastStatus.COMPLETED:
            return
        row.last_error = error[:1000]
        if final:
            row.status = BroadcastStatus.FAILED
