"""Messages for the notification service, written to the outbox in the caller's transaction
(delivered after commit, re-delivered by the worker until acknowledged)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.client_info import ClientInfo
from webrana_common import outbox
from webrana_common.db.base import utcnow

TARGET = "notification:/internal/notifications/send"


class NotificationEvent(StrEnum):
    EMAIL_VERIFY = "EMAIL_VERIFY"
    PASSWORD_RESET = "PASSWORD_RESET"
    SECURITY_ALERT = "SECURITY_ALERT"


class SecurityReason(StrEnum):
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"


async def notify(
    session: AsyncSession,
    event: NotificationEvent,
    user_id: uuid.UUID,
    data: dict[str, Any],
    idempotency_key: str,
) -> None:
    payload = {
        "event": str(event),
        "user_id": str(user_id),
        "data": data,
        "idempotency_key": idempotency_key,
    }
    await outbox.add(session, TARGET, payload, idempotency_key)


async def security_alert(
    session: AsyncSession,
    user_id: uuid.UUID,
    reason: SecurityReason,
    client: ClientInfo | None,
) -> None:
    data: dict[str, Any] = {"reason": str(reason), "occurred_at": utcnow().isoformat()}
    if client is not None:
        data |= {"ip": client.ip, "device": client.device}
    await notify(
        session,
        NotificationEvent.SECURITY_ALERT,
        user_id,
        data,
        f"auth:security-alert:{reason}:{uuid.uuid4()}",
    )
