"""One notification for one user: the contract checked, the user and their preferences
looked up, the in-app copy rendered, everything stored once per idempotency key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from notification_service.clients import AuthClient, AuthUser
from notification_service.config import NotificationSettings
from notification_service.contracts import EVENTS, EventData, SendNotification, validate_data
from notification_service.deliveries import repository as deliveries
from notification_service.delivery_queue import DeliveryQueue
from notification_service.errors import InvalidEventData
from notification_service.live.hub import LivePublisher
from notification_service.notifications import repository as notifications
from notification_service.preferences import service as preferences
from notification_service.preferences.service import Preferences
from notification_service.rendering.renderer import Renderer
from notification_service.sending.planning import plan_channels
from notification_service.sending.schemas import DeliveryOutcome, SendResult
from notification_service.sending.store import Outgoing, dispatch_now, store
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database


@dataclass(frozen=True)
class Senders:
    settings: NotificationSettings
    auth: AuthClient
    renderer: Renderer
    hub: LivePublisher
    queue: DeliveryQueue


def check_data(body: SendNotification) -> EventData:
    try:
        return validate_data(body.event, body.data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidEventData(f"{body.event}: {summary}", errors=errors) from exc


async def send(
    engine: AsyncEngine, db: Database, senders: Senders, body: SendNotification, key: str
) -> SendResult:
    """The hot path of the service, on the driver's connection (webrana_common.db.raw): two
    statements, no transaction around them (the insert is one atomic statement, see
    `insert_many`). A duplicate's outcomes are read on the autocommit `engine`.

    A key stored before is found by the insert itself (ON CONFLICT), not by a lookup first,
    so two racing requests cannot both win."""
    data = check_data(body)
    spec = EVENTS[body.event]
    now = utcnow()
    async with db.driver() as connection:
        # The user (Redis, or auth) and their preferences (the database) at the same time;
        # both finish before the connection goes back to the pool, even when one fails.
        user, choices = await asyncio.gather(
            senders.auth.get_user(body.user_id),
            preferences.load(connection, body.user_id),
            return_exceptions=True,
        )
        for outcome in (user, choices):
            if isinstance(outcome, BaseException):
                raise outcome
        assert isinstance(user, AuthUser) and isinstance(choices, Preferences)
        plans = plan_channels(
            spec,
            body.channels,
            user,
            choices,
            now=now,
            telegram_enabled=senders.settings.telegram_enabled,
        )
        in_app = senders.renderer.in_app(body.event, user.locale, data)
        outgoing = Outgoing(user, key, plans, in_app)
        stored = await store(connection, spec, data.model_dump(mode="json"), [outgoing], now=now)
    if not stored:
        async with engine.connect() as reader:
            return await _duplicate(reader, key)
    dispatch_now(db, senders.hub, senders.queue, stored)
    return SendResult(
        notification_id=stored[0].notification_id,
        duplicate=False,
        deliveries=[
            DeliveryOutcome(
                channel=p.channel, status=p.status, reason=p.reason, scheduled_for=p.scheduled_for
            )
            for p in plans
        ],
    )


async def _duplicate(connection: AsyncConnection, key: str) -> SendResult:
    notification_id = await notifications.id_by_key(connection, key)
    assert notification_id is not None  # the insert just met it
    rows = await deliveries.outcomes(connection, notification_id)
    return SendResult(
        notification_id=notification_id,
        duplicate=True,
        deliveries=[DeliveryOutcome.model_validate(row, from_attributes=True) for row in rows],
    )
