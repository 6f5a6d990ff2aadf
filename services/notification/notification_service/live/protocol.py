"""What travels over `/api/v1/notifications/ws` (JSON text frames, one object each).

Client → server: `{"type": "auth", "token": "<JWT>", "last_id"?: "<uuid>"}` (first message,
unless the token came as `Sec-WebSocket-Protocol: bearer, <token>`), later `auth` again with a
fresh token to stay connected past the old one's expiry; `{"type": "resume", "last_id": ...}`;
`{"type": "ping"}`.

Server → client: `ready`, `notification:new`, `notification:read`, `notification:deleted`,
`unread_count`, `resumed`, `heartbeat`, `pong`, `error`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

from notification_service.notifications.schemas import NotificationView

# Close codes: 4xxx mirror HTTP statuses so clients need no table.
CLOSE_BAD_REQUEST = 4400  # a token in the URL, a malformed first message
CLOSE_UNAUTHORIZED = 4401  # missing, invalid or expired token: refresh and reconnect
CLOSE_AUTH_TIMEOUT = 4408  # no auth message within WS_AUTH_TIMEOUT_SECONDS
CLOSE_TOO_SLOW = 1013  # the client reads slower than notifications arrive: reconnect + resume
CLOSE_GOING_AWAY = 1001  # the server is shutting down: reconnect + resume

NEW = "notification:new"


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


def new(view: NotificationView | dict[str, Any], unread_count: int) -> dict[str, Any]:
    body = view.model_dump(mode="json") if isinstance(view, NotificationView) else view
    return {"type": NEW, "notification": body, "unread_count": unread_count}


def read(ids: Sequence[uuid.UUID] | None, unread_count: int, *, read_at: str) -> dict[str, Any]:
    """`ids` null: too many to list (a large read-all); the client refetches."""
    return {
        "type": "notification:read",
        "ids": None if ids is None else [str(i) for i in ids],
        "read_at": read_at,
        "unread_count": unread_count,
    }


def deleted(notification_id: uuid.UUID, unread_count: int) -> dict[str, Any]:
    return {
        "type": "notification:deleted",
        "id": str(notification_id),
        "unread_count": unread_count,
    }


def unread(unread_count: int) -> dict[str, Any]:
    return {"type": "unread_count", "unread_count": unread_count}


def heartbeat() -> str:
    return dumps({"type": "heartbeat", "ts": int(time.time())})


def error(code: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail}
